//! The console's account-linking pages (`/admin/links…`): one view struct
//! per page, the values already in the page's words.

use askama::Template;

use crate::console::{Layout, Opt};

/// One app's line of the coverage table.
pub struct CoverageRow {
    pub app_id: String,
    pub app_name: String,
    pub accounts: i64,
    pub active: i64,
    pub linked: i64,
    pub pending: i64,
    pub conflicts: i64,
    pub unlinked_active: i64,
    /// Linked share of the active accounts, 0–100.
    pub percent: i64,
    /// The same in words (`42%`).
    pub percent_label: String,
}

/// `/admin/links`: coverage per app.
#[derive(Template)]
#[template(path = "console/links.html")]
pub struct CoveragePage {
    pub l: Layout,
    pub tab: &'static str,
    pub rows: Vec<CoverageRow>,
}

/// A suggestion as the queue shows it.
pub struct QueueItem {
    pub app_id: String,
    pub username: String,
    pub user_id: String,
    pub account_name: String,
    pub account_email: String,
    pub account_phone: String,
    pub account_unit: String,
    pub person_name: String,
    pub person_email: String,
    pub person_phone: String,
    pub person_unit: String,
    pub reason: &'static str,
    pub confidence: String,
    pub ambiguous: bool,
    pub exact: bool,
}

/// `/admin/links/queue`.
#[derive(Template)]
#[template(path = "console/links_queue.html")]
pub struct QueuePage {
    pub l: Layout,
    pub tab: &'static str,
    pub apps: Vec<Opt>,
    pub reasons: Vec<Opt>,
    pub exact_only: bool,
    pub may_change: bool,
    pub rows: Vec<QueueItem>,
    /// This page's address, where a decision comes back to.
    pub here: String,
    pub first: Option<String>,
    pub next: Option<String>,
    /// The app filtered on: the bulk accept's target.
    pub app: String,
    /// What a bulk accept did.
    pub outcome: Option<String>,
}

/// `/admin/links/queue/accept-exact?app=…`: the confirmation step.
#[derive(Template)]
#[template(path = "console/links_confirm.html")]
pub struct ConfirmPage {
    pub l: Layout,
    pub tab: &'static str,
    pub app: String,
    pub lead: String,
}

/// One way to settle a conflict: accept this pair (the others' suggestions stay).
pub struct Choice {
    pub username: String,
    pub user_id: String,
    pub label: String,
}

pub struct ConflictItem {
    pub text: String,
    pub choices: Vec<Choice>,
    /// The account to unlink instead (a person already linked).
    pub unlink: Option<String>,
}

/// `/admin/links/conflicts`.
#[derive(Template)]
#[template(path = "console/links_conflicts.html")]
pub struct ConflictsPage {
    pub l: Layout,
    pub tab: &'static str,
    pub apps: Vec<Opt>,
    pub app: String,
    pub here: String,
    pub may_change: bool,
    pub items: Vec<ConflictItem>,
}

pub struct PersonHit {
    pub name: String,
    pub email: String,
    pub unit: String,
}

pub struct AccountHit {
    pub username: String,
    pub name: String,
    pub email: String,
    pub active: bool,
}

/// `/admin/links/manual`: search, link, unlink, CSV.
#[derive(Template)]
#[template(path = "console/links_manual.html")]
pub struct ManualPage {
    pub l: Layout,
    pub tab: &'static str,
    pub apps: Vec<Opt>,
    pub app: String,
    pub q: String,
    pub searched: bool,
    pub may_change: bool,
    pub people: Vec<PersonHit>,
    pub accounts: Vec<AccountHit>,
    pub import_hint: String,
    pub outcome: Option<String>,
}

pub struct RequestRow {
    pub id: i64,
    pub person: String,
    pub app: String,
    pub note: String,
    pub at: String,
}

/// `/admin/links/requests`.
#[derive(Template)]
#[template(path = "console/links_requests.html")]
pub struct RequestsPage {
    pub l: Layout,
    pub tab: &'static str,
    pub rows: Vec<RequestRow>,
}

/// `/admin/links/requests/{id}`: link an account chosen or refuse.
#[derive(Template)]
#[template(path = "console/links_decide.html")]
pub struct DecidePage {
    pub l: Layout,
    pub tab: &'static str,
    pub id: i64,
    pub person: String,
    pub app: String,
    pub note: String,
    pub q: String,
    pub accounts: Vec<Opt>,
    pub may_change: bool,
}

/// A change refused, in words, with the way back.
#[derive(Template)]
#[template(path = "console/links_refused.html")]
pub struct RefusedPage {
    pub l: Layout,
    pub tab: &'static str,
    pub why: String,
    pub back: String,
}
