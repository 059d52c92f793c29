//! Signing out: the question, and the progress of telling each app.

pub struct Logout {
    pub title: &'static str,
    pub question: &'static str,
    pub button: &'static str,
    pub logged_out: &'static str,
    pub apps_lead: &'static str,
    pub status_done: &'static str,
    pub status_pending: &'static str,
    pub status_retrying: &'static str,
    pub status_failed: &'static str,
    pub status_front: &'static str,
    pub status_unreachable: &'static str,
    pub continue_to_app: &'static str,
    pub refresh: &'static str,
}

pub const VI: Logout = Logout {
    title: "Đăng xuất",
    question: "Bạn có muốn đăng xuất khỏi hệ thống và mọi ứng dụng không?",
    button: "Đăng xuất",
    logged_out: "Bạn đã đăng xuất.",
    apps_lead: "Các ứng dụng đã dùng trong phiên này được thông báo đăng xuất:",
    status_done: "Đã đăng xuất",
    status_pending: "Đang thông báo…",
    status_retrying: "Ứng dụng chưa phản hồi, hệ thống sẽ tự thử lại",
    status_failed: "Không thông báo được; đã ghi nhận để quản trị xử lý",
    status_front: "Đang thông báo qua trình duyệt…",
    status_unreachable: "Phiên của ứng dụng sẽ tự hết hạn",
    continue_to_app: "Tiếp tục",
    refresh: "Cập nhật trạng thái",
};

pub const EN: Logout = Logout {
    title: "Sign out",
    question: "Do you want to sign out of the system and every app?",
    button: "Sign out",
    logged_out: "You have signed out.",
    apps_lead: "The apps used in this session are being signed out:",
    status_done: "Signed out",
    status_pending: "Notifying…",
    status_retrying: "The app has not answered; the system will keep trying",
    status_failed: "Could not be notified; recorded for the administrator",
    status_front: "Notifying through your browser…",
    status_unreachable: "The app's session will expire on its own",
    continue_to_app: "Continue",
    refresh: "Refresh status",
};
