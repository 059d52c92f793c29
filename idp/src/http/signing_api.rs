//! The signing API for document apps under `/api/v1/signing`: an access
//! token of this IdP with the `sign` scope, from a sign-in with a second
//! factor (`acr` 2), of an active person (`admin::api_token::person`).
//!
//! - `POST /pdf` (multipart `file`, `kind`, `reason`): the signed PDF.
//! - `POST /verify` (multipart `file`): the JSON report.
//! - `POST /prepare` (multipart `file`, `certificate`, `reason`): what a key
//!   that is not on the server must sign, and the prepared PDF (base64).
//! - `POST /complete` (multipart `file` = the prepared PDF, `state`,
//!   `signature` base64): the signed PDF.
//!
//! Errors are `{ "error", "error_description", "message" }`: a code, what
//! happened for the developer, and a Vietnamese sentence the app can show.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::admin_api::{ApiError, json};
use super::ctx::Ctx;
use crate::Idp;
use crate::admin::api_token;
use crate::admin::roles::Powers;
use crate::audit::Who;
use crate::crypto;
use crate::images;
use crate::kinds::Role;
use crate::oidc::SIGN_SCOPE;
use crate::signing::service::Signer;
use crate::signing::{
    Params, Placement, Rect, SignKind, Signed, SigningError, Upload, deferred, pdf,
};
use crate::store::User;

pub const BASE: &str = "/api/v1/signing";

/// The body a request may carry: the largest PDF and room for the other parts.
const BODY_LIMIT: usize = pdf::MAX_PDF_BYTES + 1024 * 1024;

/// The most bytes of a part that is not the document.
const PART_LIMIT: usize = 64 * 1024;

/// The parts a request may have, and the most characters of a reason.
const PARTS: [&str; 9] = [
    "file",
    "kind",
    "reason",
    "page",
    "rect",
    "image",
    "certificate",
    "state",
    "signature",
];
const REASON_CHARS: usize = 200;

type St = State<Arc<Idp>>;

pub fn routes() -> Router<Arc<Idp>> {
    Router::new()
        .route(&format!("{BASE}/pdf"), post(sign_post))
        .route(&format!("{BASE}/verify"), post(verify_post))
        .route(&format!("{BASE}/prepare"), post(prepare_post))
        .route(&format!("{BASE}/complete"), post(complete_post))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

fn refusal(
    status: StatusCode,
    error: &'static str,
    description: impl Into<String>,
    message: &'static str,
) -> ApiError {
    ApiError {
        message: Some(message),
        ..ApiError::new(status, error, description)
    }
}

fn bad_request(description: impl Into<String>, message: &'static str) -> ApiError {
    refusal(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        description,
        message,
    )
}

/// How long after proving who they are (password and second factor) a
/// person may sign without proving it again.
pub const MAX_AUTH_AGE_SECS: i64 = 30 * 60;

/// Who calls: the person behind the token, whether they are a clerk, the app.
struct Caller {
    user: User,
    is_clerk: bool,
    client_id: String,
}

impl Caller {
    fn signer(&self) -> Signer<'_> {
        Signer {
            user: &self.user,
            is_clerk: self.is_clerk,
            client_id: &self.client_id,
        }
    }
}

/// The person behind the request's token, with a second factor proven in
/// the last [`MAX_AUTH_AGE_SECS`].
async fn caller(idp: &Idp, ctx: &Ctx) -> Result<Caller, ApiError> {
    let now = crate::now();
    let p = match api_token::person(idp, ctx.bearer(), SIGN_SCOPE, now).await {
        Ok(p) => p,
        Err(e) => {
            tracing::info!(request_id = %ctx.request_id, error = %e, "signing API call refused");
            let mut err = ApiError::refused(e, &ctx.request_id);
            err.message = Some(match err.status {
                StatusCode::FORBIDDEN => "Ứng dụng chưa được cấp quyền ký số (phạm vi sign).",
                StatusCode::UNAUTHORIZED if err.error == "insufficient_user_authentication" => {
                    "Hãy đăng nhập lại với xác thực hai lớp trước khi ký."
                }
                StatusCode::UNAUTHORIZED => {
                    "Phiên đăng nhập không còn hiệu lực; hãy đăng nhập lại."
                }
                _ => "Máy chủ gặp lỗi; hãy thử lại sau.",
            });
            return Err(err);
        }
    };
    if now - p.auth_time > MAX_AUTH_AGE_SECS {
        tracing::info!(request_id = %ctx.request_id, "signing API call refused: the second factor is too old");
        return Err(ApiError {
            max_age: Some(MAX_AUTH_AGE_SECS),
            ..refusal(
                StatusCode::UNAUTHORIZED,
                "insufficient_user_authentication",
                format!(
                    "the sign-in is older than {MAX_AUTH_AGE_SECS} s; authenticate again (max_age)"
                ),
                "Lần xác thực hai lớp đã quá 30 phút; hãy xác thực lại trước khi ký.",
            )
        });
    }
    let powers = Powers::load(&idp.store, &p.user)
        .await
        .map_err(|e| internal(&e, &ctx.request_id))?;
    Ok(Caller {
        is_clerk: powers.has(Role::Clerk),
        user: p.user,
        client_id: p.client_id,
    })
}

