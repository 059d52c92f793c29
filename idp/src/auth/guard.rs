//! Brute-force protection for password checks. Per account: a few free
//! failures, then a wait that doubles before each next try, then a lock.
//! Per address: past many failures (an office behind NAT makes many), only
//! accounts that already signed in from that address may try. Counters are
//! keyed by a hash of what was typed, so unknown accounts are throttled
//! exactly like real ones (no enumeration), and kept in the cache so every
//! node shares them. A refused try costs no password hash.
//!
//! A try is reserved before its password is checked and settled after, so
//! parallel guesses cannot all be checked before the first failure counts:
//! the account's turn is taken atomically (`set_nx`: one password check per
//! account at a time, on every node), and the address's failure is counted
//! in advance (`incr`) and given back (`decr`) when it was not one.
//! IPv6 addresses are counted by their /64 (one host usually holds a whole
//! /64), IPv4-mapped ones as IPv4.

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use crate::cache::{Cache, CacheBackend, CacheError, keys};
use crate::config::BruteForceConfig;

/// What to do with a sign-in attempt before checking the password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Go,
    /// Too soon after the last failure (or another try of this account is
    /// being checked): try again in this many seconds.
    Wait(u64),
    /// Locked for this many more seconds.
    Locked(u64),
    /// This address made too many failures and this account never signed in from it.
    Address,
}

/// How long a turn is held at most: longer than any password check (the
/// hashing queue, the directory's search and bind with their timeouts). A
/// node that dies holding one blocks the account this long, no longer.
const TURN_SECS: u64 = 60;

/// A try that holds the account's turn and has counted its failure against
/// the address in advance. Settle it with [`failed`], [`succeeded`] or
/// [`release`].
#[derive(Debug)]
#[must_use = "a reservation must be settled"]
pub struct Reservation {
    account: String,
    address: Option<String>,
}

/// Either the try may go ahead, or the answer without a password check.
#[derive(Debug)]
pub enum Admission {
    Go(Reservation),
    Refused(Verdict),
}

fn account_keys(account: &str) -> (String, String, String) {
    (
        keys::bf_failures(account),
        keys::bf_last(account),
        keys::bf_lock(account),
    )
}

/// The part of a client address that is counted: an IPv4 address, the /64
/// of an IPv6 address (an IPv4-mapped one as IPv4). Anything else as given.
pub fn address(ip: &str) -> String {
    match ip.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let net = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{net}/64")
            }
        },
        Err(_) => ip.trim().chars().take(64).collect(),
    }
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

/// Seconds left of the account's lock, if it is locked.
pub async fn locked(cache: &Cache, account: &str, now: i64) -> Result<Option<u64>, CacheError> {
    let (_, _, lock) = account_keys(account);
    Ok(match number(cache, &lock).await? {
        Some(until) if until > now => Some(u64::try_from(until - now).unwrap_or(0)),
        _ => None,
    })
}

