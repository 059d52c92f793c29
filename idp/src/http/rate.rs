//! Per-address rate limits for the endpoints anyone may call that store
//! something or cost something: the authorization request (kept for half an
//! hour), the sign-in form, password reset, sign-out; and failed calls to the
//! token, introspection and revocation endpoints. Counters live in the cache
//! (Redis when configured), so every node counts together.
//!
//! Fixed windows: the counter of window `now / window_secs` is reserved
//! atomically (`incr`) before the request runs, so parallel requests cannot
//! pass the limit together. IPv6 addresses count by /64: one machine usually
//! owns a whole /64.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::ctx::{ClientAddr, Ctx};
use super::error;
use crate::Idp;
use crate::cache::keys::{self, RateClass};
use crate::cache::{Cache, CacheBackend, CacheError};

/// The outcome of counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// Within the limit.
    Open,
    /// Over it; the window ends in this many seconds.
    Spent { retry_after: u64 },
    /// Exactly the request that went over: said once in the log.
    JustSpent { retry_after: u64 },
}

fn key(class: RateClass, ip: IpAddr, window: u64, now: i64) -> (String, u64) {
    let now = u64::try_from(now).unwrap_or(0);
    let window = window.max(1);
    (keys::rate(class, ip, now / window), window - now % window)
}

/// Reserves one request of `class` from `ip` in the current window.
pub async fn reserve(
    cache: &Cache,
    class: RateClass,
    ip: IpAddr,
    limit: u32,
    window: u64,
    now: i64,
) -> Result<Budget, CacheError> {
    let (key, left) = key(class, ip, window, now);
    let n = cache.incr(&key, Duration::from_secs(left)).await?;
    Ok(verdict(n, limit, left))
}

/// Gives back a reservation of `class` that was not spent (a call that worked).
pub async fn give_back(
    cache: &Cache,
    class: RateClass,
    ip: IpAddr,
    window: u64,
    now: i64,
) -> Result<(), CacheError> {
    let (key, _) = key(class, ip, window, now);
    cache.decr(&key).await.map(|_| ())
}

fn verdict(n: i64, limit: u32, left: u64) -> Budget {
    let limit = i64::from(limit);
    if n <= limit {
        Budget::Open
    } else if n == limit + 1 {
        Budget::JustSpent { retry_after: left }
    } else {
        Budget::Spent { retry_after: left }
    }
}

fn client(req: &Request) -> Option<IpAddr> {
    req.extensions().get::<ClientAddr>().map(|c| c.0)
}

/// Middleware of the pages: every request from an address counts.
pub async fn pages(State(idp): State<Arc<Idp>>, req: Request, next: Next) -> Response {
    let Some(ip) = client(&req) else {
        return next.run(req).await;
    };
    let h = &idp.config.http;
    let budget = reserve(
        &idp.cache,
        RateClass::Page,
        ip,
        h.rate_limit_requests,
        h.rate_limit_window_secs,
        crate::now(),
    )
    .await;
    let retry_after = match budget {
        Ok(Budget::Open) => return next.run(req).await,
        Ok(Budget::JustSpent { retry_after }) => {
            tracing::warn!(client = %ip, path = req.uri().path(), limit = h.rate_limit_requests, window_secs = h.rate_limit_window_secs,
                "rate limit: too many requests from one address; refused until the window ends (http.rate_limit_requests)");
            retry_after
        }
        Ok(Budget::Spent { retry_after }) => retry_after,
        // The limit protects the cache; when the cache is down the request fails on its own.
        Err(e) => {
            tracing::warn!(error = %e, "rate limit not checked: the cache is unreachable");
            return next.run(req).await;
        }
    };
    let (mut parts, _) = req.into_parts();
    let Ok(ctx) = Ctx::from_request_parts(&mut parts, &()).await;
    let mut resp = error::page(
        StatusCode::TOO_MANY_REQUESTS,
        // The wait the page says is the one Retry-After says.
        (ctx.lang.texts().errors.too_many_requests)(retry_after),
        ctx.lang,
        "/",
        &ctx.request_id,
    );
    set_retry_after(&mut resp, retry_after);
    resp
}

/// Marks a response as a failed call for [`backchannel`] when its status
/// does not say so (a CAS validation failure is a 200 with a failure body).
#[derive(Clone, Copy, Debug)]
pub struct FailedCall;

/// Middleware of the app-facing endpoints: every call reserves a failure
/// before it runs (so parallel failures cannot pass the limit together) and
/// gives it back when it works, so a working app is never slowed; an
/// address past the limit is refused before any lookup, with an OAuth error.
pub async fn backchannel(State(idp): State<Arc<Idp>>, req: Request, next: Next) -> Response {
    failures(&idp, req, next, |_, _| {
        (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({
                "error": "temporarily_unavailable",
                "error_description": "too many failed requests from this address; retry later",
            })),
        )
            .into_response()
    })
    .await
}

