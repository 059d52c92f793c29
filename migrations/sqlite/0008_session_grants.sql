-- When an app last got tokens from a session. Creating a grant updates this
-- column of a session that has not ended, in the grant's transaction: the row
-- lock orders it against a sign-out, so no grant is born in an ended session.
ALTER TABLE sso_sessions ADD COLUMN last_grant_at BIGINT;
