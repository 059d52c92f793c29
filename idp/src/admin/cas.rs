//! CAS services: registering, listing and removing the services that may
//! get CAS tickets (`idp cas service …`). The pattern rules (an absolute
//! http(s) URL with a host, no wildcard, no match-all) are `cas::registry`'s.

use super::{Actor, audit, check_redirect_uri, id_ok};
use crate::audit::Kind;
use crate::cas::Attribute;
use crate::cas::registry;
use crate::store::{CasService, Store, StoreError};

/// A service as an administrator registers it.
#[derive(Debug, Default)]
pub struct NewService {
    pub id: String,
    /// Shown on the sign-in form and the sign-out page; the id when empty.
    pub name: Option<String>,
    pub pattern: String,
    pub exact: bool,
    /// Attribute names; empty: `email` and `name`.
    pub attributes: Vec<String>,
    pub app: Option<String>,
    pub logout_url: Option<String>,
    pub allow_proxy: bool,
    /// May be the `targetService` of a proxy ticket.
    pub accept_proxy: bool,
    /// Sign-in for the service needs a second factor (`acr` 2).
    pub require_mfa: bool,
    /// Allow plain http patterns (and logout URL) outside loopback: an
    /// intranet app with no certificate yet, as for OIDC redirect URIs.
    pub insecure_http: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CasAdminError {
    #[error("ID must be 1-64 characters of A-Z a-z 0-9 . _ -")]
    BadId,
    #[error("{0}")]
    BadPattern(String),
    #[error("unknown attribute {0}; one of email, name, unit, title, phone, legacy_username")]
    BadAttribute(String),
    #[error("legacy_username needs --app APP (the app whose linked accounts are released)")]
    LegacyNeedsApp,
    #[error("no app {0}; add it first with `idp app add {0}`")]
    NoApp(String),
    #[error("--logout-url: {0}")]
    BadLogoutUrl(String),
    #[error(
        "CAS service {0} already has this pattern (compared after normalising case, port and escapes); \
         give a longer or shorter prefix, or change {0}"
    )]
    SamePattern(String),
    #[error("CAS service {0} already exists")]
    Exists(String),
    #[error("no CAS service {0}")]
    NotFound(String),
    #[error("the name is too long (at most 200 characters)")]
    NameTooLong,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for CasAdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(id) => CasAdminError::Exists(id),
            other => CasAdminError::Store(other),
        }
    }
}

/// Registers a service.
pub async fn add(
    store: &Store,
    n: NewService,
    actor: &Actor,
    now: i64,
) -> Result<CasService, CasAdminError> {
    if !id_ok(&n.id) {
        return Err(CasAdminError::BadId);
    }
    registry::check_pattern(&n.pattern, n.exact).map_err(CasAdminError::BadPattern)?;
    // Tickets travel in the service URL: https, or http on loopback, or
    // anywhere only when asked for — the rule of OIDC redirect URIs.
    check_redirect_uri(&n.pattern, n.insecure_http).map_err(CasAdminError::BadPattern)?;
    // Stored in normal form, so what is shown is what is compared.
    let pattern = registry::normalize(&n.pattern)
        .ok_or_else(|| CasAdminError::BadPattern(format!("{}: not a service URL", n.pattern)))?;
    if let Some(other) = registry::same_pattern(&store.cas_services().await?, &pattern, n.exact) {
        return Err(CasAdminError::SamePattern(other.id.clone()));
    }
    let attributes = Attribute::release_list(&n.attributes, n.app.is_some())
        .map_err(CasAdminError::BadAttribute)?
        .ok_or(CasAdminError::LegacyNeedsApp)?;
    if let Some(app) = &n.app
        && store.app(app).await?.is_none()
    {
        return Err(CasAdminError::NoApp(app.clone()));
    }
    if let Some(u) = &n.logout_url {
        check_redirect_uri(u, n.insecure_http).map_err(CasAdminError::BadLogoutUrl)?;
    }
    let name = n.name.clone().unwrap_or_else(|| n.id.clone());
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(CasAdminError::NameTooLong);
    }
    let s = CasService {
        id: n.id,
        name,
        pattern,
        exact: n.exact,
        attributes,
        logout_url: n.logout_url,
        allow_proxy: n.allow_proxy,
        accept_proxy: n.accept_proxy,
        require_mfa: n.require_mfa,
        app_id: n.app,
        created_at: now,
    };
    store.create_cas_service(&s).await?;
    audit(
        store,
        actor,
        Kind::AdminCasServiceAdded,
        &s.id,
        Some(format!(
            "pattern {}{}{}; attributes {}; proxy {}; proxied to {}; second factor {}; logout {}",
            s.pattern,
            if s.exact { " (exact)" } else { "" },
            if n.insecure_http {
                " (insecure http allowed)"
            } else {
                ""
            },
            s.attributes.join(","),
            s.allow_proxy,
            s.accept_proxy,
            s.require_mfa,
            s.logout_url.as_deref().unwrap_or("-")
        )),
        now,
    )
    .await?;
    Ok(s)
}

