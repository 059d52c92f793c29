-- Second factors: an authenticator app (TOTP, its key sealed with the master
-- key) and/or an e-mail address for one-time codes; hashed recovery codes;
-- the browsers each person has signed in from (to notice a new one); apps
-- that require a second factor.

CREATE TABLE factors (
    user_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,               -- totp | email
    secret      TEXT,                        -- totp: the key, sealed (base64url)
    address     TEXT,                        -- email: where the codes go
    last_step   BIGINT NOT NULL DEFAULT 0,   -- totp: last time step accepted (a code works once)
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, kind)
);

CREATE TABLE recovery_codes (
    user_id     TEXT NOT NULL,
    code_hash   TEXT NOT NULL,               -- SHA-256 of the code, never the code
    created_at  BIGINT NOT NULL,
    used_at     BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE known_devices (
    user_id     TEXT NOT NULL,
    device_hash TEXT NOT NULL,               -- SHA-256 of the device cookie
    first_seen  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    PRIMARY KEY (user_id, device_hash)
);

ALTER TABLE clients ADD COLUMN require_mfa BIGINT NOT NULL DEFAULT 0;
