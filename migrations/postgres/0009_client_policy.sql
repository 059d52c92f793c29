-- Per-client policy (security review, issue 11): the scopes and resources
-- (RFC 8707) a client may ask for with client_credentials, and whether the
-- client must send PKCE (a confidential OpenID Connect client registered with
-- `--pkce optional` may rely on `nonce` instead, RFC 9700 §2.1.1).

ALTER TABLE clients ADD COLUMN allowed_scopes TEXT NOT NULL DEFAULT '[]';     -- JSON array
ALTER TABLE clients ADD COLUMN allowed_resources TEXT NOT NULL DEFAULT '[]';  -- JSON array of absolute URIs
ALTER TABLE clients ADD COLUMN pkce_required BIGINT NOT NULL DEFAULT 1;
