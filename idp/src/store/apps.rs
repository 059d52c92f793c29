//! Apps shown as tiles at the portal, and who opened which when.

use super::{Store, StoreError, conflict, json_list, to_json};
use crate::ids::UserId;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct App {
    pub id: String,
    pub name: String,
    pub description: String,
    pub launch_url: String,
    pub client_id: Option<String>,
    pub icon: Option<Vec<u8>>,
    pub icon_type: Option<String>,
    /// Units whose people may see the app.
    pub units: Vec<String>,
    /// Groups whose members may see the app. No units and no groups: everyone.
    pub groups: Vec<String>,
    pub created_at: i64,
    /// The claim that carries the person's linked username of this app to
    /// its client (`preferred_username` or a custom name); `None`: none.
    pub legacy_claim: Option<String>,
}

impl App {
    pub fn visible_to(&self, unit: Option<&str>, groups: &[String]) -> bool {
        (self.units.is_empty() && self.groups.is_empty())
            || unit.is_some_and(|u| self.units.iter().any(|x| x == u))
            || groups.iter().any(|g| self.groups.contains(g))
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    name: String,
    description: String,
    launch_url: String,
    client_id: Option<String>,
    icon: Option<Vec<u8>>,
    icon_type: Option<String>,
    units: String,
    groups: String,
    created_at: i64,
    legacy_claim: Option<String>,
}

impl TryFrom<Row> for App {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<App, StoreError> {
        Ok(App {
            units: json_list(&r.units, "apps.units")?,
            groups: json_list(&r.groups, "apps.groups")?,
            id: r.id,
            name: r.name,
            description: r.description,
            launch_url: r.launch_url,
            client_id: r.client_id,
            icon: r.icon,
            icon_type: r.icon_type,
            created_at: r.created_at,
            legacy_claim: r.legacy_claim,
        })
    }
}

macro_rules! columns {
    () => {
        "id, name, description, launch_url, client_id, icon, icon_type, units, groups, created_at, legacy_claim"
    };
}

impl Store {
    pub async fn create_app(&self, a: &App) -> Result<(), StoreError> {
        sqlx::query(concat!(
            "INSERT INTO apps (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&a.id)
        .bind(&a.name)
        .bind(&a.description)
        .bind(&a.launch_url)
        .bind(&a.client_id)
        .bind(&a.icon)
        .bind(&a.icon_type)
        .bind(to_json(&a.units))
        .bind(to_json(&a.groups))
        .bind(a.created_at)
        .bind(&a.legacy_claim)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict(e, &a.id))?;
        Ok(())
    }

    /// Rewrites a tile's text, launch URL, client and visibility (not its
    /// icon or legacy claim); `false` when there is no such app.
    pub async fn update_app(&self, a: &App) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE apps SET name = $2, description = $3, launch_url = $4, client_id = $5, \
             units = $6, groups = $7 WHERE id = $1",
        )
        .bind(&a.id)
        .bind(&a.name)
        .bind(&a.description)
        .bind(&a.launch_url)
        .bind(&a.client_id)
        .bind(to_json(&a.units))
        .bind(to_json(&a.groups))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces a tile's icon; `false` when there is no such app.
    pub async fn set_app_icon(
        &self,
        id: &str,
        icon: &[u8],
        icon_type: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE apps SET icon = $2, icon_type = $3 WHERE id = $1")
            .bind(id)
            .bind(icon)
            .bind(icon_type)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn app(&self, id: &str) -> Result<Option<App>, StoreError> {
        let row: Option<Row> =
            sqlx::query_as(concat!("SELECT ", columns!(), " FROM apps WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(App::try_from).transpose()
    }

    pub async fn list_apps(&self) -> Result<Vec<App>, StoreError> {
        let rows: Vec<Row> =
            sqlx::query_as(concat!("SELECT ", columns!(), " FROM apps ORDER BY name"))
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(App::try_from).collect()
    }

    /// Notes that `user_id` opened `app_id` at `now`.
    pub async fn record_app_use(
        &self,
        user_id: &UserId,
        app_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO app_usage (user_id, app_id, last_used_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, app_id) DO UPDATE SET last_used_at = excluded.last_used_at",
        )
        .bind(user_id)
        .bind(app_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The groups a person belongs to.
    pub async fn groups_of(&self, user_id: &UserId) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT group_name FROM group_members WHERE user_id = $1 ORDER BY group_name",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(g,)| g).collect())
    }

    /// Puts a person in a group (again is fine).
    pub async fn add_to_group(&self, group: &str, user_id: &UserId) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO group_members (group_name, user_id) VALUES ($1, $2) \
             ON CONFLICT (group_name, user_id) DO NOTHING",
        )
        .bind(group)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// When the person last opened each app: (app id, time).
    pub async fn app_usage(&self, user_id: &UserId) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT app_id, last_used_at FROM app_usage WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
