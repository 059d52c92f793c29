-- The directory sync: where the last read stopped (the newest modifyTimestamp
-- it saw), when everyone was last read in full, and the units it found.

CREATE TABLE directory_state (
    source      TEXT PRIMARY KEY,
    mark        TEXT,                        -- LDAP generalized time, e.g. 20261122083000Z
    full_at     BIGINT NOT NULL
);

CREATE TABLE units (
    name        TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    people      BIGINT NOT NULL,             -- people in it at the last sync
    updated_at  BIGINT NOT NULL
);
