//! Words more than one page uses: the system name, buttons, the account field.

pub struct Common {
    pub language_name: &'static str,
    pub system_name: &'static str,
    pub account_label: &'static str,
    pub account_hint: &'static str,
    pub sign_in_again: &'static str,
    pub save: &'static str,
    pub invalid_personal_email: &'static str,
    pub email_label: &'static str,
    pub continue_: &'static str,
}

pub const VI: Common = Common {
    language_name: "Tiếng Việt",
    system_name: "Hệ thống thông tin chính quyền số",
    account_label: "Tài khoản",
    account_hint: "Hộp thư công vụ, ví dụ tamtt hoặc tamtt@binhphuoc.gov.vn",
    sign_in_again: "Đăng nhập lại",
    save: "Lưu thay đổi",
    invalid_personal_email: "Địa chỉ thư điện tử cá nhân không hợp lệ.",
    email_label: "Địa chỉ e-mail",
    continue_: "Tiếp tục",
};

pub const EN: Common = Common {
    language_name: "English",
    system_name: "Digital government information system",
    account_label: "Account",
    account_hint: "Official mailbox, e.g. tamtt or tamtt@binhphuoc.gov.vn",
    sign_in_again: "Sign in again",
    save: "Save changes",
    invalid_personal_email: "The personal e-mail address is not valid.",
    email_label: "E-mail address",
    continue_: "Continue",
};
