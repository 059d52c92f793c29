//! Linking a legacy app account: the page a person sees when an app needs
//! their linked account and they have none, and the mails that tell them an
//! administrator's decision.

pub struct Links {
    pub missing_title: &'static str,
    /// `app` is the app's name.
    pub missing_lead: fn(app: &str) -> String,
    pub missing_what_to_do: &'static str,
    pub request_button: &'static str,
    pub note_label: &'static str,
    pub requested: &'static str,
    pub already_pending: &'static str,
    pub already_linked: fn(app: &str) -> String,
    pub back_to_portal: &'static str,
    pub accepted_subject: &'static str,
    pub accepted: fn(app: &str, username: &str) -> String,
    pub rejected_subject: &'static str,
    pub rejected: fn(app: &str, reason: &str) -> String,
}

pub const VI: Links = Links {
    missing_title: "Liên kết tài khoản",
    missing_lead: |app| {
        format!(
            "Tài khoản của bạn chưa được liên kết với ứng dụng {app}, nên ứng dụng chưa thể nhận biết bạn."
        )
    },
    missing_what_to_do: "Hãy bấm “Yêu cầu liên kết”. Quản trị viên sẽ xem xét và liên kết tài khoản của bạn trong ứng dụng; bạn sẽ nhận được thông báo qua hộp thư công vụ. Sau đó, hãy mở lại ứng dụng.",
    request_button: "Yêu cầu liên kết",
    note_label: "Ghi chú cho quản trị viên (không bắt buộc), ví dụ tên đăng nhập cũ của bạn",
    requested: "Đã gửi yêu cầu liên kết. Quản trị viên sẽ quyết định và bạn sẽ được thông báo qua e-mail.",
    already_pending: "Bạn đã gửi yêu cầu liên kết cho ứng dụng này; yêu cầu đang chờ quản trị viên xử lý. Bạn sẽ được thông báo qua e-mail.",
    already_linked: |app| {
        format!("Tài khoản của bạn đã được liên kết với ứng dụng {app}. Hãy mở lại ứng dụng.")
    },
    back_to_portal: "Về trang ứng dụng",
    accepted_subject: "Tài khoản đã được liên kết",
    accepted: |app, username| {
        format!(
            "Quản trị viên đã liên kết tài khoản {username} của ứng dụng {app} với tài khoản đăng nhập một lần của bạn. Từ nay bạn mở ứng dụng {app} từ cổng đăng nhập mà không cần đăng nhập lại."
        )
    },
    rejected_subject: "Yêu cầu liên kết tài khoản chưa được chấp nhận",
    rejected: |app, reason| {
        format!(
            "Quản trị viên chưa chấp nhận yêu cầu liên kết tài khoản của bạn với ứng dụng {app}.\n\nLý do: {reason}\n\nNếu cần, hãy liên hệ bộ phận quản trị."
        )
    },
};

pub const EN: Links = Links {
    missing_title: "Link your account",
    missing_lead: |app| {
        format!("Your account is not linked to the app {app} yet, so the app cannot recognise you.")
    },
    missing_what_to_do: "Press “Request linking”. An administrator will review it and link your account in the app; you will be told by e-mail at your official address. Then open the app again.",
    request_button: "Request linking",
    note_label: "A note for the administrator (optional), e.g. your old user name",
    requested: "Your request has been sent. An administrator will decide and you will be told by e-mail.",
    already_pending: "You have already asked to be linked to this app; the request is waiting for an administrator. You will be told by e-mail.",
    already_linked: |app| {
        format!("Your account is already linked to the app {app}. Open the app again.")
    },
    back_to_portal: "Back to the apps",
    accepted_subject: "Your account has been linked",
    accepted: |app, username| {
        format!(
            "An administrator linked the account {username} of the app {app} to your single sign-on account. From now on you open {app} from the portal without signing in again."
        )
    },
    rejected_subject: "Your request to link an account was not accepted",
    rejected: |app, reason| {
        format!(
            "An administrator did not accept your request to link your account to the app {app}.\n\nReason: {reason}\n\nIf needed, contact the administrators."
        )
    },
};
