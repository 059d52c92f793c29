//! The sign-in form and what it says when a try is refused or throttled.

pub struct Login {
    pub title: &'static str,
    pub lead: &'static str,
    pub password_label: &'static str,
    pub button: &'static str,
    pub invalid_credentials: &'static str,
    pub signing_in_to: &'static str,
    pub signed_in_as: &'static str,
    pub directory_down: &'static str,
    pub wait: fn(secs: u64) -> String,
    pub locked: fn(minutes: u64) -> String,
    pub address: &'static str,
    pub forgot_link: &'static str,
    /// The page that carries a SAML response (or logout message) to an app.
    pub returning_title: &'static str,
    pub returning_lead: &'static str,
}

pub const VI: Login = Login {
    title: "Đăng nhập",
    lead: "Đăng nhập một lần bằng tài khoản hộp thư công vụ để sử dụng mọi ứng dụng.",
    password_label: "Mật khẩu",
    button: "Đăng nhập",
    invalid_credentials: "Tài khoản hoặc mật khẩu không đúng.",
    signing_in_to: "Đăng nhập để tiếp tục vào ứng dụng",
    signed_in_as: "Bạn đang đăng nhập với tài khoản",
    directory_down: "Không kết nối được tới danh bạ hộp thư công vụ nên chưa kiểm tra được mật khẩu. Đây không phải lỗi của bạn; vui lòng thử lại sau ít phút.",
    wait: |secs| format!("Đã nhập sai nhiều lần. Vui lòng chờ {secs} giây rồi thử lại."),
    locked: |minutes| {
        format!(
            "Đã nhập sai quá nhiều lần nên tạm thời không thể đăng nhập. Vui lòng thử lại sau {minutes} phút hoặc liên hệ quản trị hệ thống."
        )
    },
    address: "Có quá nhiều lần đăng nhập sai từ mạng này. Vui lòng thử lại sau ít phút hoặc liên hệ quản trị hệ thống.",
    forgot_link: "Quên mật khẩu?",
    returning_title: "Đang quay về ứng dụng",
    returning_lead: "Đang gửi kết quả đăng nhập tới ứng dụng. Nếu trang không tự chuyển, hãy bấm Tiếp tục.",
};

pub const EN: Login = Login {
    title: "Sign in",
    lead: "Sign in once with your official mailbox account to use every app.",
    password_label: "Password",
    button: "Sign in",
    invalid_credentials: "The account or password is incorrect.",
    signing_in_to: "Sign in to continue to",
    signed_in_as: "You are signed in as",
    directory_down: "The official mail directory cannot be reached, so your password could not be checked. This is not your mistake; please try again in a few minutes.",
    wait: |secs| format!("Too many wrong attempts. Please wait {secs} seconds and try again."),
    locked: |minutes| {
        format!(
            "Too many wrong attempts: signing in is blocked for now. Please try again in {minutes} minutes or contact the administrator."
        )
    },
    address: "Too many wrong attempts from this network. Please try again in a few minutes or contact the administrator.",
    forgot_link: "Forgot your password?",
    returning_title: "Returning to the app",
    returning_lead: "Sending the sign-in result to the app. If the page does not move on by itself, press Continue.",
};
