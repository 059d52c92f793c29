//! The admin console under `/admin`: the guard every page goes through, its
//! navigation, one render helper and the routes. The rules (who may see or
//! change whom) are `admin::roles::Powers`; the pages only ask.
//!
//! **Adding a page**: a handler file here (`fn x_get(c: Console, …)` for a
//! page, `fn x_post(p: Posted<MyForm>, …)` for a form, `MyForm` with a `csrf`
//! field and `impl CsrfForm`), its route in [`routes`], a view struct in
//! `portal_ui::console` with a template under `templates/console/` that
//! extends `console/base.html`, its texts in `texts/console.rs`, and, for a
//! section of its own, an entry in [`SECTIONS`] with the power that shows it.
//!
//! The guard: the SSO session cookie (else the portal's sign-in), a sign-in
//! with a second factor (`acr` 2; else the step-up, then back to the page
//! asked for), and a console role (else a 403 page). Every POST checks the
//! CSRF token before anything else is read.

mod apps;
mod apps_clients;
mod audit;
mod home;
mod links;
pub use links::csv_response as links_csv_response;
mod people;

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Form, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::{get, post};
use portal_ui::console::{Layout, NavLink};
use portal_ui::{Template, Texts};
use serde::de::DeserializeOwned;

use super::ctx::Ctx;
use super::form::{FormPage, signed_in};
use super::oidc::see_other;
pub(crate) use super::oidc::see_other as redirect;
use super::{csrf, error, return_to};
use crate::Idp;
use crate::admin::roles::Powers;
use crate::auth::mfa::{self, Half};
use crate::auth::session::SsoSession;
use crate::kinds::Role;
use crate::store::User;

/// Every console route.
pub fn routes() -> Router<Arc<Idp>> {
    Router::new()
        .route("/admin", get(home::home_get))
        .route("/admin/links", get(links::coverage_get))
        .route("/admin/links/queue", get(links::queue_get))
        .route("/admin/links/queue/accept", post(links::accept_post))
        .route("/admin/links/queue/reject", post(links::reject_post))
        .route(
            "/admin/links/queue/accept-exact",
            get(links::accept_exact_get).post(links::accept_exact_post),
        )
        .route("/admin/links/conflicts", get(links::conflicts_get))
        .route("/admin/links/manual", get(links::manual_get))
        .route("/admin/links/manual/add", post(links::add_post))
        .route("/admin/links/manual/remove", post(links::remove_post))
        .route("/admin/links/export.csv", get(links::export_csv_get))
        .route(
            "/admin/links/import",
            post(links::import_post).layer(DefaultBodyLimit::max(links::IMPORT_BODY_LIMIT)),
        )
        .route("/admin/links/requests", get(links::requests_get))
        .route("/admin/links/requests/{id}", get(links::decide_get))
        .route(
            "/admin/links/requests/{id}/link",
            post(links::decide_link_post),
        )
        .route(
            "/admin/links/requests/{id}/reject",
            post(links::decide_reject_post),
        )
        .route("/admin/people", get(people::people_get))
        .route("/admin/people/{id}", get(people::person_get))
        .route("/admin/people/{id}/disable", post(people::disable_post))
        .route("/admin/people/{id}/enable", post(people::enable_post))
        .route("/admin/people/{id}/unlock", post(people::unlock_post))
        .route(
            "/admin/people/{id}/reset-factors",
            post(people::reset_factors_post),
        )
        .route("/admin/people/{id}/roles", post(people::roles_post))
        .route("/admin/units", get(people::units_get))
        .route("/admin/apps", get(apps::apps_get).post(apps::app_add_post))
        .route("/admin/apps/{id}", get(apps::app_get).post(apps::app_post))
        .route(
            "/admin/apps/{id}/icon",
            post(apps::icon_post).layer(DefaultBodyLimit::max(apps::ICON_BODY_LIMIT)),
        )
        .route("/admin/apps/{id}/claim", post(apps::claim_post))
        .route("/admin/clients", post(apps_clients::register_post))
        .route("/admin/clients/new", get(apps_clients::client_new_get))
        .route(
            "/admin/clients/{id}",
            get(apps_clients::client_get).post(apps_clients::client_post),
        )
        .route(
            "/admin/clients/{id}/rotate",
            post(apps_clients::rotate_post),
        )
        .route("/admin/audit", get(audit::audit_get))
        .route("/admin/audit.csv", get(audit::audit_csv_get))
        .route("/static/console.css", get(console_css_get))
}

