//! Brute-force protection for password checks. Per account: a few free
//! failures, then a wait that doubles before each next try, then a lock.
//! Per address: past many failures (an office behind NAT makes many), only
//! accounts that already signed in from that address may try. Counters are
//! keyed by a hash of what was typed, so unknown accounts are throttled
//! exactly like real ones (no enumeration), and kept in the cache so every
//! node shares them. A refused try costs no password hash.

use std::time::Duration;

use crate::cache::{Cache, CacheBackend, CacheError};
use crate::config::BruteForceConfig;
use crate::crypto;

/// What to do with a sign-in attempt before checking the password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Go,
    /// Too soon after the last failure: try again in this many seconds.
    Wait(u64),
    /// Locked for this many more seconds.
    Locked(u64),
    /// This address made too many failures and this account never signed in from it.
    Address,
}

fn account_key(account: &str) -> String {
    crypto::sha256_b64(account.trim().to_lowercase().as_bytes())
}

fn keys(account: &str) -> (String, String, String) {
    let a = account_key(account);
    (
        format!("bf:n:{a}"),
        format!("bf:t:{a}"),
        format!("bf:lock:{a}"),
    )
}

fn known_key(account: &str, ip: &str) -> String {
    format!(
        "bf:ok:{}",
        crypto::sha256_b64(format!("{}|{ip}", account_key(account)).as_bytes())
    )
}

async fn number(cache: &Cache, key: &str) -> Result<Option<i64>, CacheError> {
    Ok(cache
        .get(key)
        .await?
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|s| s.parse().ok()))
}

/// The wait after `failures` wrong passwords.
pub fn delay(cfg: &BruteForceConfig, failures: u32) -> u64 {
    match failures.checked_sub(cfg.free_failures) {
        None | Some(0) => 0,
        Some(n) => 2u64.saturating_pow(n - 1).min(cfg.max_delay_secs),
    }
}

