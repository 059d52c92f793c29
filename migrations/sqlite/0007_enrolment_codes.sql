-- One-time enrolment codes: an administrator issues one (`idp user
-- enrolment-code`) so a person with no second factor yet can set up the first
-- one; shown once, stored only as a hash, short-lived, spent on use.

CREATE TABLE enrolment_codes (
    user_id     TEXT PRIMARY KEY,            -- one live code per person; a new one replaces it
    code_hash   TEXT NOT NULL,               -- SHA-256 of the code, never the code
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