/// One section of the navigation, in the order shown.
pub struct Section {
    pub href: &'static str,
    pub label: fn(&'static Texts) -> &'static str,
    /// Shown only to those who may use it.
    pub shown: fn(&Powers) -> bool,
}

/// The navigation: Tổng quan, (Liên kết tài khoản), Người dùng, Đơn vị,
/// (Ứng dụng), Nhật ký. A section is listed here once its pages exist.
pub const SECTIONS: &[Section] = &[
    Section {
        href: "/admin",
        label: |t| t.console.nav_overview,
        shown: Powers::any,
    },
    Section {
        href: "/admin/links",
        label: |t| t.console.nav_links,
        shown: Powers::may_see_links,
    },
    Section {
        href: "/admin/people",
        label: |t| t.console.nav_people,
        shown: Powers::may_list_people,
    },
    Section {
        href: "/admin/units",
        label: |t| t.console.nav_units,
        shown: Powers::may_list_people,
    },
    Section {
        href: "/admin/apps",
        label: |t| t.console.nav_apps,
        shown: Powers::may_see_apps,
    },
    Section {
        href: "/admin/audit",
        label: |t| t.console.nav_audit,
        shown: Powers::may_read_audit,
    },
];

/// A request that passed the guard: the person and their powers.
pub struct Console {
    pub ctx: Ctx,
    pub user: User,
    pub powers: Powers,
    idp: Arc<Idp>,
}

impl FromRequestParts<Arc<Idp>> for Console {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, idp: &Arc<Idp>) -> Result<Self, Response> {
        let Ok(ctx) = Ctx::from_request_parts(parts, idp).await;
        let (session, user) = match signed_in(idp, &ctx).await {
            Ok(Some(pair)) => pair,
            Ok(None) => return Err(see_other("/")),
            Err(e) => return Err(error::internal(&e, true, ctx.lang, &ctx.request_id)),
        };
        let powers = match Powers::load(&idp.store, &user).await {
            Ok(p) => p,
            Err(e) => return Err(error::internal(&e, true, ctx.lang, &ctx.request_id)),
        };
        if !powers.any() {
            tracing::info!(request_id = %ctx.request_id, user = %user.id, path = parts.uri.path(), "console refused: no role");
            return Err(forbidden(&ctx));
        }
        if session.acr != mfa::ACR_MFA {
            // Back to the page asked for once the second factor is given;
            // a form posted without one starts again from the overview.
            let raw = parts.uri.path_and_query().map(|p| p.as_str());
            let then = if parts.method == axum::http::Method::GET {
                return_to::local_path(idp.config.issuer(), raw)
            } else {
                "/admin".to_owned()
            };
            return Err(step_up(idp, &ctx, &session, then).await);
        }
        Ok(Console {
            ctx,
            user,
            powers,
            idp: Arc::clone(idp),
        })
    }
}

/// Starts a step-up of the live session that returns to `then`.
async fn step_up(idp: &Idp, ctx: &Ctx, session: &SsoSession, then: String) -> Response {
    let half = Half {
        user_id: session.user_id.clone(),
        req: None,
        step_up: Some(session.sid.clone()),
        then: Some(then),
        passed: None,
        created_at: crate::now(),
    };
    match half.save(idp).await {
        Ok(token) => super::mfa::to_second_factor(idp, &token),
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}

/// A console form: the CSRF token it carries.
pub trait CsrfForm {
    fn csrf(&self) -> Option<&str>;
}

/// A button's form with nothing but the token.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Button {
    pub csrf: Option<String>,
}

