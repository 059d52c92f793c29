//! A demo app that behaves like one of the province's apps ("Quản lý văn
//! bản", "Phòng họp không giấy"): it signs people in through dangnhap with
//! OIDC (code + PKCE, via the `openidconnect` crate), keeps its own session,
//! starts its login when the portal's tile sends people to
//! `/oidc/initiate`, signs out through the IdP, and ends its sessions when
//! the IdP's back-channel logout token arrives, or when the IdP's sign-out
//! page frames its front-channel logout URL (`/oidc/frontchannel-logout`).
//!
//! Configured by environment: DEMO_NAME, DEMO_LISTEN (127.0.0.1:9001),
//! DEMO_ISSUER, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET. Run two with
//! `examples/demo.sh`. With DEMO_DOCUMENT (a PDF) it is also a document
//! app that signs through the IdP's signing API (`documents.rs`).

mod documents;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, JsonWebKey, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::Deserialize;
use serde_json::Value;

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Someone signed in here.
#[derive(Clone)]
struct Local {
    name: String,
    email: String,
    /// The IdP's session id: a back-channel logout names it.
    sid: String,
    id_token: String,
    /// The account of this app linked to the person, when the IdP releases
    /// it in `preferred_username` (`idp app add … --legacy-claim`).
    username: Option<String>,
    /// The token of this session's forms (the document buttons).
    csrf: String,
}

struct Rp {
    name: String,
    base: String,
    issuer: String,
    /// From discovery: `end_session_endpoint`.
    end_session: String,
    cookie: String,
    client: Client,
    metadata: CoreProviderMetadata,
    http: reqwest::Client,
    /// Sign-ins under way: the verifier, the nonce, and what to sign after.
    pending: Mutex<HashMap<String, Pending>>,
    sessions: Mutex<HashMap<String, Local>>,
    /// The outgoing document, when DEMO_DOCUMENT is set.
    document: Option<Mutex<documents::Document>>,
}

type Pending = (PkceCodeVerifier, Nonce, Option<documents::Action>);

type St = State<Arc<Rp>>;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        eprintln!("error: {name} is not set");
        std::process::exit(2)
    })
}

fn random() -> String {
    CsrfToken::new_random().secret().clone()
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Rp {
    fn session_cookie(&self, headers: &HeaderMap) -> Option<String> {
        let prefix = format!("{}=", self.cookie);
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|c| c.trim().strip_prefix(&prefix).map(str::to_owned))
    }

    fn local(&self, headers: &HeaderMap) -> Option<Local> {
        let key = self.session_cookie(headers)?;
        self.sessions.lock().ok()?.get(&key).cloned()
    }
}

async fn home(State(rp): St, headers: HeaderMap) -> Html<String> {
    let documents = if rp.document.is_some() {
        "<p><a href=\"/documents\">Văn bản đi</a></p>"
    } else {
        ""
    };
    let body = match rp.local(&headers) {
        Some(l) => format!(
            "<p>Đang đăng nhập: <strong id=\"who\">{}</strong> ({})</p>{documents}<p><a href=\"/logout\">Đăng xuất</a></p>",
            escape(&l.name),
            escape(&l.email)
        ),
        None => {
            "<p id=\"anonymous\">Chưa đăng nhập.</p><p><a href=\"/login\">Đăng nhập</a></p>".into()
        }
    };
    Html(format!(
        "<!doctype html><html lang=\"vi\"><meta charset=\"utf-8\"><title>{0}</title><body style=\"font-family:sans-serif;max-width:40rem;margin:2rem auto\"><h1>{0}</h1>{1}</body></html>",
        escape(&rp.name),
        body
    ))
}

/// For tests and scripts: who is signed in here.
async fn whoami(State(rp): St, headers: HeaderMap) -> axum::Json<Value> {
    axum::Json(match rp.local(&headers) {
        Some(l) => serde_json::json!({
            "signed_in": true,
            "name": l.name,
            "email": l.email,
            "preferred_username": l.username,
        }),
        None => serde_json::json!({"signed_in": false}),
    })
}

async fn login(State(rp): St) -> Response {
    sign_in(&rp, &["email", "profile"], None)
}

/// Sends the person to the IdP's authorization endpoint with `scopes`
/// (code + PKCE); with an `action`, for a token that may sign (a second
/// factor asked for), done when the code comes back.
fn sign_in(rp: &Rp, scopes: &[&str], action: Option<documents::Action>) -> Response {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = rp.client.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for scope in scopes {
        request = request.add_scope(Scope::new((*scope).into()));
    }
    if action.is_some() {
        request = request.add_extra_param("acr_values", "2");
    }
    let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
    if let Ok(mut p) = rp.pending.lock() {
        p.insert(state.secret().clone(), (verifier, nonce, action));
    }
    redirect(url.as_str())
}

