//! `/admin/clients/new`, `/admin/clients/{id}`: registering an OIDC client
//! by the rules of `idp client add` (`admin::clients::register`), changing
//! its name and addresses (`update_uris`) and rotating its secret
//! (`rotate_secret`). A generated secret is shown on the response to that
//! one POST (`Cache-Control: no-store` like every console page) and never
//! again: it is not logged, audited or put in a URL.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use portal_ui::console_apps::{ClientForm, ClientNewPage, ClientPage, ClientSecretPage};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::apps::{client_refusal, events_of, field, lines, uri_of};
use super::people::{DoneQuery, event_rows};
use super::{Console, CsrfForm, Posted, enc};
use crate::admin::Actor;
use crate::admin::clients::{self, ClientError, Registration, UriChange};
use crate::ids::ClientId;
use crate::kinds::{ClientAuthMethod, GrantType};

pub async fn client_new_get(c: Console) -> Response {
    if !c.powers.may_manage_apps() {
        return c.not_allowed();
    }
    let f = ClientForm {
        grant_code: true,
        grant_refresh: true,
        ..ClientForm::default()
    };
    c.page("/admin/clients/new", None, None, |l| ClientNewPage { l, f })
}

#[derive(Debug, Default, Deserialize)]
pub struct RegisterForm {
    pub csrf: Option<String>,
    pub client_id: Option<String>,
    pub name: Option<String>,
    /// `confidential` (client_secret_basic), `confidential_post` or `public`.
    pub kind: Option<String>,
    pub grant_code: Option<String>,
    pub grant_refresh: Option<String>,
    pub grant_cc: Option<String>,
    pub redirect_uris: Option<String>,
    pub post_logout_uris: Option<String>,
    pub backchannel_uri: Option<String>,
    pub frontchannel_uri: Option<String>,
    pub initiate_login_uri: Option<String>,
    /// `required` or `optional`.
    pub pkce: Option<String>,
    pub alg: Option<String>,
    pub require_mfa: Option<String>,
    pub insecure_http: Option<String>,
}

impl CsrfForm for RegisterForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

impl RegisterForm {
    fn registration(&self) -> Registration {
        let kind = self.kind.as_deref().unwrap_or("confidential");
        let grants = [
            (&self.grant_code, GrantType::AuthorizationCode),
            (&self.grant_refresh, GrantType::RefreshToken),
            (&self.grant_cc, GrantType::ClientCredentials),
        ]
        .into_iter()
        .filter(|(on, _)| on.is_some())
        .map(|(_, g)| g)
        .collect();
        Registration {
            client_id: field(self.client_id.as_deref()).unwrap_or_default(),
            name: field(self.name.as_deref()),
            redirect_uris: lines(self.redirect_uris.as_deref()),
            public: kind == "public",
            auth_method: (kind == "confidential_post")
                .then_some(ClientAuthMethod::ClientSecretPost),
            grants,
            post_logout_redirect_uris: lines(self.post_logout_uris.as_deref()),
            backchannel_logout_uri: field(self.backchannel_uri.as_deref()),
            frontchannel_logout_uri: field(self.frontchannel_uri.as_deref()),
            initiate_login_uri: field(self.initiate_login_uri.as_deref()),
            id_token_alg: field(self.alg.as_deref()).unwrap_or_else(|| "RS256".into()),
            insecure_http: self.insecure_http.is_some(),
            require_mfa: self.require_mfa.is_some(),
            pkce_required: self.pkce.as_deref() != Some("optional"),
            ..Registration::default()
        }
    }

    /// The form again, as it was typed, after a refusal.
    fn again(self, detail: String) -> ClientForm {
        let v = |s: Option<String>| s.unwrap_or_default();
        ClientForm {
            public: self.kind.as_deref() == Some("public"),
            auth_post: self.kind.as_deref() == Some("confidential_post"),
            grant_code: self.grant_code.is_some(),
            grant_refresh: self.grant_refresh.is_some(),
            grant_cc: self.grant_cc.is_some(),
            pkce_optional: self.pkce.as_deref() == Some("optional"),
            require_mfa: self.require_mfa.is_some(),
            es256: self.alg.as_deref() == Some("ES256"),
            insecure_http: self.insecure_http.is_some(),
            client_id: v(self.client_id),
            name: v(self.name),
            redirect_uris: v(self.redirect_uris),
            post_logout_uris: v(self.post_logout_uris),
            backchannel_uri: v(self.backchannel_uri),
            frontchannel_uri: v(self.frontchannel_uri),
            initiate_login_uri: v(self.initiate_login_uri),
            detail,
        }
    }
}

/// The address a refusal is about, to show beside the reason.
fn detail_of(e: &ClientError) -> String {
    match e {
        ClientError::BadUri(m) => uri_of(m),
        _ => String::new(),
    }
}

pub async fn register_post(p: Posted<RegisterForm>) -> Response {
    let (c, f) = (&p.c, p.form);
    if !c.powers.may_manage_apps() {
        return c.not_allowed();
    }
    let actor = Actor::person(&c.user.id);
    let r = clients::register(&c.idp().store, f.registration(), &actor, crate::now()).await;
    match r {
        Ok(reg) => match reg.generated_secret {
            Some(secret) => show_secret(c, &reg.id, secret.expose_secret()),
            None => super::redirect(&format!("/admin/clients/{}?done=saved", enc(&reg.id))),
        },
        Err(e) => {
            tracing::info!(request_id = %c.ctx.request_id, error = %e, "console: client registration refused");
            let Some(say) = client_refusal(c.ctx.lang.texts(), &e) else {
                return c.internal(&e);
            };
            let form = f.again(detail_of(&e));
            let mut resp = c.page("/admin/clients/new", None, Some(say), |l| ClientNewPage {
                l,
                f: form,
            });
            *resp.status_mut() = StatusCode::BAD_REQUEST;
            resp
        }
    }
}

