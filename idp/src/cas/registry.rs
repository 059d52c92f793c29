//! The CAS service registry: which service URLs may get tickets, what each
//! is told about the person, whether it may proxy and where its single
//! logout goes. A pattern is an absolute http(s) URL with a host: a service
//! matches it exactly, or (a prefix) on the same scheme, host and port with a
//! path at or below the pattern's, cut at a `/` — so `https://a.gov.vn/app`
//! matches `https://a.gov.vn/app/login` but never `https://a.gov.vn/apps`
//! nor `https://a.gov.vn.evil.example/`. There is no match-all. Plain http
//! is registered only on loopback or with `--insecure-http` (checked where
//! services are added, `admin::cas`, by the rule of OIDC redirect URIs).

use url::Url;

use crate::store::{CasService, Store, StoreError};

/// What a service may be told (at `p3/serviceValidate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attribute {
    /// The official e-mail address.
    Email,
    Name,
    Unit,
    Title,
    Phone,
    /// The person's account in the service's app (account linking).
    LegacyUsername,
}

impl Attribute {
    pub const ALL: [Attribute; 6] = [
        Attribute::Email,
        Attribute::Name,
        Attribute::Unit,
        Attribute::Title,
        Attribute::Phone,
        Attribute::LegacyUsername,
    ];

    /// Released when the service names none.
    pub const DEFAULT: [Attribute; 2] = [Attribute::Email, Attribute::Name];

