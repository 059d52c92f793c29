//! `[directory]`: where staff passwords are checked (their mailbox's
//! directory). `type` names the kind; each kind's settings are checked here,
//! naming the missing or bad field, before the connector is opened.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

use super::{ConfigError, invalid};

/// `[directory]`: where staff passwords are checked (their mailbox's directory).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryConfig {
    /// The kind of directory: `ldap` (the only kind so far).
    #[serde(rename = "type")]
    pub kind: DirectoryKind,
    /// `ldap://host:389` (with `starttls = true` to encrypt) or `ldaps://host:636`.
    pub url: String,
    /// The service account that searches for people.
    pub bind_dn: String,
    /// The service account's password (or `bind_password_file`).
    pub bind_password: Option<SecretString>,
    /// A file holding the service account's password (instead of `bind_password`).
    pub bind_password_file: Option<PathBuf>,
    /// Where people are, searched as a subtree.
    pub base_dn: String,
    /// `{email}` is the address typed, `{local}` the part before `@`.
    #[serde(default = "default_user_filter")]
    pub user_filter: String,
    /// Who is a person, for `idp directory sync`.
    #[serde(default = "default_people_filter")]
    pub people_filter: String,
    /// Sync every this many seconds in the server; 0: only by `idp directory sync`.
    #[serde(default)]
    pub sync_interval_secs: u64,
    /// Upgrade an `ldap://` connection with STARTTLS.
    #[serde(default)]
    pub starttls: bool,
    /// For connecting and for each LDAP operation.
    #[serde(default = "default_ldap_timeout")]
    pub timeout_secs: u64,
    /// Search connections kept open.
    #[serde(default = "default_ldap_pool")]
    pub pool_size: usize,
    /// Which attribute holds what (the defaults are inetOrgPerson's).
    #[serde(default)]
    pub attributes: connectors::AttributeMap,
}

/// `directory.type`: the kinds of directory there are (a typo is refused by
/// the parser, naming the field and the kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DirectoryKind {
    /// LDAP (v3) with a service account that searches, then a bind as the person.
    Ldap,
}

fn default_user_filter() -> String {
    "(|(mail={email})(uid={local}))".into()
}

fn default_people_filter() -> String {
    "(objectClass=inetOrgPerson)".into()
}

fn default_ldap_timeout() -> u64 {
    5
}

fn default_ldap_pool() -> usize {
    4
}

impl DirectoryConfig {
    /// The connector's settings, with the password read from its file if need be.
    pub fn settings(&self) -> Result<connectors::LdapSettings, ConfigError> {
        let DirectoryKind::Ldap = self.kind;
        let password = match (&self.bind_password, &self.bind_password_file) {
            (Some(p), None) => p.clone(),
            (None, Some(path)) => SecretString::from(
                std::fs::read_to_string(path)
                    .map_err(|e| ConfigError::File {
                        path: path.display().to_string(),
                        message: format!("{e} (directory.bind_password_file)"),
                    })?
                    .trim_end(),
            ),
            _ => {
                return Err(invalid(
                    "directory.bind_password",
                    "set exactly one of bind_password and bind_password_file",
                ));
            }
        };
        Ok(connectors::LdapSettings {
            url: self.url.clone(),
            bind_dn: self.bind_dn.clone(),
            bind_password: password,
            base_dn: self.base_dn.clone(),
            user_filter: self.user_filter.clone(),
            people_filter: self.people_filter.clone(),
            starttls: self.starttls,
            timeout: std::time::Duration::from_secs(self.timeout_secs),
            pool_size: self.pool_size,
            attributes: self.attributes.clone(),
        })
    }

