//! The step between the password and the second factor.

pub struct SecondFactor {
    pub title: &'static str,
    pub lead: &'static str,
    pub email_lead: &'static str,
    pub code_label: &'static str,
    pub verify_button: &'static str,
    pub email_send_button: &'static str,
    pub email_sent: fn(addr: &str, minutes: u64) -> String,
    pub email_too_soon: fn(secs: u64) -> String,
    pub recovery_summary: &'static str,
    pub recovery_label: &'static str,
    pub wrong_code: &'static str,
    pub paused: fn(minutes: u64) -> String,
}

pub const VI: SecondFactor = SecondFactor {
    title: "Xác thực hai lớp",
    lead: "Nhập mã 6 chữ số từ ứng dụng xác thực trên điện thoại của bạn.",
    email_lead: "Chúng tôi sẽ gửi mã xác thực tới địa chỉ e-mail bạn đã đăng ký.",
    code_label: "Mã xác thực",
    verify_button: "Xác nhận",
    email_send_button: "Gửi mã qua e-mail",
    email_sent: |addr, minutes| format!("Đã gửi mã tới {addr}. Mã có hiệu lực {minutes} phút."),
    email_too_soon: |secs| format!("Mã vừa được gửi. Vui lòng chờ {secs} giây trước khi gửi lại."),
    recovery_summary: "Không dùng được điện thoại? Dùng mã khôi phục",
    recovery_label: "Mã khôi phục",
    wrong_code: "Mã không đúng hoặc đã hết hạn.",
    paused: |minutes| {
        format!(
            "Nhập sai mã quá nhiều lần. Vui lòng thử lại sau {minutes} phút hoặc liên hệ quản trị hệ thống."
        )
    },
};

pub const EN: SecondFactor = SecondFactor {
    title: "Two-step verification",
    lead: "Enter the 6-digit code from the authenticator app on your phone.",
    email_lead: "We will send a verification code to the address you registered.",
    code_label: "Verification code",
    verify_button: "Verify",
    email_send_button: "E-mail me a code",
    email_sent: |addr, minutes| {
        format!("A code was sent to {addr}. It is valid for {minutes} minutes.")
    },
    email_too_soon: |secs| {
        format!("A code was just sent. Please wait {secs} seconds before sending another.")
    },
    recovery_summary: "No phone at hand? Use a recovery code",
    recovery_label: "Recovery code",
    wrong_code: "The code is wrong or has expired.",
    paused: |minutes| {
        format!(
            "Too many wrong codes. Please try again in {minutes} minutes or contact the administrator."
        )
    },
};