#[derive(Deserialize)]
struct Initiate {
    iss: String,
}

/// OIDC third-party initiated login (Core §4): the portal's tile lands here.
async fn initiate(State(rp): St, Query(q): Query<Initiate>) -> Response {
    if q.iss != rp.issuer {
        return (StatusCode::BAD_REQUEST, "unknown issuer").into_response();
    }
    login(State(rp)).await
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(State(rp): St, Query(q): Query<Callback>) -> Response {
    if let Some(e) = q.error {
        return (StatusCode::BAD_REQUEST, format!("sign-in refused: {e}")).into_response();
    }
    let pending = q.state.and_then(|s| rp.pending.lock().ok()?.remove(&s));
    let (Some(code), Some((verifier, nonce, action))) = (q.code, pending) else {
        return (StatusCode::BAD_REQUEST, "unknown or replayed sign-in").into_response();
    };
    let Ok(request) = rp.client.exchange_code(AuthorizationCode::new(code)) else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "no token endpoint").into_response();
    };
    let tokens = match request
        .set_pkce_verifier(verifier)
        .request_async(&rp.http)
        .await
    {
        Ok(t) => t,
        Err(e) => {
            return (
                StatusCode::BAD_GATEWAY,
                format!("token exchange failed: {e}"),
            )
                .into_response();
        }
    };
    let Some(id_token) = tokens.id_token() else {
        return (StatusCode::BAD_GATEWAY, "no ID token").into_response();
    };
    let claims = match id_token.claims(&rp.client.id_token_verifier(), &nonce) {
        Ok(c) => c,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("bad ID token: {e}")).into_response(),
    };
    if let Some(action) = action {
        let who = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string())
            .unwrap_or_default();
        return documents::sign(&rp, tokens.access_token().secret(), &who, action).await;
    }
    let raw: Value = id_token
        .to_string()
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let local = Local {
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string())
            .unwrap_or_default(),
        email: claims.email().map(|e| e.to_string()).unwrap_or_default(),
        sid: raw["sid"].as_str().unwrap_or_default().to_owned(),
        id_token: id_token.to_string(),
        username: claims.preferred_username().map(|u| u.to_string()),
        csrf: random(),
    };
    let key = random();
    if let Ok(mut s) = rp.sessions.lock() {
        s.insert(key.clone(), local);
    }
    let mut r = redirect("/");
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{}={key}; Path=/; HttpOnly; SameSite=Lax",
        rp.cookie
    )) {
        r.headers_mut().append(SET_COOKIE, v);
    }
    r
}

/// Ends the local session and signs out at the IdP (RP-initiated logout).
async fn logout(State(rp): St, headers: HeaderMap) -> Response {
    let local = rp
        .session_cookie(&headers)
        .and_then(|k| rp.sessions.lock().ok()?.remove(&k));
    let Some(local) = local else {
        return redirect("/");
    };
    redirect(&format!(
        "{}?id_token_hint={}&post_logout_redirect_uri={}/&state={}",
        rp.end_session,
        local.id_token,
        rp.base,
        random()
    ))
}

#[derive(Deserialize)]
struct LogoutToken {
    logout_token: String,
}

/// Checks a logout token (Back-Channel Logout 1.0 §2.6) and ends the sessions it names.
fn check_logout_token(rp: &Rp, token: &str) -> Result<String, String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [h, p, s] = parts.as_slice() else {
        return Err("not a JWT".into());
    };
    let decode = |x: &str| URL_SAFE_NO_PAD.decode(x).map_err(|e| e.to_string());
    let header: Value = serde_json::from_slice(&decode(h)?).map_err(|e| e.to_string())?;
    let claims: Value = serde_json::from_slice(&decode(p)?).map_err(|e| e.to_string())?;
    let alg = match header["alg"].as_str() {
        Some("RS256") => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        Some("ES256") => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        other => return Err(format!("unexpected alg {other:?}")),
    };
    if header["typ"] != "logout+jwt" {
        return Err("not a logout token".into());
    }
    let kid = header["kid"].as_str();
    let message = format!("{h}.{p}");
    let signature = decode(s)?;
    let verified = rp
        .metadata
        .jwks()
        .keys()
        .iter()
        .filter(|k| kid.is_none() || k.key_id().map(|i| i.as_str()) == kid)
        .any(|k| {
            k.verify_signature(&alg, message.as_bytes(), &signature)
                .is_ok()
        });
    if !verified {
        return Err("bad signature".into());
    }
    let client_id = rp.client.client_id().as_str();
    if claims["iss"] != rp.issuer.as_str() || claims["aud"] != client_id {
        return Err("wrong issuer or audience".into());
    }
    if claims.get("nonce").is_some()
        || !claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object()
    {
        return Err("not a logout event".into());
    }
    claims["sid"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "no sid".into())
}

