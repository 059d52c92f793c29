//! The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2).
//!
//! Order matters: the client and its redirect URI are checked first and
//! refused with a page, because no error may be sent to an address that is
//! not registered. After that, errors go back to the client with `state` and
//! `iss` (RFC 9207).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{OidcError, params};
use crate::Idp;
use crate::auth::mfa;
use crate::auth::session::SsoSession;
use crate::cache::keys;
use crate::crypto;
use crate::ids::{ClientId, UserId};
use crate::kinds::GrantType;
use crate::refusal::Refusal;

#[derive(Debug, Default, Deserialize)]
pub struct AuthorizeRequest {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    pub acr_values: Option<String>,
    pub response_mode: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
}

impl AuthorizeRequest {
    /// The first parameter over its length cap, other than the two checked
    /// before the redirect URI is trusted.
    fn too_long(&self) -> Result<(), params::TooLong> {
        params::check(&[
            ("response_type", self.response_type.as_deref()),
            ("scope", self.scope.as_deref()),
            ("state", self.state.as_deref()),
            ("nonce", self.nonce.as_deref()),
            ("code_challenge", self.code_challenge.as_deref()),
            (
                "code_challenge_method",
                self.code_challenge_method.as_deref(),
            ),
            ("prompt", self.prompt.as_deref()),
            ("max_age", self.max_age.as_deref()),
            ("login_hint", self.login_hint.as_deref()),
            ("ui_locales", self.ui_locales.as_deref()),
            ("acr_values", self.acr_values.as_deref()),
            ("response_mode", self.response_mode.as_deref()),
            ("request", self.request.as_deref()),
            ("request_uri", self.request_uri.as_deref()),
        ])
    }
}

/// A checked request waiting for the person to sign in.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Pending {
    pub client_id: ClientId,
    pub client_name: String,
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// `None` only for a client registered with `--pkce optional` that sent a `nonce`.
    #[serde(default)]
    pub code_challenge: Option<String>,
    pub max_age: Option<i64>,
    pub force_login: bool,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    /// The app requires a second factor, or asked for one with `acr_values`.
    #[serde(default)]
    pub need_mfa: bool,
    /// A CAS login waiting for the sign-in (`cas::login`): the ticket, not
    /// a code, goes back. Absent from OIDC requests (their cache entries
    /// stay what earlier versions wrote).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cas: Option<crate::cas::login::CasPending>,
    /// A SAML sign-in waiting (`saml::sso`): a signed response, not a code, goes back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saml: Option<crate::saml::sso::SamlPending>,
}

/// What an authorization code stands for; kept in the cache until redeemed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CodeGrant {
    pub client_id: ClientId,
    pub redirect_uri: String,
    pub user_id: UserId,
    pub scope: Vec<String>,
    pub nonce: Option<String>,
    /// `None` when the authorization request sent no PKCE: a `code_verifier`
    /// is then refused (a downgrade, RFC 9700 §4.8.2).
    #[serde(default)]
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub acr: String,
    pub sid: String,
    pub expires_at: i64,
}

#[derive(Debug)]
pub enum Step {
    Refuse(Refusal),
    /// Back to the client, with a code or an error.
    Redirect(String),
    /// The person must sign in; the pending request is stored under this id.
    Login {
        req_id: String,
    },
    /// Signed in, but the app needs a second factor the session lacks: set
    /// this second-factor cookie and show the second-factor page.
    SecondFactor {
        token: String,
    },
}

/// `uri` with `params` appended to its query.
pub fn with_params(uri: &str, params: &[(&str, Option<&str>)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut u) => {
            {
                let mut q = u.query_pairs_mut();
                for (k, v) in params {
                    if let Some(v) = v {
                        q.append_pair(k, v);
                    }
                }
            }
            u.to_string()
        }
        // Registered URIs are parsed at registration; this cannot happen for them.
        Err(_) => uri.to_owned(),
    }
}

