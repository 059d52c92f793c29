//! The background jobs of a server, in one place: the signing-key reload
//! (keys rotated by the CLI or another node are picked up within
//! `tokens.key_reload_secs`), the hourly purges (grants with their refresh
//! tokens a day after they expired, the index rows of sessions past their
//! absolute timeout), the scheduled directory sync (one node at a time, by a
//! lock in the shared cache) and the outbox worker. [`start`] spawns them;
//! each job is a small function taking `now` so its rule is tested alone.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::Idp;
use crate::cache::{CacheBackend, keys};

/// How often the purges run.
const PURGE_EVERY_SECS: u64 = 3600;
/// Grants are kept this long after they expire (a late refresh is told
/// `invalid_grant`, not "unknown"; the audit can still name the family).
const GRANT_KEPT_SECS: i64 = 86_400;
/// The shortest interval between scheduled syncs.
const MIN_SYNC_SECS: u64 = 60;

/// The running jobs; [`Jobs::stop`] ends them at shutdown.
#[must_use = "the jobs run until stopped"]
pub struct Jobs {
    tasks: Vec<JoinHandle<()>>,
}

/// Spawns every background job of a server.
pub fn start(idp: &Arc<Idp>) -> Jobs {
    Jobs {
        tasks: vec![
            tokio::spawn(schedule(Arc::clone(idp))),
            tokio::spawn(crate::outbox::run(Arc::clone(idp))),
        ],
    }
}

impl Jobs {
    /// Stops every job (a delivery in flight is retried by whichever node
    /// claims it once its lease ends).
    pub fn stop(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}

/// The timed jobs: key reload, purges, scheduled sync.
async fn schedule(idp: Arc<Idp>) {
    let mut keys = tokio::time::interval(Duration::from_secs(idp.config.tokens.key_reload_secs));
    keys.tick().await; // the first tick is immediate, and the keys were just loaded
    let mut purge = tokio::time::interval(Duration::from_secs(PURGE_EVERY_SECS));
    let every = sync_interval(&idp);
    let mut sync = tokio::time::interval(Duration::from_secs(every.unwrap_or(MIN_SYNC_SECS)));
    loop {
        tokio::select! {
            _ = sync.tick(), if every.is_some() => {
                directory_sync(&idp, crate::now()).await;
            }
            _ = keys.tick() => reload_keys(&idp, crate::now()).await,
            _ = purge.tick() => purge_expired(&idp, crate::now()).await,
        }
    }
}

/// Picks up keys rotated elsewhere; on failure the keys in use stay.
pub async fn reload_keys(idp: &Idp, now: i64) {
    if let Err(e) = idp.keys.reload_at(now).await {
        tracing::warn!(error = %e, "signing keys not reloaded; keeping the ones in use");
    }
}

/// What the purges delete at `now`: grants that expired before the first
/// value, session index rows created before the second.
pub fn purge_cutoffs(idp: &Idp, now: i64) -> (i64, i64) {
    let lifetime = i64::try_from(idp.config.session.absolute_timeout_secs).unwrap_or(i64::MAX);
    (now - GRANT_KEPT_SECS, now.saturating_sub(lifetime))
}

/// The hourly purges.
pub async fn purge_expired(idp: &Idp, now: i64) {
    let (grants, sessions) = purge_cutoffs(idp, now);
    match idp.store.purge_expired_grants(grants).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(grants = n, "expired grants deleted"),
        Err(e) => tracing::warn!(error = %e, "expired grants not deleted"),
    }
    if let Err(e) = idp.store.purge_sessions(sessions).await {
        tracing::warn!(error = %e, "old session rows not deleted");
    }
    if let Err(e) = idp.store.purge_cas_sessions(sessions).await {
        tracing::warn!(error = %e, "old CAS session rows not deleted");
    }
    if let Err(e) = idp.store.purge_saml_sessions(sessions).await {
        tracing::warn!(error = %e, "old SAML session rows not deleted");
    }
}

/// Seconds between scheduled syncs; `None` when off (no directory, or
/// `directory.sync_interval_secs = 0`). Never more often than a minute.
pub fn sync_interval(idp: &Idp) -> Option<u64> {
    let every = idp
        .config
        .directory
        .as_ref()
        .map_or(0, |d| d.sync_interval_secs);
    (every > 0).then_some(every.max(MIN_SYNC_SECS))
}

