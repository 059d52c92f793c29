-- The app registry behind the portal's tiles, and when each person last
-- opened each app (tiles are shown most recently used first).
CREATE TABLE apps (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    launch_url  TEXT NOT NULL,
    client_id   TEXT,                      -- the OIDC client behind the app, if any
    icon        BLOB,                      -- PNG or JPEG, checked at upload
    icon_type   TEXT,
    units       TEXT NOT NULL DEFAULT '[]',-- JSON list; empty: everyone may see it
    created_at  BIGINT NOT NULL
);

CREATE TABLE app_usage (
    user_id      TEXT NOT NULL,
    app_id       TEXT NOT NULL,
    last_used_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, app_id)
);

-- OIDC third-party initiated login (OIDC Core §4): where a tile starts the app's login.
ALTER TABLE clients ADD COLUMN initiate_login_uri TEXT;
