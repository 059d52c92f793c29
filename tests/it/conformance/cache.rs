//! The cache suite: the memory cache and Redis hand out values, once-only
//! markers and counters the same way, and expire them alike.

use std::time::Duration;

use idp::cache::{CacheBackend, Clock, Limits, MemoryCache, RedisCache};

use crate::harness::Redis;

/// Lets `by` pass: on the memory cache's manual clock, or by sleeping (Redis
/// expires by its own clock).
async fn pass(clock: Option<&Clock>, by: Duration) {
    match clock {
        Some(clock) => clock.advance(by),
        None => tokio::time::sleep(by).await,
    }
}

async fn cache_suite<C: CacheBackend>(c: &C, clock: Option<&Clock>) {
    let p = idp::crypto::random_id().unwrap();
    let k = |s: &str| format!("{p}:{s}");
    let long = Duration::from_secs(60);
    c.ping().await.unwrap();

    assert_eq!(c.get(&k("missing")).await.unwrap(), None);
    c.set(&k("a"), b"1", long).await.unwrap();
    assert_eq!(c.get(&k("a")).await.unwrap().as_deref(), Some(&b"1"[..]));
    c.set(&k("a"), b"2", long).await.unwrap();
    assert_eq!(
        c.get(&k("a")).await.unwrap().as_deref(),
        Some(&b"2"[..]),
        "set overwrites"
    );

    assert!(c.set_nx(&k("nx"), b"first", long).await.unwrap());
    assert!(!c.set_nx(&k("nx"), b"second", long).await.unwrap());
    assert_eq!(
        c.get(&k("nx")).await.unwrap().as_deref(),
        Some(&b"first"[..])
    );

    c.set(&k("once"), b"code", long).await.unwrap();
    assert_eq!(
        c.take(&k("once")).await.unwrap().as_deref(),
        Some(&b"code"[..])
    );
    assert_eq!(
        c.take(&k("once")).await.unwrap(),
        None,
        "take hands a value out once"
    );

    c.delete(&k("a")).await.unwrap();
    assert_eq!(c.get(&k("a")).await.unwrap(), None);
    c.delete(&k("never-set")).await.unwrap();

    assert_eq!(c.incr(&k("n"), long).await.unwrap(), 1);
    assert_eq!(c.incr(&k("n"), long).await.unwrap(), 2);
    assert_eq!(c.incr(&k("n"), long).await.unwrap(), 3);

    // Expiry, for values, once-only markers and counters alike.
    let short = Duration::from_millis(300);
    c.set(&k("e"), b"x", short).await.unwrap();
    assert!(c.set_nx(&k("enx"), b"x", short).await.unwrap());
    assert_eq!(c.incr(&k("en"), short).await.unwrap(), 1);
    assert_eq!(c.incr(&k("en"), short).await.unwrap(), 2);
    pass(clock, Duration::from_millis(600)).await;
    assert_eq!(c.get(&k("e")).await.unwrap(), None);
    assert_eq!(c.take(&k("e")).await.unwrap(), None);
    assert!(
        c.set_nx(&k("enx"), b"y", short).await.unwrap(),
        "an expired marker can be set again"
    );
    assert_eq!(
        c.incr(&k("en"), short).await.unwrap(),
        1,
        "the window restarts after expiry"
    );

    // decr gives back what incr reserved; it never brings a counter back.
    assert_eq!(c.decr(&k("n")).await.unwrap(), 2);
    assert_eq!(c.incr(&k("n"), long).await.unwrap(), 3);
    assert_eq!(c.decr(&k("absent")).await.unwrap(), 0);
    assert_eq!(
        c.get(&k("absent")).await.unwrap(),
        None,
        "decr leaves a missing counter missing"
    );
    assert_eq!(c.incr(&k("dn"), short).await.unwrap(), 1);
    assert_eq!(c.incr(&k("dn"), short).await.unwrap(), 2);
    assert_eq!(c.decr(&k("dn")).await.unwrap(), 1);
    pass(clock, Duration::from_millis(600)).await;
    assert_eq!(
        c.decr(&k("dn")).await.unwrap(),
        0,
        "decr keeps the counter's TTL"
    );
    assert_eq!(c.get(&k("dn")).await.unwrap(), None);

    // Concurrent reservations: every incr gets its own number, and
    // concurrent decr take exactly what they give back.
    let slots = k("slots");
    let got = futures_join_all((0..40).map(|_| c.incr(&slots, long))).await;
    let mut got: Vec<i64> = got.into_iter().map(Result::unwrap).collect();
    got.sort_unstable();
    assert_eq!(got, (1..=40).collect::<Vec<i64>>());
    let back = futures_join_all((0..15).map(|_| c.decr(&slots))).await;
    assert!(back.into_iter().all(|r| r.is_ok()));
    assert_eq!(c.incr(&slots, long).await.unwrap(), 26);

    // Concurrent takes: exactly one winner.
    let race = k("race");
    c.set(&race, b"v", long).await.unwrap();
    let (a, b) = tokio::join!(c.take(&race), c.take(&race));
    assert_eq!(
        usize::from(a.unwrap().is_some()) + usize::from(b.unwrap().is_some()),
        1
    );
}

/// Runs every future at once on this task (no extra dependency).
async fn futures_join_all<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futs {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

#[tokio::test]
async fn memory_cache_conformance() {
    let clock = Clock::manual();
    let cache = MemoryCache::with_clock(Limits::default(), clock.clone());
    cache_suite(&cache, Some(&clock)).await;
}

#[tokio::test]
async fn redis_cache_conformance() {
    let redis = Redis::start();
    cache_suite(&RedisCache::connect(&redis.url).await.unwrap(), None).await;
}