fn internal(e: &dyn std::fmt::Display, request_id: &str) -> ApiError {
    tracing::error!(request_id, error = %e, "signing API request failed");
    refusal(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        format!("request {request_id} failed"),
        "Máy chủ gặp lỗi khi ký; hãy thử lại sau hoặc báo quản trị viên.",
    )
}

/// A signing failure as the API answers it: what the caller can fix is
/// said; our own faults are logged and named by the request id only.
fn failed(e: SigningError, request_id: &str) -> ApiError {
    use SigningError as E;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    tracing::info!(request_id, error = %e, "signing refused or failed");
    match e {
        E::NotPdf => refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not_pdf",
            e.to_string(),
            "Tệp gửi lên không phải là tệp PDF.",
        ),
        E::Truncated => refusal(
            unprocessable,
            "truncated_pdf",
            e.to_string(),
            "Tệp PDF bị cắt cụt (tải lên chưa hết?); hãy gửi lại bản đầy đủ.",
        ),
        E::Encrypted => refusal(
            unprocessable,
            "encrypted_pdf",
            e.to_string(),
            "Tệp PDF đang được mã hóa; hãy gỡ mã hóa rồi ký lại.",
        ),
        E::TooLarge { .. } => refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            e.to_string(),
            "Tệp PDF vượt quá giới hạn 50 MiB.",
        ),
        E::Malformed(_) => refusal(
            unprocessable,
            "malformed_pdf",
            e.to_string(),
            "Không đọc được tệp PDF: tệp bị hỏng hoặc có cấu trúc không hợp lệ.",
        ),
        E::Timeout => refusal(
            unprocessable,
            "timeout",
            e.to_string(),
            "Đọc tệp PDF quá lâu; tệp quá phức tạp hoặc bị hỏng.",
        ),
        E::SignatureTooLarge(_) => refusal(
            unprocessable,
            "signature_too_large",
            e.to_string(),
            "Chữ ký số (cùng chuỗi chứng thư) quá lớn so với chỗ dành cho nó trong tệp.",
        ),
        E::Certified => refusal(
            unprocessable,
            "certified_pdf",
            e.to_string(),
            "Văn bản đã được chứng thực và khóa mọi thay đổi; không thể ký thêm.",
        ),
        E::SignatureBroken(_) => refusal(
            unprocessable,
            "signature_broken",
            e.to_string(),
            "Chữ ký đã có trên văn bản không còn nguyên vẹn (văn bản bị sửa sau khi ký); không đóng dấu phát hành.",
        ),
        E::TooManyRevisions { .. } => refusal(
            unprocessable,
            "too_many_revisions",
            e.to_string(),
            "Tệp PDF có quá nhiều lần cập nhật (phiên bản) so với dung lượng để kiểm tra hết các chữ ký trong một lần; không kiểm tra được.",
        ),
        E::NotApproved(_) => refusal(
            unprocessable,
            "not_approved",
            e.to_string(),
            "Văn bản chưa có chữ ký số hợp lệ của người có thẩm quyền (chữ ký còn nguyên vẹn, chứng thư số được tin cậy); không đóng dấu phát hành.",
        ),
        E::TimeStamp(_) => {
            tracing::error!(request_id, error = %e, "the time-stamping authority failed");
            refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "timestamp_unavailable",
                format!("request {request_id}: the time-stamping authority failed"),
                "Máy chủ cấp dấu thời gian không phản hồi; văn bản chưa được ký, hãy thử lại sau.",
            )
        }
        E::Placement(_) => refusal(
            unprocessable,
            "bad_placement",
            e.to_string(),
            "Vị trí chữ ký nằm ngoài trang hoặc trang không tồn tại.",
        ),
        E::Appearance(_) => refusal(
            unprocessable,
            "bad_appearance",
            e.to_string(),
            "Ảnh chữ ký hoặc con dấu không dùng được (không phải ảnh PNG/JPEG, quá lớn hoặc hỏng).",
        ),
        E::DeferredPersonalOnly => bad_request(
            e.to_string(),
            "Ký từ xa (USB token) chỉ dùng cho chữ ký cá nhân; con dấu cơ quan được ký trên máy chủ.",
        ),
        E::BadCertificate(_) => bad_request(e.to_string(), "Chứng thư số không hợp lệ."),
        E::NotYourCertificate => refusal(
            StatusCode::FORBIDDEN,
            "not_your_certificate",
            e.to_string(),
            "Chứng thư số không mang địa chỉ thư điện tử công vụ của người ký.",
        ),
        E::BadState(_) => bad_request(
            e.to_string(),
            "Phiên ký không hợp lệ hoặc đã hết hạn; hãy chuẩn bị ký lại.",
        ),
        E::BadSignature => bad_request(
            e.to_string(),
            "Chữ ký số không khớp với chứng thư số của người ký.",
        ),
        E::NotAllowed(_) => refusal(
            StatusCode::FORBIDDEN,
            "forbidden",
            e.to_string(),
            "Chỉ văn thư được đóng dấu của cơ quan; chữ ký cá nhân chỉ dùng khóa của chính mình.",
        ),
        E::Busy => refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            e.to_string(),
            "Dịch vụ ký số đang bận; hãy thử lại sau ít phút.",
        ),
        E::CertificateNotValid(_) => refusal(
            unprocessable,
            "certificate_not_valid",
            e.to_string(),
            "Chứng thư số đã hết hạn hoặc chưa có hiệu lực; hãy gia hạn chứng thư hoặc báo quản trị viên.",
        ),
        E::NoKey(_) | E::NoCertificate | E::Key(_) => {
            tracing::error!(request_id, error = %e, "the signing key is unavailable");
            refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "key_unavailable",
                format!("request {request_id}: the signing key is unavailable"),
                "Khóa ký số chưa sẵn sàng; hãy báo quản trị viên.",
            )
        }
        E::Cms(_)
        | E::Cache(_)
        | E::Der(_)
        | E::Crypto(_)
        | E::Store(_)
        | E::Io(_)
        | E::Worker(_) => internal(&e, request_id),
    }
}

