-- Account linking (issue 12): the legacy apps' own accounts as last imported,
-- the links from an account to its owner, the matcher's suggestions for the
-- review queue, people's requests to be linked, and the claim that carries
-- the linked username to each app.
--
-- One account has one owner and one person one account per app: the primary
-- key and the UNIQUE below make anything else impossible to store; whatever
-- would break them is a conflict shown to an administrator.

CREATE TABLE legacy_accounts (
    app_id       TEXT NOT NULL REFERENCES apps (id),
    username     TEXT NOT NULL,              -- the app's login name, as the app holds it
    display_name TEXT NOT NULL DEFAULT '',
    email        TEXT,                       -- as the app holds it (not normalised)
    phone        TEXT,
    unit         TEXT,
    active       BIGINT NOT NULL DEFAULT 1,  -- 0: locked in the app, or gone from its export
    imported_at  BIGINT NOT NULL,
    PRIMARY KEY (app_id, username)
);

CREATE TABLE account_links (
    app_id    TEXT NOT NULL,
    username  TEXT NOT NULL,
    user_id   TEXT NOT NULL REFERENCES users (id),
    method    TEXT NOT NULL,                 -- email | email-variant | phone | name | manual | import | request
    linked_by TEXT NOT NULL,                 -- `cli` or an administrator's user id
    linked_at BIGINT NOT NULL,
    PRIMARY KEY (app_id, username),
    UNIQUE (app_id, user_id),
    FOREIGN KEY (app_id, username) REFERENCES legacy_accounts (app_id, username)
);

CREATE TABLE link_suggestions (
    app_id     TEXT NOT NULL,
    username   TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    reason     TEXT NOT NULL,                -- email | email-variant | phone | name
    confidence BIGINT NOT NULL,              -- 0-100
    ambiguous  BIGINT NOT NULL DEFAULT 0,
    exact      BIGINT NOT NULL DEFAULT 0,    -- unambiguous e-mail or phone: may be accepted in bulk
    status     TEXT NOT NULL DEFAULT 'pending', -- pending | accepted | rejected
    created_at BIGINT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT,
    PRIMARY KEY (app_id, username, user_id),
    FOREIGN KEY (app_id, username) REFERENCES legacy_accounts (app_id, username)
);
-- The review queue's pages are keyset reads of these, in (app, username, person) order.
CREATE INDEX link_suggestions_queue ON link_suggestions (status, app_id, username, user_id);
CREATE INDEX link_suggestions_reason ON link_suggestions (status, reason, app_id, username, user_id);
CREATE INDEX link_suggestions_person ON link_suggestions (app_id, user_id);

CREATE TABLE link_requests (
    id         INTEGER PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    app_id     TEXT NOT NULL REFERENCES apps (id),
    note       TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT 'pending', -- pending | accepted | rejected
    created_at BIGINT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT,
    decision   TEXT                          -- the account linked, or why not
);
-- At most one pending request per person and app.
CREATE UNIQUE INDEX link_requests_one_pending ON link_requests (user_id, app_id) WHERE status = 'pending';
CREATE INDEX link_requests_status ON link_requests (status, id);

-- The claim that carries the linked username to the app's client; NULL: none released.
ALTER TABLE apps ADD COLUMN legacy_claim TEXT;