/// The one page that ever shows a client's secret.
fn show_secret(c: &Console, id: &str, secret: &str) -> Response {
    let here = format!("/admin/clients/{}", enc(id));
    c.page(&here, None, None, |l| ClientSecretPage {
        l,
        id: id.to_owned(),
        secret: secret.to_owned(),
    })
}

pub async fn client_get(
    c: Console,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let t = c.ctx.lang.texts();
    let notice = (q.done.as_deref() == Some("saved")).then_some(t.console_apps.done_saved);
    show_client(&c, &id, notice, None, String::new()).await
}

/// A client's page, with a notice or the reason a change was refused (400).
async fn show_client(
    c: &Console,
    id: &str,
    notice: Option<&'static str>,
    error: Option<&'static str>,
    detail: String,
) -> Response {
    if !c.powers.may_see_apps() {
        return c.not_allowed();
    }
    let store = &c.idp().store;
    let cl = match store.client(&ClientId::from(id)).await {
        Ok(Some(cl)) => cl,
        Ok(None) => return client_not_found(c),
        Err(e) => return c.internal(&e),
    };
    let apps = match store.list_apps().await {
        Ok(a) => a,
        Err(e) => return c.internal(&e),
    };
    let events = event_rows(events_of(c, id).await);
    let one = |o: &Option<String>| o.clone().unwrap_or_default();
    let insecure = cl
        .redirect_uris
        .iter()
        .chain(&cl.post_logout_redirect_uris)
        .any(|u| crate::admin::check_redirect_uri(u, false).is_err());
    let here = format!("/admin/clients/{}", enc(id));
    let mut resp = c.page(&here, notice, error, |l| ClientPage {
        l,
        may_manage: c.powers.may_manage_apps(),
        auth: cl.auth_method.to_string(),
        grants: cl
            .grant_types
            .iter()
            .map(|g| g.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        pkce_required: cl.pkce_required,
        require_mfa: cl.require_mfa,
        alg: cl.id_token_alg.clone(),
        redirect_uris: cl.redirect_uris.join("\n"),
        post_logout_uris: cl.post_logout_redirect_uris.join("\n"),
        backchannel_uri: one(&cl.backchannel_logout_uri),
        frontchannel_uri: one(&cl.frontchannel_logout_uri),
        initiate_login_uri: one(&cl.initiate_login_uri),
        insecure_http: insecure,
        uses_secret: cl.auth_method.uses_secret(),
        apps: apps
            .into_iter()
            .filter(|a| a.client_id.as_deref() == Some(id))
            .map(|a| (a.id, a.name))
            .collect(),
        id: cl.id.to_string(),
        name: cl.name,
        detail,
        events,
    });
    if error.is_some() {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    resp
}

fn client_not_found(c: &Console) -> Response {
    c.message(
        StatusCode::NOT_FOUND,
        c.ctx.lang.texts().console_apps.client_not_found,
    )
}

/// Maps a refused client change to its page (400) or the failure.
async fn client_after(c: &Console, id: &str, e: ClientError) -> Response {
    tracing::info!(request_id = %c.ctx.request_id, client = id, error = %e, "console: client change refused");
    match (client_refusal(c.ctx.lang.texts(), &e), e) {
        (_, ClientError::NotFound(_)) => client_not_found(c),
        (Some(say), e) => show_client(c, id, None, Some(say), detail_of(&e)).await,
        (None, e) => c.internal(&e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct UrisForm {
    pub csrf: Option<String>,
    pub name: Option<String>,
    pub redirect_uris: Option<String>,
    pub post_logout_uris: Option<String>,
    pub backchannel_uri: Option<String>,
    pub frontchannel_uri: Option<String>,
    pub initiate_login_uri: Option<String>,
    pub insecure_http: Option<String>,
}

impl CsrfForm for UrisForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

pub async fn client_post(Path(id): Path<String>, p: Posted<UrisForm>) -> Response {
    let (c, f) = (&p.c, p.form);
    if !c.powers.may_manage_apps() {
        return c.not_allowed();
    }
    let ch = UriChange {
        name: f.name.unwrap_or_default(),
        redirect_uris: lines(f.redirect_uris.as_deref()),
        post_logout_redirect_uris: lines(f.post_logout_uris.as_deref()),
        backchannel_logout_uri: field(f.backchannel_uri.as_deref()),
        frontchannel_logout_uri: field(f.frontchannel_uri.as_deref()),
        initiate_login_uri: field(f.initiate_login_uri.as_deref()),
        insecure_http: f.insecure_http.is_some(),
    };
    let actor = Actor::person(&c.user.id);
    match clients::update_uris(&c.idp().store, &id, ch, &actor, crate::now()).await {
        Ok(_) => super::redirect(&format!("/admin/clients/{}?done=saved", enc(&id))),
        Err(e) => client_after(c, &id, e).await,
    }
}

pub async fn rotate_post(Path(id): Path<String>, p: Posted<super::Button>) -> Response {
    let c = &p.c;
    if !c.powers.may_manage_apps() {
        return c.not_allowed();
    }
    let actor = Actor::person(&c.user.id);
    match clients::rotate_secret(&c.idp().store, &id, &actor, crate::now()).await {
        Ok(secret) => show_secret(c, &id, secret.expose_secret()),
        Err(e) => client_after(c, &id, e).await,
    }
}
