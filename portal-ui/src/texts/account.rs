//! The account page: personal details, signature position and image, sessions, activity.

use super::{ImageLimits, size};

pub struct Account {
    pub title: &'static str,
    pub back_to_apps: &'static str,
    pub profile_heading: &'static str,
    pub name_label: &'static str,
    pub unit_label: &'static str,
    pub from_directory: &'static str,
    /// Under a local person's unit: who changes it.
    pub unit_by_admin: &'static str,
    pub official_email_label: &'static str,
    pub phone_label: &'static str,
    pub personal_email_label: &'static str,
    pub personal_email_hint: &'static str,
    pub position_heading: &'static str,
    pub page_label: &'static str,
    pub page_first: &'static str,
    pub page_last: &'static str,
    pub place_label: &'static str,
    pub place_top_left: &'static str,
    pub place_top_center: &'static str,
    pub place_top_right: &'static str,
    pub place_bottom_left: &'static str,
    pub place_bottom_center: &'static str,
    pub place_bottom_right: &'static str,
    pub saved: &'static str,
    pub invalid_phone: &'static str,
    pub invalid_name: &'static str,
    pub signature_heading: &'static str,
    pub signature_hint: fn(limits: &ImageLimits) -> String,
    pub signature_none: &'static str,
    pub signature_preview: &'static str,
    pub signature_file_label: &'static str,
    pub upload_button: &'static str,
    pub signature_saved: &'static str,
    pub signature_deleted: &'static str,
    pub delete_signature: &'static str,
    pub signature_not_image: &'static str,
    pub signature_too_many_bytes: fn(limits: &ImageLimits) -> String,
    pub signature_too_large: fn(limits: &ImageLimits) -> String,
    pub signature_too_small: fn(limits: &ImageLimits) -> String,
    pub signature_broken: &'static str,
    pub signature_missing: &'static str,
    pub sessions_heading: &'static str,
    pub this_session: &'static str,
    pub started_label: &'static str,
    pub last_active_label: &'static str,
    pub sign_out_others: &'static str,
    pub others_signed_out: &'static str,
    pub no_other_sessions: &'static str,
    pub activity_heading: &'static str,
    pub activity_login: &'static str,
    pub activity_failed: &'static str,
    pub activity_logout: &'static str,
    pub time_zone_note: &'static str,
    pub unknown_device: &'static str,
    pub device_label: &'static str,
}

pub const VI: Account = Account {
    title: "Tài khoản của tôi",
    back_to_apps: "Về trang ứng dụng",
    profile_heading: "Thông tin cá nhân",
    name_label: "Họ và tên",
    unit_label: "Đơn vị",
    from_directory: "Lấy từ danh bạ hộp thư công vụ; thay đổi tại đơn vị quản lý hộp thư.",
    unit_by_admin: "Đơn vị do quản trị viên cập nhật.",
    official_email_label: "Hộp thư công vụ",
    phone_label: "Số điện thoại",
    personal_email_label: "Thư điện tử cá nhân",
    personal_email_hint: "Dùng để khôi phục tài khoản, không dùng để đăng nhập.",
    position_heading: "Vị trí chữ ký mặc định trên văn bản",
    page_label: "Trang",
    page_first: "Trang đầu",
    page_last: "Trang cuối",
    place_label: "Vị trí trên trang",
    place_top_left: "Phía trên, bên trái",
    place_top_center: "Phía trên, ở giữa",
    place_top_right: "Phía trên, bên phải",
    place_bottom_left: "Phía dưới, bên trái",
    place_bottom_center: "Phía dưới, ở giữa",
    place_bottom_right: "Phía dưới, bên phải",
    saved: "Đã lưu thay đổi.",
    invalid_phone: "Số điện thoại không hợp lệ: chỉ gồm chữ số, có thể bắt đầu bằng +, từ 8 đến 15 số.",
    invalid_name: "Họ và tên không được để trống.",
    signature_heading: "Ảnh chữ ký",
    signature_hint: |l| {
        format!(
            "Ảnh PNG hoặc JPEG, tối đa {}, từ {} × {} đến {} × {} điểm ảnh; nên dùng nền trong suốt.",
            size(l.max_bytes),
            l.min_width,
            l.min_height,
            l.max_width,
            l.max_height
        )
    },
    signature_none: "Chưa có ảnh chữ ký.",
    signature_preview: "Ảnh chữ ký hiện tại",
    signature_file_label: "Chọn ảnh chữ ký",
    upload_button: "Tải lên",
    signature_saved: "Đã lưu ảnh chữ ký.",
    signature_deleted: "Đã xóa ảnh chữ ký.",
    delete_signature: "Xóa ảnh chữ ký",
    signature_not_image: "Tệp đã chọn không phải ảnh PNG hoặc JPEG.",
    signature_too_many_bytes: |l| {
        format!(
            "Ảnh lớn hơn {}. Vui lòng chọn ảnh nhỏ hơn.",
            size(l.max_bytes)
        )
    },
    signature_too_large: |l| {
        format!(
            "Ảnh lớn hơn {} × {} điểm ảnh. Vui lòng thu nhỏ ảnh.",
            l.max_width, l.max_height
        )
    },
    signature_too_small: |l| {
        format!(
            "Ảnh nhỏ hơn {} × {} điểm ảnh, chữ ký sẽ không rõ.",
            l.min_width, l.min_height
        )
    },
    signature_broken: "Ảnh bị hỏng hoặc chưa tải lên hết. Vui lòng thử lại.",
    signature_missing: "Vui lòng chọn một tệp ảnh.",
    sessions_heading: "Các phiên đăng nhập đang hoạt động",
    this_session: "Phiên này",
    started_label: "Bắt đầu",
    last_active_label: "Hoạt động gần nhất",
    sign_out_others: "Đăng xuất khỏi các phiên khác",
    others_signed_out: "Đã đăng xuất khỏi các phiên khác.",
    no_other_sessions: "Không có phiên nào khác.",
    activity_heading: "Hoạt động đăng nhập gần đây",
    activity_login: "Đăng nhập thành công",
    activity_failed: "Đăng nhập không thành công (sai mật khẩu)",
    activity_logout: "Đăng xuất",
    time_zone_note: "Giờ Việt Nam (UTC+7)",
    unknown_device: "Thiết bị không rõ",
    device_label: "Thiết bị",
};

