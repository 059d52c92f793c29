//! Keys that sign PDF documents and are held by the server (the embedded
//! software key), sealed with the master key like the OIDC keys.

use super::{Store, StoreError};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DocumentKeyRow {
    pub label: String,
    pub alg: String,
    pub sealed_der: Vec<u8>,
    pub cert_der: Vec<u8>,
    pub created_at: i64,
}

impl Store {
    pub async fn document_key(&self, label: &str) -> Result<Option<DocumentKeyRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT label, alg, sealed_der, cert_der, created_at FROM document_keys WHERE label = $1",
        )
        .bind(label)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Inserts a key unless one with that label is already there (another
    /// node or command made it first); `false` then, and the caller reads
    /// that one, so every node signs with the same key.
    pub async fn insert_document_key(&self, k: &DocumentKeyRow) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO document_keys (label, alg, sealed_der, cert_der, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (label) DO NOTHING",
        )
        .bind(&k.label)
        .bind(&k.alg)
        .bind(&k.sealed_der)
        .bind(&k.cert_der)
        .bind(k.created_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
