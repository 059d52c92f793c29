//! The one place where domain errors become HTTP: RFC 6749 §5.2 JSON on the
//! OAuth endpoints, RFC 6750 §3 `WWW-Authenticate` for bearer tokens, and
//! pages in the person's language elsewhere. Internal detail goes to the log
//! with the request id; the client sees only the id.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use portal_ui::pages::{Chrome, ErrorPage};
use portal_ui::{Lang, Template, Texts};
use serde_json::json;

use crate::auth::mfa::MfaError;
use crate::oidc::OidcError;
use crate::refusal::Refusal;

/// An OAuth error as JSON.
pub fn oauth(e: &OidcError, request_id: &str) -> Response {
    let status = match e {
        OidcError::InvalidClient { .. } | OidcError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
        OidcError::InsufficientScope(_) => StatusCode::FORBIDDEN,
        OidcError::Mfa(MfaError::Crypto(_) | MfaError::Totp(_))
        | OidcError::Crypto(_)
        | OidcError::Jose(_) => StatusCode::INTERNAL_SERVER_ERROR,
        OidcError::Store(_) | OidcError::Cache(_) | OidcError::Session(_) | OidcError::Mfa(_) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => StatusCode::BAD_REQUEST,
    };
    let code = match status {
        StatusCode::SERVICE_UNAVAILABLE => "temporarily_unavailable",
        _ => e.code(),
    };
    if status.is_server_error() {
        tracing::error!(request_id, error = %e, "OAuth request failed");
    } else {
        tracing::info!(request_id, error = %e, "OAuth request refused");
    }
    let mut body = json!({ "error": code });
    if let Some(d) = e.description() {
        body["error_description"] = json!(d);
    }
    let mut resp = (status, axum::Json(body)).into_response();
    let h = resp.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    match e {
        OidcError::InvalidClient { basic: true, .. } => {
            h.insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Basic realm="dangnhap""#),
            );
        }
        OidcError::InvalidToken(_) | OidcError::InsufficientScope(_) => {
            let v = format!(r#"Bearer realm="dangnhap", error="{code}""#);
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(WWW_AUTHENTICATE, v);
            }
        }
        _ => {}
    }
    resp
}

/// What a page says about a refusal, and with which status.
fn refusal(r: Refusal, t: &'static Texts) -> (StatusCode, &'static str) {
    match r {
        Refusal::BadRequest => (StatusCode::BAD_REQUEST, t.errors.bad_request),
        Refusal::UnknownClient => (StatusCode::BAD_REQUEST, t.errors.unknown_client),
        Refusal::BadRedirectUri => (StatusCode::BAD_REQUEST, t.errors.bad_redirect_uri),
        Refusal::BadLogoutRequest => (StatusCode::BAD_REQUEST, t.errors.bad_logout_request),
        Refusal::LoginExpired => (StatusCode::BAD_REQUEST, t.errors.login_expired),
        Refusal::FormExpired => (StatusCode::BAD_REQUEST, t.errors.form_expired),
        Refusal::AppNotAllowed => (StatusCode::FORBIDDEN, t.errors.app_not_allowed),
        Refusal::UnknownService => (StatusCode::BAD_REQUEST, t.errors.unknown_service),
        Refusal::BadSamlRequest => (StatusCode::BAD_REQUEST, t.errors.bad_saml_request),
    }
}

pub fn render<T: Template>(page: &T, request_id: &str) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(request_id, error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

pub fn page(
    status: StatusCode,
    message: impl Into<String>,
    lang: Lang,
    here: &str,
    request_id: &str,
) -> Response {
    let p = ErrorPage {
        chrome: Chrome::new(lang, here),
        message: message.into(),
        request_id: request_id.to_owned(),
    };
    let mut resp = render(&p, request_id);
    *resp.status_mut() = status;
    resp
}

pub fn refused(r: Refusal, lang: Lang, here: &str, request_id: &str) -> Response {
    tracing::info!(request_id, refusal = ?r, "request refused");
    let (status, message) = refusal(r, lang.texts());
    page(status, message, lang, here, request_id)
}

/// A failure the person cannot fix: logged with the request id, shown as a page.
pub fn internal(
    e: &dyn std::fmt::Display,
    unavailable: bool,
    lang: Lang,
    request_id: &str,
) -> Response {
    tracing::error!(request_id, error = %e, "request failed");
    let t = lang.texts();
    if unavailable {
        page(
            StatusCode::SERVICE_UNAVAILABLE,
            t.errors.unavailable,
            lang,
            "/",
            request_id,
        )
    } else {
        page(
            StatusCode::INTERNAL_SERVER_ERROR,
            t.errors.internal,
            lang,
            "/",
            request_id,
        )
    }
}

/// JSON with a content type and caching policy.
pub fn json_bytes(body: bytes::Bytes, cache: &'static str) -> Response {
    let mut resp = body.into_response();
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::CacheError;
    use crate::crypto::CryptoError;

    /// A failure of our own is a 500; only a store or cache that does not
    /// answer is "try again later".
    #[test]
    fn a_second_factor_failure_keeps_its_status() {
        let own = OidcError::Mfa(MfaError::Crypto(CryptoError::Random));
        assert_eq!(oauth(&own, "r").status(), StatusCode::INTERNAL_SERVER_ERROR);
        let down = OidcError::Mfa(MfaError::Cache(CacheError::Decode("x".into())));
        assert_eq!(oauth(&down, "r").status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
