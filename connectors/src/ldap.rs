//! The official-mail directory over LDAP (`ldap3`): a service account finds
//! the person by `mail` or `uid`, then a bind as that person checks the
//! password. Plain LDAP, STARTTLS (`starttls = true`) and LDAPS (`ldaps://`).
//! Searches reuse a small pool of connections bound as the service account;
//! each password check binds on a connection of its own, which is then closed.
//!
//! An entry is someone only with exactly one `mail`, inside the configured
//! domain: an entry with two addresses, or one outside the domain, could
//! otherwise claim an address that is someone else's. Every check does the
//! same directory work (one search, one bind, a stand-in bind when there is
//! no entry to bind as), so the time taken does not tell accounts apart.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, Scope, SearchEntry, ldap_escape};
use secrecy::{ExposeSecret, SecretString};
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
    /// Secret: `Debug` shows it redacted.
    pub bind_password: SecretString,
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
    /// `Some("binhphuoc.gov.vn")`: only addresses there are accepted.
    mail_domain: Option<String>,
    work: Work,
}

/// The directory work done so far, for metrics (and tests that check every
/// password check does the same).
#[derive(Clone, Debug, Default)]
pub struct Work {
    pub searches: Arc<AtomicU64>,
    pub binds: Arc<AtomicU64>,
}

/// What the directory says of an account and a password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bind {
    /// The password is right for this entry, whose one address is `identity.email`.
    Ok { dn: String, identity: Identity },
    /// The entry found cannot be this account (several addresses, none, one
    /// outside the domain, or another person's): refused, with the reason,
    /// before any password is tried on it.
    Unfit { dn: String, reason: String },
    /// No such entry (or several), or a wrong password.
    No,
}

