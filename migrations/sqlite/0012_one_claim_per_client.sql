-- A client receives the legacy usernames of one app at most: the rule the
-- IdP checks, kept by the database too when two changes race.
CREATE UNIQUE INDEX apps_one_legacy_claim_per_client ON apps (client_id)
    WHERE legacy_claim IS NOT NULL;
