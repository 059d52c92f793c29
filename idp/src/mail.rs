//! Outgoing mail: messages are written to the outbox (SQL) first and sent by
//! its worker (`outbox`), so a mail server that is down delays them and loses
//! none; [`deliver`] is the mail's part of that worker. Each message says the same in Vietnamese and in English, because the
//! IdP does not know which the reader prefers.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
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

fn bilingual(subject_vi: &str, subject_en: &str, vi: &str, en: &str) -> Mail {
    Mail {
        subject: format!("{subject_vi} / {subject_en}"),
        body: format!(
            "{vi}\n\nThư này được gửi tự động, xin đừng trả lời.\n\n----------\n\n{en}\n\nThis message was sent automatically; please do not reply.\n"
        ),
    }
}

/// The one-time code for signing in (or for adding this address as a factor).
/// The code is in the body only: subjects show on lock screens and in
/// notifications.
pub fn code(code: &str, minutes: u64) -> Mail {
    bilingual(
        "Mã xác thực",
        "Verification code",
        &format!(
            "Mã xác thực của bạn là: {code}\n\nMã có hiệu lực trong {minutes} phút. Không đưa mã này cho bất kỳ ai, kể cả người tự xưng là cán bộ kỹ thuật."
        ),
        &format!(
            "Your verification code is: {code}\n\nIt is valid for {minutes} minutes. Do not give it to anyone, including people who say they are technical staff."
        ),
    )
}

/// The account was locked after too many wrong passwords.
pub fn locked(minutes: u64, ip: &str, when: &str) -> Mail {
    bilingual(
        "Tài khoản tạm thời bị khóa",
        "Account temporarily locked",
        &format!(
            "Tài khoản của bạn đã bị khóa tạm thời {minutes} phút lúc {when} vì mật khẩu bị nhập sai nhiều lần (địa chỉ IP: {ip}).\n\nNếu không phải bạn, hãy báo ngay cho bộ phận quản trị. Sau thời gian này bạn có thể đăng nhập lại, hoặc nhờ quản trị viên mở khóa."
        ),
        &format!(
            "Your account was locked for {minutes} minutes at {when} after too many wrong passwords (IP address: {ip}).\n\nIf this was not you, tell the administrators at once. You can sign in again after that time, or ask an administrator to unlock it."
        ),
    )
}

/// A link to choose a new password (local accounts).
pub fn reset_link(url: &str, minutes: u64) -> Mail {
    bilingual(
        "Đặt lại mật khẩu",
        "Reset your password",
        &format!(
            "Có yêu cầu đặt lại mật khẩu cho tài khoản của bạn. Mở liên kết sau trong {minutes} phút để đặt mật khẩu mới:\n\n{url}\n\nNếu bạn không yêu cầu, hãy bỏ qua thư này; mật khẩu hiện tại vẫn giữ nguyên."
        ),
        &format!(
            "Someone asked to reset the password of your account. Open this link within {minutes} minutes to choose a new one:\n\n{url}\n\nIf it was not you, ignore this message; your password stays as it is."
        ),
    )
}

/// People whose password belongs to the mail system are sent there.
pub fn reset_in_directory() -> Mail {
    bilingual(
        "Đặt lại mật khẩu",
        "Reset your password",
        "Có yêu cầu đặt lại mật khẩu cho tài khoản của bạn. Bạn đăng nhập bằng mật khẩu hộp thư công vụ, vì vậy hãy đổi mật khẩu trong hệ thống thư điện tử công vụ (hoặc liên hệ bộ phận quản trị thư điện tử).\n\nNếu bạn không yêu cầu, hãy bỏ qua thư này.",
        "Someone asked to reset the password of your account. You sign in with the password of your official mailbox, so change it in the official mail system (or ask its administrators).\n\nIf it was not you, ignore this message.",
    )
}

/// The password of a local account was changed.
pub fn password_changed(when: &str) -> Mail {
    bilingual(
        "Mật khẩu đã được thay đổi",
        "Your password was changed",
        &format!(
            "Mật khẩu tài khoản của bạn đã được đổi lúc {when}; mọi phiên đăng nhập cũ đã kết thúc.\n\nNếu không phải bạn, hãy báo ngay cho bộ phận quản trị."
        ),
        &format!(
            "The password of your account was changed at {when}; every earlier session has ended.\n\nIf this was not you, tell the administrators at once."
        ),
    )
}

/// A sign-in from a browser the account had not used before.
pub fn new_device(device: &str, ip: &str, when: &str) -> Mail {
    bilingual(
        "Đăng nhập từ thiết bị mới",
        "Sign-in from a new device",
        &format!(
            "Tài khoản của bạn vừa đăng nhập từ một thiết bị mới:\n\nThiết bị: {device}\nĐịa chỉ IP: {ip}\nThời gian: {when}\n\nNếu là bạn, không cần làm gì thêm. Nếu không phải bạn, hãy đổi mật khẩu ngay và báo cho bộ phận quản trị."
        ),
        &format!(
            "Your account just signed in from a new device:\n\nDevice: {device}\nIP address: {ip}\nTime: {when}\n\nIf it was you, there is nothing to do. If not, change your password at once and tell the administrators."
        ),
    )
}

/// A second factor was added, removed or reset.
pub fn factors_changed(what_vi: &str, what_en: &str, when: &str) -> Mail {
    bilingual(
        "Thay đổi xác thực hai lớp",
        "Two-step verification changed",
        &format!("{what_vi} lúc {when}.\n\nNếu không phải bạn, hãy báo ngay cho bộ phận quản trị."),
        &format!("{what_en} at {when}.\n\nIf this was not you, tell the administrators at once."),
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
            factors_changed("a", "b", "08:00 22/11/2026"),
        ] {
            assert!(
                !m.subject.chars().any(|c| c.is_ascii_digit()),
                "{}",
                m.subject
            );
        }
    }
}
