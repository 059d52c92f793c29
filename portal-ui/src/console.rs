//! The admin console's pages: one view struct per page, each with the
//! [`Layout`] its `console/base.html` needs (navigation, the signed-in
//! person, the CSRF token for its forms, a notice or an error).

use askama::Template;

use crate::pages::Chrome;

/// One entry of the console's navigation.
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// What every console page shows around its content.
pub struct Layout {
    pub chrome: Chrome,
    /// The token every form of the page carries.
    pub csrf: String,
    /// Only the sections the person may use.
    pub nav: Vec<NavLink>,
    /// The signed-in person's name and e-mail.
    pub me: String,
    pub notice: Option<&'static str>,
    pub error: Option<&'static str>,
}

/// A choice of a `<select>`.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// Where the previous and next pages of a list are.
#[derive(Default)]
pub struct Pager {
    pub summary: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// `/admin`: counts at a glance.
#[derive(Template)]
#[template(path = "console/home.html")]
pub struct HomePage {
    pub l: Layout,
    pub people: i64,
    pub active: i64,
    pub units: i64,
    pub sessions: i64,
    pub roles: Vec<&'static str>,
}

pub struct PersonRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub unit: String,
    pub disabled: bool,
}

/// `/admin/people`: search and a page of people.
#[derive(Template)]
#[template(path = "console/people.html")]
pub struct PeoplePage {
    pub l: Layout,
    pub q: String,
    pub units: Vec<Opt>,
    pub states: Vec<Opt>,
    /// A unit administrator's unit, said above the list.
    pub scope: Option<String>,
    pub found: String,
    pub rows: Vec<PersonRow>,
    pub pager: Pager,
}

pub struct EventRow {
    pub at: String,
    pub kind: String,
    pub actor: String,
    pub subject: String,
    pub ip: String,
    pub detail: String,
}

/// A role the viewer may grant or revoke on a person's page.
pub struct RoleAction {
    pub value: &'static str,
    pub label: &'static str,
    pub held: bool,
}

/// `/admin/people/{id}`.
#[derive(Template)]
#[template(path = "console/person.html")]
pub struct PersonPage {
    pub l: Layout,
    pub id: String,
    pub name: String,
    pub email: String,
    pub unit: String,
    pub title: String,
    pub source: &'static str,
    pub disabled: bool,
    pub roles: Vec<&'static str>,
    pub factors: Vec<&'static str>,
    pub recovery: String,
    pub lock: String,
    pub may_change: bool,
    pub role_actions: Vec<RoleAction>,
    pub events: Vec<EventRow>,
}

pub struct UnitRow {
    pub unit: String,
    pub href: String,
    pub people: i64,
    pub disabled: i64,
}

/// `/admin/units`.
#[derive(Template)]
#[template(path = "console/units.html")]
pub struct UnitsPage {
    pub l: Layout,
    pub scope: Option<String>,
    pub rows: Vec<UnitRow>,
}

/// `/admin/audit`.
#[derive(Template)]
#[template(path = "console/audit.html")]
pub struct AuditPage {
    pub l: Layout,
    pub kinds: Vec<Opt>,
    pub actor: String,
    pub subject: String,
    pub from: String,
    pub to: String,
    pub scope: Option<String>,
    pub rows: Vec<EventRow>,
    pub older: Option<String>,
    pub csv_href: String,
}