impl CsrfForm for Button {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

/// A POST that passed the guard and whose CSRF token is right.
pub struct Posted<T> {
    pub c: Console,
    pub form: T,
}

impl<T: DeserializeOwned + CsrfForm + Send> FromRequest<Arc<Idp>> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, idp: &Arc<Idp>) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let c = Console::from_request_parts(&mut parts, idp).await?;
        let req = Request::from_parts(parts, body);
        let form: Result<Form<T>, FormRejection> = Form::from_request(req, idp).await;
        let Ok(Form(form)) = form else {
            return Err(c.message(
                StatusCode::BAD_REQUEST,
                c.ctx.lang.texts().errors.bad_request,
            ));
        };
        if !csrf::check(idp, &c.ctx, form.csrf()) {
            tracing::info!(request_id = %c.ctx.request_id, user = %c.user.id, "console form refused: CSRF token missing or wrong");
            return Err(c.message(
                StatusCode::FORBIDDEN,
                c.ctx.lang.texts().console.form_expired,
            ));
        }
        Ok(Posted { c, form })
    }
}

/// The 403 page for a person without a console role.
fn forbidden(ctx: &Ctx) -> Response {
    error::page(
        StatusCode::FORBIDDEN,
        ctx.lang.texts().console.forbidden,
        ctx.lang,
        "/admin",
        &ctx.request_id,
    )
}

impl Console {
    pub fn idp(&self) -> &Idp {
        &self.idp
    }

    /// Who acts, for the audit log.
    pub fn ip(&self) -> Option<String> {
        self.ctx.ip.clone()
    }

    /// Renders a console page at `here` with the layout around it.
    pub fn page<V: Template>(
        &self,
        here: &str,
        notice: Option<&'static str>,
        error: Option<&'static str>,
        build: impl FnOnce(Layout) -> V,
    ) -> Response {
        let t = self.ctx.lang.texts();
        let section = here.split('?').next().unwrap_or(here);
        let nav = SECTIONS
            .iter()
            .filter(|s| (s.shown)(&self.powers))
            .map(|s| NavLink {
                href: s.href,
                label: (s.label)(t),
                current: s.href == section
                    || (s.href != "/admin" && section.starts_with(&format!("{}/", s.href))),
            })
            .collect();
        let me = format!("{} <{}>", self.user.name, self.user.email);
        FormPage::new(&self.idp, &self.ctx, here).render(|csrf, chrome| {
            build(Layout {
                chrome,
                csrf,
                nav,
                me,
                notice,
                error,
            })
        })
    }

    /// A plain message page with a status (not found, not allowed, …).
    pub fn message(&self, status: StatusCode, text: &'static str) -> Response {
        error::page(status, text, self.ctx.lang, "/admin", &self.ctx.request_id)
    }

    /// The person asked for does not exist or may not be seen (the same 404).
    pub fn not_found(&self) -> Response {
        self.message(
            StatusCode::NOT_FOUND,
            self.ctx.lang.texts().console.person_not_found,
        )
    }

    pub fn not_allowed(&self) -> Response {
        self.message(
            StatusCode::FORBIDDEN,
            self.ctx.lang.texts().console.not_allowed,
        )
    }

    pub fn internal(&self, e: &dyn std::fmt::Display) -> Response {
        error::internal(e, false, self.ctx.lang, &self.ctx.request_id)
    }
}

/// A role's name in the page's language.
pub fn role_label(t: &'static Texts, r: Role) -> &'static str {
    match r {
        Role::SuperAdmin => t.console.role_super_admin,
        Role::UnitAdmin => t.console.role_unit_admin,
        Role::Clerk => t.console.role_clerk,
        Role::Auditor => t.console.role_auditor,
    }
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn console_css_get() -> Response {
    use axum::response::IntoResponse;
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        portal_ui::CONSOLE_CSS,
    )
        .into_response()
}
