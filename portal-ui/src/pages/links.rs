//! The page a person sees when an app needs their linked legacy account and
//! they have none (`/links/missing/{app}`).

use askama::Template;

use super::Chrome;

#[derive(Template)]
#[template(path = "link_missing.html")]
pub struct LinkMissingPage {
    pub chrome: Chrome,
    pub csrf: String,
    pub app_id: String,
    pub app_name: String,
    /// `missing` (the button), `requested` (just asked), `pending` (asked
    /// before) or `linked` (linked meanwhile).
    pub stage: &'static str,
    pub error: Option<String>,
}

impl LinkMissingPage {
    pub fn lead(&self) -> String {
        (self.chrome.t.links.missing_lead)(&self.app_name)
    }

    pub fn linked(&self) -> String {
        (self.chrome.t.links.already_linked)(&self.app_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lang;

    #[test]
    fn the_page_offers_the_request_with_its_token_until_one_is_made() {
        let page = |stage| LinkMissingPage {
            chrome: Chrome::new(Lang::Vi, "/links/missing/onewin"),
            csrf: "tok".into(),
            app_id: "onewin".into(),
            app_name: "Một cửa <điện tử>".into(),
            stage,
            error: None,
        };
        let html = page("missing").render().unwrap();
        assert!(
            html.contains(
                "Tài khoản của bạn chưa được liên kết với ứng dụng Một cửa &#60;điện tử&#62;"
            ),
            "{html}"
        );
        assert!(html.contains("action=\"/links/missing/onewin\""));
        assert!(html.contains("value=\"tok\""));
        assert!(html.contains("Yêu cầu liên kết"));
        let html = page("pending").render().unwrap();
        assert!(
            !html.contains("<form method=\"post\" action=\"/links"),
            "{html}"
        );
        assert!(html.contains("đang chờ quản trị viên"));
    }
}