    /// The directory, ready to search; only addresses in `email_domain` are accepted.
    pub fn open(
        &self,
        email_domain: Option<&str>,
    ) -> Result<connectors::LdapDirectory, ConfigError> {
        Ok(connectors::LdapDirectory::new(self.settings()?).with_mail_domain(email_domain))
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !(self.url.starts_with("ldap://") || self.url.starts_with("ldaps://")) {
            return Err(invalid(
                "directory.url",
                "must start with ldap:// or ldaps://; e.g. ldaps://mail.binhphuoc.gov.vn:636",
            ));
        }
        if self.starttls && self.url.starts_with("ldaps://") {
            return Err(invalid(
                "directory.starttls",
                "is for ldap:// URLs; ldaps:// is already TLS",
            ));
        }
        if self.bind_dn.trim().is_empty() {
            return Err(invalid(
                "directory.bind_dn",
                "is empty; e.g. cn=dangnhap,ou=services,dc=binhphuoc,dc=gov,dc=vn",
            ));
        }
        if self.base_dn.trim().is_empty() {
            return Err(invalid(
                "directory.base_dn",
                "is empty; e.g. ou=people,dc=binhphuoc,dc=gov,dc=vn",
            ));
        }
        if !(self.user_filter.contains("{email}") || self.user_filter.contains("{local}")) {
            return Err(invalid(
                "directory.user_filter",
                "must use {email} or {local}; e.g. (|(mail={email})(uid={local}))",
            ));
        }
        if !(1..=60).contains(&self.timeout_secs) {
            return Err(invalid("directory.timeout_secs", "must be 1 to 60"));
        }
        if !(1..=64).contains(&self.pool_size) {
            return Err(invalid("directory.pool_size", "must be 1 to 64"));
        }
        self.settings().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{env, typo};
    use crate::config::Config;
    use secrecy::ExposeSecret;

    #[test]
    fn the_directory_is_configured_in_toml_or_environment() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("ldap-password");
        std::fs::write(&pw, "s3cret\n").unwrap();
        let toml = dir.path().join("idp.toml");
        std::fs::write(
            &toml,
            format!(
                "[directory]\ntype = \"ldap\"\nurl = \"ldap://127.0.0.1:3389\"\nstarttls = true\n\
                 bind_dn = \"cn=admin,dc=binhphuoc,dc=gov,dc=vn\"\nbind_password_file = \"{}\"\n\
                 base_dn = \"ou=people,dc=binhphuoc,dc=gov,dc=vn\"\n[directory.attributes]\nunit = \"o\"\n",
                pw.display()
            ),
        )
        .unwrap();
        let c =
            Config::load_from(Some(&toml), &env(&[("IDP_DIRECTORY__TIMEOUT_SECS", "3")])).unwrap();
        let s = c.directory.as_ref().unwrap().settings().unwrap();
        assert_eq!(s.bind_password.expose_secret(), "s3cret");
        assert_eq!(s.user_filter, "(|(mail={email})(uid={local}))");
        assert_eq!(s.timeout, std::time::Duration::from_secs(3));
        assert!(s.starttls);
        assert_eq!(s.attributes.unit, "o");
        assert_eq!(
            s.attributes.mail, "mail",
            "unset attributes keep their default"
        );
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(!format!("{s:?}").contains("s3cret"));

        let bad = |pairs: &[(&str, &str)]| {
            let mut all = vec![
                ("IDP_DIRECTORY__TYPE", "ldap"),
                ("IDP_DIRECTORY__URL", "ldap://127.0.0.1:3389"),
                ("IDP_DIRECTORY__BIND_DN", "cn=admin"),
                ("IDP_DIRECTORY__BIND_PASSWORD", "x"),
                ("IDP_DIRECTORY__BASE_DN", "ou=people"),
            ];
            all.extend_from_slice(pairs);
            Config::load_from(None, &env(&all)).unwrap_err().to_string()
        };
        assert!(bad(&[("IDP_DIRECTORY__URL", "http://x")]).contains("directory.url"));
        assert!(
            bad(&[("IDP_DIRECTORY__USER_FILTER", "(uid=x)")]).contains("directory.user_filter")
        );
        assert!(
            bad(&[("IDP_DIRECTORY__BIND_PASSWORD_FILE", "/nonexistent")]).contains("/nonexistent")
        );
        assert!(bad(&[("IDP_DIRECTORY__TYPE", "ad")]).contains("directory.type"));
        assert!(bad(&[("IDP_DIRECTORY__POOL_SIZE", "0")]).contains("directory.pool_size"));
    }

    #[test]
    fn a_typo_in_the_directory_type_names_the_field() {
        // Kinds are lower-case, as they always were: `LDAP` is refused too.
        for kind in ["ldpa", "LDAP"] {
            let e = typo("directory", "type", kind);
            assert!(e.contains("ldap"), "{e}");
        }
    }
}
