-- The account page: a personal e-mail for recovery, where the profile comes
-- from, the signature image and its default place on documents; the SSO
-- sessions of each person (to list them and sign out the others); groups that
-- may see an app.

ALTER TABLE users ADD COLUMN personal_email TEXT;
-- 'local' or the directory's name: name and unit are read-only when not local.
ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'local';
-- Where the signing service puts the person's visible signature by default.
ALTER TABLE users ADD COLUMN signature_page TEXT NOT NULL DEFAULT 'last';          -- first | last
ALTER TABLE users ADD COLUMN signature_place TEXT NOT NULL DEFAULT 'bottom-right'; -- see account::PLACES

CREATE TABLE signatures (
    user_id     TEXT PRIMARY KEY,
    image       BYTEA NOT NULL,               -- PNG, re-encoded by us: no metadata
    width       BIGINT NOT NULL,
    height      BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE sso_sessions (
    sid         TEXT PRIMARY KEY,            -- the public session id (sid claim)
    user_id     TEXT NOT NULL,
    key_hash    TEXT NOT NULL,               -- SHA-256 of the cookie: the cache key, never the cookie
    created_at  BIGINT NOT NULL,
    ip          TEXT,
    user_agent  TEXT,
    ended_at    BIGINT
);
CREATE INDEX sso_sessions_user ON sso_sessions (user_id, created_at);

CREATE INDEX audit_events_subject ON audit_events (subject, at);

ALTER TABLE apps ADD COLUMN groups TEXT NOT NULL DEFAULT '[]';             -- JSON list of group names
CREATE TABLE group_members (
    group_name  TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    PRIMARY KEY (group_name, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

-- OIDC Front-Channel Logout 1.0, for apps without a back channel.
ALTER TABLE clients ADD COLUMN frontchannel_logout_uri TEXT;
