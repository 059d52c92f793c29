-- People, OIDC clients, signing keys, refresh-token families and the audit log.
-- Times are Unix seconds (BIGINT) so one SQL text serves SQLite and PostgreSQL.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,          -- the stable, opaque OIDC `sub`
    email         TEXT NOT NULL UNIQUE,      -- official e-mail, lower case, NFC
    name          TEXT NOT NULL,
    phone         TEXT,
    unit          TEXT,
    title         TEXT,
    employee_code TEXT,
    password_hash TEXT,                      -- argon2id PHC string; NULL: no local password
    is_admin      BIGINT NOT NULL DEFAULT 0,
    disabled_at   BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE clients (
    id                        TEXT PRIMARY KEY,
    name                      TEXT NOT NULL,
    secret_hash               TEXT,           -- SHA-256 of a 256-bit generated secret
    auth_method               TEXT NOT NULL,  -- client_secret_basic | client_secret_post | private_key_jwt | none
    redirect_uris             TEXT NOT NULL,  -- JSON array, matched exactly
    post_logout_redirect_uris TEXT NOT NULL,  -- JSON array
    grant_types               TEXT NOT NULL,  -- JSON array
    backchannel_logout_uri    TEXT,
    jwks                      TEXT,           -- JSON JWK Set for private_key_jwt
    id_token_alg              TEXT NOT NULL DEFAULT 'RS256',
    created_at                BIGINT NOT NULL
);

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    state       TEXT NOT NULL,              -- next | current | previous | retired
    sealed_der  BYTEA NOT NULL,              -- AES-256-GCM(PKCS#8), aad = kid
    public_jwk  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
-- At most one current and one next key per algorithm, even with nodes starting together.
CREATE UNIQUE INDEX signing_keys_one_live ON signing_keys (alg, state) WHERE state IN ('current', 'next');

CREATE TABLE grants (
    id          TEXT PRIMARY KEY,           -- one authorization: a refresh-token family
    client_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    sid         TEXT,                       -- the SSO session it came from
    scope       TEXT NOT NULL,
    auth_time   BIGINT NOT NULL,
    amr         TEXT NOT NULL,              -- JSON array
    acr         TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    revoked_at  BIGINT,
    revoke_reason TEXT
);
CREATE INDEX grants_sid ON grants (sid);
CREATE INDEX grants_user ON grants (user_id);

CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,           -- SHA-256 of the token
    grant_id    TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    used_at     BIGINT                      -- set when rotated; a second use is reuse
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);

CREATE TABLE audit_events (
    id          BIGSERIAL PRIMARY KEY,
    at          BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT,                       -- who did it (user id, client id, 'cli')
    subject     TEXT,                       -- whom or what it concerned
    client_id   TEXT,
    ip          TEXT,
    request_id  TEXT,
    detail      TEXT
);
CREATE INDEX audit_events_at ON audit_events (at);
