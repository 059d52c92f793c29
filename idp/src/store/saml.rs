//! SAML: the IdP's key, the service providers (the registry of
//! `saml::registry`) and the SPs each portal session signed in to (for
//! single logout).

use super::{Store, StoreError, conflict, json_list, to_json};

/// The IdP's sealed signing key and its certificate.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SamlKeyRow {
    pub name: String,
    pub sealed_der: Vec<u8>,
    pub cert_der: Vec<u8>,
    pub created_at: i64,
}

/// A registered service provider as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamlSp {
    pub entity_id: String,
    pub name: String,
    /// JSON of `saml::metadata::SpMetadata`: endpoints, certificates, flags.
    pub endpoints: String,
    /// The metadata as registered.
    pub metadata: String,
    /// `email` or `persistent`.
    pub name_id: String,
    /// Released attributes, by name (`cas::Attribute` names).
    pub attributes: Vec<String>,
    pub app_id: Option<String>,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    entity_id: String,
    name: String,
    endpoints: String,
    metadata: String,
    name_id: String,
    attributes: String,
    app_id: Option<String>,
    created_at: i64,
}

impl TryFrom<Row> for SamlSp {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<SamlSp, StoreError> {
        Ok(SamlSp {
            attributes: json_list(&r.attributes, "saml_sps.attributes")?,
            entity_id: r.entity_id,
            name: r.name,
            endpoints: r.endpoints,
            metadata: r.metadata,
            name_id: r.name_id,
            app_id: r.app_id,
            created_at: r.created_at,
        })
    }
}

/// An SP signed in to from a portal session: whom to tell at sign-out.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SamlSessionRow {
    pub sid: String,
    pub entity_id: String,
    pub name_id: String,
    pub name_id_format: String,
    pub session_index: String,
    pub created_at: i64,
}

macro_rules! columns {
    () => {
        "entity_id, name, endpoints, metadata, name_id, attributes, app_id, created_at"
    };
}

impl Store {
    pub async fn saml_key(&self, name: &str) -> Result<Option<SamlKeyRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT name, sealed_der, cert_der, created_at FROM saml_keys WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Inserts the key unless another node made one first (`false`: read that one).
    pub async fn insert_saml_key(&self, k: &SamlKeyRow) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO saml_keys (name, sealed_der, cert_der, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&k.name)
        .bind(&k.sealed_der)
        .bind(&k.cert_der)
        .bind(k.created_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Registers an SP, or (`replace`) replaces the one of that entity ID.
    pub async fn put_saml_sp(&self, s: &SamlSp, replace: bool) -> Result<(), StoreError> {
        let sql = if replace {
            "INSERT INTO saml_sps (entity_id, name, endpoints, metadata, name_id, attributes, app_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (entity_id) DO UPDATE SET \
             name = excluded.name, endpoints = excluded.endpoints, metadata = excluded.metadata, \
             name_id = excluded.name_id, attributes = excluded.attributes, app_id = excluded.app_id"
        } else {
            "INSERT INTO saml_sps (entity_id, name, endpoints, metadata, name_id, attributes, app_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        };
        sqlx::query(sql)
            .bind(&s.entity_id)
            .bind(&s.name)
            .bind(&s.endpoints)
            .bind(&s.metadata)
            .bind(&s.name_id)
            .bind(to_json(&s.attributes))
            .bind(&s.app_id)
            .bind(s.created_at)
            .execute(&self.pool)
            .await
            .map_err(|e| conflict(e, &s.entity_id))?;
        Ok(())
    }

    pub async fn saml_sp(&self, entity_id: &str) -> Result<Option<SamlSp>, StoreError> {
        let row: Option<Row> = sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM saml_sps WHERE entity_id = $1"
        ))
        .bind(entity_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(SamlSp::try_from).transpose()
    }

    /// The SP whose tile is portal app `app_id`, if one is.
    pub async fn saml_sp_of_app(&self, app_id: &str) -> Result<Option<SamlSp>, StoreError> {
        let row: Option<Row> = sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM saml_sps WHERE app_id = $1 ORDER BY entity_id LIMIT 1"
        ))
        .bind(app_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(SamlSp::try_from).transpose()
    }

    /// Every SP, by entity ID.
    pub async fn saml_sps(&self) -> Result<Vec<SamlSp>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM saml_sps ORDER BY entity_id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(SamlSp::try_from).collect()
    }

    /// Removes an SP and its session rows; `false` when there was none.
    pub async fn delete_saml_sp(&self, entity_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM saml_sessions WHERE entity_id = $1")
            .bind(entity_id)
            .execute(&mut *tx)
            .await?;
        let r = sqlx::query("DELETE FROM saml_sps WHERE entity_id = $1")
            .bind(entity_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(r.rows_affected() > 0)
    }

    /// Records (or refreshes) the SP signed in to from session `sid`.
    pub async fn record_saml_session(&self, r: &SamlSessionRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO saml_sessions (sid, entity_id, name_id, name_id_format, session_index, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sid, entity_id) DO UPDATE SET \
             name_id = excluded.name_id, name_id_format = excluded.name_id_format, \
             session_index = excluded.session_index, created_at = excluded.created_at",
        )
        .bind(&r.sid)
        .bind(&r.entity_id)
        .bind(&r.name_id)
        .bind(&r.name_id_format)
        .bind(&r.session_index)
        .bind(r.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes the SAML sessions of portal session `sid`: deleted and
    /// returned in one statement, so each SP is told once and a row written
    /// meanwhile is either returned or left for the next sign-out.
    pub async fn take_saml_sessions(&self, sid: &str) -> Result<Vec<SamlSessionRow>, StoreError> {
        let mut rows: Vec<SamlSessionRow> = sqlx::query_as(
            "DELETE FROM saml_sessions WHERE sid = $1 \
             RETURNING sid, entity_id, name_id, name_id_format, session_index, created_at",
        )
        .bind(sid)
        .fetch_all(&self.pool)
        .await?;
        rows.sort_by(|a, b| (a.created_at, &a.entity_id).cmp(&(b.created_at, &b.entity_id)));
        Ok(rows)
    }

    /// The session of `sid` at one SP (an SP-initiated logout names it).
    pub async fn saml_session(
        &self,
        sid: &str,
        entity_id: &str,
    ) -> Result<Option<SamlSessionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT sid, entity_id, name_id, name_id_format, session_index, created_at \
             FROM saml_sessions WHERE sid = $1 AND entity_id = $2",
        )
        .bind(sid)
        .bind(entity_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Forgets the session of `sid` at one SP.
    pub async fn delete_saml_session(&self, sid: &str, entity_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM saml_sessions WHERE sid = $1 AND entity_id = $2")
            .bind(sid)
            .bind(entity_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets SAML sessions recorded before `before`.
    pub async fn purge_saml_sessions(&self, before: i64) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM saml_sessions WHERE created_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }
}
