//! The audit log's vocabulary and the one way to write to it: every kind of
//! event the IdP records ([`Kind`], each with the stable string stored in
//! `audit_events.kind`) and the [`Event`] builder. The rows themselves
//! (append-only, read back newest first) are `store::audit`.
//!
//! The stored strings never change: the account page's activity list filters
//! by them, and two versions of the IdP share one database during an upgrade.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Idp;
use crate::kinds::FactorKind;
use crate::store::{AuditEvent, Store, StoreError, User};

macro_rules! kinds {
    ($($(#[$doc:meta])* $variant:ident => $s:literal,)+) => {
        /// What happened. `as_str` is the value stored in `audit_events.kind`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Kind {
            $($(#[$doc])* $variant,)+
        }

        impl Kind {
            /// Every kind, for tests and for the coming admin console's filter.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant,)+];

            /// The stored string.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Kind::$variant => $s,)+
                }
            }
        }

        impl FromStr for Kind {
            type Err = UnknownKind;

            fn from_str(s: &str) -> Result<Kind, UnknownKind> {
                match s {
                    $($s => Ok(Kind::$variant),)+
                    _ => Err(UnknownKind(s.to_owned())),
                }
            }
        }
    };
}

kinds! {
    // Sign-in and sign-out.
    /// A person signed in (a session began).
    Login => "auth.login",
    /// A wrong password, or an unknown account.
    LoginFailed => "auth.login_failed",
    /// Too many wrong passwords locked the account.
    Locked => "auth.locked",
    /// The password was right; the second factor comes next.
    PasswordOk => "auth.password_ok",
    /// A live session gained a second factor (`acr_values=2`).
    StepUp => "auth.step_up",
    /// A first second factor was bound and the sign-in finished.
    Enrolled => "auth.enrolled",
    /// A session ended.
    Logout => "auth.logout",
    /// A directory entry that names another account, or one from another source.
    DirectoryRefused => "auth.directory_refused",
    /// A wrong second-factor code.
    SecondFactorFailed => "auth.second_factor_failed",
    /// Too many wrong codes paused the person's second factors.
    SecondFactorPaused => "auth.second_factor_paused",
    /// A password-reset link was asked for.
    PasswordResetRequested => "auth.password_reset_requested",
    /// A password was reset with a link.
    PasswordReset => "auth.password_reset",
    // The directory sync.
    /// The sync refused an entry (it claims an account from another source).
    DirectorySyncRefused => "directory.refused",
    // Token abuse.
    /// An authorization code was presented twice.
    CodeReplayed => "oidc.code_replayed",
    /// A spent refresh token was presented: the family is revoked.
    RefreshReused => "oidc.refresh_reused",
    // CAS.
    /// A CAS service ticket was issued to a service (detail: the service URL, renew).
    CasTicketIssued => "cas.ticket_issued",
    /// A CAS ticket was validated (detail: the service, the ticket's kind).
    CasTicketValidated => "cas.ticket_validated",
    /// A CAS validation was refused (detail: the code and why).
    CasValidationFailed => "cas.validation_failed",
    /// A proxy-granting ticket was delivered to a proxy callback.
    CasProxyGranted => "cas.proxy_granted",
    /// A proxy ticket was issued (detail: the session, the target service, the chain).
    CasProxyTicketIssued => "cas.proxy_ticket_issued",
    // SAML.
    /// A signed SAML response was issued to an SP (detail: the ACS URL, the request or IdP-initiated).
    SamlResponseIssued => "saml.response_issued",
    /// A SAML message was refused (detail: the SP, why).
    SamlRequestRefused => "saml.request_refused",
    // The outbox.
    /// A back-channel logout token could not be delivered.
    BackchannelGivenUp => "logout.backchannel_given_up",
    /// A mail could not be delivered.
    MailGivenUp => "mail.given_up",
    /// A CAS single logout request could not be delivered.
    CasLogoutGivenUp => "logout.cas_given_up",
    // The account page.
    /// The person changed their phone or personal address.
    ProfileChanged => "account.profile_changed",
    /// A signature image was uploaded.
    SignatureSet => "account.signature_set",
    /// The signature image was deleted.
    SignatureDeleted => "account.signature_deleted",
    // Second factors.
    /// An authenticator app was bound.
    TotpAdded => "mfa.totp_added",
    /// An address for codes by e-mail was bound.
    EmailAdded => "mfa.email_added",
    /// The authenticator app was removed.
    TotpRemoved => "mfa.totp_removed",
    /// The address for codes was removed.
    EmailRemoved => "mfa.email_removed",
    /// New recovery codes replaced the old ones.
    RecoveryCodesRenewed => "mfa.recovery_codes_renewed",
    /// A recovery code was spent.
    RecoveryCodeUsed => "mfa.recovery_code_used",
    /// A current factor was confirmed before a change.
    Rechecked => "mfa.rechecked",
    /// The out-of-band proof before a first factor (enrolment code or mailbox).
    Bootstrapped => "mfa.bootstrapped",
    // The command line.
    /// `idp user add`.
    AdminUserAdded => "admin.user_added",
    /// `idp user unlock`.
    AdminUnlocked => "admin.unlocked",
    /// `idp user reset-factors`.
    AdminFactorsReset => "admin.factors_reset",
    /// `idp user enrolment-code`.
    AdminEnrolmentCode => "admin.enrolment_code",
    /// `idp client add`.
    AdminClientAdded => "admin.client_added",
    /// `idp app add`.
    AdminAppAdded => "admin.app_added",
    /// A client's name or addresses changed (detail: before and after).
    AdminClientUpdated => "admin.client_updated",
    /// A client's secret was replaced (the secret itself is never recorded).
    AdminClientSecretRotated => "admin.client_secret_rotated",
    /// A tile's name, launch URL, client or visibility changed (detail: before and after).
    AdminAppUpdated => "admin.app_updated",
    /// A tile's icon was replaced.
    AdminAppIconSet => "admin.app_icon_set",
    /// `idp directory sync`.
    AdminDirectorySynced => "admin.directory_synced",
    /// `idp keys rotate`.
    AdminKeysRotated => "admin.keys_rotated",
    /// `idp cas service add`.
    AdminCasServiceAdded => "admin.cas_service_added",
    /// `idp cas service remove`.
    AdminCasServiceRemoved => "admin.cas_service_removed",
    /// `idp saml sp add`.
    AdminSamlSpAdded => "admin.saml_sp_added",
    /// `idp saml sp remove`.
    AdminSamlSpRemoved => "admin.saml_sp_removed",
    // Account links.
    /// A legacy app's accounts were imported.
    LinkAccountsImported => "link.accounts_imported",
    /// The matcher ran over an app's accounts.
    LinkSuggested => "link.suggested",
    /// An account was linked to its owner.
    LinkAdded => "link.added",
    /// A link was removed.
    LinkRemoved => "link.removed",
    /// A suggestion was rejected.
    LinkRejected => "link.suggestion_rejected",
    /// A person asked to be linked to an app.
    LinkRequested => "link.requested",
    /// An administrator decided a link request.
    LinkRequestDecided => "link.request_decided",
    /// An app's legacy-username claim was set or cleared.
    LinkClaimSet => "link.claim_set",
    // The admin console, its API and `idp user role`.
    /// A role was granted (detail: the roles before and after).
    AdminRoleGranted => "admin.role_granted",
    /// A role was revoked (detail: the roles before and after).
    AdminRoleRevoked => "admin.role_revoked",
    /// A person was disabled (their sessions end).
    AdminUserDisabled => "admin.user_disabled",
    /// A disabled person was enabled again.
    AdminUserEnabled => "admin.user_enabled",
    /// An administrator moved a local person to another unit.
    AdminUnitChanged => "admin.unit_changed",
    // The signing service.
    /// A PDF was signed (detail: the document's SHA-256 before and after, kind, key, position).
    SignPdfSigned => "sign.pdf_signed",
    /// A deferred signature was prepared for a key off the server (detail: the
    /// document's SHA-256, what the key is to sign, the certificate, the app).
    SignPdfPrepared => "sign.pdf_prepared",
}

/// The kinds a person sees in their own activity list on the account page.
pub const SIGN_IN_ACTIVITY: [Kind; 3] = [Kind::Login, Kind::LoginFailed, Kind::Logout];

impl Kind {
    /// The removal of a second factor of `factor` kind.
    pub fn factor_removed(factor: FactorKind) -> Kind {
        match factor {
            FactorKind::Totp => Kind::TotpRemoved,
            FactorKind::Email => Kind::EmailRemoved,
        }
    }
}

/// A stored kind this version does not know (written by a newer one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown audit event kind {0:?}")]
pub struct UnknownKind(pub String);

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One event to record: `Event::new(Kind::Login, now).actor(..).subject(..)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: Kind,
    pub at: i64,
    /// Who did it: a user id, `cli`, …
    pub actor: Option<String>,
    /// Whom or what it is about: an e-mail, a client id, …
    pub subject: Option<String>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub detail: Option<String>,
}

impl Event {
    pub fn new(kind: Kind, at: i64) -> Event {
        Event {
            kind,
            at,
            actor: None,
            subject: None,
            client_id: None,
            ip: None,
            request_id: None,
            detail: None,
        }
    }

    #[must_use]
    pub fn actor(mut self, actor: impl Into<String>) -> Event {
        self.actor = Some(actor.into());
        self
    }

    #[must_use]
    pub fn subject(mut self, subject: impl Into<String>) -> Event {
        self.subject = Some(subject.into());
        self
    }

    #[must_use]
    pub fn client(mut self, client_id: impl Into<String>) -> Event {
        self.client_id = Some(client_id.into());
        self
    }

    /// The client's address, when known.
    #[must_use]
    pub fn ip(mut self, ip: Option<String>) -> Event {
        self.ip = ip;
        self
    }

    #[must_use]
    pub fn request(mut self, request_id: impl Into<String>) -> Event {
        self.request_id = Some(request_id.into());
        self
    }

    #[must_use]
    pub fn detail(mut self, detail: impl Into<String>) -> Event {
        self.detail = Some(detail.into());
        self
    }
}

impl From<Event> for AuditEvent {
    fn from(e: Event) -> AuditEvent {
        AuditEvent {
            at: e.at,
            kind: e.kind.as_str().to_owned(),
            actor: e.actor,
            subject: e.subject,
            client_id: e.client_id,
            ip: e.ip,
            request_id: e.request_id,
            detail: e.detail,
        }
    }
}

/// Appends `event` where no `Idp` is at hand (the CLI, the directory sync):
/// the caller decides what a failure means. The server uses [`Idp::audit`].
pub async fn record(store: &Store, event: Event) -> Result<(), StoreError> {
    store.record(&event.into()).await
}

/// Who acted, as the audit log records it: the client's address and the
/// request id (shown on error pages, so an admin can find the entry).
#[derive(Clone, Debug, Default)]
pub struct Who {
    pub ip: Option<String>,
    pub request_id: String,
}

impl Who {
    /// Records that this request did `kind` to `user`'s account.
    pub async fn audit(
        &self,
        idp: &Idp,
        kind: Kind,
        user: &User,
        detail: Option<String>,
        now: i64,
    ) {
        let mut e = Event::new(kind, now)
            .actor(user.id.as_str())
            .subject(user.email.as_str())
            .request(self.request_id.as_str());
        e.ip = self.ip.clone();
        e.detail = detail;
        idp.audit(e).await;
    }
}

impl Idp {
    /// Appends to the audit log. A failure is logged loudly but does not undo
    /// what already happened (the person is signed in or out either way).
    pub async fn audit(&self, event: Event) {
        let event = AuditEvent::from(event);
        if let Err(e) = self.store.record(&event).await {
            tracing::error!(error = %e, kind = %event.kind, "audit event not recorded");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_string() {
        for &k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>(), Ok(k));
            assert_eq!(k.to_string(), k.as_str());
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            assert_eq!(serde_json::from_str::<Kind>(&json).unwrap(), k);
        }
    }

    #[test]
    fn stored_strings_are_unique_and_shaped_alike() {
        let mut seen = std::collections::HashSet::new();
        for k in Kind::ALL {
            assert!(seen.insert(k.as_str()), "{} twice", k.as_str());
            let (area, what) = k.as_str().split_once('.').unwrap();
            assert!(!area.is_empty() && !what.is_empty(), "{k}");
            assert!(
                k.as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.'),
                "{k}"
            );
        }
    }

    #[test]
    fn stored_strings_stay_what_they_were() {
        // Rows written by earlier versions, and the account page's filter, use these.
        assert_eq!(Kind::Login.as_str(), "auth.login");
        assert_eq!(Kind::LoginFailed.as_str(), "auth.login_failed");
        assert_eq!(Kind::Logout.as_str(), "auth.logout");
        assert_eq!(Kind::DirectorySyncRefused.as_str(), "directory.refused");
        assert_eq!(
            Kind::BackchannelGivenUp.as_str(),
            "logout.backchannel_given_up"
        );
        assert_eq!(Kind::factor_removed(FactorKind::Totp), Kind::TotpRemoved);
        assert_eq!(Kind::factor_removed(FactorKind::Email), Kind::EmailRemoved);
    }

    #[test]
    fn an_unknown_kind_is_an_error_not_a_panic() {
        assert_eq!(
            "auth.something_new".parse::<Kind>(),
            Err(UnknownKind("auth.something_new".into()))
        );
        assert!(serde_json::from_str::<Kind>("\"x.y\"").is_err());
    }

    #[test]
    fn the_builder_fills_the_row() {
        let row: AuditEvent = Event::new(Kind::Login, 7)
            .actor("u1")
            .subject("tamtt@binhphuoc.gov.vn")
            .client("vanban")
            .ip(Some("10.0.0.1".into()))
            .request("r1")
            .detail("sid s1")
            .into();
        assert_eq!(row.kind, "auth.login");
        assert_eq!(row.at, 7);
        assert_eq!(row.actor.as_deref(), Some("u1"));
        assert_eq!(row.subject.as_deref(), Some("tamtt@binhphuoc.gov.vn"));
        assert_eq!(row.client_id.as_deref(), Some("vanban"));
        assert_eq!(row.ip.as_deref(), Some("10.0.0.1"));
        assert_eq!(row.request_id.as_deref(), Some("r1"));
        assert_eq!(row.detail.as_deref(), Some("sid s1"));
        assert_eq!(row.kind(), Some(Kind::Login));
    }
}
