//! What changed, as the "two-step verification changed" mail names it
//! (`Mail::factors_changed`).

pub struct Notices {
    pub totp_added: &'static str,
    pub email_added: &'static str,
    pub totp_removed: &'static str,
    pub email_removed: &'static str,
    pub recovery_codes_renewed: &'static str,
    pub recovery_code_used: fn(left: i64) -> String,
    pub admin_factors_reset: &'static str,
}

pub const VI: Notices = Notices {
    totp_added: "Đã thêm ứng dụng xác thực",
    email_added: "Đã thêm nhận mã xác thực qua e-mail",
    totp_removed: "Đã gỡ bỏ ứng dụng xác thực",
    email_removed: "Đã gỡ bỏ nhận mã xác thực qua e-mail",
    recovery_codes_renewed: "Đã tạo bộ mã khôi phục mới (các mã cũ không còn dùng được)",
    recovery_code_used: |left| {
        format!("Một mã khôi phục đã được dùng để đăng nhập (còn {left} mã)")
    },
    admin_factors_reset: "Quản trị viên đã xóa các cách xác thực hai lớp của bạn; hãy thiết lập lại khi đăng nhập",
};

pub const EN: Notices = Notices {
    totp_added: "An authenticator app was added",
    email_added: "Codes by e-mail were added",
    totp_removed: "An authenticator app was removed",
    email_removed: "Codes by e-mail were removed",
    recovery_codes_renewed: "New recovery codes were made (the old ones no longer work)",
    recovery_code_used: |left| format!("A recovery code was used to sign in ({left} left)"),
    admin_factors_reset: "An administrator removed your two-step verification methods; set them up again when you next sign in",
};