/// The same limit on the CAS validation and proxy endpoints, refused in the
/// CAS answer the caller reads (`http::cas::too_many`). What counts there is
/// only what the calling server alone got wrong (`cas::response::Failure::counted`).
pub async fn cas(State(idp): State<Arc<Idp>>, req: Request, next: Next) -> Response {
    failures(&idp, req, next, |req, retry_after| {
        super::cas::too_many(req.uri().path(), req.uri().query(), retry_after)
    })
    .await
}

async fn failures(
    idp: &Idp,
    req: Request,
    next: Next,
    refused: impl FnOnce(&Request, u64) -> Response,
) -> Response {
    let Some(ip) = client(&req) else {
        return next.run(req).await;
    };
    let h = &idp.config.http;
    let now = crate::now();
    let (limit, window) = (h.rate_limit_failures, h.rate_limit_window_secs);
    let retry_after = match reserve(&idp.cache, RateClass::Fail, ip, limit, window, now).await {
        Ok(Budget::Open) => {
            let resp = next.run(req).await;
            let failed = matches!(
                resp.status(),
                StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED
            ) || resp.extensions().get::<FailedCall>().is_some();
            if !failed && let Err(e) = give_back(&idp.cache, RateClass::Fail, ip, window, now).await
            {
                tracing::warn!(error = %e, "a working call stays counted: the cache is unreachable");
            }
            return resp;
        }
        Ok(Budget::JustSpent { retry_after } | Budget::Spent { retry_after }) => retry_after,
        Err(e) => {
            tracing::warn!(error = %e, "rate limit not checked: the cache is unreachable");
            return next.run(req).await;
        }
    };
    tracing::info!(client = %ip, path = req.uri().path(), "rate limit: too many failed calls from one address (http.rate_limit_failures)");
    let mut resp = refused(&req, retry_after);
    set_retry_after(&mut resp, retry_after);
    resp
}

fn set_retry_after(resp: &mut Response, secs: u64) {
    if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
        resp.headers_mut().insert(RETRY_AFTER, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::MemoryCache;

    #[test]
    fn ipv6_counts_by_64() {
        assert_eq!(keys::bucket("203.0.113.7".parse().unwrap()), "203.0.113.7");
        assert_eq!(
            keys::bucket("2001:db8:1:2:aaaa::1".parse().unwrap()),
            keys::bucket("2001:db8:1:2:bbbb::9".parse().unwrap())
        );
        assert_ne!(
            keys::bucket("2001:db8:1:2::1".parse().unwrap()),
            keys::bucket("2001:db8:1:3::1".parse().unwrap())
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn parallel_requests_cannot_pass_the_limit_together() {
        let cache = Cache::Memory(MemoryCache::new());
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let now = 1_000_040;
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { reserve(&cache, RateClass::Page, ip, 10, 60, now).await })
            })
            .collect();
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap().unwrap());
        }
        let open = results.iter().filter(|b| **b == Budget::Open).count();
        assert_eq!(open, 10);
        let just = results
            .iter()
            .filter(|b| matches!(b, Budget::JustSpent { .. }))
            .count();
        assert_eq!(just, 1, "the log says it once");
        assert!(results.contains(&Budget::Spent { retry_after: 40 }));
        // Another address, and the next window, start again.
        let other: IpAddr = "203.0.113.8".parse().unwrap();
        assert_eq!(
            reserve(&cache, RateClass::Page, other, 10, 60, now)
                .await
                .unwrap(),
            Budget::Open
        );
        assert_eq!(
            reserve(&cache, RateClass::Page, ip, 10, 60, now + 40)
                .await
                .unwrap(),
            Budget::Open
        );
    }

    #[tokio::test]
    async fn only_failures_count_for_apps() {
        let cache = Cache::Memory(MemoryCache::new());
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let now = 1_000_000;
        // Working calls give their reservation back: any number of them.
        for _ in 0..10 {
            assert_eq!(
                reserve(&cache, RateClass::Fail, ip, 3, 60, now)
                    .await
                    .unwrap(),
                Budget::Open
            );
            give_back(&cache, RateClass::Fail, ip, 60, now)
                .await
                .unwrap();
        }
        // Three failures are kept; the next call is refused before it runs.
        for _ in 0..3 {
            assert_eq!(
                reserve(&cache, RateClass::Fail, ip, 3, 60, now)
                    .await
                    .unwrap(),
                Budget::Open
            );
        }
        assert!(matches!(
            reserve(&cache, RateClass::Fail, ip, 3, 60, now)
                .await
                .unwrap(),
            Budget::JustSpent { .. }
        ));
    }

    #[tokio::test]
    async fn parallel_failed_calls_cannot_pass_the_limit_together() {
        let cache = Cache::Memory(MemoryCache::new());
        let ip: IpAddr = "203.0.113.8".parse().unwrap();
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(
                    async move { reserve(&cache, RateClass::Fail, ip, 3, 60, 1_000_000).await },
                )
            })
            .collect();
        let mut open = 0;
        for t in tasks {
            if t.await.unwrap().unwrap() == Budget::Open {
                open += 1;
            }
        }
        assert_eq!(open, 3);
    }
}
