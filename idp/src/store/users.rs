//! People: the official e-mail, profile claims and an optional local password.

use super::{Store, StoreError, conflict};
use crate::ids::{Email, UserId};
use crate::kinds::{SignaturePage, SignaturePlace, UserSource};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub phone: Option<String>,
    pub unit: Option<String>,
    pub title: Option<String>,
    pub employee_code: Option<String>,
    pub password_hash: Option<String>,
    pub is_admin: i64,
    pub disabled_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// For recovery; never used to sign in.
    pub personal_email: Option<String>,
    /// Local, or the directory the name and unit come from (then read-only).
    pub source: UserSource,
    /// The page the signing service signs by default.
    pub signature_page: SignaturePage,
    /// Where on that page.
    pub signature_place: SignaturePlace,
}

/// What a person may change on their account page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileChange {
    /// `None`: unchanged (the directory owns it). The unit is never the
    /// person's to change: it decides what a unit administrator manages.
    pub name: Option<String>,
    pub phone: Option<String>,
    pub personal_email: Option<String>,
    pub signature_page: SignaturePage,
    pub signature_place: SignaturePlace,
}

/// A signature image as stored: PNG bytes we encoded ourselves.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Signature {
    pub image: Vec<u8>,
    pub width: i64,
    pub height: i64,
    pub updated_at: i64,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.is_admin != 0
    }

    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}

#[derive(Clone, Debug)]
pub struct NewUser {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub phone: Option<String>,
    pub unit: Option<String>,
    pub title: Option<String>,
    pub employee_code: Option<String>,
    pub password_hash: Option<String>,
    pub is_admin: bool,
}

macro_rules! columns {
    () => {
        "id, email, name, phone, unit, title, employee_code, password_hash, is_admin, disabled_at, created_at, updated_at, \
         personal_email, source, signature_page, signature_place"
    };
}
pub(super) use columns;

impl Store {
    pub async fn create_user(&self, u: &NewUser, now: i64) -> Result<User, StoreError> {
        sqlx::query(
            "INSERT INTO users (id, email, name, phone, unit, title, employee_code, password_hash, is_admin, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(&u.id)
        .bind(&u.email)
        .bind(&u.name)
        .bind(&u.phone)
        .bind(&u.unit)
        .bind(&u.title)
        .bind(&u.employee_code)
        .bind(&u.password_hash)
        .bind(i64::from(u.is_admin))
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict(e, &u.email))?;
        self.user_by_id(&u.id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("user vanished after insert".into()))
    }

