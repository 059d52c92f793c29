-- Keys that sign PDF documents (issue 10). The embedded software key lives
-- here, sealed like the OIDC keys; keys on a PKCS#11 token never do.
CREATE TABLE document_keys (
    label       TEXT PRIMARY KEY,           -- which key: 'soft' for the embedded test key
    alg         TEXT NOT NULL,              -- ES256 | RS256
    sealed_der  BLOB NOT NULL,              -- AES-256-GCM(PKCS#8) under the document-key sub-key, aad = label
    cert_der    BLOB NOT NULL,              -- its certificate (self-signed for the test key)
    created_at  BIGINT NOT NULL
);
