//! The official-mail directory over LDAP (`ldap3`): a service account finds
//! the person by `mail` or `uid`, then a bind as that person checks the
//! password. Plain LDAP, STARTTLS (`starttls = true`) and LDAPS (`ldaps://`).
//! Searches reuse a small pool of connections bound as the service account;
//! each password check binds on a connection of its own, which is then closed.

use std::time::Duration;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, Scope, SearchEntry, ldap_escape};
use serde::Deserialize;
use tokio::sync::{Mutex, Semaphore};
use unicode_normalization::UnicodeNormalization;

use crate::directory::{Directory, DirectoryError, Identity, LoginOutcome};

/// Which LDAP attribute holds what (defaults: inetOrgPerson).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct AttributeMap {
    pub mail: String,
    pub name: String,
    pub surname: String,
    pub given_name: String,
    pub phone: String,
    pub title: String,
    pub employee_code: String,
    pub unit: String,
    pub department: String,
}

impl Default for AttributeMap {
    fn default() -> Self {
        AttributeMap {
            mail: "mail".into(),
            name: "cn".into(),
            surname: "sn".into(),
            given_name: "givenName".into(),
            phone: "telephoneNumber".into(),
            title: "title".into(),
            employee_code: "employeeNumber".into(),
            unit: "ou".into(),
            department: "departmentNumber".into(),
        }
    }
}

impl AttributeMap {
    fn all(&self) -> Vec<&str> {
        vec![
            &self.mail,
            &self.name,
            &self.surname,
            &self.given_name,
            &self.phone,
            &self.title,
            &self.employee_code,
            &self.unit,
            &self.department,
        ]
    }
}

/// How to reach and read the directory.
#[derive(Clone, Debug)]
pub struct LdapSettings {
    /// `ldap://host:389` or `ldaps://host:636`.
    pub url: String,
    pub bind_dn: String,
    pub bind_password: String,
    /// Where people are searched (subtree).
    pub base_dn: String,
    /// `{email}` and `{local}` (the part before `@`) are replaced, escaped.
    pub user_filter: String,
    /// Who is a person, for the sync.
    pub people_filter: String,
    /// Upgrade a plain `ldap://` connection with STARTTLS.
    pub starttls: bool,
    /// For connecting and for each operation.
    pub timeout: Duration,
    /// Search connections kept open.
    pub pool_size: usize,
    pub attributes: AttributeMap,
}

pub struct LdapDirectory {
    s: LdapSettings,
    idle: Mutex<Vec<Ldap>>,
    permits: Semaphore,
}

fn down(e: LdapError) -> DirectoryError {
    DirectoryError::Unavailable(e.to_string())
}

/// LDAP result codes that mean "not this password" (RFC 4511 §4.1.9):
/// invalidCredentials, and what servers answer for locked or disabled accounts.
const REFUSED: [u32; 4] = [49, 50, 53, 19];

impl LdapDirectory {
    pub fn new(s: LdapSettings) -> LdapDirectory {
        let permits = Semaphore::new(s.pool_size.max(1));
        LdapDirectory {
            s,
            idle: Mutex::new(Vec::new()),
            permits,
        }
    }