fn error_redirect(
    idp: &Idp,
    redirect_uri: &str,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> Step {
    Step::Redirect(with_params(
        redirect_uri,
        &[
            ("error", Some(error)),
            ("error_description", Some(description)),
            ("state", state),
            ("iss", Some(idp.config.issuer())),
        ],
    ))
}

/// `true` for a PKCE value: 43–128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1).
pub fn pkce_shaped(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// `true` when the app's first choice among the `acr` values we know is the
/// second factor. `acr_values` lists preferences in order (OIDC Core
/// §3.1.2.1): `1 2` is satisfied by a password, `2 1` asks for a second factor.
pub fn asks_for_mfa(acr_values: Option<&str>) -> bool {
    acr_values
        .unwrap_or_default()
        .split(' ')
        .find(|a| *a == mfa::ACR_PASSWORD || *a == mfa::ACR_MFA)
        == Some(mfa::ACR_MFA)
}

/// Handles `GET /authorize`. `session` is the person's live SSO session, if any.
pub async fn start(
    idp: &Idp,
    req: AuthorizeRequest,
    session: Option<&SsoSession>,
    now: i64,
) -> Result<Step, OidcError> {
    // Too long to be registered: a page, the redirect URI is not trusted yet.
    if params::check(&[
        ("client_id", req.client_id.as_deref()),
        ("redirect_uri", req.redirect_uri.as_deref()),
    ])
    .is_err()
    {
        return Ok(Step::Refuse(Refusal::BadRequest));
    }
    let Some(client) = (match &req.client_id {
        Some(id) => idp.store.client(&ClientId::from(id.as_str())).await?,
        None => None,
    }) else {
        return Ok(Step::Refuse(Refusal::UnknownClient));
    };
    let Some(redirect_uri) = req
        .redirect_uri
        .as_deref()
        .filter(|r| client.redirect_uris.iter().any(|x| x == r))
    else {
        return Ok(Step::Refuse(Refusal::BadRedirectUri));
    };
    // An over-long state is not echoed back; nothing of the request is stored.
    let state = req
        .state
        .as_deref()
        .filter(|s| s.len() <= params::cap("state"));
    let err = |error: &str, description: &str| {
        Ok(error_redirect(idp, redirect_uri, state, error, description))
    };
    if let Err(e) = req.too_long() {
        return err("invalid_request", &e.describe());
    }

    if req.request.is_some() {
        return err("request_not_supported", "request objects are not supported");
    }
    if req.request_uri.is_some() {
        return err("request_uri_not_supported", "request_uri is not supported");
    }
    if req.response_mode.as_deref().is_some_and(|m| m != "query") {
        return err("invalid_request", "only response_mode=query is supported");
    }
    match req.response_type.as_deref() {
        Some("code") => {}
        None => return err("invalid_request", "response_type is required"),
        Some(_) => {
            return err(
                "unsupported_response_type",
                "only response_type=code is supported",
            );
        }
    }
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return err(
            "unauthorized_client",
            "this client may not use the authorization code flow",
        );
    }
    let scope = super::granted_scopes(req.scope.as_deref(), &client.allowed_scopes);
    if !scope.iter().any(|s| s == "openid") {
        return err("invalid_scope", "the openid scope is required");
    }
    let has_nonce = req.nonce.as_deref().is_some_and(|n| !n.is_empty());
    let code_challenge = match (&req.code_challenge, &req.code_challenge_method) {
        (None, None) if !client.pkce_required && has_nonce => None,
        (None, None) if !client.pkce_required => {
            // RFC 9700 §2.1.1: without PKCE, the nonce is what binds the code.
            return err(
                "invalid_request",
                "send a nonce, or PKCE (code_challenge with code_challenge_method=S256)",
            );
        }
        (None, _) => {
            return err(
                "invalid_request",
                "PKCE is required: send code_challenge with code_challenge_method=S256",
            );
        }
        // A missing method means `plain` (RFC 7636 §4.3), which we refuse.
        (Some(_), m) if m.as_deref() != Some("S256") => {
            return err(
                "invalid_request",
                "only code_challenge_method=S256 is supported",
            );
        }
        (Some(c), _) if !pkce_shaped(c) => {
            return err("invalid_request", "code_challenge is malformed");
        }
        (Some(c), _) => Some(c.clone()),
    };
    let prompts: Vec<&str> = req
        .prompt
        .as_deref()
        .unwrap_or_default()
        .split(' ')
        .filter(|p| !p.is_empty())
        .collect();
    if prompts
        .iter()
        .any(|p| !matches!(*p, "none" | "login" | "consent" | "select_account"))
    {
        return err("invalid_request", "unsupported prompt value");
    }
    let prompt_none = prompts.contains(&"none");
    if prompt_none && prompts.len() > 1 {
        return err(
            "invalid_request",
            "prompt=none cannot be combined with other values",
        );
    }
    let max_age = match req.max_age.as_deref() {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => return err("invalid_request", "max_age must be a non-negative integer"),
        },
    };

    let pending = Pending {
        client_id: client.id.clone(),
        client_name: client.name.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scope,
        state: req.state.clone(),
        nonce: req.nonce.clone(),
        code_challenge,
        max_age,
        force_login: prompts.contains(&"login") || prompts.contains(&"select_account"),
        login_hint: req.login_hint.clone(),
        ui_locales: req.ui_locales.clone(),
        need_mfa: client.require_mfa || asks_for_mfa(req.acr_values.as_deref()),
        cas: None,
        saml: None,
    };

    let mut step_up = None;
    if let Some(sess) = session {
        let fresh_enough = max_age.is_none_or(|m| now - sess.auth_time <= m);
        if !pending.force_login && fresh_enough {
            if !pending.need_mfa || sess.acr == mfa::ACR_MFA {
                // Without a page to show, a missing link is for the app to handle.
                if prompt_none && link_missing(idp, &pending, sess).await?.is_some() {
                    return err(
                        "interaction_required",
                        "the person has no account linked in this app",
                    );
                }
                return Ok(Step::Redirect(issue_code(idp, &pending, sess, now).await?));
            }
            step_up = Some(sess);
        }
    }
    if prompt_none {
        return match step_up {
            Some(_) => err("interaction_required", "a second factor is required"),
            None => err("login_required", "the person is not signed in"),
        };
    }
    let req_id = crypto::random_token()?;
    idp.cache
        .set_json(
            &keys::pending(&req_id),
            &pending,
            Duration::from_secs(idp.config.session.login_request_ttl_secs),
        )
        .await?;
    match step_up {
        Some(sess) => {
            let half = mfa::Half {
                user_id: sess.user_id.clone(),
                req: Some(req_id),
                step_up: Some(sess.sid.clone()),
                then: None,
                passed: None,
                created_at: now,
            };
            Ok(Step::SecondFactor {
                token: half.save(idp).await?,
            })
        }
        None => Ok(Step::Login { req_id }),
    }
}

