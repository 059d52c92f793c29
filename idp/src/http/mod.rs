//! Router assembly and middleware: request ids, the client's address,
//! security headers, metrics, access log, body limits, handler timeout and
//! per-address rate limits; and the server with graceful shutdown.

mod account;
mod admin_api;
mod cas;
mod client_addr;
mod console;
mod cookies;
mod csrf;
mod ctx;
mod error;
mod form;
mod links;
mod mfa;
mod oidc;
mod ops;
mod portal;
mod rate;
mod reset;
pub mod return_to;
mod saml;
mod server;
mod signing_api;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use tokio::net::TcpListener;

use self::client_addr::Proxies;
use self::ctx::{ClientAddr, Ctx, RequestId};
use crate::Idp;
use crate::oidc::discovery as d;

/// What the edge middleware needs beside the `Idp`, built once.
pub(crate) struct Edge {
    pub idp: Arc<Idp>,
    pub proxies: Proxies,
    pub ready: ops::Readiness,
}

/// Every route of the IdP.
pub fn router(idp: Arc<Idp>) -> Router {
    let limit = idp.config.max_body_bytes;
    let edge = Arc::new(Edge {
        idp: Arc::clone(&idp),
        proxies: Proxies::from_config(&idp.config.http),
        ready: ops::Readiness::default(),
    });
    // Anyone may call these and each call stores or computes something:
    // counted per address before the handler runs.
    let mut pages = Router::new()
        .route("/login", get(portal::login_get).post(portal::login_post))
        .route(
            d::AUTHORIZE,
            get(oidc::authorize_get).post(oidc::authorize_post),
        )
        .route(
            "/password/forgot",
            get(reset::forgot_get).post(reset::forgot_post),
        )
        .route(
            "/password/reset",
            get(reset::reset_get).post(reset::reset_post),
        )
        .route(
            d::END_SESSION,
            get(oidc::logout_get).post(oidc::logout_post),
        )
        .route(
            "/links/missing/{app_id}",
            get(links::missing_get).post(links::missing_post),
        );
    // Apps call these; only failed calls count.
    let mut backchannel = Router::new()
        .route(d::TOKEN, post(oidc::token_post))
        .route(d::INTROSPECT, post(oidc::introspect_post))
        .route(d::REVOKE, post(oidc::revoke_post));
    let mut public = Router::new().route(d::JWKS, get(oidc::jwks_get)).route(
        d::USERINFO,
        get(oidc::userinfo_any).post(oidc::userinfo_any),
    );
    // CAS apps call these; only what the app alone got wrong counts, and
    // the refusal is a CAS answer.
    let mut cas_backchannel = Router::new();
    if idp.config.cas.enabled {
        pages = pages.route("/cas/logout", get(cas::logout_get).post(cas::logout_post));
        pages = pages.route("/cas/login", get(cas::login_get));
        cas_backchannel = cas_backchannel
            .route("/cas/validate", get(cas::validate_get))
            .route("/cas/serviceValidate", get(cas::service_validate_get))
            .route("/cas/proxyValidate", get(cas::proxy_validate_get))
            .route("/cas/p3/serviceValidate", get(cas::p3_service_validate_get))
            .route("/cas/p3/proxyValidate", get(cas::p3_proxy_validate_get))
            .route("/cas/proxy", get(cas::proxy_get));
    }
    if idp.config.saml.enabled {
        pages = pages
            .route("/saml/sso", get(saml::sso_get).post(saml::sso_post))
            .route("/saml/init", get(saml::init_get))
            .route("/saml/slo", get(saml::slo_get).post(saml::slo_post));
        public = public
            .route("/saml/metadata", get(saml::metadata_get))
            .route("/saml/post/{id}", get(saml::post_get))
            .route("/static/saml-post.js", get(saml::post_js_get));
    }
    if idp.config.compat.wso2_paths {
        // WSO2 Identity Server's paths onto the same handlers, so its apps
        // only change the host name; discovery names the canonical paths.
        pages = pages
            .route(
                "/oauth2/authorize",
                get(oidc::authorize_get).post(oidc::authorize_post),
            )
            .route(
                "/oidc/logout",
                get(oidc::logout_get).post(oidc::logout_post),
            );
        backchannel = backchannel
            .route("/oauth2/token", post(oidc::token_post))
            .route("/oauth2/introspect", post(oidc::introspect_post))
            .route("/oauth2/revoke", post(oidc::revoke_post));
        public = public.route("/oauth2/jwks", get(oidc::jwks_get)).route(
            "/oauth2/userinfo",
            get(oidc::userinfo_any).post(oidc::userinfo_any),
        );
    }
    let pages = pages.route_layer(middleware::from_fn_with_state(
        Arc::clone(&idp),
        rate::pages,
    ));
    let backchannel = backchannel.route_layer(middleware::from_fn_with_state(
        Arc::clone(&idp),
        rate::backchannel,
    ));
    let cas_backchannel =
        cas_backchannel.route_layer(middleware::from_fn_with_state(Arc::clone(&idp), rate::cas));
    Router::new()
        .merge(public)
        .merge(pages)
        .merge(backchannel)
        .merge(cas_backchannel)
        .route("/", get(portal::home_get))
        .route(
            "/login/second-factor",
            get(mfa::second_factor_get).post(mfa::second_factor_post),
        )
        .route(
            "/account/mfa",
            get(mfa::factors_get).post(mfa::factors_post),
        )
        .route("/lang/{tag}", get(portal::lang_get))
        .route("/launch/{app_id}", get(portal::launch_get))
        .route(
            "/account",
            get(account::account_get).post(account::account_post),
        )
        .route(
            "/account/signature",
            post(account::signature_post).layer(DefaultBodyLimit::max(account::UPLOAD_BODY_LIMIT)),
        )
        .route("/account/signature.png", get(account::signature_get))
        .route(
            "/account/signature/delete",
            post(account::signature_delete_post),
        )
        .route(
            "/account/sessions/others",
            post(account::sign_out_others_post),
        )
        .route("/logout/done/{id}", get(oidc::logout_done_get))
        .route("/logout/done/{id}/status", get(oidc::logout_status_get))
        .route("/static/logout.js", get(portal::logout_js_get))
        .route("/apps/{app_id}/icon", get(portal::icon_get))
        .route("/static/app.css", get(portal::css_get))
        .route("/static/brand.css", get(portal::brand_css_get))
        .route("/static/logo", get(portal::logo_get))
        .route(
            "/.well-known/openid-configuration",
            get(oidc::discovery_get),
        )
        .route("/healthz", get(ops::healthz_get))
        .route("/readyz", get(ops::readyz_get))
        .route("/metrics", get(ops::metrics_get))
        .merge(console::routes())
        .merge(admin_api::routes())
        .merge(signing_api::routes())
        .fallback(portal::not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(Extension(Arc::clone(&edge)))
        .layer(middleware::from_fn_with_state(edge, observe))
        .with_state(idp)
}

/// The router of `http.metrics_listen`: `/metrics` only.
fn metrics_router(idp: Arc<Idp>) -> Router {
    Router::new()
        .route("/metrics", get(ops::metrics_private_get))
        .with_state(idp)
}

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

/// Request id, client address, access log, metrics, handler timeout and
/// security headers, around every request.
async fn observe(State(edge): State<Arc<Edge>>, mut req: Request, next: Next) -> Response {
    let idp = &edge.idp;
    let started = Instant::now();
    let id = crate::crypto::random_bytes(9)
        .map(|b| crate::crypto::b64(&b))
        .unwrap_or_default();
    req.extensions_mut().insert(RequestId(id.clone()));
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client = peer.map(|p| edge.proxies.client(p, req.headers()));
    if let Some(ip) = client {
        req.extensions_mut().insert(ClientAddr(ip));
    }
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().clone();
    let limit = Duration::from_secs(idp.config.http.handler_timeout_secs);
    let (mut parts, body) = req.into_parts();
    let Ok(ctx) = Ctx::from_request_parts(&mut parts, &()).await;
    let req = Request::from_parts(parts, body);
    let mut resp = match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        // Dropped mid-way: an open transaction rolls back, nothing half-written.
        Err(_) => {
            tracing::warn!(request_id = %id, %method, route, secs = limit.as_secs(), "request took too long and was stopped (http.handler_timeout_secs)");
            error::page(
                StatusCode::SERVICE_UNAVAILABLE,
                ctx.lang.texts().errors.unavailable,
                ctx.lang,
                "/",
                &id,
            )
        }
    };
    let status = resp.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    idp.metrics.request(&route, status, elapsed);
    // The path only: query strings carry codes and tokens.
    let client = client.map(|c| c.to_string()).unwrap_or_default();
    tracing::info!(request_id = %id, %method, route, status, client = %client, ms = elapsed * 1000.0, "request");

    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&id) {
        h.insert(HeaderName::from_static("x-request-id"), v);
    }
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !h.contains_key(X_FRAME_OPTIONS) {
        h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    // A page that frames apps (front-channel logout) sets its own, stricter elsewhere.
    if !h.contains_key(CONTENT_SECURITY_POLICY) {
        h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    if !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if idp.config.issuer_is_https() {
        h.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    resp
}

/// Binds, serves until SIGTERM or Ctrl-C, then lets requests in flight finish.
pub async fn serve(idp: Arc<Idp>) -> std::io::Result<()> {
    crate::files::check_secrets(&idp.config);
    let listener = TcpListener::bind(idp.config.listen).await?;
    let addr = listener.local_addr()?;
    let metrics = match idp.config.http.metrics_listen {
        Some(a) => Some(TcpListener::bind(a).await?),
        None => None,
    };
    tracing::info!(%addr, issuer = idp.config.issuer(), cache = idp.cache.kind(), "listening");
    let limits = server::Limits::from_config(&idp.config.http);
    let jobs = crate::jobs::start(&idp);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let metrics = metrics.map(|l| {
        if let Ok(a) = l.local_addr() {
            tracing::info!(addr = %a, "metrics listening");
        }
        tokio::spawn(server::run(
            l,
            metrics_router(Arc::clone(&idp)),
            limits,
            stopped(stop_rx.clone()),
        ))
    });
    let main = server::run(listener, router(idp), limits, stopped(stop_rx));
    let signal = async {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    };
    tokio::join!(main, signal);
    if let Some(m) = metrics {
        let _ = m.await;
    }
    jobs.stop();
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
