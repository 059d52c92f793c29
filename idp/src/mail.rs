//! Outgoing mail: messages are written to the outbox (SQL) first and sent by
//! its worker (`outbox`), so a mail server that is down delays them and loses
//! none; [`deliver`] is the mail's part of that worker. Each message says the same in Vietnamese and in English, because the
//! IdP does not know which the reader prefers; the words are the catalogue's
//! (`portal_ui::texts::Mail`), the values are passed in.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use portal_ui::{Lang, Texts};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::Idp;
use crate::config::{ConfigError, SmtpConfig, SmtpSecurity};
use crate::outbox::{self, Item, Outcome};
use crate::store::{OutboxItem, StoreError};

/// A message as queued: the recipient is the outbox item's target.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub body: String,
}

/// The SMTP connection settings, ready to send.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// Why a message was not sent.
#[derive(Debug)]
pub enum SendError {
    /// The server is down or busy: try again later.
    Transient(String),
    /// The server refused the message for good (unknown recipient, …).
    Permanent(String),
}

impl Mailer {
    pub fn new(cfg: &SmtpConfig) -> Result<Mailer, ConfigError> {
        let bad = |field: &str, e: &dyn std::fmt::Display| ConfigError::Invalid {
            field: field.into(),
            message: e.to_string(),
        };
        let host = cfg.host.as_str();
        let port = cfg.port.unwrap_or(cfg.security.default_port());
        let builder = match cfg.security {
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| bad("smtp.host", &e))?,
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| bad("smtp.host", &e))?,
        }
        .port(port);
        let mut builder = builder.timeout(Some(Duration::from_secs(cfg.timeout_secs)));
        if let (Some(user), Some(password)) = (&cfg.username, cfg.password()?) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            ));
        }
        let from = cfg.from.parse().map_err(|e| bad("smtp.from", &e))?;
        Ok(Mailer {
            transport: builder.build(),
            from,
        })
    }

    pub async fn send(&self, to: &str, mail: &Mail) -> Result<(), SendError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| SendError::Permanent(format!("bad recipient: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| SendError::Permanent(e.to_string()))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}

/// Queues `mail` for `to`; `false` (and nothing queued) when no mail server
/// is configured. The message is sent within seconds, or retried.
pub async fn queue(idp: &Idp, to: &str, mail: &Mail) -> Result<bool, StoreError> {
    if idp.mailer.is_none() {
        tracing::info!(subject = %mail.subject, "no mail server configured ([smtp]); message not sent");
        return Ok(false);
    }
    outbox::enqueue(&idp.store, Item::Mail { to, mail }, crate::now()).await?;
    outbox::wake(idp);
    Ok(true)
}

/// Sends a queued mail: the outbox worker's delivery of [`outbox::Kind::Mail`].
pub async fn deliver(idp: &Idp, item: &OutboxItem) -> Outcome {
    let Some(mailer) = &idp.mailer else {
        return Outcome::Retry("no mail server configured ([smtp])".into());
    };
    let Ok(mail) = serde_json::from_str::<Mail>(&item.payload) else {
        return Outcome::Refused("corrupt outbox payload".into());
    };
    match mailer.send(&item.target, &mail).await {
        Ok(()) => Outcome::Delivered,
        Err(SendError::Transient(why)) => Outcome::Retry(why),
        Err(SendError::Permanent(why)) => Outcome::Refused(why),
    }
}

/// Queues a notice; a failure is logged, never shown (what it reports has happened).
pub async fn notify(idp: &Idp, to: &str, mail: &Mail) {
    if let Err(e) = queue(idp, to, mail).await {
        tracing::error!(error = %e, subject = %mail.subject, "notice not queued");
    }
}

/// One message in both languages, Vietnamese first: `subject` and `body`
/// pick the message's texts from the catalogue (`portal_ui::texts::Mail`).
fn bilingual(subject: fn(&Texts) -> &'static str, body: impl Fn(&Texts) -> String) -> Mail {
    let (vi, en) = (Lang::Vi.texts(), Lang::En.texts());
    Mail {
        subject: format!("{} / {}", subject(vi), subject(en)),
        body: format!(
            "{}\n\n{}\n\n----------\n\n{}\n\n{}\n",
            body(vi),
            vi.mail.automatic,
            body(en),
            en.mail.automatic
        ),
    }
}

/// The one-time code for signing in (or for adding this address as a factor).
/// The code is in the body only: subjects show on lock screens and in
/// notifications.
pub fn code(code: &str, minutes: u64) -> Mail {
    bilingual(|t| t.mail.code_subject, |t| (t.mail.code)(code, minutes))
}

/// The account was locked after too many wrong passwords.
pub fn locked(minutes: u64, ip: &str, when: &str) -> Mail {
    bilingual(
        |t| t.mail.locked_subject,
        |t| (t.mail.locked)(minutes, ip, when),
    )
}

/// A link to choose a new password (local accounts).
pub fn reset_link(url: &str, minutes: u64) -> Mail {
    bilingual(
        |t| t.mail.reset_subject,
        |t| (t.mail.reset_link)(url, minutes),
    )
}

/// People whose password belongs to the mail system are sent there.
pub fn reset_in_directory() -> Mail {
    bilingual(
        |t| t.mail.reset_subject,
        |t| t.mail.reset_in_directory.into(),
    )
}

/// The password of a local account was changed.
pub fn password_changed(when: &str) -> Mail {
    bilingual(
        |t| t.mail.password_changed_subject,
        |t| (t.mail.password_changed)(when),
    )
}

/// A sign-in from a browser the account had not used before.
pub fn new_device(device: &str, ip: &str, when: &str) -> Mail {
    bilingual(
        |t| t.mail.new_device_subject,
        |t| (t.mail.new_device)(device, ip, when),
    )
}

/// A second factor was added, removed or reset: `what` picks the change
/// from the catalogue's `notices`, in each language.
pub fn factors_changed(what: impl Fn(&Texts) -> String, when: &str) -> Mail {
    bilingual(
        |t| t.mail.factors_changed_subject,
        |t| (t.mail.factors_changed)(&what(t), when),
    )
}

/// An administrator linked the person's account of an app (their request).
pub fn link_accepted(app: &str, username: &str) -> Mail {
    bilingual(
        |t| t.links.accepted_subject,
        |t| (t.links.accepted)(app, username),
    )
}

/// An administrator refused the person's request to be linked, saying why.
pub fn link_rejected(app: &str, reason: &str) -> Mail {
    bilingual(
        |t| t.links.rejected_subject,
        |t| (t.links.rejected)(app, reason),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_it_in_both_languages() {
        let m = code("123456", 10);
        assert_eq!(m.subject, "Mã xác thực / Verification code");
        assert!(m.body.contains("Mã xác thực của bạn là: 123456"));
        assert!(m.body.contains("Your verification code is: 123456"));
        let m = locked(15, "10.0.0.1", "08:00 22/11/2026");
        assert!(m.body.contains("15 phút") && m.body.contains("15 minutes"));
        assert!(
            reset_link("https://x/r?t=1", 30)
                .body
                .contains("https://x/r?t=1")
        );
    }

    #[test]
    fn no_secret_stands_in_a_subject() {
        // Subjects show on lock screens: codes and links go in the body only.
        let code_mail = code("987654", 10);
        let link_mail = reset_link("https://x/r?t=secret-token", 30);
        for m in [&code_mail, &link_mail] {
            assert!(
                !m.subject.chars().any(|c| c.is_ascii_digit()),
                "{}",
                m.subject
            );
            assert!(!m.subject.contains("secret-token") && !m.subject.contains("http"));
        }
        assert!(code_mail.body.contains("987654"));
        assert!(link_mail.body.contains("https://x/r?t=secret-token"));
        for m in [
            locked(15, "10.0.0.1", "08:00 22/11/2026"),
            new_device("Chrome", "10.0.0.1", "08:00 22/11/2026"),
            password_changed("08:00 22/11/2026"),
            reset_in_directory(),
            factors_changed(|t| t.notices.totp_added.into(), "08:00 22/11/2026"),
        ] {
            assert!(
                !m.subject.chars().any(|c| c.is_ascii_digit()),
                "{}",
                m.subject
            );
        }
    }

    #[test]
    fn a_change_is_named_in_each_language_vietnamese_first() {
        let m = factors_changed(|t| (t.notices.recovery_code_used)(3), "08:00 22/11/2026");
        let vi = m
            .body
            .find("Một mã khôi phục đã được dùng để đăng nhập (còn 3 mã) lúc 08:00");
        let en = m
            .body
            .find("A recovery code was used to sign in (3 left) at 08:00");
        assert!(vi.is_some() && en.is_some() && vi < en, "{}", m.body);
        assert!(m.body.contains("xin đừng trả lời") && m.body.ends_with("please do not reply.\n"));
        assert_eq!(
            m.subject,
            "Thay đổi xác thực hai lớp / Two-step verification changed"
        );
    }
}