    pub const fn as_str(self) -> &'static str {
        match self {
            Attribute::Email => "email",
            Attribute::Name => "name",
            Attribute::Unit => "unit",
            Attribute::Title => "title",
            Attribute::Phone => "phone",
            Attribute::LegacyUsername => "legacy_username",
        }
    }

    pub fn parse(s: &str) -> Option<Attribute> {
        Attribute::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Why a pattern is refused, said to the administrator.
pub fn check_pattern(pattern: &str, exact: bool) -> Result<(), String> {
    if pattern.len() > super::MAX_URL {
        return Err(format!(
            "the pattern is longer than {} characters",
            super::MAX_URL
        ));
    }
    if pattern.contains('*') || pattern.contains('^') || pattern.contains('\\') {
        return Err(format!(
            "{pattern}: patterns are URLs, not wildcards or regular expressions"
        ));
    }
    let u = Url::parse(pattern).map_err(|e| {
        format!("{pattern}: {e}; give an absolute URL such as https://vanban.binhphuoc.gov.vn/cas")
    })?;
    if !matches!(u.scheme(), "https" | "http") {
        return Err(format!("{pattern}: only http and https services"));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(format!("{pattern}: the URL needs a host"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(format!("{pattern}: no user name or password in the URL"));
    }
    if u.fragment().is_some() {
        return Err(format!("{pattern}: no fragment"));
    }
    if !exact && u.query().is_some() {
        return Err(format!(
            "{pattern}: a prefix cannot have a query; use --exact for a full URL"
        ));
    }
    Ok(())
}

/// A service URL as tickets are bound to it: parsed and serialised again
/// (lower-case scheme and host, default port dropped); `None` when it is not
/// an absolute http(s) URL with a host, or carries a user name or fragment.
pub fn normalize(service: &str) -> Option<String> {
    if service.len() > super::MAX_URL {
        return None;
    }
    let u = Url::parse(service).ok()?;
    let ok = matches!(u.scheme(), "https" | "http")
        && u.host_str().is_some_and(|h| !h.is_empty())
        && u.username().is_empty()
        && u.password().is_none()
        && u.fragment().is_none();
    ok.then(|| u.to_string())
}

/// `true` when `service` (normalised) is one of `s`'s URLs.
pub fn matches(s: &CasService, service: &str) -> bool {
    let (Ok(pattern), Ok(url)) = (Url::parse(&s.pattern), Url::parse(service)) else {
        return false;
    };
    if s.exact {
        return pattern.as_str() == url.as_str();
    }
    if pattern.scheme() != url.scheme()
        || pattern.host_str() != url.host_str()
        || pattern.port_or_known_default() != url.port_or_known_default()
    {
        return false;
    }
    let (p, path) = (pattern.path(), url.path());
    path == p
        || (p.ends_with('/') && path.starts_with(p))
        || path
            .strip_prefix(p)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The service `service` belongs to: an exact match first, else the
/// longest prefix; `None` when no registered service matches.
pub async fn find(store: &Store, service: &str) -> Result<Option<CasService>, StoreError> {
    Ok(best(store.cas_services().await?, service))
}

fn best(services: Vec<CasService>, service: &str) -> Option<CasService> {
    services
        .into_iter()
        .filter(|s| matches(s, service))
        .max_by_key(|s| (s.exact, s.pattern.len()))
}

/// The attributes `s` releases, known names only (a name stored by a newer
/// version is skipped).
pub fn attributes(s: &CasService) -> Vec<Attribute> {
    s.attributes
        .iter()
        .filter_map(|a| Attribute::parse(a))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(pattern: &str, exact: bool) -> CasService {
        CasService {
            id: "vanban".into(),
            name: "Văn bản".into(),
            pattern: pattern.into(),
            exact,
            attributes: vec!["email".into(), "name".into()],
            logout_url: None,
            allow_proxy: false,
            app_id: None,
            created_at: 1,
        }
    }

    #[test]
    fn a_prefix_matches_at_a_path_boundary_on_the_same_origin() {
        let s = service("https://vanban.gov.vn/app", false);
        assert!(matches(&s, "https://vanban.gov.vn/app"));
        assert!(matches(&s, "https://vanban.gov.vn/app/login?next=%2F"));
        assert!(matches(&s, "https://VANBAN.gov.vn:443/app/x"));
        assert!(!matches(&s, "https://vanban.gov.vn/apps"));
        assert!(!matches(&s, "https://vanban.gov.vn/ap"));
        assert!(!matches(&s, "http://vanban.gov.vn/app/x"));
        assert!(!matches(&s, "https://vanban.gov.vn:8443/app/x"));
        assert!(!matches(&s, "https://vanban.gov.vn.evil.example/app/x"));
        assert!(!matches(&s, "https://evil.example/app/x"));
        let root = service("https://vanban.gov.vn/", false);
        assert!(matches(&root, "https://vanban.gov.vn/anything"));
        assert!(!matches(&root, "https://vanban.gov.vn.evil.example/"));
        let slash = service("https://vanban.gov.vn/app/", false);
        assert!(matches(&slash, "https://vanban.gov.vn/app/x"));
        assert!(!matches(&slash, "https://vanban.gov.vn/app"));
    }

    #[test]
    fn an_exact_pattern_matches_itself_only() {
        let s = service("https://vanban.gov.vn/cas/callback?x=1", true);
        assert!(matches(&s, "https://vanban.gov.vn/cas/callback?x=1"));
        assert!(!matches(&s, "https://vanban.gov.vn/cas/callback?x=2"));
        assert!(!matches(&s, "https://vanban.gov.vn/cas/callback"));
        assert!(!matches(&s, "https://vanban.gov.vn/cas/callback/x?x=1"));
    }

    #[test]
    fn exact_wins_then_the_longest_prefix() {
        let list = vec![
            service("https://a.gov.vn/", false),
            CasService {
                id: "deep".into(),
                ..service("https://a.gov.vn/x/y", false)
            },
            CasService {
                id: "exact".into(),
                ..service("https://a.gov.vn/x/y/z", true)
            },
        ];
        let id = |u: &str| best(list.clone(), u).map(|s| s.id);
        assert_eq!(id("https://a.gov.vn/x/y/z").as_deref(), Some("exact"));
        assert_eq!(id("https://a.gov.vn/x/y/w").as_deref(), Some("deep"));
        assert_eq!(id("https://a.gov.vn/q").as_deref(), Some("vanban"));
        assert_eq!(id("https://b.gov.vn/q"), None);
    }

    #[test]
    fn patterns_that_match_all_or_are_not_urls_are_refused() {
        assert!(check_pattern("https://vanban.gov.vn/cas", false).is_ok());
        assert!(check_pattern("http://127.0.0.1:9000/", false).is_ok());
        assert!(check_pattern("https://vanban.gov.vn/cb?x=1", true).is_ok());
        for bad in [
            "*",
            "^https://.*",
            "https://*.gov.vn/",
            "/cas",
            "vanban.gov.vn",
            "ftp://vanban.gov.vn/",
            "https://u:p@vanban.gov.vn/",
            "https://vanban.gov.vn/#x",
            "file:///etc/passwd",
        ] {
            assert!(check_pattern(bad, false).is_err(), "{bad}");
        }
        assert!(check_pattern("https://vanban.gov.vn/cb?x=1", false).is_err());
    }

    #[test]
    fn service_urls_are_normalised_and_checked() {
        assert_eq!(
            normalize("HTTPS://Vanban.gov.vn:443/a?b=c").as_deref(),
            Some("https://vanban.gov.vn/a?b=c")
        );
        assert_eq!(normalize("https://vanban.gov.vn/a#x"), None);
        assert_eq!(normalize("javascript:alert(1)"), None);
        assert_eq!(normalize("/relative"), None);
    }

    #[test]
    fn attribute_names_round_trip() {
        for a in Attribute::ALL {
            assert_eq!(Attribute::parse(a.as_str()), Some(a));
        }
        assert_eq!(Attribute::parse("password"), None);
    }
}
