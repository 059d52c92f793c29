//! Forgotten password and choosing a new one.

pub struct Reset {
    pub forgot_title: &'static str,
    pub forgot_lead: &'static str,
    pub forgot_button: &'static str,
    pub forgot_sent: &'static str,
    pub title: &'static str,
    pub new_password_label: &'static str,
    pub repeat_password_label: &'static str,
    pub password_rules: fn(min: usize) -> String,
    pub passwords_differ: &'static str,
    pub done: &'static str,
    pub invalid: &'static str,
    /// The password policy's refusals, one per reason (`auth::policy::Weak`).
    pub weak_too_short: fn(min: usize) -> String,
    pub weak_too_long: fn(max: usize) -> String,
    pub weak_like_account: &'static str,
    pub weak_common: &'static str,
}

pub const VI: Reset = Reset {
    forgot_title: "Quên mật khẩu",
    forgot_lead: "Nhập tài khoản của bạn. Chúng tôi sẽ gửi hướng dẫn tới hộp thư công vụ.",
    forgot_button: "Gửi hướng dẫn",
    forgot_sent: "Nếu tài khoản tồn tại, hướng dẫn đặt lại mật khẩu đã được gửi tới hộp thư công vụ của tài khoản đó. Vui lòng kiểm tra hộp thư.",
    title: "Đặt mật khẩu mới",
    new_password_label: "Mật khẩu mới",
    repeat_password_label: "Nhập lại mật khẩu mới",
    password_rules: |min| {
        format!("Ít nhất {min} ký tự; không chứa tên tài khoản, không dùng mật khẩu phổ biến.")
    },
    passwords_differ: "Hai mật khẩu không giống nhau.",
    done: "Đã đổi mật khẩu. Hãy đăng nhập bằng mật khẩu mới.",
    invalid: "Liên kết đặt lại mật khẩu không hợp lệ hoặc đã hết hạn.",
    weak_too_short: |min| format!("Mật khẩu phải có ít nhất {min} ký tự."),
    weak_too_long: |max| format!("Mật khẩu không được dài quá {max} ký tự."),
    weak_like_account: "Mật khẩu không được là hoặc chứa tên tài khoản hay địa chỉ e-mail.",
    weak_common: "Mật khẩu này nằm trong danh sách mật khẩu phổ biến, dễ bị đoán. Vui lòng chọn mật khẩu khác.",
};

pub const EN: Reset = Reset {
    forgot_title: "Forgot your password",
    forgot_lead: "Enter your account. We will send instructions to your official mailbox.",
    forgot_button: "Send instructions",
    forgot_sent: "If the account exists, instructions to reset its password have been sent to its official mailbox. Please check your mail.",
    title: "Choose a new password",
    new_password_label: "New password",
    repeat_password_label: "Repeat the new password",
    password_rules: |min| {
        format!(
            "At least {min} characters; not containing your account name, not a common password."
        )
    },
    passwords_differ: "The two passwords differ.",
    done: "Your password was changed. Sign in with the new one.",
    invalid: "The reset link is invalid or has expired.",
    weak_too_short: |min| format!("The password must have at least {min} characters."),
    weak_too_long: |max| format!("The password must have at most {max} characters."),
    weak_like_account: "The password must not be or contain your account name or e-mail address.",
    weak_common: "This password is among the most common passwords and easy to guess. Please choose another.",
};