/// The parts of a request: the document, hashed as it arrived, and the others.
struct Parts {
    file: Option<Upload>,
    other: HashMap<&'static str, Vec<u8>>,
}

/// The parts of a multipart body, each under its limit (the document under
/// `file_limit`, the others under [`PART_LIMIT`], counted as they arrive),
/// each at most once, none unknown.
async fn parts(
    m: Result<Multipart, MultipartRejection>,
    file_limit: usize,
    request_id: &str,
) -> Result<Parts, ApiError> {
    let unreadable = |why: String| bad_request(why, "Không đọc được dữ liệu gửi lên.");
    let too_large = || failed(SigningError::TooLarge { limit: file_limit }, request_id);
    let mut m = m.map_err(|e| unreadable(e.body_text()))?;
    let mut out = Parts {
        file: None,
        other: HashMap::new(),
    };
    loop {
        let mut field = match m.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => return Err(unreadable(e.body_text())),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let Some(&known) = PARTS.iter().find(|p| **p == name) else {
            return Err(unreadable(format!("unknown part {name:?}")));
        };
        let limit = match known {
            "file" => file_limit,
            "image" => images::SIGNATURE_MAX_BYTES,
            _ => PART_LIMIT,
        };
        if known == "file" && out.file.is_some() || out.other.contains_key(known) {
            return Err(unreadable(format!("the part {known} is there twice")));
        }
        // The document is hashed as it arrives; the others are small.
        let (mut file, mut data) = (Upload::expecting(0), Vec::new());
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) if file.len() + data.len() + chunk.len() <= limit => match known {
                    "file" => file.push(&chunk),
                    _ => data.extend_from_slice(&chunk),
                },
                Ok(Some(_)) if known == "file" => return Err(too_large()),
                Ok(Some(_)) => return Err(unreadable(format!("the part {known} is too large"))),
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    return Err(too_large());
                }
                Err(e) => return Err(unreadable(e.body_text())),
            }
        }
        if known == "file" {
            out.file = Some(file);
        } else {
            out.other.insert(known, data);
        }
    }
    Ok(out)
}