async fn backchannel_logout(State(rp): St, Form(f): Form<LogoutToken>) -> Response {
    match check_logout_token(&rp, &f.logout_token) {
        Ok(sid) => {
            if let Ok(mut s) = rp.sessions.lock() {
                s.retain(|_, l| l.sid != sid);
            }
            StatusCode::OK.into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
    }
}

#[derive(Deserialize)]
struct FrontChannel {
    iss: Option<String>,
    sid: Option<String>,
}

/// Front-Channel Logout 1.0 §2/§3: framed by the IdP's sign-out page with
/// `iss` and `sid`; ends the sessions of that IdP session. Only the IdP may
/// frame it, and nothing here is cached.
async fn frontchannel_logout(State(rp): St, Query(q): Query<FrontChannel>) -> Response {
    let (Some(iss), Some(sid)) = (q.iss, q.sid) else {
        return (StatusCode::BAD_REQUEST, "iss and sid are required").into_response();
    };
    if iss != rp.issuer {
        return (StatusCode::BAD_REQUEST, "wrong issuer").into_response();
    }
    if let Ok(mut s) = rp.sessions.lock() {
        s.retain(|_, l| l.sid != sid);
    }
    let origin = url::Url::parse(&rp.issuer)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| "'none'".into());
    let mut resp = Html("<!doctype html><title>logout</title>").into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("frame-ancestors {origin}")) {
        h.insert(axum::http::header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    resp
}

#[tokio::main]
async fn main() {
    let name = env("DEMO_NAME");
    let listen = env("DEMO_LISTEN");
    let issuer = env("DEMO_ISSUER");
    let client_id = env("DEMO_CLIENT_ID");
    let secret = env("DEMO_CLIENT_SECRET");
    let document = std::env::var_os("DEMO_DOCUMENT").map(|path| {
        let pdf = std::fs::read(&path).unwrap_or_else(|e| {
            eprintln!("error: DEMO_DOCUMENT {}: {e}", path.to_string_lossy());
            std::process::exit(2)
        });
        documents::Document::new(pdf)
    });
    let base = format!("http://{listen}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default();
    let issuer_url = IssuerUrl::new(issuer.clone()).unwrap_or_else(|e| {
        eprintln!("error: DEMO_ISSUER: {e}");
        std::process::exit(2)
    });
    let metadata = match CoreProviderMetadata::discover_async(issuer_url, &http).await {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: discovery at {issuer} failed: {e}");
            std::process::exit(1)
        }
    };
    // The end-session endpoint is not among openidconnect's core metadata fields.
    let end_session = match http
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
    {
        Ok(r) => r
            .json::<Value>()
            .await
            .ok()
            .and_then(|d| d["end_session_endpoint"].as_str().map(str::to_owned)),
        Err(_) => None,
    }
    .unwrap_or_else(|| {
        eprintln!("error: {issuer} publishes no end_session_endpoint");
        std::process::exit(1)
    });
    let redirect_url = RedirectUrl::new(format!("{base}/oidc/callback")).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2)
    });
    let client = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new(client_id.clone()),
        Some(ClientSecret::new(secret)),
    )
    .set_redirect_uri(redirect_url);
    let rp = Arc::new(Rp {
        name,
        base,
        issuer,
        end_session,
        cookie: format!("{client_id}_session"),
        client,
        metadata,
        http,
        pending: Mutex::new(HashMap::new()),
        sessions: Mutex::new(HashMap::new()),
        document,
    });
    let app = Router::new()
        .route("/", get(home))
        .route("/whoami", get(whoami))
        .route("/login", get(login))
        .route("/oidc/initiate", get(initiate))
        .route("/oidc/callback", get(callback))
        .route("/logout", get(logout))
        .route("/oidc/backchannel-logout", post(backchannel_logout))
        .route("/oidc/frontchannel-logout", get(frontchannel_logout))
        .route("/documents", get(documents::page))
        .route("/documents/current.pdf", get(documents::current))
        .route("/documents/approve", post(documents::approve))
        .route("/documents/issue", post(documents::issue))
        .with_state(rp);
    let listener = match tokio::net::TcpListener::bind(&listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {listen}: {e}");
            std::process::exit(1)
        }
    };
    eprintln!("demo app listening on http://{listen}");
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("error: {e}");
    }
}
