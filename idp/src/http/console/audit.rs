//! `/admin/audit` (filters, newest first, "older" pages) and
//! `/admin/audit.csv` (the same selection for a spreadsheet).

use axum::extract::Query;
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use portal_ui::console::{AuditPage, Opt};

use super::people::event_rows;
use super::{Console, enc};
use crate::admin::audit_log::{self, AuditLogError, Filter};
use crate::admin::people::PAGE;
use crate::audit::Kind;

fn query_string(f: &Filter) -> String {
    format!(
        "kind={}&actor={}&subject={}&from={}&to={}",
        enc(f.kind.as_deref().unwrap_or("")),
        enc(f.actor.as_deref().unwrap_or("")),
        enc(f.subject.as_deref().unwrap_or("")),
        enc(f.from.as_deref().unwrap_or("")),
        enc(f.to.as_deref().unwrap_or("")),
    )
}

pub async fn audit_get(c: Console, Query(f): Query<Filter>) -> Response {
    let page = match audit_log::list(&c.idp().store, &c.powers, &f, PAGE).await {
        Ok(p) => p,
        Err(AuditLogError::Forbidden) => return c.not_allowed(),
        Err(e) => return c.internal(&e),
    };
    let qs = query_string(&f);
    let kind = f.kind.clone().unwrap_or_default();
    c.page("/admin/audit", None, None, |l| AuditPage {
        l,
        kinds: Kind::ALL
            .iter()
            .map(|k| Opt {
                value: k.as_str().into(),
                label: k.as_str().into(),
                selected: k.as_str() == kind,
            })
            .collect(),
        actor: f.actor.clone().unwrap_or_default(),
        subject: f.subject.clone().unwrap_or_default(),
        from: f.from.clone().unwrap_or_default(),
        to: f.to.clone().unwrap_or_default(),
        scope: c.powers.audit_scope().map(str::to_owned),
        rows: event_rows(page.rows.into_iter().map(|r| r.event).collect()),
        older: page.next.map(|id| format!("/admin/audit?{qs}&before={id}")),
        csv_href: format!("/admin/audit.csv?{qs}"),
    })
}

pub async fn audit_csv_get(c: Console, Query(mut f): Query<Filter>) -> Response {
    f.before = None;
    match audit_log::csv(&c.idp().store, &c.powers, &f).await {
        Ok(body) => {
            let mut resp = body.into_response();
            let h = resp.headers_mut();
            h.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            h.insert(
                CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"audit.csv\""),
            );
            resp
        }
        Err(AuditLogError::Forbidden) => c.not_allowed(),
        Err(e) => c.internal(&e),
    }
}
