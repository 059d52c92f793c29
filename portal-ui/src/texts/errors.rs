//! The error page and the refusals a form shows when it cannot go on.

pub struct Errors {
    pub form_expired: &'static str,
    pub title: &'static str,
    pub request_id_label: &'static str,
    pub bad_request: &'static str,
    pub unknown_client: &'static str,
    pub bad_redirect_uri: &'static str,
    pub bad_logout_request: &'static str,
    pub login_expired: &'static str,
    pub not_found: &'static str,
    pub internal: &'static str,
    pub unavailable: &'static str,
    /// 429: too many requests from one address (the wait is in `Retry-After`).
    pub too_many_requests: fn(secs: u64) -> String,
    pub app_not_allowed: &'static str,
    /// A CAS app whose address is not registered.
    pub unknown_service: &'static str,
    pub bad_saml_request: &'static str,
}

pub const VI: Errors = Errors {
    form_expired: "Biểu mẫu đã hết hạn. Vui lòng nhập lại và thử lần nữa.",
    title: "Không thể tiếp tục",
    request_id_label: "Mã yêu cầu",
    bad_request: "Yêu cầu không hợp lệ.",
    unknown_client: "Ứng dụng này chưa được đăng ký với hệ thống đăng nhập.",
    bad_redirect_uri: "Địa chỉ quay về của ứng dụng không khớp với địa chỉ đã đăng ký.",
    bad_logout_request: "Yêu cầu đăng xuất không hợp lệ hoặc địa chỉ quay về chưa được đăng ký.",
    login_expired: "Phiên đăng nhập đã hết hạn. Vui lòng quay lại ứng dụng và thử lại.",
    not_found: "Không tìm thấy trang.",
    internal: "Hệ thống gặp lỗi. Vui lòng thử lại sau ít phút.",
    unavailable: "Hệ thống tạm thời không phục vụ được. Vui lòng thử lại sau ít phút.",
    too_many_requests: |secs| {
        format!(
            "Có quá nhiều yêu cầu từ địa chỉ mạng của bạn. Vui lòng chờ {secs} giây rồi thử lại."
        )
    },
    app_not_allowed: "Ứng dụng này không có hoặc bạn không được phép sử dụng.",
    unknown_service: "Địa chỉ của ứng dụng (dịch vụ CAS) chưa được đăng ký với hệ thống đăng nhập, nên không thể quay về ứng dụng. Vui lòng báo quản trị viên.",
    bad_saml_request: "Yêu cầu đăng nhập SAML của ứng dụng không hợp lệ, đã hết hạn hoặc ứng dụng chưa được đăng ký, nên không thể quay về ứng dụng. Vui lòng mở lại ứng dụng; nếu vẫn lỗi, hãy báo quản trị viên kèm mã yêu cầu.",
};

pub const EN: Errors = Errors {
    form_expired: "The form has expired. Please enter your details and try again.",
    title: "Cannot continue",
    request_id_label: "Request id",
    bad_request: "The request is not valid.",
    unknown_client: "This app is not registered with the sign-in service.",
    bad_redirect_uri: "The app's return address does not match the registered one.",
    bad_logout_request: "The sign-out request is not valid or its return address is not registered.",
    login_expired: "The sign-in has expired. Please go back to the app and try again.",
    not_found: "Page not found.",
    internal: "Something went wrong. Please try again in a few minutes.",
    unavailable: "The service is temporarily unavailable. Please try again in a few minutes.",
    too_many_requests: |secs| {
        format!(
            "Too many requests from your network address. Please wait {secs} seconds and try again."
        )
    },
    app_not_allowed: "This app does not exist or is not available to you.",
    unknown_service: "The app's address (CAS service) is not registered with the sign-in service, so you cannot be sent back to it. Please tell an administrator.",
    bad_saml_request: "The app's SAML sign-in request is invalid, has expired, or the app is not registered, so you cannot be sent back to it. Please open the app again; if it still fails, tell an administrator and quote the request id.",
};