    pub async fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM users WHERE email = $1"
        ))
        .bind(email)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn user_by_id(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        Ok(
            sqlx::query_as(concat!("SELECT ", columns!(), " FROM users WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn list_users(&self, limit: i64, offset: i64) -> Result<Vec<User>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM users ORDER BY email LIMIT $1 OFFSET $2"
        ))
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn count_admins(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM users WHERE is_admin = 1 AND disabled_at IS NULL")
                .fetch_one(&self.pool)
                .await?;
        Ok(n)
    }

    /// Replaces the password hash (after a parameter upgrade or a reset).
    pub async fn set_password_hash(
        &self,
        id: &UserId,
        hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Disables (`Some(now)`) or enables (`None`) a person; never deletes.
    pub async fn set_user_disabled(
        &self,
        id: &UserId,
        at: Option<i64>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE users SET disabled_at = $1, updated_at = $2 WHERE id = $3")
            .bind(at)
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Moves a person to `unit`.
    pub async fn set_user_unit(&self, id: &UserId, unit: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET unit = $1, updated_at = $2 WHERE id = $3")
            .bind(unit)
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Saves the account page; the name only when given.
    pub async fn update_profile(
        &self,
        id: &UserId,
        c: &ProfileChange,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE users SET name = COALESCE($1, name), phone = $2, \
             personal_email = $3, signature_page = $4, signature_place = $5, updated_at = $6 WHERE id = $7",
        )
        .bind(&c.name)
        .bind(&c.phone)
        .bind(&c.personal_email)
        .bind(c.signature_page)
        .bind(c.signature_place)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn signature(&self, user_id: &UserId) -> Result<Option<Signature>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT image, width, height, updated_at FROM signatures WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Replaces the person's signature image in one statement (never half-written).
    pub async fn set_signature(&self, user_id: &UserId, s: &Signature) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO signatures (user_id, image, width, height, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id) DO UPDATE SET image = excluded.image, width = excluded.width, \
             height = excluded.height, updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(&s.image)
        .bind(s.width)
        .bind(s.height)
        .bind(s.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn delete_signature(&self, user_id: &UserId) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM signatures WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Creates or refreshes a person the directory vouches for: name, unit,
    /// title and employee code are the directory's; a phone the person set
    /// here is kept. A row of another source (a local account) is left as it
    /// is: the caller sees its `source` and refuses. Returns the row as it now is.
    pub async fn upsert_directory_user(
        &self,
        new_id: &UserId,
        who: &connectors::Identity,
        source: UserSource,
        now: i64,
    ) -> Result<User, StoreError> {
        sqlx::query(
            "INSERT INTO users (id, email, name, phone, unit, title, employee_code, source, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
             ON CONFLICT (email) DO UPDATE SET name = excluded.name, phone = COALESCE(users.phone, excluded.phone), \
             unit = excluded.unit, title = excluded.title, employee_code = excluded.employee_code, \
             updated_at = excluded.updated_at WHERE users.source = excluded.source",
        )
        .bind(new_id)
        .bind(&who.email)
        .bind(&who.name)
        .bind(&who.phone)
        .bind(&who.unit)
        .bind(&who.title)
        .bind(&who.employee_code)
        .bind(source)
        .bind(now)
        .execute(&self.pool)
        .await?;
        let user: Option<User> = sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM users WHERE email = $1"
        ))
        .bind(&who.email)
        .fetch_optional(&self.pool)
        .await?;
        user.ok_or_else(|| StoreError::Corrupt("user vanished after upsert".into()))
    }

    /// Everyone who came from a directory (`source`), enabled or not.
    pub async fn directory_people(&self, source: UserSource) -> Result<Vec<User>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM users WHERE source = $1"
        ))
        .bind(source)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The e-mails of local accounts (the sync leaves them alone).
    pub async fn local_emails(&self) -> Result<std::collections::HashSet<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT email FROM users WHERE source = 'local'")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(e,)| e).collect())
    }

    /// Writes a directory sync in one transaction: all of it or none.
    pub async fn apply_directory_changes(
        &self,
        c: &DirectoryChanges,
        source: UserSource,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for (id, p) in &c.add {
            sqlx::query(
                "INSERT INTO users (id, email, name, phone, unit, title, employee_code, source, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
            )
            .bind(id)
            .bind(&p.email)
            .bind(&p.name)
            .bind(&p.phone)
            .bind(&p.unit)
            .bind(&p.title)
            .bind(&p.employee_code)
            .bind(source)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        for (id, p) in &c.update {
            sqlx::query(
                "UPDATE users SET name = $1, phone = COALESCE(phone, $2), unit = $3, title = $4, \
                 employee_code = $5, disabled_at = NULL, updated_at = $6 WHERE id = $7",
            )
            .bind(&p.name)
            .bind(&p.phone)
            .bind(&p.unit)
            .bind(&p.title)
            .bind(&p.employee_code)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        for id in &c.disable {
            sqlx::query("UPDATE users SET disabled_at = $1, updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM units WHERE source = $1")
            .bind(source)
            .execute(&mut *tx)
            .await?;
        for (name, people) in &c.units {
            sqlx::query(
                "INSERT INTO units (name, source, people, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(source)
            .bind(*people)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let full_at = if c.full { Some(now) } else { None };
        sqlx::query(
            "INSERT INTO directory_state (source, mark, full_at) VALUES ($1, $2, COALESCE($3, 0)) \
             ON CONFLICT (source) DO UPDATE SET mark = excluded.mark, \
             full_at = COALESCE($3, directory_state.full_at)",
        )
        .bind(source)
        .bind(&c.mark)
        .bind(full_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Where the last sync of `source` stopped, and when it last read everyone.
    pub async fn directory_state(
        &self,
        source: UserSource,
    ) -> Result<Option<(Option<String>, i64)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT mark, full_at FROM directory_state WHERE source = $1")
                .bind(source)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Units and how many people each had at the last sync, by name.
    pub async fn units(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT name, people FROM units ORDER BY name")
                .fetch_all(&self.pool)
                .await?,
        )
    }
}

/// What a directory sync writes.
#[derive(Debug, Default)]
pub struct DirectoryChanges {
    /// New people, with the id to give them.
    pub add: Vec<(UserId, connectors::Identity)>,
    /// People whose details changed (or who came back): by id.
    pub update: Vec<(UserId, connectors::Identity)>,
    /// People who left: by id.
    pub disable: Vec<UserId>,
    /// Every unit and its number of people (replaces the last sync's).
    pub units: Vec<(String, i64)>,
    /// The newest `modifyTimestamp` read: the next sync reads from there.
    pub mark: Option<String>,
    /// Everyone was read (not only who changed).
    pub full: bool,
}