/// The app that needs `sess`'s person to have a linked legacy account for
/// `pending`'s client, when they have none.
async fn link_missing(
    idp: &Idp,
    pending: &Pending,
    sess: &SsoSession,
) -> Result<Option<String>, OidcError> {
    Ok(
        match crate::admin::links::release(&idp.store, &pending.client_id, &sess.user_id).await? {
            crate::admin::links::Release::NoLink { app_id } => Some(app_id),
            _ => None,
        },
    )
}

/// Issues a code for `pending` in `sess`; returns the redirect back to the
/// client. When the client's app releases a legacy username and the person
/// has no account linked there, no code is issued: the redirect is to the
/// page where they can ask to be linked (`/links/missing/{app}`). Every
/// completed sign-in (a live session, after the password, after the second
/// factor) comes through here.
pub async fn issue_code(
    idp: &Idp,
    pending: &Pending,
    sess: &SsoSession,
    now: i64,
) -> Result<String, OidcError> {
    if let Some(app_id) = link_missing(idp, pending, sess).await? {
        tracing::info!(client = %pending.client_id, app = %app_id, user = %sess.user_id, "no linked account for an app that needs one: no code, the person is shown the request page");
        return Ok(format!("/links/missing/{app_id}"));
    }
    let code = crypto::random_token()?;
    let ttl = idp.config.tokens.code_ttl_secs;
    let grant = CodeGrant {
        client_id: pending.client_id.clone(),
        redirect_uri: pending.redirect_uri.clone(),
        user_id: sess.user_id.clone(),
        scope: pending.scope.clone(),
        nonce: pending.nonce.clone(),
        code_challenge: pending.code_challenge.clone(),
        auth_time: sess.auth_time,
        amr: sess.amr.clone(),
        acr: sess.acr.clone(),
        sid: sess.sid.clone(),
        expires_at: now + super::tokens::secs(ttl),
    };
    idp.cache
        .set_json(&keys::code(&code), &grant, Duration::from_secs(ttl))
        .await?;

    Ok(with_params(
        &pending.redirect_uri,
        &[
            ("code", Some(&code)),
            ("state", pending.state.as_deref()),
            ("iss", Some(idp.config.issuer())),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_appended_and_encoded() {
        let u = with_params(
            "https://app.gov.vn/cb?x=1",
            &[
                ("code", Some("a b")),
                ("state", None),
                ("iss", Some("http://i")),
            ],
        );
        assert_eq!(u, "https://app.gov.vn/cb?x=1&code=a+b&iss=http%3A%2F%2Fi");
    }

    #[test]
    fn acr_values_are_preferences_in_order() {
        assert!(!asks_for_mfa(Some("1 2")));
        assert!(asks_for_mfa(Some("2 1")));
        assert!(asks_for_mfa(Some("2")));
        assert!(asks_for_mfa(Some("urn:other 2 1")));
        assert!(!asks_for_mfa(Some("urn:other 1")));
        assert!(!asks_for_mfa(Some("urn:other")));
        assert!(!asks_for_mfa(None));
    }

    #[test]
    fn pkce_shape() {
        assert!(pkce_shaped(&"a".repeat(43)));
        assert!(!pkce_shaped(&"a".repeat(42)));
        assert!(!pkce_shaped(&"a".repeat(129)));
        assert!(!pkce_shaped(&format!("{}+", "a".repeat(43))));
    }
}