/// Removes a service; its tickets in flight are refused from now on.
pub async fn remove(store: &Store, id: &str, actor: &Actor, now: i64) -> Result<(), CasAdminError> {
    if !store.delete_cas_service(id).await? {
        return Err(CasAdminError::NotFound(id.to_owned()));
    }
    audit(store, actor, Kind::AdminCasServiceRemoved, id, None, now).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(id: &str, pattern: &str) -> NewService {
        NewService {
            id: id.into(),
            pattern: pattern.into(),
            ..NewService::default()
        }
    }

    #[tokio::test]
    async fn services_are_checked_then_stored_with_default_attributes() {
        let (s, _dir) = super::super::test_store().await;
        let a = add(
            &s,
            new("vanban", "https://vanban.gov.vn/cas"),
            &Actor::cli(),
            1,
        )
        .await
        .unwrap();
        assert_eq!(a.attributes, vec!["email", "name"]);
        assert_eq!(s.cas_service("vanban").await.unwrap(), Some(a));
        assert!(matches!(
            add(
                &s,
                new("vanban", "https://vanban.gov.vn/x"),
                &Actor::cli(),
                1
            )
            .await,
            Err(CasAdminError::Exists(_))
        ));
        assert!(matches!(
            add(&s, new("all", "*"), &Actor::cli(), 1).await,
            Err(CasAdminError::BadPattern(_))
        ));
        assert!(matches!(
            add(&s, new("bad id", "https://a.gov.vn/"), &Actor::cli(), 1).await,
            Err(CasAdminError::BadId)
        ));
        let mut n = new("hr", "https://hr.gov.vn/");
        n.attributes = vec!["password".into()];
        assert!(matches!(
            add(&s, n, &Actor::cli(), 1).await,
            Err(CasAdminError::BadAttribute(_))
        ));
        let mut n = new("hr", "https://hr.gov.vn/");
        n.attributes = vec!["legacy_username".into()];
        assert!(matches!(
            add(&s, n, &Actor::cli(), 1).await,
            Err(CasAdminError::LegacyNeedsApp)
        ));
        let mut n = new("hr", "https://hr.gov.vn/");
        n.logout_url = Some("http://hr.gov.vn/slo".into());
        assert!(matches!(
            add(&s, n, &Actor::cli(), 1).await,
            Err(CasAdminError::BadLogoutUrl(_))
        ));
        // Plain http outside loopback only with --insecure-http; loopback always.
        let e = add(
            &s,
            new("intra", "http://vanban.gov.vn/cas"),
            &Actor::cli(),
            1,
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("--insecure-http"), "{e}");
        let mut n = new("intra", "http://vanban.gov.vn/cas");
        n.insecure_http = true;
        n.logout_url = Some("http://vanban.gov.vn/cas/slo".into());
        add(&s, n, &Actor::cli(), 1).await.unwrap();
        for (id, loopback) in [
            ("lo4", "http://127.0.0.1:9000/app"),
            ("lo6", "http://[::1]:9000/app"),
            ("lo", "http://localhost:9000/app"),
        ] {
            add(&s, new(id, loopback), &Actor::cli(), 1)
                .await
                .unwrap_or_else(|e| panic!("{loopback}: {e}"));
        }
        // The same pattern as another service's, however it is spelt: refused;
        // a longer prefix, or an exact URL, is not the same.
        for same in [
            "https://vanban.gov.vn/cas",
            "HTTPS://Vanban.gov.vn:443/%63as",
        ] {
            let e = add(&s, new("dup", same), &Actor::cli(), 1)
                .await
                .unwrap_err();
            assert!(
                matches!(e, CasAdminError::SamePattern(ref id) if id == "vanban"),
                "{same}: {e}"
            );
        }
        add(
            &s,
            new("deeper", "https://vanban.gov.vn/cas/x"),
            &Actor::cli(),
            1,
        )
        .await
        .unwrap();
        let mut n = new("exact", "https://vanban.gov.vn/cas");
        n.exact = true;
        add(&s, n, &Actor::cli(), 1).await.unwrap();
        // Stored in normal form.
        let a = add(
            &s,
            new("norm", "HTTPS://Norm.gov.vn:443/%61pp"),
            &Actor::cli(),
            1,
        )
        .await
        .unwrap();
        assert_eq!(a.pattern, "https://norm.gov.vn/app");
        let e = add(
            &s,
            new("climb", "https://c.gov.vn/app/..;/x"),
            &Actor::cli(),
            1,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, CasAdminError::BadPattern(_)), "{e}");
        remove(&s, "vanban", &Actor::cli(), 2).await.unwrap();
        assert!(s.cas_service("vanban").await.unwrap().is_none());
        assert!(matches!(
            remove(&s, "vanban", &Actor::cli(), 2).await,
            Err(CasAdminError::NotFound(_))
        ));
    }
}
