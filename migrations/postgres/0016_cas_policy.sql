-- CAS service policy: which services accept proxy tickets (a proxy ticket is
-- issued only for a targetService matching a service that accepts proxies)
-- and which services require a second factor (acr 2) at sign-in.

ALTER TABLE cas_services ADD COLUMN accept_proxy BIGINT NOT NULL DEFAULT 0;  -- 1: may be the targetService of a proxy ticket
ALTER TABLE cas_services ADD COLUMN require_mfa BIGINT NOT NULL DEFAULT 0;   -- 1: sign-in must include a second factor (acr 2)
