//! The text catalogue: every word a person reads, once per language.
//!
//! `Texts` is a plain struct, so a language that lacks a text does not compile.

/// The languages the pages speak. Vietnamese is the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    /// The BCP 47 tag, for `<html lang>` and the language cookie.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// Parses a tag as sent in `ui_locales`, a cookie or a query (`en`, `en-US`, `vi`).
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other language, for the switch link.
    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Vi => &VI,
            Lang::En => &EN,
        }
    }
}

/// Everything the pages say.
pub struct Texts {
    pub language_name: &'static str,
    pub system_name: &'static str,
    pub login_title: &'static str,
    pub login_lead: &'static str,
    pub account_label: &'static str,
    pub account_hint: &'static str,
    pub password_label: &'static str,
    pub login_button: &'static str,
    pub invalid_credentials: &'static str,
    pub form_expired: &'static str,
    pub signing_in_to: &'static str,
    pub signed_in_as: &'static str,
    pub logout_title: &'static str,
    pub logout_question: &'static str,
    pub logout_button: &'static str,
    pub logged_out: &'static str,
    pub back_to_login: &'static str,
    pub error_title: &'static str,
    pub request_id_label: &'static str,
    pub error_bad_request: &'static str,
    pub error_unknown_client: &'static str,
    pub error_bad_redirect_uri: &'static str,
    pub error_bad_logout_request: &'static str,
    pub error_login_expired: &'static str,
    pub error_not_found: &'static str,
    pub error_internal: &'static str,
    pub error_unavailable: &'static str,
    pub error_app_not_allowed: &'static str,
    pub apps_title: &'static str,
    pub search_label: &'static str,
    pub search_button: &'static str,
    pub no_apps: &'static str,
    pub no_match: &'static str,
}

pub static VI: Texts = Texts {
    language_name: "Tiếng Việt",
    system_name: "Hệ thống thông tin chính quyền số",
    login_title: "Đăng nhập",
    login_lead: "Đăng nhập một lần bằng tài khoản hộp thư công vụ để sử dụng mọi ứng dụng.",
    account_label: "Tài khoản",
    account_hint: "Hộp thư công vụ, ví dụ tamtt hoặc tamtt@binhphuoc.gov.vn",
    password_label: "Mật khẩu",
    login_button: "Đăng nhập",
    invalid_credentials: "Tài khoản hoặc mật khẩu không đúng.",
    form_expired: "Biểu mẫu đã hết hạn. Vui lòng nhập lại và thử lần nữa.",
    signing_in_to: "Đăng nhập để tiếp tục vào ứng dụng",
    signed_in_as: "Bạn đang đăng nhập với tài khoản",
    logout_title: "Đăng xuất",
    logout_question: "Bạn có muốn đăng xuất khỏi hệ thống và mọi ứng dụng không?",
    logout_button: "Đăng xuất",
    logged_out: "Bạn đã đăng xuất.",
    back_to_login: "Đăng nhập lại",
    error_title: "Không thể tiếp tục",
    request_id_label: "Mã yêu cầu",
    error_bad_request: "Yêu cầu không hợp lệ.",
    error_unknown_client: "Ứng dụng này chưa được đăng ký với hệ thống đăng nhập.",
    error_bad_redirect_uri: "Địa chỉ quay về của ứng dụng không khớp với địa chỉ đã đăng ký.",
    error_bad_logout_request: "Yêu cầu đăng xuất không hợp lệ hoặc địa chỉ quay về chưa được đăng ký.",
    error_login_expired: "Phiên đăng nhập đã hết hạn. Vui lòng quay lại ứng dụng và thử lại.",
    error_not_found: "Không tìm thấy trang.",
    error_internal: "Hệ thống gặp lỗi. Vui lòng thử lại sau ít phút.",
    error_unavailable: "Hệ thống tạm thời không phục vụ được. Vui lòng thử lại sau ít phút.",
    error_app_not_allowed: "Ứng dụng này không có hoặc bạn không được phép sử dụng.",
    apps_title: "Ứng dụng của bạn",
    search_label: "Tìm ứng dụng",
    search_button: "Tìm",
    no_apps: "Chưa có ứng dụng nào dành cho bạn. Vui lòng liên hệ quản trị hệ thống.",
    no_match: "Không có ứng dụng nào khớp với từ khóa tìm kiếm.",
};

pub static EN: Texts = Texts {
    language_name: "English",
    system_name: "Digital government information system",
    login_title: "Sign in",
    login_lead: "Sign in once with your official mailbox account to use every app.",
    account_label: "Account",
    account_hint: "Official mailbox, e.g. tamtt or tamtt@binhphuoc.gov.vn",
    password_label: "Password",
    login_button: "Sign in",
    invalid_credentials: "The account or password is incorrect.",
    form_expired: "The form has expired. Please enter your details and try again.",
    signing_in_to: "Sign in to continue to",
    signed_in_as: "You are signed in as",
    logout_title: "Sign out",
    logout_question: "Do you want to sign out of the system and every app?",
    logout_button: "Sign out",
    logged_out: "You have signed out.",
    back_to_login: "Sign in again",
    error_title: "Cannot continue",
    request_id_label: "Request id",
    error_bad_request: "The request is not valid.",
    error_unknown_client: "This app is not registered with the sign-in service.",
    error_bad_redirect_uri: "The app's return address does not match the registered one.",
    error_bad_logout_request: "The sign-out request is not valid or its return address is not registered.",
    error_login_expired: "The sign-in has expired. Please go back to the app and try again.",
    error_not_found: "Page not found.",
    error_internal: "Something went wrong. Please try again in a few minutes.",
    error_unavailable: "The service is temporarily unavailable. Please try again in a few minutes.",
    error_app_not_allowed: "This app does not exist or is not available to you.",
    apps_title: "Your apps",
    search_label: "Find an app",
    search_button: "Search",
    no_apps: "No apps are available to you yet. Please contact the administrator.",
    no_match: "No app matches your search.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_parse_with_regions() {
        assert_eq!(Lang::from_tag("en-US"), Some(Lang::En));
        assert_eq!(Lang::from_tag("vi"), Some(Lang::Vi));
        assert_eq!(Lang::from_tag("fr"), None);
        assert_eq!(Lang::Vi.other(), Lang::En);
    }

    #[test]
    fn vietnamese_keeps_its_diacritics() {
        assert_eq!(VI.login_title, "Đăng nhập");
        assert_eq!(VI.password_label, "Mật khẩu");
    }
}
