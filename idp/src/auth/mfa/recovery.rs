//! Recovery codes: ten of them, about 49 bits each, shown once and kept
//! only as hashes; one is spent per use.

use super::{MfaError, RECOVERY_CODES};
use crate::Idp;
use crate::audit::Kind;
use crate::crypto;
use crate::ids::UserId;

/// Letters and digits that cannot be mistaken for one another.
pub(super) const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// New recovery codes (shown once); their hashes replace the old ones.
pub async fn new_recovery_codes(
    idp: &Idp,
    user_id: &UserId,
    now: i64,
) -> Result<Vec<String>, MfaError> {
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let raw = crypto::random_bytes(10)?;
        let chars: String = raw
            .iter()
            .map(|b| char::from(RECOVERY_ALPHABET[usize::from(*b) % RECOVERY_ALPHABET.len()]))
            .collect();
        codes.push(format!("{}-{}", &chars[..5], &chars[5..]));
    }
    let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
    idp.store
        .replace_recovery_codes(user_id, &hashes, now)
        .await?;
    Ok(codes)
}

pub(super) fn recovery_hash(code: &str) -> String {
    let norm: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    crypto::sha256_b64(norm.as_bytes())
}

/// Spends a recovery code.
pub async fn use_recovery_code(
    idp: &Idp,
    user_id: &UserId,
    code: &str,
    now: i64,
) -> Result<bool, MfaError> {
    Ok(idp
        .store
        .use_recovery_code(user_id, &recovery_hash(code), now)
        .await?)
}

/// A recovery code was spent: audited, and the owner is told how many are left.
pub(super) async fn recovery_used(
    idp: &Idp,
    who: &super::Who,
    user: &crate::store::User,
    now: i64,
) -> Result<(), MfaError> {
    let left = idp.store.recovery_codes_left(&user.id).await?;
    super::audit(
        idp,
        who,
        Kind::RecoveryCodeUsed,
        user,
        Some(format!("{left} left")),
        now,
    )
    .await;
    let mail = crate::mail::factors_changed(
        |t| (t.notices.recovery_code_used)(left),
        &crate::portal::account::vn_time(now),
    );
    crate::mail::notify(idp, &user.email, &mail).await;
    Ok(())
}