/// What a scheduled sync did.
#[derive(Debug, PartialEq, Eq)]
pub enum SyncRun {
    /// No directory, or no schedule.
    Off,
    /// Another node holds the lock, or the cache did not answer.
    Skipped,
    /// It ran (its report, or its failure, is in the log).
    Ran,
}

/// The scheduled directory sync; one node runs it at a time: the lock lives
/// for half the interval, so a crashed node does not stop the next run.
pub async fn directory_sync(idp: &Idp, now: i64) -> SyncRun {
    let (Some(ldap), Some(every)) = (&idp.directory.ldap, sync_interval(idp)) else {
        return SyncRun::Off;
    };
    let lock = Duration::from_secs(every / 2);
    match idp
        .cache
        .set_nx(&keys::directory_sync_lock(), b"1", lock)
        .await
    {
        Ok(true) => {}
        Ok(false) => return SyncRun::Skipped,
        Err(e) => {
            tracing::warn!(error = %e, "directory sync skipped: the cache is unreachable");
            return SyncRun::Skipped;
        }
    }
    match crate::auth::sync::run(&idp.store, ldap, false, now, |_| {}).await {
        Ok((r, secs)) => tracing::info!(
            full = r.full,
            listed = r.listed,
            read = r.read,
            added = r.added,
            updated = r.updated,
            disabled = r.disabled,
            unchanged = r.unchanged,
            units = r.units,
            secs,
            "directory synced"
        ),
        Err(e) => tracing::error!(error = %e, "directory sync failed; nothing changed"),
    }
    SyncRun::Ran
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn idp(dir: &tempfile::TempDir, extra: &[(&str, &str)]) -> Idp {
        let d = dir.path().display().to_string();
        let mut env: Vec<(String, String)> = vec![
            ("IDP_DATA_DIR".into(), d.clone()),
            ("IDP_DATABASE_URL".into(), format!("sqlite://{d}/idp.db")),
        ];
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let config = crate::config::Config::load_from(None, &env).unwrap();
        Idp::open(config).await.unwrap()
    }

    #[tokio::test]
    async fn purges_keep_a_day_of_expired_grants_and_a_session_lifetime_of_rows() {
        let dir = tempfile::tempdir().unwrap();
        let idp = idp(&dir, &[("IDP_SESSION__ABSOLUTE_TIMEOUT_SECS", "43200")]).await;
        assert_eq!(
            purge_cutoffs(&idp, 1_000_000),
            (1_000_000 - 86_400, 1_000_000 - 43_200)
        );
    }

    #[tokio::test]
    async fn no_directory_means_no_scheduled_sync() {
        let dir = tempfile::tempdir().unwrap();
        let idp = idp(&dir, &[]).await;
        assert_eq!(sync_interval(&idp), None);
        assert_eq!(directory_sync(&idp, 1_000).await, SyncRun::Off);
        // The other jobs run without a directory and fail on nothing.
        reload_keys(&idp, crate::now()).await;
        purge_expired(&idp, crate::now()).await;
    }

    #[tokio::test]
    async fn the_sync_runs_on_one_node_at_a_time_and_at_most_every_minute() {
        let dir = tempfile::tempdir().unwrap();
        // Nothing listens on port 9: the run fails, which the log says.
        let idp = idp(
            &dir,
            &[
                ("IDP_DIRECTORY__TYPE", "ldap"),
                ("IDP_DIRECTORY__URL", "ldap://127.0.0.1:9"),
                ("IDP_DIRECTORY__BASE_DN", "dc=example,dc=gov,dc=vn"),
                ("IDP_DIRECTORY__BIND_DN", "cn=idp,dc=example,dc=gov,dc=vn"),
                ("IDP_DIRECTORY__BIND_PASSWORD", "not-used"),
                ("IDP_DIRECTORY__TIMEOUT_SECS", "1"),
                ("IDP_DIRECTORY__SYNC_INTERVAL_SECS", "10"),
            ],
        )
        .await;
        assert_eq!(sync_interval(&idp), Some(60));
        assert_eq!(directory_sync(&idp, 1_000).await, SyncRun::Ran);
        // Another node (or this one again) within half the interval: the lock holds.
        assert_eq!(directory_sync(&idp, 1_001).await, SyncRun::Skipped);
    }
}
