//! CAS tickets in the shared cache (CAS 3.0 §3): `ST-` service tickets and
//! `PT-` proxy tickets, single-use, bound to the service URL they were issued
//! for and taken atomically at validation (two validations on two nodes
//! cannot both succeed); `PGT-` proxy-granting tickets, kept as long as the
//! session may live and honoured only while it does (`super::session_live`);
//! `PGTIOU-`, which only travels. Each is the prefix and a
//! 256-bit random value; the cache key is its hash (`cache::keys`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::CasError;
use crate::cache::{Cache, keys};
use crate::crypto;
use crate::ids::UserId;

/// What a ticket is, by its prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Service,
    Proxy,
    ProxyGranting,
    ProxyGrantingIou,
}

impl Kind {
    pub const fn prefix(self) -> &'static str {
        match self {
            Kind::Service => "ST-",
            Kind::Proxy => "PT-",
            Kind::ProxyGranting => "PGT-",
            Kind::ProxyGrantingIou => "PGTIOU-",
        }
    }

    /// The kind a presented ticket claims by its prefix.
    pub fn of(ticket: &str) -> Option<Kind> {
        // PGTIOU- before PGT-: the longer prefix first.
        [
            Kind::Service,
            Kind::Proxy,
            Kind::ProxyGrantingIou,
            Kind::ProxyGranting,
        ]
        .into_iter()
        .find(|k| ticket.starts_with(k.prefix()))
    }
}

/// A new ticket of `kind`: its prefix and 256 random bits (base64url).
/// A new ticket of `kind`: its prefix and 256 random bits in hex, so only
/// `A-Z a-z 0-9 -` (CAS 3.0 §3.7; mod_auth_cas ignores a ticket with `_`).
pub fn new_id(kind: Kind) -> Result<String, CasError> {
    let hex: String = crypto::random_bytes(32)?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(format!("{}{hex}", kind.prefix()))
}

/// What a service or proxy ticket stands for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub kind: Kind,
    /// The service URL given at login (or `targetService`), normalised:
    /// validation must name the same one.
    pub service: String,
    pub service_id: String,
    pub user_id: UserId,
    /// The portal session the ticket was issued in.
    pub sid: String,
    pub auth_time: i64,
    /// The session's `acr` when the ticket was issued: `2` with a second factor.
    #[serde(default)]
    pub acr: String,
    /// How the person signed in (RFC 8176 values: `pwd`, `mfa`, `otp`…).
    #[serde(default)]
    pub amr: Vec<String>,
    /// Issued right after the person typed their password (`renew`, §2.1.1).
    pub fresh: bool,
    /// The proxy callbacks a proxy ticket went through, most recent first (§2.6.2).
    #[serde(default)]
    pub proxies: Vec<String>,
    pub expires_at: i64,
}

/// What a proxy-granting ticket stands for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Granting {
    /// The service the PGT was delivered to: it must still be allowed to proxy.
    #[serde(default)]
    pub service_id: String,
    pub user_id: UserId,
    pub sid: String,
    pub auth_time: i64,
    #[serde(default)]
    pub acr: String,
    #[serde(default)]
    pub amr: Vec<String>,
    /// The callbacks of the chain, most recent first (its own `pgtUrl` first).
    pub proxies: Vec<String>,
}

/// Stores `t` under a new id of its kind for `ttl_secs`; returns the id.
pub async fn issue(cache: &Cache, t: &Ticket, ttl_secs: u64) -> Result<String, CasError> {
    let id = new_id(t.kind)?;
    cache
        .set_json(&keys::cas_ticket(&id), t, Duration::from_secs(ttl_secs))
        .await?;
    Ok(id)
}

/// Takes the ticket `id` (gone after this call whatever comes next: a
/// ticket is validated once, even when the validation then fails); `None`
/// when unknown, taken already, or expired at `now`.
pub async fn take(cache: &Cache, id: &str, now: i64) -> Result<Option<Ticket>, CasError> {
    if id.len() > super::MAX_TICKET {
        return Ok(None);
    }
    let t = cache.take_json::<Ticket>(&keys::cas_ticket(id)).await?;
    Ok(t.filter(|t| t.expires_at >= now))
}

/// Stores a proxy-granting ticket for `ttl_secs`; returns its id.
pub async fn grant(cache: &Cache, g: &Granting, ttl_secs: u64) -> Result<String, CasError> {
    let id = new_id(Kind::ProxyGranting)?;
    cache
        .set_json(&keys::cas_pgt(&id), g, Duration::from_secs(ttl_secs.max(1)))
        .await?;
    Ok(id)
}

