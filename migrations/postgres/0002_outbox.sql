-- Messages the IdP owes to others (back-channel logout tokens now, e-mail
-- later), delivered by a background worker with retries and backoff, so
-- nothing is lost while an app or the mail server is down.
CREATE TABLE outbox (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,             -- backchannel_logout
    target       TEXT NOT NULL,             -- where it goes (a URL)
    payload      TEXT NOT NULL,             -- what goes (a logout token)
    client_id    TEXT,
    attempts     BIGINT NOT NULL DEFAULT 0,
    next_at      BIGINT NOT NULL,           -- due time; also the claim lease
    last_error   TEXT,
    created_at   BIGINT NOT NULL,
    delivered_at BIGINT,
    given_up_at  BIGINT
);
CREATE INDEX outbox_due ON outbox (next_at) WHERE delivered_at IS NULL AND given_up_at IS NULL;