fn text<'a>(parts: &'a Parts, name: &str) -> Result<Option<&'a str>, ApiError> {
    parts
        .other
        .get(name)
        .map(|b| {
            std::str::from_utf8(b).map(str::trim).map_err(|_| {
                bad_request(
                    format!("{name} is not UTF-8"),
                    "Dữ liệu gửi lên không hợp lệ.",
                )
            })
        })
        .transpose()
}

fn document(parts: &mut Parts) -> Result<Upload, ApiError> {
    parts
        .file
        .take()
        .filter(|f| !f.is_empty())
        .ok_or_else(|| bad_request("the part file is missing", "Hãy chọn tệp PDF cần ký."))
}

fn params(parts: &Parts) -> Result<Params, ApiError> {
    let kind = match text(parts, "kind")? {
        None | Some("personal") => SignKind::Personal,
        Some("organization") => SignKind::Organization,
        Some(other) => {
            return Err(bad_request(
                format!("kind must be personal or organization, not {other:?}"),
                "Loại chữ ký không hợp lệ (personal hoặc organization).",
            ));
        }
    };
    let reason = text(parts, "reason")?.filter(|r| !r.is_empty());
    if let Some(r) = reason {
        let bidi = |c: char| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if r.chars().count() > REASON_CHARS || r.chars().any(|c| c.is_control() || bidi(c)) {
            return Err(bad_request(
                format!("reason: at most {REASON_CHARS} printable characters"),
                "Lý do ký quá dài hoặc có ký tự không hợp lệ.",
            ));
        }
    }
    let bad_place = |why: String| {
        bad_request(
            why,
            "Vị trí chữ ký không hợp lệ: cần số trang (từ 1) và hình chữ nhật x1,y1,x2,y2 tính bằng điểm PDF.",
        )
    };
    let placement = match (text(parts, "page")?, text(parts, "rect")?) {
        (None, None) => None,
        (Some(page), Some(rect)) => Some(Placement {
            page: page
                .parse::<u32>()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| bad_place(format!("page must be a number from 1, not {page:?}")))?,
            rect: rect.parse::<Rect>().map_err(|e| bad_place(e.to_string()))?,
        }),
        _ => return Err(bad_place("page and rect go together".into())),
    };
    Ok(Params {
        kind,
        reason: reason.map(str::to_owned),
        placement,
        image: parts.other.get("image").filter(|i| !i.is_empty()).cloned(),
    })
}

fn who(ctx: &Ctx) -> Who {
    Who {
        ip: ctx.ip.clone(),
        request_id: ctx.request_id.clone(),
    }
}

/// The signed document, with its hash for the app's records.
fn pdf_response(signed: Signed) -> Response {
    let mut resp = signed.pdf.into_response();
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    h.insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_static(r#"attachment; filename="signed.pdf""#),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&signed.output_sha256) {
        h.insert("x-signed-sha256", v);
    }
    resp
}

