//! `[password]` and `[brute_force]`: the cost of a password check (argon2id)
//! and how many wrong passwords an account and an address may try.

use serde::Deserialize;

use super::{ConfigError, invalid};

/// argon2id parameters; defaults are OWASP's (19 MiB, 2 passes, 1 lane).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordConfig {
    /// Memory per hash, in KiB.
    pub memory_kib: u32,
    /// Passes over that memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
    /// At most this many hashes at once, so password checks cannot exhaust the CPU.
    pub max_concurrent_hashes: usize,
}

impl Default for PasswordConfig {
    fn default() -> Self {
        PasswordConfig {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
            max_concurrent_hashes: 4,
        }
    }
}

impl PasswordConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.memory_kib < 8 * 1024 || self.iterations == 0 || self.parallelism == 0 {
            return Err(invalid(
                "password",
                "argon2id needs memory_kib ≥ 8192, iterations ≥ 1, parallelism ≥ 1",
            ));
        }
        if self.max_concurrent_hashes == 0 {
            return Err(invalid(
                "password.max_concurrent_hashes",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

/// Brute-force protection of the sign-in form. Counters live in the cache
/// (Redis when configured), so every node sees the same.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BruteForceConfig {
    /// Wrong passwords for one account before any delay.
    pub free_failures: u32,
    /// Then the wait before the next try doubles from 1 s up to this.
    pub max_delay_secs: u64,
    /// Wrong passwords for one account that lock it for `lock_secs`.
    pub lock_after: u32,
    /// How long a lock lasts (`idp user unlock` lifts it).
    pub lock_secs: u64,
    /// Wrong passwords from one address (all accounts) within `window_secs`
    /// after which only accounts that signed in from it before may try.
    /// High, because a whole office shares one address behind NAT.
    pub ip_failures: u32,
    /// The window of `ip_failures`.
    pub window_secs: u64,
}

impl Default for BruteForceConfig {
    fn default() -> Self {
        BruteForceConfig {
            free_failures: 3,
            max_delay_secs: 30,
            lock_after: 10,
            lock_secs: 15 * 60,
            ip_failures: 50,
            window_secs: 15 * 60,
        }
    }
}

impl BruteForceConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.lock_after <= self.free_failures
            || self.lock_secs == 0
            || self.window_secs == 0
            || self.ip_failures == 0
        {
            return Err(invalid(
                "brute_force.lock_after",
                "lock_after must exceed free_failures, and lock_secs, window_secs and ip_failures be above 0",
            ));
        }
        Ok(())
    }
}
