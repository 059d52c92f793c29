-- CAS 3.0 (Apereo CAS Protocol): the services apps register, and the
-- service tickets issued in each portal session, so a sign-out can send
-- each app its CAS single logout (a SAML logoutRequest naming the ticket).

CREATE TABLE cas_services (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    pattern      TEXT NOT NULL,              -- an absolute http(s) URL: the service URL or its prefix
    exact        BIGINT NOT NULL DEFAULT 0,  -- 1: the service URL must equal the pattern
    attributes   TEXT NOT NULL DEFAULT '["email","name"]', -- JSON list: email name unit title phone legacy_username
    logout_url   TEXT,                       -- where the logoutRequest is POSTed; NULL: no single logout
    allow_proxy  BIGINT NOT NULL DEFAULT 0,  -- 1: may receive proxy-granting tickets (its pgtUrl matches the pattern)
    app_id       TEXT REFERENCES apps (id),  -- the portal tile and the legacy accounts of `legacy_username`
    created_at   BIGINT NOT NULL
);

CREATE TABLE cas_sessions (
    sid         TEXT NOT NULL,               -- the portal session (sso_sessions.sid)
    service_id  TEXT NOT NULL REFERENCES cas_services (id) ON DELETE CASCADE,
    ticket      TEXT NOT NULL,               -- the service ticket validated: the SessionIndex of SLO
    service_url TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (sid, ticket)
);
CREATE INDEX cas_sessions_created ON cas_sessions (created_at);
