//! The document flow of a document app ("Quản lý văn bản"), on dangnhap's
//! signing API: the official approves an outgoing document and signs it
//! (`kind=personal`), then the clerk (văn thư) issues it with the office's
//! signature (`kind=organization`). On when DEMO_DOCUMENT names a PDF.
//!
//! Signing needs an access token with the `sign` scope from a sign-in with a
//! second factor, so each button sends the person through the IdP once more
//! with `scope=openid sign` and `acr_values=2` (a session that has the factor
//! already comes straight back), and the callback calls the API with that
//! token. The app keeps no token after the call.

use std::sync::Mutex;

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_TYPE, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::{Rp, St, escape, redirect};

/// What the app does once it holds a token for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// The official approves and signs.
    Approve,
    /// The clerk issues with the office's signature.
    Issue,
}

impl Action {
    fn kind(self) -> &'static str {
        match self {
            Action::Approve => "personal",
            Action::Issue => "organization",
        }
    }
}

/// The one outgoing document and who did what to it.
pub struct Document {
    pub pdf: Vec<u8>,
    pub approved_by: Option<String>,
    pub issued_by: Option<String>,
    /// What the last signing call answered when it was refused.
    pub problem: Option<String>,
}

impl Document {
    pub fn new(pdf: Vec<u8>) -> Mutex<Document> {
        Mutex::new(Document {
            pdf,
            approved_by: None,
            issued_by: None,
            problem: None,
        })
    }
}

pub async fn page(State(rp): St, headers: HeaderMap) -> Response {
    let (Some(doc), Some(local)) = (&rp.document, rp.local(&headers)) else {
        return redirect("/login");
    };
    let Ok(d) = doc.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let status = match (&d.approved_by, &d.issued_by) {
        (_, Some(clerk)) => format!(
            "<p id=\"status\">Đã phát hành (văn thư: {})</p>",
            escape(clerk)
        ),
        (Some(who), None) => format!(
            "<p id=\"status\">Đã phê duyệt và ký ({}); chờ văn thư phát hành.</p>",
            escape(who)
        ),
        (None, None) => "<p id=\"status\">Dự thảo, chờ phê duyệt.</p>".to_owned(),
    };
    let problem = d
        .problem
        .as_deref()
        .map(|p| format!("<p id=\"problem\" role=\"alert\">{}</p>", escape(p)))
        .unwrap_or_default();
    Html(format!(
        "<!doctype html><html lang=\"vi\"><meta charset=\"utf-8\"><title>Văn bản đi</title>\
         <body style=\"font-family:sans-serif;max-width:40rem;margin:2rem auto\">\
         <h1>Văn bản đi: Kế hoạch</h1><p>Người dùng: {}</p>{status}{problem}\
         <form method=\"post\" action=\"/documents/approve\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button>Phê duyệt và ký</button></form>\
         <form method=\"post\" action=\"/documents/issue\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button>Phát hành (văn thư đóng dấu)</button></form>\
         <p><a href=\"/documents/current.pdf\">Tải văn bản</a></p></body></html>",
        escape(&local.name),
        csrf = escape(&local.csrf)
    ))
    .into_response()
}

pub async fn current(State(rp): St, headers: HeaderMap) -> Response {
    let (Some(doc), Some(_)) = (&rp.document, rp.local(&headers)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(d) = doc.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    ([(CONTENT_TYPE, "application/pdf")], d.pdf.clone()).into_response()
}

/// A document button's form: its CSRF token.
#[derive(Deserialize)]
pub struct Button {
    csrf: String,
}

pub async fn approve(State(rp): St, headers: HeaderMap, Form(b): Form<Button>) -> Response {
    step_up(&rp, &headers, &b, Action::Approve)
}

pub async fn issue(State(rp): St, headers: HeaderMap, Form(b): Form<Button>) -> Response {
    step_up(&rp, &headers, &b, Action::Issue)
}

/// Back to the IdP for a token that may sign.
fn step_up(rp: &Rp, headers: &HeaderMap, b: &Button, action: Action) -> Response {
    let Some(local) = rp.local(headers).filter(|_| rp.document.is_some()) else {
        return redirect("/login");
    };
    if local.csrf != b.csrf {
        return (StatusCode::FORBIDDEN, "the form has expired; open it again").into_response();
    }
    super::sign_in(rp, &["profile", "sign"], Some(action))
}

/// Calls the signing API with `token` and keeps what it answers.
pub async fn sign(rp: &Rp, token: &str, who: &str, action: Action) -> Response {
    let Some(doc) = &rp.document else {
        return redirect("/");
    };
    let pdf = match doc.lock() {
        Ok(d) => d.pdf.clone(),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let file = match reqwest::multipart::Part::bytes(pdf)
        .file_name("ke-hoach.pdf")
        .mime_str("application/pdf")
    {
        Ok(f) => f,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let form = reqwest::multipart::Form::new()
        .part("file", file)
        .text("kind", action.kind())
        .text(
            "reason",
            match action {
                Action::Approve => "Phê duyệt",
                Action::Issue => "Phát hành",
            },
        );
    let answer = rp
        .http
        .post(format!("{}/api/v1/signing/pdf", rp.issuer))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await;
    let outcome = match answer {
        Ok(r) if r.status().is_success() => r.bytes().await.map(|b| Ok(b.to_vec())),
        // The API's refusal carries a Vietnamese sentence for the user.
        Ok(r) => r.json::<Value>().await.map(|v| {
            Err(v["message"]
                .as_str()
                .unwrap_or("Không ký được văn bản.")
                .to_owned())
        }),
        Err(e) => Err(e),
    };
    if let Ok(mut d) = doc.lock() {
        match outcome {
            Ok(Ok(signed)) => {
                d.pdf = signed;
                d.problem = None;
                match action {
                    Action::Approve => d.approved_by = Some(who.to_owned()),
                    Action::Issue => d.issued_by = Some(who.to_owned()),
                }
            }
            Ok(Err(message)) => d.problem = Some(message),
            Err(e) => d.problem = Some(format!("Không gọi được dịch vụ ký số: {e}")),
        }
    }
    redirect("/documents")
}
