//! `/admin`: the overview (people, units, open sessions, one's roles).

use axum::response::Response;
use portal_ui::console::HomePage;

use super::{Console, role_label};

pub async fn home_get(c: Console) -> Response {
    let store = &c.idp().store;
    let counts = async {
        let (people, active) = store.count_people().await?;
        let units = store.unit_names().await?.len();
        let sessions = store.count_open_sessions().await?;
        Ok::<_, crate::store::StoreError>((people, active, units, sessions))
    };
    let (people, active, units, sessions) = match counts.await {
        Ok(c) => c,
        Err(e) => return c.internal(&e),
    };
    let t = c.ctx.lang.texts();
    c.page("/admin", None, None, |l| HomePage {
        l,
        people,
        active,
        units: i64::try_from(units).unwrap_or(i64::MAX),
        sessions,
        roles: c.powers.roles.iter().map(|r| role_label(t, *r)).collect(),
    })
}
