//! The person's own account page: what they may change, checked (profile,
//! the signature image within the limits `images` sets), every change
//! audited; their sessions and signing out the others; their recent sign-in
//! activity.

use crate::Idp;
use crate::audit::Kind;
use crate::audit::Who;
use crate::auth::session::{self, SessionError};
use crate::ids::UserId;
use crate::images::{self, ImageError};
use crate::kinds::{SignaturePage, SignaturePlace, UserSource};
use crate::oidc::{OidcError, logout};
use crate::store::{AuditEvent, ProfileChange, SessionRow, Signature, StoreError, User};

/// Pages the signing service may put the signature on by default.
pub const PAGES: [&str; 2] = [SignaturePage::First.as_str(), SignaturePage::Last.as_str()];
/// Places on that page.
pub const PLACES: [&str; 6] = [
    SignaturePlace::TopLeft.as_str(),
    SignaturePlace::TopCenter.as_str(),
    SignaturePlace::TopRight.as_str(),
    SignaturePlace::BottomLeft.as_str(),
    SignaturePlace::BottomCenter.as_str(),
    SignaturePlace::BottomRight.as_str(),
];

/// The profile form as posted.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ProfileForm {
    pub csrf: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub personal_email: Option<String>,
    pub signature_page: Option<String>,
    pub signature_place: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    Name,
    Phone,
    PersonalEmail,
    /// A page or place that is not one of ours (a forged form).
    Choice,
}

fn trimmed(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// `+84 912.345-678` → `+84912345678`: 8 to 15 digits, optionally after a `+`.
pub fn normalize_phone(s: &str) -> Option<String> {
    let compact: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    (digits.len() >= 8 && digits.len() <= 15 && digits.chars().all(|c| c.is_ascii_digit()))
        .then_some(compact)
}

/// A plausible mailbox address: one `@`, a dotted domain, no spaces.
pub fn plausible_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    s.len() <= 254
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"".contains(c))
}

/// Checks the form against what this person may change.
pub fn check(f: &ProfileForm, user: &User) -> Result<ProfileChange, Problem> {
    let local = user.source == UserSource::Local;
    let name = match (local, trimmed(f.name.as_deref())) {
        (false, _) => None,
        (true, None) => return Err(Problem::Name),
        (true, Some(n)) => Some(n.chars().take(200).collect()),
    };
    let phone = match trimmed(f.phone.as_deref()) {
        None => None,
        Some(p) => Some(normalize_phone(&p).ok_or(Problem::Phone)?),
    };
    let personal_email = match trimmed(f.personal_email.as_deref()) {
        None => None,
        Some(e) if plausible_email(&e) => Some(e),
        Some(_) => return Err(Problem::PersonalEmail),
    };

    Ok(ProfileChange {
        name,
        phone,
        personal_email,
        signature_page: pick(f.signature_page.as_deref())?,
        signature_place: pick(f.signature_place.as_deref())?,
    })
}

/// One of the choices offered, or a refusal.
fn pick<T: std::str::FromStr>(v: Option<&str>) -> Result<T, Problem> {
    v.and_then(|v| v.parse().ok()).ok_or(Problem::Choice)
}

