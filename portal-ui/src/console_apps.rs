//! The admin console's apps and clients pages (`/admin/apps…`,
//! `/admin/clients…`): one view struct per page, each with the console's
//! [`Layout`] first.

use askama::Template;

use crate::console::{EventRow, Layout, Opt};

/// One tile in the list.
pub struct AppRow {
    pub id: String,
    pub name: String,
    pub has_icon: bool,
    pub client: String,
    pub visibility: String,
    /// "12/40 …" when the app has legacy accounts, else empty.
    pub coverage: String,
}

/// One client in the list.
pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub auth: String,
    pub redirects: String,
}

/// `/admin/apps`: the tiles, the clients, and (for a super admin) the form
/// that adds a tile.
#[derive(Template)]
#[template(path = "console/apps.html")]
pub struct AppsPage {
    pub l: Layout,
    pub may_manage: bool,
    pub apps: Vec<AppRow>,
    pub clients: Vec<ClientRow>,
    /// The clients a new tile may start, for its `<select>`.
    pub client_opts: Vec<Opt>,
}

/// `/admin/apps/{id}`.
#[derive(Template)]
#[template(path = "console/apps_one.html")]
pub struct AppPage {
    pub l: Layout,
    pub may_manage: bool,
    pub id: String,
    pub name: String,
    pub description: String,
    pub url: String,
    pub has_icon: bool,
    pub client_opts: Vec<Opt>,
    pub client: String,
    /// One per line, as the form edits them.
    pub units: String,
    pub groups: String,
    pub visibility: String,
    pub coverage: String,
    pub claim: String,
    pub events: Vec<EventRow>,
}

/// What the registration form holds (again after a refusal).
#[derive(Default)]
pub struct ClientForm {
    pub client_id: String,
    pub name: String,
    pub redirect_uris: String,
    pub post_logout_uris: String,
    pub backchannel_uri: String,
    pub frontchannel_uri: String,
    pub initiate_login_uri: String,
    pub public: bool,
    pub auth_post: bool,
    pub grant_code: bool,
    pub grant_refresh: bool,
    pub grant_cc: bool,
    pub pkce_optional: bool,
    pub require_mfa: bool,
    pub es256: bool,
    pub insecure_http: bool,
    /// The address or value a refusal is about.
    pub detail: String,
}

/// `/admin/clients/new`: register an OIDC client.
#[derive(Template)]
#[template(path = "console/clients_new.html")]
pub struct ClientNewPage {
    pub l: Layout,
    pub f: ClientForm,
}

/// `/admin/clients/{id}`.
#[derive(Template)]
#[template(path = "console/clients_one.html")]
pub struct ClientPage {
    pub l: Layout,
    pub may_manage: bool,
    pub id: String,
    pub name: String,
    pub auth: String,
    pub grants: String,
    pub pkce_required: bool,
    pub require_mfa: bool,
    pub alg: String,
    pub redirect_uris: String,
    pub post_logout_uris: String,
    pub backchannel_uri: String,
    pub frontchannel_uri: String,
    pub initiate_login_uri: String,
    pub insecure_http: bool,
    pub uses_secret: bool,
    /// (id, name) of the tiles that start this client.
    pub apps: Vec<(String, String)>,
    pub detail: String,
    pub events: Vec<EventRow>,
}

/// The secret of a client just registered or rotated: shown on this one
/// response and never again.
#[derive(Template)]
#[template(path = "console/clients_secret.html")]
pub struct ClientSecretPage {
    pub l: Layout,
    pub id: String,
    pub secret: String,
}
