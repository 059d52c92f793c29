//! `[smtp]`: the mail server that carries codes, reset links and notices.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

use super::{ConfigError, invalid};

/// `[smtp]`: the mail server that carries codes, reset links and notices.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The mail server's name (checked against its certificate with TLS).
    pub host: String,
    /// Default: 587 with `starttls`, 465 with `tls`, 25 with `none`.
    pub port: Option<u16>,
    /// `starttls` (default), `tls` (implicit, "SMTPS") or `none` (only for a
    /// relay on this machine or a trusted segment).
    #[serde(default)]
    pub security: SmtpSecurity,
    /// The account to log in with (AUTH); unset: no login.
    pub username: Option<String>,
    /// Its password (or `password_file`).
    pub password: Option<SecretString>,
    /// A file holding the password (instead of `password`).
    pub password_file: Option<PathBuf>,
    /// The sender, e.g. `Đăng nhập một lần <khong-tra-loi@binhphuoc.gov.vn>`.
    pub from: String,
    /// For connecting and for each SMTP command.
    #[serde(default = "default_smtp_timeout")]
    pub timeout_secs: u64,
}

/// `smtp.security`: how the connection to the mail server is encrypted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte, "SMTPS" (port 465).
    Tls,
    /// No encryption: only for a relay on this machine or a trusted segment (port 25).
    None,
}

impl SmtpSecurity {
    /// The port used when `smtp.port` is unset.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        }
    }
}

fn default_smtp_timeout() -> u64 {
    10
}

impl SmtpConfig {
    /// The password, read from its file if need be.
    pub fn password(&self) -> Result<Option<SecretString>, ConfigError> {
        match (&self.password, &self.password_file) {
            (Some(p), None) => Ok(Some(p.clone())),
            (None, Some(path)) => Ok(Some(SecretString::from(
                std::fs::read_to_string(path)
                    .map_err(|e| ConfigError::File {
                        path: path.display().to_string(),
                        message: format!("{e} (smtp.password_file)"),
                    })?
                    .trim_end(),
            ))),
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err(invalid(
                "smtp.password",
                "set at most one of password and password_file",
            )),
        }
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.host.trim().is_empty() {
            return Err(invalid(
                "smtp.host",
                "is empty; e.g. IDP_SMTP__HOST=mail.binhphuoc.gov.vn",
            ));
        }
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(invalid(
                "smtp.from",
                "must be an address, e.g. \"Đăng nhập <khong-tra-loi@binhphuoc.gov.vn>\"",
            ));
        }
        if self.username.is_none() && (self.password.is_some() || self.password_file.is_some()) {
            return Err(invalid("smtp.username", "a password needs a username"));
        }
        self.password().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{env, typo};
    use super::*;
    use crate::config::Config;

    fn smtp(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut all = vec![
            ("IDP_SMTP__HOST", "mail.binhphuoc.gov.vn"),
            (
                "IDP_SMTP__FROM",
                "Đăng nhập <khong-tra-loi@binhphuoc.gov.vn>",
            ),
        ];
        all.extend_from_slice(extra);
        Config::load_from(None, &env(&all))
    }

    #[test]
    fn bad_values_name_the_field() {
        let c = smtp(&[]).unwrap();
        let s = c.smtp.unwrap();
        assert_eq!(s.security, SmtpSecurity::Starttls, "encrypted by default");
        assert_eq!(s.security.default_port(), 587);
        for (k, v, field) in [
            ("IDP_SMTP__FROM", "không phải địa chỉ", "smtp.from"),
            ("IDP_SMTP__SECURITY", "ssl3", "smtp.security"),
            ("IDP_SMTP__PASSWORD", "x", "smtp.username"),
        ] {
            let err = smtp(&[(k, v)]).unwrap_err().to_string();
            assert!(err.contains(field), "{err}");
        }
    }

    #[test]
    fn the_three_securities_are_accepted_and_a_typo_is_named() {
        for (v, want) in [
            ("starttls", SmtpSecurity::Starttls),
            ("tls", SmtpSecurity::Tls),
            ("none", SmtpSecurity::None),
        ] {
            let c = smtp(&[("IDP_SMTP__SECURITY", v)]).unwrap();
            assert_eq!(c.smtp.unwrap().security, want, "{v}");
        }
        let e = typo("smtp", "security", "startls");
        assert!(
            e.contains("starttls") && e.contains("tls") && e.contains("none"),
            "{e}"
        );
    }
}
