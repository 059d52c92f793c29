//! The messages sent by mail, one subject and one body per message. The IdP
//! does not know which language the reader prefers, so `idp::mail` sends each
//! in Vietnamese first, then in English. Codes and links stand in bodies
//! only: subjects show on lock screens and in notifications.

pub struct Mail {
    /// Closes every body.
    pub automatic: &'static str,
    pub code_subject: &'static str,
    pub code: fn(code: &str, minutes: u64) -> String,
    pub locked_subject: &'static str,
    pub locked: fn(minutes: u64, ip: &str, when: &str) -> String,
    pub reset_subject: &'static str,
    pub reset_link: fn(url: &str, minutes: u64) -> String,
    /// People whose password belongs to the mail system are sent there.
    pub reset_in_directory: &'static str,
    pub password_changed_subject: &'static str,
    pub password_changed: fn(when: &str) -> String,
    pub new_device_subject: &'static str,
    pub new_device: fn(device: &str, ip: &str, when: &str) -> String,
    pub factors_changed_subject: &'static str,
    /// `what` is one of the `notices` texts.
    pub factors_changed: fn(what: &str, when: &str) -> String,
}

pub const VI: Mail = Mail {
    automatic: "Thư này được gửi tự động, xin đừng trả lời.",
    code_subject: "Mã xác thực",
    code: |code, minutes| {
        format!(
            "Mã xác thực của bạn là: {code}\n\nMã có hiệu lực trong {minutes} phút. Không đưa mã này cho bất kỳ ai, kể cả người tự xưng là cán bộ kỹ thuật."
        )
    },
    locked_subject: "Tài khoản tạm thời bị khóa",
    locked: |minutes, ip, when| {
        format!(
            "Tài khoản của bạn đã bị khóa tạm thời {minutes} phút lúc {when} vì mật khẩu bị nhập sai nhiều lần (địa chỉ IP: {ip}).\n\nNếu không phải bạn, hãy báo ngay cho bộ phận quản trị. Sau thời gian này bạn có thể đăng nhập lại, hoặc nhờ quản trị viên mở khóa."
        )
    },
    reset_subject: "Đặt lại mật khẩu",
    reset_link: |url, minutes| {
        format!(
            "Có yêu cầu đặt lại mật khẩu cho tài khoản của bạn. Mở liên kết sau trong {minutes} phút để đặt mật khẩu mới:\n\n{url}\n\nNếu bạn không yêu cầu, hãy bỏ qua thư này; mật khẩu hiện tại vẫn giữ nguyên."
        )
    },
    reset_in_directory: "Có yêu cầu đặt lại mật khẩu cho tài khoản của bạn. Bạn đăng nhập bằng mật khẩu hộp thư công vụ, vì vậy hãy đổi mật khẩu trong hệ thống thư điện tử công vụ (hoặc liên hệ bộ phận quản trị thư điện tử).\n\nNếu bạn không yêu cầu, hãy bỏ qua thư này.",
    password_changed_subject: "Mật khẩu đã được thay đổi",
    password_changed: |when| {
        format!(
            "Mật khẩu tài khoản của bạn đã được đổi lúc {when}; mọi phiên đăng nhập cũ đã kết thúc.\n\nNếu không phải bạn, hãy báo ngay cho bộ phận quản trị."
        )
    },
    new_device_subject: "Đăng nhập từ thiết bị mới",
    new_device: |device, ip, when| {
        format!(
            "Tài khoản của bạn vừa đăng nhập từ một thiết bị mới:\n\nThiết bị: {device}\nĐịa chỉ IP: {ip}\nThời gian: {when}\n\nNếu là bạn, không cần làm gì thêm. Nếu không phải bạn, hãy đổi mật khẩu ngay và báo cho bộ phận quản trị."
        )
    },
    factors_changed_subject: "Thay đổi xác thực hai lớp",
    factors_changed: |what, when| {
        format!("{what} lúc {when}.\n\nNếu không phải bạn, hãy báo ngay cho bộ phận quản trị.")
    },
};

pub const EN: Mail = Mail {
    automatic: "This message was sent automatically; please do not reply.",
    code_subject: "Verification code",
    code: |code, minutes| {
        format!(
            "Your verification code is: {code}\n\nIt is valid for {minutes} minutes. Do not give it to anyone, including people who say they are technical staff."
        )
    },
    locked_subject: "Account temporarily locked",
    locked: |minutes, ip, when| {
        format!(
            "Your account was locked for {minutes} minutes at {when} after too many wrong passwords (IP address: {ip}).\n\nIf this was not you, tell the administrators at once. You can sign in again after that time, or ask an administrator to unlock it."
        )
    },
    reset_subject: "Reset your password",
    reset_link: |url, minutes| {
        format!(
            "Someone asked to reset the password of your account. Open this link within {minutes} minutes to choose a new one:\n\n{url}\n\nIf it was not you, ignore this message; your password stays as it is."
        )
    },
    reset_in_directory: "Someone asked to reset the password of your account. You sign in with the password of your official mailbox, so change it in the official mail system (or ask its administrators).\n\nIf it was not you, ignore this message.",
    password_changed_subject: "Your password was changed",
    password_changed: |when| {
        format!(
            "The password of your account was changed at {when}; every earlier session has ended.\n\nIf this was not you, tell the administrators at once."
        )
    },
    new_device_subject: "Sign-in from a new device",
    new_device: |device, ip, when| {
        format!(
            "Your account just signed in from a new device:\n\nDevice: {device}\nIP address: {ip}\nTime: {when}\n\nIf it was you, there is nothing to do. If not, change your password at once and tell the administrators."
        )
    },
    factors_changed_subject: "Two-step verification changed",
    factors_changed: |what, when| {
        format!("{what} at {when}.\n\nIf this was not you, tell the administrators at once.")
    },
};