/// The proxy-granting ticket `id`, if it is live (it is used many times).
pub async fn granting(cache: &Cache, id: &str) -> Result<Option<Granting>, CasError> {
    if id.len() > super::MAX_TICKET || Kind::of(id) != Some(Kind::ProxyGranting) {
        return Ok(None);
    }
    Ok(cache.get_json(&keys::cas_pgt(id)).await?)
}

/// Drops a proxy-granting ticket (its session ended).
pub async fn drop_granting(cache: &Cache, id: &str) -> Result<(), CasError> {
    use crate::cache::CacheBackend;
    Ok(cache.delete(&keys::cas_pgt(id)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_use_only_the_characters_cas_allows() -> Result<(), CasError> {
        for kind in [
            Kind::Service,
            Kind::Proxy,
            Kind::ProxyGranting,
            Kind::ProxyGrantingIou,
        ] {
            let id = new_id(kind)?;
            assert!(id.starts_with(kind.prefix()));
            assert!(id.len() >= 32 + kind.prefix().len() && id.len() <= super::super::MAX_TICKET);
            assert!(
                id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                "{id}"
            );
            assert_eq!(Kind::of(&id), Some(kind));
        }
        Ok(())
    }
    use crate::cache::MemoryCache;

    fn ticket(expires_at: i64) -> Ticket {
        Ticket {
            kind: Kind::Service,
            service: "https://vanban.gov.vn/app".into(),
            service_id: "vanban".into(),
            user_id: UserId::from("u1"),
            sid: "s1".into(),
            auth_time: 1,
            acr: "1".into(),
            amr: vec!["pwd".into()],
            fresh: false,
            proxies: vec![],
            expires_at,
        }
    }

    #[test]
    fn ids_carry_their_prefix_and_256_bits() {
        let id = new_id(Kind::Service).unwrap();
        assert!(id.starts_with("ST-") && id.len() == 3 + 64, "{id}");
        assert_eq!(Kind::of(&id), Some(Kind::Service));
        assert_eq!(Kind::of("PGTIOU-x"), Some(Kind::ProxyGrantingIou));
        assert_eq!(Kind::of("PGT-x"), Some(Kind::ProxyGranting));
        assert_eq!(Kind::of("PT-x"), Some(Kind::Proxy));
        assert_eq!(Kind::of("TGT-x"), None);
        assert_ne!(new_id(Kind::Service).unwrap(), id);
    }

    #[tokio::test]
    async fn a_ticket_is_taken_once_and_keeps_its_binding() {
        let cache = Cache::Memory(MemoryCache::new());
        let id = issue(&cache, &ticket(100), 60).await.unwrap();
        let t = take(&cache, &id, 50).await.unwrap().unwrap();
        assert_eq!(t.service, "https://vanban.gov.vn/app");
        assert_eq!(t.sid, "s1");
        assert!(take(&cache, &id, 50).await.unwrap().is_none(), "replay");
        let late = issue(&cache, &ticket(100), 60).await.unwrap();
        assert!(take(&cache, &late, 101).await.unwrap().is_none(), "expired");
        assert!(take(&cache, &"S".repeat(300), 1).await.unwrap().is_none());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_validations_of_one_ticket_cannot_both_succeed() {
        let cache = Cache::Memory(MemoryCache::new());
        let id = issue(&cache, &ticket(100), 60).await.unwrap();
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (cache, id) = (cache.clone(), id.clone());
                tokio::spawn(async move { take(&cache, &id, 50).await.unwrap().is_some() })
            })
            .collect();
        let mut won = 0;
        for t in tasks {
            won += usize::from(t.await.unwrap());
        }
        assert_eq!(won, 1);
    }

    #[tokio::test]
    async fn a_granting_ticket_is_read_many_times_until_dropped() {
        let cache = Cache::Memory(MemoryCache::new());
        let g = Granting {
            service_id: "cong".into(),
            user_id: UserId::from("u1"),
            sid: "s1".into(),
            auth_time: 1,
            acr: "1".into(),
            amr: vec!["pwd".into()],
            proxies: vec!["https://proxy.gov.vn/cb".into()],
        };
        let id = grant(&cache, &g, 600).await.unwrap();
        assert!(id.starts_with("PGT-"));
        assert_eq!(granting(&cache, &id).await.unwrap(), Some(g.clone()));
        assert_eq!(granting(&cache, &id).await.unwrap(), Some(g));
        assert!(granting(&cache, "ST-x").await.unwrap().is_none());
        drop_granting(&cache, &id).await.unwrap();
        assert!(granting(&cache, &id).await.unwrap().is_none());
    }
}
