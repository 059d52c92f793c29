//! The listening socket: HTTP/1.1 connections through hyper with a
//! header-read timeout (`axum::serve` has none, so a connection idle in the
//! middle of its headers was served after minutes), a request-body idle
//! timeout, a bound on open connections, and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;
use tower_http::timeout::RequestBodyTimeout;

/// What a connection may cost.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The whole header of each request (and the idle time between kept-alive requests).
    pub header_read: Duration,
    /// The longest silence inside a request body.
    pub body_read: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// How long requests in flight may take to finish after the shutdown signal.
    pub grace: Duration,
}

impl Limits {
    pub fn from_config(c: &crate::config::HttpConfig) -> Limits {
        Limits {
            header_read: Duration::from_secs(c.header_read_timeout_secs),
            body_read: Duration::from_secs(c.body_read_timeout_secs),
            max_connections: c.max_connections,
            grace: Duration::from_secs(c.handler_timeout_secs.saturating_add(5)),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting
/// and lets the requests in flight finish (idle connections close at once).
///
/// At `max_connections`, new connections are queued, not refused: nothing is
/// accepted until one closes, and the kernel's backlog holds the rest. The
/// header-read timeout frees the slots that slow or silent clients hold.
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut full_logged = false;
    loop {
        let permit = match Arc::clone(&slots).try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if !full_logged {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "connection limit reached: new connections wait until one closes (http.max_connections)"
                    );
                    full_logged = true;
                }
                tokio::select! {
                    p = Arc::clone(&slots).acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                    () = &mut shutdown => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors, most likely: wait rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if slots.available_permits() > 0 {
            full_logged = false;
        }
        let _ = stream.set_nodelay(true);
        let svc = RequestBodyTimeout::new(app.clone(), limits.body_read).map_request(
            move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                req
            },
        );
        let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc));
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _slot = permit;
            let mut conn = std::pin::pin!(conn);
            let mut stopping = false;
            loop {
                tokio::select! {
                    r = conn.as_mut() => {
                        if let Err(e) = r {
                            tracing::debug!(%peer, error = %e, "connection closed");
                        }
                        break;
                    }
                    _ = stop.changed(), if !stopping => {
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
        });
    }
    let _ = stop_tx.send(true);
    // Every connection holds a slot: all slots back means every connection is closed.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.grace, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(
            "shutdown: some connections were still open after the grace period; closing them"
        );
    }
}