pub async fn check(
    cache: &Cache,
    cfg: &BruteForceConfig,
    account: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<Verdict, CacheError> {
    let (count, last, lock) = keys(account);
    if let Some(until) = number(cache, &lock).await?
        && until > now
    {
        return Ok(Verdict::Locked(u64::try_from(until - now).unwrap_or(0)));
    }
    let failures = number(cache, &count).await?.unwrap_or(0);
    let wait =
        i64::try_from(delay(cfg, u32::try_from(failures).unwrap_or(u32::MAX))).unwrap_or(i64::MAX);
    // Times are whole seconds: a wait of n means n full seconds at least,
    // whatever fraction of a second the failure came at.
    if wait > 0
        && let Some(at) = number(cache, &last).await?
        && now <= at.saturating_add(wait)
    {
        return Ok(Verdict::Wait(
            u64::try_from(at + wait - now).unwrap_or(0).max(1),
        ));
    }
    if let Some(ip) = ip
        && number(cache, &format!("bf:ip:{ip}")).await?.unwrap_or(0) >= i64::from(cfg.ip_failures)
        && cache.get(&known_key(account, ip)).await?.is_none()
    {
        return Ok(Verdict::Address);
    }
    Ok(Verdict::Go)
}

/// Counts a wrong password; returns `true` when this failure locked the account.
pub async fn failed(
    cache: &Cache,
    cfg: &BruteForceConfig,
    account: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<bool, CacheError> {
    let (count, last, lock) = keys(account);
    let window = Duration::from_secs(cfg.window_secs.max(cfg.lock_secs));
    let n = cache.incr(&count, window).await?;
    cache.set(&last, now.to_string().as_bytes(), window).await?;
    if let Some(ip) = ip {
        cache
            .incr(&format!("bf:ip:{ip}"), Duration::from_secs(cfg.window_secs))
            .await?;
    }
    if n >= i64::from(cfg.lock_after) {
        let until = now.saturating_add(i64::try_from(cfg.lock_secs).unwrap_or(i64::MAX));
        cache
            .set(
                &lock,
                until.to_string().as_bytes(),
                Duration::from_secs(cfg.lock_secs),
            )
            .await?;
        // The lock is the penalty now; counting starts afresh after it.
        cache.delete(&count).await?;
        cache.delete(&last).await?;
        return Ok(true);
    }
    Ok(false)
}

/// A right password: the account's count starts again, and the address is
/// remembered as one this account signs in from (for 30 days).
pub async fn succeeded(cache: &Cache, account: &str, ip: Option<&str>) -> Result<(), CacheError> {
    let (count, last, _) = keys(account);
    cache.delete(&count).await?;
    cache.delete(&last).await?;
    if let Some(ip) = ip {
        cache
            .set(
                &known_key(account, ip),
                b"1",
                Duration::from_secs(30 * 86_400),
            )
            .await?;
    }
    Ok(())
}

/// An administrator lifts a lock (and the count behind it).
pub async fn unlock(cache: &Cache, account: &str) -> Result<(), CacheError> {
    let (count, last, lock) = keys(account);
    for k in [count, last, lock] {
        cache.delete(&k).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::MemoryCache;

    fn cfg() -> BruteForceConfig {
        BruteForceConfig {
            free_failures: 2,
            max_delay_secs: 8,
            lock_after: 6,
            lock_secs: 600,
            ip_failures: 3,
            window_secs: 900,
        }
    }

    #[test]
    fn delays_double_up_to_the_cap() {
        let c = cfg();
        let d: Vec<u64> = (0..8).map(|n| delay(&c, n)).collect();
        assert_eq!(d, vec![0, 0, 0, 1, 2, 4, 8, 8]);
    }

    #[tokio::test]
    async fn failures_slow_down_then_lock_and_success_or_unlock_clears() {
        let cache = Cache::Memory(MemoryCache::new());
        let c = cfg();
        let a = "tamtt@binhphuoc.gov.vn";
        let mut now = 1000;
        for _ in 0..3 {
            assert_eq!(check(&cache, &c, a, None, now).await.unwrap(), Verdict::Go);
            assert!(!failed(&cache, &c, a, None, now).await.unwrap());
        }
        // Three failures: one second to wait.
        assert_eq!(
            check(&cache, &c, a, None, now).await.unwrap(),
            Verdict::Wait(1)
        );
        assert_eq!(
            check(&cache, &c, " TAMTT@binhphuoc.gov.vn", None, now)
                .await
                .unwrap(),
            Verdict::Wait(1)
        );
        assert_eq!(
            check(&cache, &c, a, None, now + 1).await.unwrap(),
            Verdict::Wait(1),
            "a full second, whatever fraction of a second the failure came at"
        );
        now += 2;
        assert_eq!(check(&cache, &c, a, None, now).await.unwrap(), Verdict::Go);
        failed(&cache, &c, a, None, now).await.unwrap();
        assert_eq!(
            check(&cache, &c, a, None, now).await.unwrap(),
            Verdict::Wait(2)
        );
        now += 2;
        failed(&cache, &c, a, None, now).await.unwrap();
        now += 4;
        assert!(
            failed(&cache, &c, a, None, now).await.unwrap(),
            "the sixth locks"
        );
        assert_eq!(
            check(&cache, &c, a, None, now + 10).await.unwrap(),
            Verdict::Locked(590)
        );
        assert_eq!(
            check(&cache, &c, a, None, now + 600).await.unwrap(),
            Verdict::Go
        );
        // Unlock by an administrator; a success clears the count.
        for _ in 0..6 {
            failed(&cache, &c, a, None, now).await.unwrap();
        }
        unlock(&cache, a).await.unwrap();
        assert_eq!(check(&cache, &c, a, None, now).await.unwrap(), Verdict::Go);
        failed(&cache, &c, a, None, now).await.unwrap();
        failed(&cache, &c, a, None, now).await.unwrap();
        failed(&cache, &c, a, None, now).await.unwrap();
        succeeded(&cache, a, None).await.unwrap();
        assert_eq!(check(&cache, &c, a, None, now).await.unwrap(), Verdict::Go);
    }

    #[tokio::test]
    async fn a_busy_office_address_keeps_its_regular_people() {
        let cache = Cache::Memory(MemoryCache::new());
        let c = cfg();
        let ip = Some("10.1.1.1");
        succeeded(&cache, "tamtt@x.vn", ip).await.unwrap();
        for who in ["a@x.vn", "b@x.vn", "c@x.vn"] {
            failed(&cache, &c, who, ip, 0).await.unwrap();
        }
        assert_eq!(
            check(&cache, &c, "d@x.vn", ip, 0).await.unwrap(),
            Verdict::Address
        );
        assert_eq!(
            check(&cache, &c, "tamtt@x.vn", ip, 0).await.unwrap(),
            Verdict::Go
        );
        assert_eq!(
            check(&cache, &c, "d@x.vn", Some("10.2.2.2"), 0)
                .await
                .unwrap(),
            Verdict::Go
        );
    }
}