/// A session of the person that is still alive, with when it was last used.
pub struct LiveSession {
    pub row: SessionRow,
    pub last_seen: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    SignOut(#[from] OidcError),
}

async fn audit(idp: &Idp, who: &Who, kind: Kind, user: &User, detail: Option<String>, now: i64) {
    who.audit(idp, kind, user, detail, now).await;
}

/// What the account page shows besides the person's own fields.
pub struct Overview {
    pub sessions: Vec<LiveSession>,
    pub activity: Vec<AuditEvent>,
    /// When the signature image was last set, if there is one.
    pub signature_at: Option<i64>,
    /// The person has a second factor.
    pub mfa_on: bool,
}

pub async fn overview(idp: &Idp, user: &User, now: i64) -> Result<Overview, AccountError> {
    Ok(Overview {
        sessions: live_sessions(idp, &user.id, now).await?,
        activity: activity(idp, user).await?,
        signature_at: idp.store.signature(&user.id).await?.map(|s| s.updated_at),
        mfa_on: !idp.store.factors(&user.id).await?.is_empty(),
    })
}

/// Changes the person's profile as the form asks, if it is acceptable; audited.
pub async fn change_profile(
    idp: &Idp,
    who: &Who,
    user: &User,
    f: &ProfileForm,
    now: i64,
) -> Result<Result<(), Problem>, AccountError> {
    let change = match check(f, user) {
        Ok(c) => c,
        Err(p) => return Ok(Err(p)),
    };
    idp.store.update_profile(&user.id, &change, now).await?;
    audit(idp, who, Kind::ProfileChanged, user, None, now).await;
    Ok(Ok(()))
}

/// Sets the signature image from an upload: checked and re-encoded by
/// [`images::clean_signature`] (off the async threads), then stored and
/// audited. A refused upload leaves the stored image as it was.
pub async fn set_signature(
    idp: &Idp,
    who: &Who,
    user: &User,
    upload: bytes::Bytes,
    now: i64,
) -> Result<Result<(), ImageError>, AccountError> {
    // Decoding is CPU work: off the async threads.
    let cleaned = tokio::task::spawn_blocking(move || images::clean_signature(&upload))
        .await
        .unwrap_or_else(|e| Err(ImageError::Broken(e.to_string())));
    let (png, w, h) = match cleaned {
        Ok(x) => x,
        Err(e) => return Ok(Err(e)),
    };
    let sig = Signature {
        image: png,
        width: i64::from(w),
        height: i64::from(h),
        updated_at: now,
    };
    idp.store.set_signature(&user.id, &sig).await?;
    let detail = format!("{w}x{h} png, {} bytes", sig.image.len());
    audit(idp, who, Kind::SignatureSet, user, Some(detail), now).await;
    Ok(Ok(()))
}

/// Removes the signature image (audited when there was one).
pub async fn delete_signature(
    idp: &Idp,
    who: &Who,
    user: &User,
    now: i64,
) -> Result<(), AccountError> {
    if idp.store.delete_signature(&user.id).await? {
        audit(idp, who, Kind::SignatureDeleted, user, None, now).await;
    }
    Ok(())
}

/// The person's own signature image (PNG), for the preview.
pub async fn signature_png(idp: &Idp, user: &User) -> Result<Option<Vec<u8>>, AccountError> {
    Ok(idp.store.signature(&user.id).await?.map(|s| s.image))
}

/// Signs the person out of every session but `sid`; how many ended.
pub async fn sign_out_others(
    idp: &Idp,
    who: &Who,
    user: &User,
    sid: &str,
    now: i64,
) -> Result<usize, AccountError> {
    Ok(logout::sign_out_others(idp, &user.id, Some(sid), who.ip.clone(), now).await?)
}

/// The person's live sessions, newest first. Rows whose session has timed
/// out in the cache are marked ended on the way.
pub async fn live_sessions(
    idp: &Idp,
    user_id: &UserId,
    now: i64,
) -> Result<Vec<LiveSession>, AccountError> {
    let lifetime = i64::try_from(idp.config.session.absolute_timeout_secs).unwrap_or(i64::MAX);
    let mut live = Vec::new();
    for row in idp
        .store
        .open_sessions(user_id, now.saturating_sub(lifetime))
        .await?
    {
        match session::peek_by_hash(&idp.cache, &idp.config.session, &row.key_hash, now).await? {
            Some(s) if s.sid == row.sid => live.push(LiveSession {
                last_seen: s.last_seen,
                row,
            }),
            _ => idp.store.end_session_row(&row.sid, now).await?,
        }
    }
    Ok(live)
}

/// Recent sign-ins, failures and sign-outs of the person.
pub async fn activity(idp: &Idp, user: &User) -> Result<Vec<AuditEvent>, StoreError> {
    idp.store.sign_in_activity(&user.email, &user.id, 15).await
}

/// "Chrome · Windows" from a User-Agent, for a person to recognise a device.
pub fn device(user_agent: Option<&str>) -> Option<String> {
    let ua = user_agent?;
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("coc_coc_browser", "Cốc Cốc"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    let os = [
        ("Windows", "Windows"),
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    match (browser, os) {
        (Some(b), Some(o)) => Some(format!("{b} · {o}")),
        (Some(x), None) | (None, Some(x)) => Some(x.to_owned()),
        (None, None) => Some(ua.split_whitespace().next()?.chars().take(40).collect()),
    }
}

/// A time as people in Vietnam read it: `22/11/2026 21:35` (UTC+7, no DST).
pub fn vn_time(t: i64) -> String {
    let Ok(utc) = time::OffsetDateTime::from_unix_timestamp(t) else {
        return String::new();
    };
    let at = utc.to_offset(time::UtcOffset::from_hms(7, 0, 0).unwrap_or(time::UtcOffset::UTC));
    format!(
        "{:02}/{:02}/{} {:02}:{:02}",
        at.day(),
        u8::from(at.month()),
        at.year(),
        at.hour(),
        at.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(source: UserSource) -> User {
        User {
            id: "u".into(),
            email: crate::ids::Email::parse("tamtt@binhphuoc.gov.vn").unwrap(),
            name: "Trương Thanh Tâm".into(),
            phone: None,
            unit: Some("Sở Nội vụ".into()),
            title: None,
            employee_code: None,
            password_hash: None,
            is_admin: 0,
            disabled_at: None,
            created_at: 0,
            updated_at: 0,
            personal_email: None,
            source,
            signature_page: SignaturePage::Last,
            signature_place: SignaturePlace::BottomRight,
        }
    }

    fn form() -> ProfileForm {
        ProfileForm {
            csrf: None,
            name: Some("  Trương Thanh Tâm ".into()),
            phone: Some("0912 345 678".into()),
            personal_email: Some(" tam@gmail.com ".into()),
            signature_page: Some("first".into()),
            signature_place: Some("top-left".into()),
        }
    }

    #[test]
    fn profile_is_checked_and_normalized() {
        let c = check(&form(), &user(UserSource::Local)).unwrap();
        assert_eq!(c.name.as_deref(), Some("Trương Thanh Tâm"));
        assert_eq!(c.phone.as_deref(), Some("0912345678"));
        assert_eq!(c.personal_email.as_deref(), Some("tam@gmail.com"));
        assert_eq!(
            (c.signature_page.as_str(), c.signature_place.as_str()),
            ("first", "top-left")
        );
        // The directory owns the name.
        let c = check(&form(), &user(UserSource::Directory)).unwrap();
        assert_eq!(c.name, None);
        // Empty optional fields clear them.
        let f = ProfileForm {
            phone: Some(" ".into()),
            personal_email: None,
            ..form()
        };
        let c = check(&f, &user(UserSource::Local)).unwrap();
        assert_eq!((c.phone, c.personal_email), (None, None));
    }

    #[test]
    fn bad_profile_input_is_named() {
        let bad = |f: ProfileForm| check(&f, &user(UserSource::Local)).unwrap_err();
        assert_eq!(
            bad(ProfileForm {
                name: Some(" ".into()),
                ..form()
            }),
            Problem::Name
        );
        assert_eq!(
            bad(ProfileForm {
                phone: Some("12ab5678".into()),
                ..form()
            }),
            Problem::Phone
        );
        assert_eq!(
            bad(ProfileForm {
                phone: Some("1234".into()),
                ..form()
            }),
            Problem::Phone
        );
        assert_eq!(
            bad(ProfileForm {
                personal_email: Some("tam at gmail".into()),
                ..form()
            }),
            Problem::PersonalEmail
        );
        assert_eq!(
            bad(ProfileForm {
                signature_place: Some("middle".into()),
                ..form()
            }),
            Problem::Choice
        );
        assert_eq!(
            normalize_phone("+84 (912) 345-678").as_deref(),
            Some("+84912345678")
        );
        assert!(!plausible_email("a@b"));
        assert!(!plausible_email("<a>@b.vn"));
    }

    #[test]
    fn devices_and_times_read_well() {
        let chrome_win = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        assert_eq!(
            device(Some(chrome_win)).as_deref(),
            Some("Chrome · Windows")
        );
        assert_eq!(device(Some("curl/8.1")).as_deref(), Some("curl/8.1"));
        assert_eq!(device(None), None);
        // 2026-11-22 14:35 UTC is 21:35 in Vietnam.
        assert_eq!(vn_time(1_795_358_100), "22/11/2026 21:35");
    }
}