/// Runs `work` for a caller that passed the token checks, with an upload
/// slot held while the body is read and the document handled.
async fn with_caller<F, Fut>(idp: &Idp, ctx: &Ctx, work: F) -> Response
where
    F: FnOnce(Caller) -> Fut,
    Fut: Future<Output = Result<Response, ApiError>>,
{
    let run = async {
        let caller = caller(idp, ctx).await?;
        // Held by the request and by every parse it starts, until the last
        // of them ends: a person cannot fill the parsing slots with parses
        // their requests stopped waiting for.
        let person: Arc<dyn std::any::Any + Send + Sync> = Arc::new(
            idp.signing
                .person_slot(caller.user.id.as_str())
                .map_err(|e| failed(e, &ctx.request_id))?,
        );
        let _upload = idp
            .signing
            .upload_slot()
            .await
            .map_err(|e| failed(e, &ctx.request_id))?;
        crate::signing::holding(person, work(caller)).await
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

async fn sign_post(State(idp): St, ctx: Ctx, m: Result<Multipart, MultipartRejection>) -> Response {
    let (idp, ctx) = (&idp, &ctx);
    with_caller(idp, ctx, |c| async move {
        let mut parts = parts(m, pdf::MAX_PDF_BYTES, &ctx.request_id).await?;
        let params = params(&parts)?;
        let input = document(&mut parts)?;
        let signed = idp
            .signing
            .sign_for(&c.signer(), input, &params, &who(ctx), crate::now())
            .await
            .map_err(|e| failed(e, &ctx.request_id))?;
        Ok(pdf_response(signed))
    })
    .await
}

async fn verify_post(
    State(idp): St,
    ctx: Ctx,
    m: Result<Multipart, MultipartRejection>,
) -> Response {
    let (idp, ctx) = (&idp, &ctx);
    with_caller(idp, ctx, |_| async move {
        let mut parts = parts(m, pdf::MAX_PDF_BYTES, &ctx.request_id).await?;
        let input = document(&mut parts)?;
        let report = idp
            .signing
            .verify(input.into_bytes(), crate::now())
            .await
            .map_err(|e| failed(e, &ctx.request_id))?;
        let report = serde_json::to_value(&report).map_err(|e| internal(&e, &ctx.request_id))?;
        Ok(json(report))
    })
    .await
}

async fn prepare_post(
    State(idp): St,
    ctx: Ctx,
    m: Result<Multipart, MultipartRejection>,
) -> Response {
    let (idp, ctx) = (&idp, &ctx);
    with_caller(idp, ctx, |c| async move {
        let mut parts = parts(m, deferred::MAX_INPUT_BYTES, &ctx.request_id).await?;
        let params = params(&parts)?;
        let chain = parts
            .other
            .get("certificate")
            .ok_or_else(|| {
                bad_request(
                    "the part certificate is missing",
                    "Thiếu chứng thư số của người ký.",
                )
            })
            .and_then(|c| deferred::parse_chain(c).map_err(|e| failed(e, &ctx.request_id)))?;
        let input = document(&mut parts)?;
        let p = idp
            .signing
            .prepare(&c.signer(), input, chain, &params, &who(ctx), crate::now())
            .await
            .map_err(|e| failed(e, &ctx.request_id))?;
        Ok(json(serde_json::json!({
            "state": p.state,
            "algorithm": p.algorithm,
            "to_sign": crypto::b64(&p.to_sign),
            "to_sign_sha256": crypto::b64(&p.to_sign_sha256),
            "document_sha256": p.input_sha256,
            "prepared": crypto::b64(&p.pdf),
            "expires_in": deferred::STATE_TTL_SECS,
        })))
    })
    .await
}

async fn complete_post(
    State(idp): St,
    ctx: Ctx,
    m: Result<Multipart, MultipartRejection>,
) -> Response {
    let (idp, ctx) = (&idp, &ctx);
    with_caller(idp, ctx, |c| async move {
        let mut parts = parts(m, pdf::MAX_PDF_BYTES, &ctx.request_id).await?;
        let state = text(&parts, "state")?
            .ok_or_else(|| bad_request("the part state is missing", "Thiếu phiên ký."))?
            .to_owned();
        let signature = text(&parts, "signature")?
            .and_then(decode_b64)
            .ok_or_else(|| {
                bad_request(
                    "the part signature is missing or not base64",
                    "Thiếu chữ ký số hoặc chữ ký không đúng định dạng.",
                )
            })?;
        let prepared = document(&mut parts)?;
        let signed = idp
            .signing
            .complete(
                &c.signer(),
                prepared.into_bytes(),
                &state,
                signature,
                &who(ctx),
                crate::now(),
            )
            .await
            .map_err(|e| failed(e, &ctx.request_id))?;
        Ok(pdf_response(signed))
    })
    .await
}

/// Base64 as signers send it: standard or URL-safe, padded or not.
fn decode_b64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let s: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD
        .decode(&s)
        .ok()
        .or_else(|| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok())
}