    async fn connect(&self) -> Result<Ldap, DirectoryError> {
        let settings = LdapConnSettings::new()
            .set_conn_timeout(self.s.timeout)
            .set_starttls(self.s.starttls);
        let (conn, ldap) = LdapConnAsync::with_settings(settings, &self.s.url)
            .await
            .map_err(down)?;
        tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!(error = %e, "LDAP connection closed");
            }
        });
        Ok(ldap)
    }

    /// A connection bound as the service account: from the pool (`true`) or new.
    async fn service(&self) -> Result<(Ldap, bool), DirectoryError> {
        if let Some(ldap) = self.idle.lock().await.pop() {
            return Ok((ldap, true));
        }
        let mut ldap = self.connect().await?;
        let r = ldap
            .with_timeout(self.s.timeout)
            .simple_bind(&self.s.bind_dn, &self.s.bind_password)
            .await
            .map_err(down)?;
        if r.rc != 0 {
            // A wrong service password is the admin's problem, never the person's.
            return Err(DirectoryError::Other(format!(
                "the service account {} cannot bind: {r}",
                self.s.bind_dn
            )));
        }
        Ok((ldap, false))
    }

    /// Runs a search on a pooled service connection. A pooled connection that
    /// fails (the server restarted since) is dropped and the search is tried
    /// once more on a new one.
    async fn search(
        &self,
        filter: &str,
        scope: Scope,
        base: &str,
    ) -> Result<Vec<SearchEntry>, DirectoryError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| DirectoryError::Other(e.to_string()))?;
        loop {
            let (mut ldap, pooled) = self.service().await?;
            let sent = ldap
                .with_timeout(self.s.timeout)
                .search(base, scope, filter, self.s.attributes.all())
                .await;
            let result = match sent {
                Ok(r) => r,
                Err(_) if pooled => continue,
                Err(e) => return Err(down(e)),
            };
            return match result.success() {
                Ok((entries, _)) => {
                    self.idle.lock().await.push(ldap);
                    Ok(entries.into_iter().map(SearchEntry::construct).collect())
                }
                // rc 32 (noSuchObject): the base is not there; the admin must fix it.
                Err(e) => Err(DirectoryError::Other(e.to_string())),
            };
        }
    }

    /// Finds the one entry for an account (an e-mail address, normalised).
    pub async fn find(&self, email: &str) -> Result<Option<SearchEntry>, DirectoryError> {
        let local = email.split('@').next().unwrap_or(email);
        let filter = self
            .s
            .user_filter
            .replace("{email}", &ldap_escape(email))
            .replace("{local}", &ldap_escape(local));
        let mut entries = self
            .search(&filter, Scope::Subtree, &self.s.base_dn)
            .await?;
        if entries.len() > 1 {
            tracing::warn!(account = %email, count = entries.len(), "several directory entries match one account; refusing it");
            return Ok(None);
        }
        Ok(entries.pop())
    }

    /// Reads every entry of `people_filter` (and `extra`, ANDed), 500 per
    /// page, handing each one with a mailbox to `each`.
    async fn each_person(
        &self,
        extra: Option<&str>,
        attrs: Vec<&str>,
        mut each: impl FnMut(SearchEntry),
    ) -> Result<(), DirectoryError> {
        let (mut ldap, _) = self.service().await?;
        let adapters: Vec<Box<dyn Adapter<_, _>>> = vec![
            Box::new(EntriesOnly::new()),
            Box::new(PagedResults::new(500)),
        ];
        let filter = match extra {
            Some(x) => format!("(&{}{x})", self.s.people_filter),
            None => self.s.people_filter.clone(),
        };
        let mut stream = ldap
            .with_timeout(self.s.timeout)
            .streaming_search_with(adapters, &self.s.base_dn, Scope::Subtree, &filter, attrs)
            .await
            .map_err(down)?;
        while let Some(entry) = stream.next().await.map_err(down)? {
            let entry = SearchEntry::construct(entry);
            // Entries without a mailbox cannot sign in: not people for us.
            if entry.attrs.contains_key(&self.s.attributes.mail) {
                each(entry);
            }
        }
        stream
            .finish()
            .await
            .success()
            .map_err(|e| DirectoryError::Other(e.to_string()))?;
        let _ = ldap.unbind().await;
        Ok(())
    }

    /// People changed since `since` (an LDAP generalized time; `None`: everyone),
    /// and the latest `modifyTimestamp` among them.
    pub async fn people(
        &self,
        since: Option<&str>,
        mut progress: impl FnMut(usize),
    ) -> Result<(Vec<Identity>, Option<String>), DirectoryError> {
        if let Some(t) = since
            && !t
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'Z' || b == b'.')
        {
            return Err(DirectoryError::Other(format!("bad generalized time {t:?}")));
        }
        let extra = since.map(|t| format!("(modifyTimestamp>={t})"));
        let mut attrs = self.s.attributes.all();
        attrs.push("modifyTimestamp");
        let mut people = Vec::new();
        let mut latest: Option<String> = None;
        self.each_person(extra.as_deref(), attrs, |entry| {
            if let Some(t) = entry.attrs.get("modifyTimestamp").and_then(|v| v.first())
                && latest.as_ref().is_none_or(|l| t > l)
            {
                latest = Some(t.clone());
            }
            people.push(self.identity(&entry, ""));
            if people.len() % 1000 == 0 {
                progress(people.len());
            }
        })
        .await?;
        Ok((people, latest))
    }

    /// Everyone's address and unit: who is still there, cheaply.
    pub async fn roster(&self) -> Result<Vec<(String, Option<String>)>, DirectoryError> {
        let a = &self.s.attributes;
        let mut out = Vec::new();
        self.each_person(None, vec![&a.mail, &a.unit], |entry| {
            let p = self.identity(&entry, "");
            out.push((p.email, p.unit));
        })
        .await?;
        Ok(out)
    }

    /// Checks that the directory answers (readiness).
    pub async fn ping(&self) -> Result<(), DirectoryError> {
        self.search("(objectClass=*)", Scope::Base, &self.s.base_dn)
            .await
            .map(|_| ())
    }

    /// What the directory says about a person.
    pub fn identity(&self, entry: &SearchEntry, fallback_email: &str) -> Identity {
        let a = &self.s.attributes;
        let get = |name: &str| {
            entry
                .attrs
                .get(name)
                .and_then(|v| v.first())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let email = get(&a.mail)
            .map(|m| m.nfc().collect::<String>().to_lowercase())
            .unwrap_or_else(|| fallback_email.to_owned());
        let name = get(&a.name)
            .or_else(|| {
                let parts: Vec<String> = [get(&a.surname), get(&a.given_name)]
                    .into_iter()
                    .flatten()
                    .collect();
                (!parts.is_empty()).then(|| parts.join(" "))
            })
            .unwrap_or_else(|| email.clone());
        Identity {
            email,
            name,
            phone: get(&a.phone),
            unit: get(&a.unit),
            title: get(&a.title),
            employee_code: get(&a.employee_code),
            department: get(&a.department),
        }
    }
}

impl Directory for LdapDirectory {
    async fn authenticate(
        &self,
        email: &str,
        password: &str,
    ) -> Result<LoginOutcome, DirectoryError> {
        // An empty password would be an unauthenticated bind, which succeeds (RFC 4513 §5.1.2).
        if password.is_empty() {
            return Ok(LoginOutcome::InvalidCredentials);
        }
        let Some(entry) = self.find(email).await? else {
            return Ok(LoginOutcome::InvalidCredentials);
        };
        let mut ldap = self.connect().await?;
        let r = ldap
            .with_timeout(self.s.timeout)
            .simple_bind(&entry.dn, password)
            .await
            .map_err(down)?;
        let _ = ldap.unbind().await;
        match r.rc {
            0 => Ok(LoginOutcome::Authenticated(self.identity(&entry, email))),
            rc if REFUSED.contains(&rc) => Ok(LoginOutcome::InvalidCredentials),
            _ => Err(DirectoryError::Other(r.to_string())),
        }
    }
}