/// Reserves a try before its password is checked: takes the account's turn,
/// then checks the lock and the wait (stable while the turn is held: only
/// the holder writes them), then counts a failure against the address in
/// advance. A refused try leaves nothing behind.
pub async fn reserve(
    cache: &Cache,
    cfg: &BruteForceConfig,
    account: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<Admission, CacheError> {
    let turn = keys::bf_turn(account);
    if !cache
        .set_nx(&turn, b"1", Duration::from_secs(TURN_SECS))
        .await?
    {
        // Another try of this account is being checked (here or on another node).
        return Ok(Admission::Refused(
            match locked(cache, account, now).await? {
                Some(secs) => Verdict::Locked(secs),
                None => Verdict::Wait(1),
            },
        ));
    }
    match admit(cache, cfg, account, ip, now).await {
        Ok(Admission::Go(r)) => Ok(Admission::Go(r)),
        other => {
            cache.delete(&turn).await?;
            other
        }
    }
}

async fn admit(
    cache: &Cache,
    cfg: &BruteForceConfig,
    account: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<Admission, CacheError> {
    if let Some(secs) = locked(cache, account, now).await? {
        return Ok(Admission::Refused(Verdict::Locked(secs)));
    }
    let (count, last, _) = account_keys(account);
    let failures = number(cache, &count).await?.unwrap_or(0);
    let wait =
        i64::try_from(delay(cfg, u32::try_from(failures).unwrap_or(u32::MAX))).unwrap_or(i64::MAX);
    // Times are whole seconds: a wait of n means n full seconds at least,
    // whatever fraction of a second the failure came at.
    if wait > 0
        && let Some(at) = number(cache, &last).await?
        && now <= at.saturating_add(wait)
    {
        return Ok(Admission::Refused(Verdict::Wait(
            u64::try_from(at + wait - now).unwrap_or(0).max(1),
        )));
    }
    let address = ip.map(address);
    if let Some(addr) = &address {
        // Counted before the check: parallel tries from one address see each other.
        let key = keys::bf_address(addr);
        let n = cache
            .incr(&key, Duration::from_secs(cfg.window_secs))
            .await?;
        if n > i64::from(cfg.ip_failures)
            && cache.get(&keys::bf_known(account, addr)).await?.is_none()
        {
            cache.decr(&key).await?;
            return Ok(Admission::Refused(Verdict::Address));
        }
    }
    Ok(Admission::Go(Reservation {
        account: account.to_owned(),
        address,
    }))
}

/// A wrong password: counted against the account (the address's count was
/// taken in advance) and the turn given back. `true` when this failure
/// locked the account.
pub async fn failed(
    cache: &Cache,
    cfg: &BruteForceConfig,
    r: Reservation,
    now: i64,
) -> Result<bool, CacheError> {
    let (count, last, lock) = account_keys(&r.account);
    let window = Duration::from_secs(cfg.window_secs.max(cfg.lock_secs));
    let n = cache.incr(&count, window).await?;
    cache.set(&last, now.to_string().as_bytes(), window).await?;
    let mut locked_now = false;
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
        locked_now = true;
    }
    cache.delete(&keys::bf_turn(&r.account)).await?;
    Ok(locked_now)
}

/// A right password: the account's count starts again, the address's
/// advance count is given back, and the address is remembered as one this
/// account signs in from (for 30 days).
pub async fn succeeded(cache: &Cache, r: Reservation) -> Result<(), CacheError> {
    let (count, last, _) = account_keys(&r.account);
    cache.delete(&count).await?;
    cache.delete(&last).await?;
    if let Some(addr) = &r.address {
        cache.decr(&keys::bf_address(addr)).await?;
        cache
            .set(
                &keys::bf_known(&r.account, addr),
                b"1",
                Duration::from_secs(30 * 86_400),
            )
            .await?;
    }
    cache.delete(&keys::bf_turn(&r.account)).await?;
    Ok(())
}

/// No verdict on the password (the directory did not answer, an error):
/// nothing is counted and the turn is given back.
pub async fn release(cache: &Cache, r: Reservation) -> Result<(), CacheError> {
    if let Some(addr) = &r.address {
        cache.decr(&keys::bf_address(addr)).await?;
    }
    cache.delete(&keys::bf_turn(&r.account)).await?;
    Ok(())
}

/// An administrator lifts a lock (and the count behind it).
pub async fn unlock(cache: &Cache, account: &str) -> Result<(), CacheError> {
    let (count, last, lock) = account_keys(account);
    for k in [count, last, lock, keys::bf_turn(account)] {
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

    /// Reserves and says the verdict, keeping the reservation if it is a go.
    async fn check(
        cache: &Cache,
        c: &BruteForceConfig,
        a: &str,
        ip: Option<&str>,
        now: i64,
    ) -> (Verdict, Option<Reservation>) {
        match reserve(cache, c, a, ip, now).await.unwrap() {
            Admission::Go(r) => (Verdict::Go, Some(r)),
            Admission::Refused(v) => (v, None),
        }
    }

    /// A wrong password, reserved and settled.
    async fn fail(
        cache: &Cache,
        c: &BruteForceConfig,
        a: &str,
        ip: Option<&str>,
        now: i64,
    ) -> bool {
        let (v, r) = check(cache, c, a, ip, now).await;
        assert_eq!(v, Verdict::Go, "{a} at {now}");
        failed(cache, c, r.unwrap(), now).await.unwrap()
    }

    async fn verdict(
        cache: &Cache,
        c: &BruteForceConfig,
        a: &str,
        ip: Option<&str>,
        now: i64,
    ) -> Verdict {
        let (v, r) = check(cache, c, a, ip, now).await;
        if let Some(r) = r {
            release(cache, r).await.unwrap();
        }
        v
    }

    #[test]
    fn delays_double_up_to_the_cap() {
        let c = cfg();
        let d: Vec<u64> = (0..8).map(|n| delay(&c, n)).collect();
        assert_eq!(d, vec![0, 0, 0, 1, 2, 4, 8, 8]);
    }

    #[test]
    fn addresses_are_counted_by_host_or_ipv6_network() {
        assert_eq!(address("10.1.2.3"), "10.1.2.3");
        assert_eq!(address(" 10.1.2.3 "), "10.1.2.3");
        // One /64, whatever the interface part (a host picks any of 2^64).
        assert_eq!(
            address("2001:db8:1:2:aaaa:bbbb:cccc:dddd"),
            "2001:db8:1:2::/64"
        );
        assert_eq!(address("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(address("2001:DB8:1:2:0:0:0:ffff"), "2001:db8:1:2::/64");
        assert_ne!(address("2001:db8:1:3::1"), address("2001:db8:1:2::1"));
        // IPv4-mapped IPv6 is the IPv4 address it maps.
        assert_eq!(address("::ffff:10.1.2.3"), "10.1.2.3");
        assert_eq!(address("::1"), "::/64");
        assert_eq!(address("not-an-ip"), "not-an-ip");
    }

    #[tokio::test]
    async fn an_ipv6_host_cannot_spread_over_its_64() {
        let cache = Cache::Memory(MemoryCache::new());
        let c = cfg();
        for (i, who) in ["a@x.vn", "b@x.vn", "c@x.vn"].iter().enumerate() {
            let ip = format!("2001:db8:5:6::{}", i + 1);
            fail(&cache, &c, who, Some(&ip), 0).await;
        }
        assert_eq!(
            verdict(&cache, &c, "d@x.vn", Some("2001:db8:5:6:ffff::9"), 0).await,
            Verdict::Address
        );
        assert_eq!(
            verdict(&cache, &c, "d@x.vn", Some("::ffff:192.0.2.1"), 0).await,
            Verdict::Go
        );
        for who in ["a@x.vn", "b@x.vn", "c@x.vn"] {
            fail(&cache, &c, who, Some("::ffff:192.0.2.1"), 10).await;
        }
        assert_eq!(
            verdict(&cache, &c, "d@x.vn", Some("192.0.2.1"), 10).await,
            Verdict::Address,
            "IPv4-mapped tries count against the IPv4 address"
        );
    }

    #[tokio::test]
    async fn failures_slow_down_then_lock_and_success_or_unlock_clears() {
        let cache = Cache::Memory(MemoryCache::new());
        let c = cfg();
        let a = "tamtt@binhphuoc.gov.vn";
        let mut now = 1000;
        for _ in 0..3 {
            assert!(!fail(&cache, &c, a, None, now).await);
        }
        // Three failures: one second to wait.
        assert_eq!(verdict(&cache, &c, a, None, now).await, Verdict::Wait(1));
        assert_eq!(
            verdict(&cache, &c, " TAMTT@binhphuoc.gov.vn", None, now).await,
            Verdict::Wait(1)
        );
        assert_eq!(
            verdict(&cache, &c, a, None, now + 1).await,
            Verdict::Wait(1),
            "a full second, whatever fraction of a second the failure came at"
        );
        now += 2;
        fail(&cache, &c, a, None, now).await;
        assert_eq!(verdict(&cache, &c, a, None, now).await, Verdict::Wait(2));
        now += 3;
        fail(&cache, &c, a, None, now).await;
        now += 5;
        assert!(fail(&cache, &c, a, None, now).await, "the sixth locks");
        assert_eq!(
            verdict(&cache, &c, a, None, now + 10).await,
            Verdict::Locked(590)
        );
        assert_eq!(verdict(&cache, &c, a, None, now + 600).await, Verdict::Go);
        // Unlock by an administrator; a success clears the count.
        now += 600;
        for _ in 0..3 {
            fail(&cache, &c, a, None, now).await;
        }
        unlock(&cache, a).await.unwrap();
        assert_eq!(verdict(&cache, &c, a, None, now).await, Verdict::Go);
        for _ in 0..3 {
            fail(&cache, &c, a, None, now).await;
        }
        now += 2;
        let (_, r) = check(&cache, &c, a, None, now).await;
        succeeded(&cache, r.unwrap()).await.unwrap();
        assert_eq!(verdict(&cache, &c, a, None, now).await, Verdict::Go);
    }

    #[tokio::test]
    async fn a_busy_office_address_keeps_its_regular_people() {
        let cache = Cache::Memory(MemoryCache::new());
        let c = cfg();
        let ip = Some("10.1.1.1");
        let (_, r) = check(&cache, &c, "tamtt@x.vn", ip, 0).await;
        succeeded(&cache, r.unwrap()).await.unwrap();
        for who in ["a@x.vn", "b@x.vn", "c@x.vn"] {
            fail(&cache, &c, who, ip, 0).await;
        }
        assert_eq!(verdict(&cache, &c, "d@x.vn", ip, 0).await, Verdict::Address);
        assert_eq!(verdict(&cache, &c, "tamtt@x.vn", ip, 0).await, Verdict::Go);
        assert_eq!(
            verdict(&cache, &c, "d@x.vn", Some("10.2.2.2"), 0).await,
            Verdict::Go
        );
    }

    /// Many tries at once: each one reserved, checked "slowly", then failed.
    async fn burst(
        cache: &Cache,
        c: &BruteForceConfig,
        accounts: Vec<String>,
        ip: Option<&'static str>,
    ) -> usize {
        let tasks: Vec<_> = accounts
            .into_iter()
            .map(|a| {
                let (cache, c) = (cache.clone(), c.clone());
                tokio::spawn(async move {
                    match reserve(&cache, &c, &a, ip, 0).await.unwrap() {
                        Admission::Go(r) => {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            failed(&cache, &c, r, 0).await.unwrap();
                            1
                        }
                        Admission::Refused(_) => 0,
                    }
                })
            })
            .collect();
        let mut checked = 0;
        for t in tasks {
            checked += t.await.unwrap();
        }
        checked
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn parallel_guesses_for_one_account_are_checked_one_at_a_time() {
        let cache = Cache::Memory(MemoryCache::new());
        let c = cfg();
        let a = "tamtt@x.vn".to_owned();
        let checked = burst(&cache, &c, vec![a.clone(); 150], None).await;
        assert!(
            (1..=3).contains(&checked),
            "{checked} of 150 parallel guesses checked; the policy allows 3 before a wait"
        );
        // However they are spread, never more than the policy allows before the lock.
        let mut total = checked;
        for _ in 0..10 {
            total += burst(&cache, &c, vec![a.clone(); 50], None).await;
        }
        assert!(total <= 3, "{total} checked at one instant");
        for now in [2, 4, 8, 16, 32] {
            let (v, r) = check(&cache, &c, &a, None, now).await;
            if let Some(r) = r {
                failed(&cache, &c, r, now).await.unwrap();
                total += 1;
            } else {
                assert!(matches!(v, Verdict::Wait(_) | Verdict::Locked(_)));
            }
        }
        assert_eq!(total, 6, "however the burst went, the sixth failure locks");
        assert!(matches!(
            verdict(&cache, &c, &a, None, 40).await,
            Verdict::Locked(_)
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn parallel_guesses_from_one_address_stop_at_its_limit() {
        let cache = Cache::Memory(MemoryCache::new());
        let c = cfg();
        let accounts = (0..100).map(|i| format!("p{i}@x.vn")).collect();
        let checked = burst(&cache, &c, accounts, Some("2001:db8::7")).await;
        assert_eq!(checked, 3, "ip_failures is 3");
    }

    #[tokio::test]
    async fn a_release_leaves_nothing_counted() {
        let cache = Cache::Memory(MemoryCache::new());
        let c = cfg();
        for _ in 0..10 {
            let (v, r) = check(&cache, &c, "a@x.vn", Some("10.0.0.1"), 0).await;
            assert_eq!(v, Verdict::Go);
            release(&cache, r.unwrap()).await.unwrap();
        }
        assert_eq!(
            verdict(&cache, &c, "b@x.vn", Some("10.0.0.1"), 0).await,
            Verdict::Go
        );
        assert_eq!(number(&cache, "bf:ip:10.0.0.1").await.unwrap(), Some(0));
    }
}
