-- SAML 2.0 (issue 13): the IdP's signing key, the service providers
-- registered from their metadata, and the SPs each portal session signed in
-- to, so a sign-out can send each its LogoutRequest.

CREATE TABLE saml_keys (
    name        TEXT PRIMARY KEY,            -- 'idp'
    sealed_der  BLOB NOT NULL,               -- AES-256-GCM(PKCS#8 RSA) under the saml-key sub-key, aad = name|SHA-256(cert)
    cert_der    BLOB NOT NULL,               -- its self-signed certificate (published in the metadata)
    created_at  BIGINT NOT NULL
);

CREATE TABLE saml_sps (
    entity_id     TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    endpoints     TEXT NOT NULL,             -- JSON: what the metadata said (ACS and SLO endpoints, certificates, flags)
    metadata      TEXT NOT NULL,             -- the metadata as registered (for the record)
    name_id       TEXT NOT NULL DEFAULT 'email', -- email | persistent
    attributes    TEXT NOT NULL DEFAULT '["email","name"]', -- JSON list: email name unit title phone legacy_username
    app_id        TEXT REFERENCES apps (id), -- the portal tile (IdP-initiated sign-in) and the legacy accounts
    created_at    BIGINT NOT NULL
);

CREATE TABLE saml_sessions (
    sid            TEXT NOT NULL,            -- the portal session (sso_sessions.sid)
    entity_id      TEXT NOT NULL REFERENCES saml_sps (entity_id) ON DELETE CASCADE,
    name_id        TEXT NOT NULL,            -- the NameID the SP was given
    name_id_format TEXT NOT NULL,
    session_index  TEXT NOT NULL,            -- the AuthnStatement's SessionIndex
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (sid, entity_id)
);
CREATE INDEX saml_sessions_created ON saml_sessions (created_at);
