//! The app-picker.

pub struct Apps {
    pub title: &'static str,
    pub search_label: &'static str,
    pub search_button: &'static str,
    pub no_apps: &'static str,
    pub no_match: &'static str,
    pub account_link: &'static str,
}

pub const VI: Apps = Apps {
    title: "Ứng dụng của bạn",
    search_label: "Tìm ứng dụng",
    search_button: "Tìm",
    no_apps: "Chưa có ứng dụng nào dành cho bạn. Vui lòng liên hệ quản trị hệ thống.",
    no_match: "Không có ứng dụng nào khớp với từ khóa tìm kiếm.",
    account_link: "Tài khoản",
};

pub const EN: Apps = Apps {
    title: "Your apps",
    search_label: "Find an app",
    search_button: "Search",
    no_apps: "No apps are available to you yet. Please contact the administrator.",
    no_match: "No app matches your search.",
    account_link: "Account",
};