pub const EN: Account = Account {
    title: "My account",
    back_to_apps: "Back to my apps",
    profile_heading: "Personal details",
    name_label: "Full name",
    unit_label: "Unit",
    from_directory: "From the official mail directory; changed by the mailbox administrator.",
    unit_by_admin: "Your unit is changed by an administrator.",
    official_email_label: "Official e-mail",
    phone_label: "Phone",
    personal_email_label: "Personal e-mail",
    personal_email_hint: "Used to recover your account, never to sign in.",
    position_heading: "Default signature position on documents",
    page_label: "Page",
    page_first: "First page",
    page_last: "Last page",
    place_label: "Place on the page",
    place_top_left: "Top left",
    place_top_center: "Top centre",
    place_top_right: "Top right",
    place_bottom_left: "Bottom left",
    place_bottom_center: "Bottom centre",
    place_bottom_right: "Bottom right",
    saved: "Your changes are saved.",
    invalid_phone: "The phone number is not valid: 8 to 15 digits, optionally starting with +.",
    invalid_name: "The full name must not be empty.",
    signature_heading: "Signature image",
    signature_hint: |l| {
        format!(
            "A PNG or JPEG image, at most {}, from {} × {} to {} × {} pixels; a transparent background is best.",
            size(l.max_bytes),
            l.min_width,
            l.min_height,
            l.max_width,
            l.max_height
        )
    },
    signature_none: "No signature image yet.",
    signature_preview: "Current signature image",
    signature_file_label: "Choose a signature image",
    upload_button: "Upload",
    signature_saved: "The signature image is saved.",
    signature_deleted: "The signature image is deleted.",
    delete_signature: "Delete the signature image",
    signature_not_image: "The file is not a PNG or JPEG image.",
    signature_too_many_bytes: |l| {
        format!(
            "The image is larger than {}. Please choose a smaller one.",
            size(l.max_bytes)
        )
    },
    signature_too_large: |l| {
        format!(
            "The image is larger than {} × {} pixels. Please scale it down.",
            l.max_width, l.max_height
        )
    },
    signature_too_small: |l| {
        format!(
            "The image is smaller than {} × {} pixels; the signature would not be legible.",
            l.min_width, l.min_height
        )
    },
    signature_broken: "The image is damaged or was not uploaded completely. Please try again.",
    signature_missing: "Please choose an image file.",
    sessions_heading: "Active sessions",
    this_session: "This session",
    started_label: "Started",
    last_active_label: "Last active",
    sign_out_others: "Sign out of my other sessions",
    others_signed_out: "Your other sessions are signed out.",
    no_other_sessions: "There are no other sessions.",
    activity_heading: "Recent sign-in activity",
    activity_login: "Signed in",
    activity_failed: "Failed sign-in (wrong password)",
    activity_logout: "Signed out",
    time_zone_note: "Vietnam time (UTC+7)",
    unknown_device: "Unknown device",
    device_label: "Device",
};