/// What a stand-in bind uses: no entry has this name, so the server refuses
/// it as it refuses a wrong password. Never the password typed.
const STAND_IN_DN: &str = "cn=dangnhap-no-such-entry";
const STAND_IN_PASSWORD: &str = "dangnhap-stand-in";

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
            mail_domain: None,
            work: Work::default(),
        }
    }

    /// Accepts only addresses in `domain` (the IdP's `email_domain`).
    pub fn with_mail_domain(mut self, domain: Option<&str>) -> LdapDirectory {
        self.mail_domain = domain.map(str::to_lowercase);
        self
    }

    /// The counters of searches and binds.
    pub fn work(&self) -> Work {
        self.work.clone()
    }

    /// The entry's one address, or why it has none we accept.
    pub fn mail(&self, entry: &SearchEntry) -> Result<String, String> {
        let values: Vec<String> = entry
            .attrs
            .get(&self.s.attributes.mail)
            .map(|v| {
                v.iter()
                    .map(|m| m.trim().nfc().collect::<String>().to_lowercase())
                    .filter(|m| !m.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let [mail] = values.as_slice() else {
            return Err(format!(
                "{} {} values (exactly one is needed)",
                values.len(),
                self.s.attributes.mail
            ));
        };
        if let Some(domain) = &self.mail_domain
            && mail
                .rsplit_once('@')
                .is_none_or(|(_, d)| d != domain.as_str())
        {
            return Err(format!("{mail} is outside {domain}"));
        }
        Ok(mail.clone())
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
            .simple_bind(&self.s.bind_dn, self.s.bind_password.expose_secret())
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
        self.work.searches.fetch_add(1, Ordering::Relaxed);
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
    /// the latest `modifyTimestamp` among them, and the entries refused (their
    /// DN and why: several addresses, or one outside the domain).
    pub async fn people(
        &self,
        since: Option<&str>,
        mut progress: impl FnMut(usize),
    ) -> Result<People, DirectoryError> {
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
        let mut unfit = Vec::new();
        let mut latest: Option<String> = None;
        self.each_person(extra.as_deref(), attrs, |entry| {
            if let Some(t) = entry.attrs.get("modifyTimestamp").and_then(|v| v.first())
                && latest.as_ref().is_none_or(|l| t > l)
            {
                latest = Some(t.clone());
            }
            match self.mail(&entry) {
                Ok(_) => people.push(self.identity(&entry, "")),
                Err(reason) => unfit.push((entry.dn.clone(), reason)),
            }
            if people.len() % 1000 == 0 {
                progress(people.len());
            }
        })
        .await?;
        Ok(People {
            people,
            latest,
            unfit,
        })
    }

    /// Everyone's address and unit: who is still there, cheaply. Entries
    /// refused by [`LdapDirectory::mail`] are not listed.
    pub async fn roster(&self) -> Result<Vec<(String, Option<String>)>, DirectoryError> {
        let a = &self.s.attributes;
        let mut out = Vec::new();
        self.each_person(None, vec![&a.mail, &a.unit], |entry| {
            if let Ok(mail) = self.mail(&entry) {
                out.push((mail, self.identity(&entry, "").unit));
            }
        })
        .await?;
        Ok(out)
    }

    /// Checks `password` for the one entry of `email`. The same work whatever
    /// the account: one search, then one bind (as the entry, or a stand-in
    /// bind when there is no entry, several, or the password is empty: an
    /// empty password would be an unauthenticated bind, which succeeds,
    /// RFC 4513 §5.1.2).
    pub async fn bind(&self, email: &str, password: &str) -> Result<Bind, DirectoryError> {
        let entry = self.find(email).await?;
        let Some(entry) = entry.filter(|_| !password.is_empty()) else {
            self.stand_in_bind().await;
            return Ok(Bind::No);
        };
        // The entry must be the account looked up before a password is tried
        // on it: else `uid={local}` would let every spelling of an address
        // (another domain, each with counters of its own) guess this entry's
        // password against the directory.
        let mail = match self.mail(&entry) {
            Ok(mail) if mail == email => mail,
            other => {
                self.stand_in_bind().await;
                let reason = other.map_or_else(
                    |reason| reason,
                    |mail| format!("names {mail}, not the account looked up"),
                );
                return Ok(Bind::Unfit {
                    dn: entry.dn,
                    reason,
                });
            }
        };
        let mut ldap = self.connect().await?;
        self.work.binds.fetch_add(1, Ordering::Relaxed);
        let r = ldap
            .with_timeout(self.s.timeout)
            .simple_bind(&entry.dn, password)
            .await
            .map_err(down)?;
        let _ = ldap.unbind().await;
        match r.rc {
            0 => {}
            rc if REFUSED.contains(&rc) => return Ok(Bind::No),
            _ => return Err(DirectoryError::Other(r.to_string())),
        }
        Ok(Bind::Ok {
            dn: entry.dn.clone(),
            identity: Identity {
                email: mail,
                ..self.identity(&entry, email)
            },
        })
    }

    /// The directory work of a password check, for an account checked
    /// elsewhere (a local one): one search and a stand-in bind. Errors are
    /// ignored: a directory that is down must not stop local accounts.
    pub async fn spend(&self, email: &str) {
        let _ = self.find(email).await;
        self.stand_in_bind().await;
    }

    /// A bind that cannot succeed, costing what a wrong password costs.
    async fn stand_in_bind(&self) {
        self.work.binds.fetch_add(1, Ordering::Relaxed);
        let Ok(mut ldap) = self.connect().await else {
            return;
        };
        let dn = format!("{STAND_IN_DN},{}", self.s.base_dn);
        let _ = ldap
            .with_timeout(self.s.timeout)
            .simple_bind(&dn, STAND_IN_PASSWORD)
            .await;
        let _ = ldap.unbind().await;
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

/// What [`LdapDirectory::people`] reads.
#[derive(Debug, Default)]
pub struct People {
    pub people: Vec<Identity>,
    /// The newest `modifyTimestamp` read.
    pub latest: Option<String>,
    /// Entries refused: their DN and why.
    pub unfit: Vec<(String, String)>,
}

impl Directory for LdapDirectory {
    async fn authenticate(
        &self,
        email: &str,
        password: &str,
    ) -> Result<LoginOutcome, DirectoryError> {
        Ok(match self.bind(email, password).await? {
            // The account looked up is the account signed in: an entry found
            // by `uid` whose address names another account is refused.
            Bind::Ok { identity, .. } if identity.email == email => {
                LoginOutcome::Authenticated(identity)
            }
            Bind::Ok { .. } | Bind::Unfit { .. } | Bind::No => LoginOutcome::InvalidCredentials,
        })
    }

    async fn list_people(&self) -> Result<Vec<Identity>, DirectoryError> {
        Ok(self.people(None, |_| {}).await?.people)
    }
}
