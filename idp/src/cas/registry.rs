//! The CAS service registry: which service URLs may get tickets, what each
//! is told about the person, whether it may proxy or be proxied to, whether
//! it needs a second factor and where its single logout goes.
//!
//! A pattern is an absolute http(s) URL with a host: a service matches it
//! exactly, or (a prefix) on the same scheme, host and port with a path at
//! or below the pattern's, cut at a `/` — so `https://a.gov.vn/app` matches
//! `https://a.gov.vn/app/login` but never `https://a.gov.vn/apps` nor
//! `https://a.gov.vn.evil.example/`. There is no match-all. Plain http is
//! registered only on loopback or with `--insecure-http` (checked where
//! services are added, `admin::cas`, by the rule of OIDC redirect URIs).
//!
//! Patterns and service URLs are compared in one normal form (RFC 3986
//! §6.2.2): scheme and host lower-case, the default port dropped,
//! percent-encoded unreserved characters decoded and the other escapes in
//! upper case. Before that, a URL whose path could mean another path to the
//! app's server is refused outright: dot segments (`..`, `.`, `..;`),
//! encoded dots, slashes, backslashes or percent signs (`%2e`, `%2f`, `%5c`,
//! `%25`), `;` path parameters, backslashes, whitespace and control
//! characters — a URL parser would resolve some of them away (`/app/../admin`
//! is `/admin` to us) and a servlet container others (`/app/..;/admin`,
//! `/app%2F..%2Fadmin` are `/admin` to Tomcat), so no prefix can be escaped.
//!
//! The service a URL belongs to: an exact pattern first, else the prefix
//! with the longest path (all matching prefixes share the origin, so the
//! longest is the most specific). Two services with the same normal pattern
//! are refused at registration (`admin::cas`); rows stored before that rule
//! are broken by the smaller id.

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

    /// This attribute's value for `user` (`None` or empty: not released);
    /// `app_id` is the app whose linked account `legacy_username` gives, by
    /// the rule of the OIDC claim (only while the app's last export lists
    /// the account as active). CAS and SAML release the same values.
    pub async fn value(
        self,
        store: &crate::store::Store,
        user: &crate::store::User,
        app_id: Option<&str>,
    ) -> Result<Option<String>, crate::store::StoreError> {
        let v = match self {
            Attribute::Email => Some(user.email.to_string()),
            Attribute::Name => Some(user.name.clone()),
            Attribute::Unit => user.unit.clone(),
            Attribute::Title => user.title.clone(),
            Attribute::Phone => user.phone.clone(),
            Attribute::LegacyUsername => match app_id {
                Some(app) => crate::admin::links::releasable_link(store, app, &user.id)
                    .await?
                    .map(|l| l.username),
                None => None,
            },
        };
        Ok(v.filter(|v| !v.is_empty()))
    }

    /// What an administrator named (`--attribute`), checked and without
    /// repeats; [`Attribute::DEFAULT`] when nothing was named. `Err` is the
    /// first unknown name. `legacy_username` needs the app (`has_app`):
    /// `Ok(None)` when it is named without one.
    pub fn release_list(names: &[String], has_app: bool) -> Result<Option<Vec<String>>, String> {
        let mut out: Vec<String> = Vec::new();
        for n in names {
            let a = Attribute::parse(n).ok_or_else(|| n.clone())?;
            if !out.iter().any(|x| x == a.as_str()) {
                out.push(a.as_str().to_owned());
            }
        }
        if out.is_empty() {
            out = Attribute::DEFAULT
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect();
        }
        if !has_app && out.iter().any(|a| a == Attribute::LegacyUsername.as_str()) {
            return Ok(None);
        }
        Ok(Some(out))
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
    if pattern.contains('*') || pattern.contains('^') {
        return Err(format!(
            "{pattern}: patterns are URLs, not wildcards or regular expressions"
        ));
    }
    if let Err(why) = clean(pattern) {
        return Err(format!("{pattern}: {why}"));
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

/// Why a URL's path (and authority) cannot be compared safely; `Ok` when it
/// can. Checked on the text as given, before a parser resolves anything.
fn clean(raw: &str) -> Result<(), &'static str> {
    if raw
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return Err("no spaces, control characters or backslashes");
    }
    let Some((_, rest)) = raw.split_once("://") else {
        return Err("give an absolute URL with //");
    };
    let before_query = rest.split(['?', '#']).next().unwrap_or_default();
    let lower = before_query.to_ascii_lowercase();
    if lower.contains(';') {
        return Err("no ; path parameters");
    }
    if ["%2e", "%2f", "%5c", "%25"]
        .iter()
        .any(|e| lower.contains(e))
    {
        return Err("no encoded dots, slashes, backslashes or percent signs in the path");
    }
    // The authority is the first segment; the rest is the path.
    if lower
        .split('/')
        .skip(1)
        .any(|seg| seg == "." || seg == "..")
    {
        return Err("no . or .. segments in the path");
    }
    Ok(())
}

/// `s` with its percent-escapes normalised (RFC 3986 §6.2.2.1–2): an
/// escaped unreserved character decoded, every other escape upper-case.
fn normal_escapes(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            let hex = |c: u8| char::from(c).to_digit(16).unwrap_or(0);
            let v = u8::try_from(hex(b[i + 1]) * 16 + hex(b[i + 2])).unwrap_or(0);
            if v.is_ascii_alphanumeric() || matches!(v, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(v));
            } else {
                out.push('%');
                out.push(char::from(b[i + 1].to_ascii_uppercase()));
                out.push(char::from(b[i + 2].to_ascii_uppercase()));
            }
            i += 3;
        } else {
            // Never splits a character: '%' is ASCII and the rest is copied whole.
            let ch_len = s[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&s[i..i + ch_len]);
            i += ch_len;
        }
    }
    out
}

/// A service URL as tickets are bound to it: in the normal form of the
/// module comment; `None` when it is not an absolute http(s) URL with a
/// host, carries a user name or fragment, or has a path refused by the
/// module comment's rule.
pub fn normalize(service: &str) -> Option<String> {
    if service.len() > super::MAX_URL || clean(service).is_err() {
        return None;
    }
    let mut u = Url::parse(service).ok()?;
    let ok = matches!(u.scheme(), "https" | "http")
        && u.host_str().is_some_and(|h| !h.is_empty())
        && u.username().is_empty()
        && u.password().is_none()
        && u.fragment().is_none();
    if !ok {
        return None;
    }
    let path = normal_escapes(u.path());
    u.set_path(&path);
    if let Some(q) = u.query().map(normal_escapes) {
        u.set_query(Some(&q));
    }
    // Decoding may have made a dot segment (`%2E` is refused above, so it
    // cannot; checked again on the result all the same).
    clean(u.as_str()).ok()?;
    Some(u.to_string())
}

/// How well `service` (normalised) matches `s`: `None` when it does not,
/// else (exact, length of the pattern's path) — greater is more specific.
fn rank(s: &CasService, service: &str) -> Option<(bool, usize)> {
    let pattern = Url::parse(&normalize(&s.pattern)?).ok()?;
    let url = Url::parse(service).ok()?;
    if s.exact {
        return (pattern.as_str() == url.as_str()).then_some((true, pattern.path().len()));
    }
    if pattern.scheme() != url.scheme()
        || pattern.host_str() != url.host_str()
        || pattern.port_or_known_default() != url.port_or_known_default()
    {
        return None;
    }
    let (p, path) = (pattern.path(), url.path());
    let below = path == p
        || (p.ends_with('/') && path.starts_with(p))
        || path
            .strip_prefix(p)
            .is_some_and(|rest| rest.starts_with('/'));
    below.then_some((false, p.len()))
}

/// `true` when `service` (normalised) is one of `s`'s URLs.
pub fn matches(s: &CasService, service: &str) -> bool {
    rank(s, service).is_some()
}

/// The service `service` belongs to (see the module comment); `None` when
/// no registered service matches.
pub async fn find(store: &Store, service: &str) -> Result<Option<CasService>, StoreError> {
    Ok(best(store.cas_services().await?, service))
}

fn best(services: Vec<CasService>, service: &str) -> Option<CasService> {
    services
        .into_iter()
        .filter_map(|s| rank(&s, service).map(|r| (r, s)))
        // The better rank; between equals (stored before they were refused) the smaller id.
        .max_by(|(ra, a), (rb, b)| ra.cmp(rb).then_with(|| b.id.cmp(&a.id)))
        .map(|(_, s)| s)
}

/// The registered service whose pattern is the same as `pattern` (in normal
/// form, and both exact or both prefixes): registering `pattern` beside it
/// would make the choice between them arbitrary.
pub fn same_pattern<'a>(
    services: &'a [CasService],
    pattern: &str,
    exact: bool,
) -> Option<&'a CasService> {
    let normal = normalize(pattern)?;
    services
        .iter()
        .find(|s| s.exact == exact && normalize(&s.pattern).as_deref() == Some(normal.as_str()))
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
            accept_proxy: false,
            require_mfa: false,
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

    /// A prefix cannot be left by a path some parser or servlet container
    /// resolves above it: such URLs are refused before any matching.
    #[test]
    fn paths_that_could_climb_out_of_a_prefix_are_refused() {
        let s = service("https://a.gov.vn/app", false);
        for bad in [
            "https://a.gov.vn/app/../admin",
            "https://a.gov.vn/app/./x",
            "https://a.gov.vn/app/..;/admin",
            "https://a.gov.vn/app/;jsessionid=1",
            "https://a.gov.vn/app;x=1/y",
            "https://a.gov.vn/app%2F..%2Fadmin",
            "https://a.gov.vn/app%2f..%2fadmin",
            "https://a.gov.vn/app/%2e%2e/admin",
            "https://a.gov.vn/app/.%2E/admin",
            "https://a.gov.vn/app/%252e%252e/admin",
            "https://a.gov.vn/app/%5c..%5cadmin",
            "https://a.gov.vn/app\\..\\admin",
            "https://a.gov.vn\\app/x",
            "https://a.gov.vn/app/.\t./admin",
            "https://a.gov.vn/app/x y",
            "https:/a.gov.vn/app/x",
        ] {
            assert_eq!(normalize(bad), None, "{bad}");
            assert!(check_pattern(bad, false).is_err(), "{bad}");
        }
        // Nothing that normalises could match through them either.
        assert!(!matches(&s, "https://a.gov.vn/admin"));
        // Encoded slashes stay allowed in the query, where they mean data.
        assert!(normalize("https://a.gov.vn/app/x?next=%2F..%2Fadmin").is_some());
        assert!(normalize("https://a.gov.vn/app/x?next=a;b").is_some());
    }

    #[test]
    fn escapes_and_case_are_normalised_on_both_sides() {
        assert_eq!(
            normalize("HTTPS://A.gov.VN:443/%61pp/%7euser/%c3%a2?q=%41%2f").as_deref(),
            Some("https://a.gov.vn/app/~user/%C3%A2?q=A%2F")
        );
        assert_eq!(
            normalize("http://a.gov.vn:80/x").as_deref(),
            Some("http://a.gov.vn/x")
        );
        let s = service("https://A.gov.vn:443/%61pp", false);
        assert!(matches(&s, &normalize("https://a.gov.vn/app/x").unwrap()));
        assert!(matches(
            &s,
            &normalize("https://a.gov.vn/%61%70p/x").unwrap()
        ));
        assert!(!matches(&s, &normalize("https://a.gov.vn/apps").unwrap()));
        let exact = service("https://a.gov.vn/cb?x=%7e", true);
        assert!(matches(
            &exact,
            &normalize("https://a.gov.vn/cb?x=~").unwrap()
        ));
    }

    #[test]
    fn the_same_pattern_twice_is_found_and_ties_break_by_id() {
        let list = vec![
            CasService {
                id: "b".into(),
                ..service("https://a.gov.vn/x", false)
            },
            CasService {
                id: "a".into(),
                ..service("HTTPS://A.GOV.VN:443/%78", false)
            },
        ];
        assert_eq!(
            same_pattern(&list, "https://a.gov.vn/%78", false).map(|s| s.id.as_str()),
            Some("b")
        );
        assert!(same_pattern(&list, "https://a.gov.vn/x", true).is_none());
        assert!(same_pattern(&list, "https://a.gov.vn/x/", false).is_none());
        // Whatever the order stored, the same one wins.
        let id = |l: Vec<CasService>| best(l, "https://a.gov.vn/x/y").map(|s| s.id);
        let mut rev = list.clone();
        rev.reverse();
        assert_eq!(id(list).as_deref(), Some("a"));
        assert_eq!(id(rev).as_deref(), Some("a"));
        // The longest path wins by its normal form, not by the text stored.
        let l = vec![
            CasService {
                id: "long-text".into(),
                ..service("https://a.gov.vn:443/%61%62", false)
            },
            CasService {
                id: "deeper".into(),
                ..service("https://a.gov.vn/ab/c", false)
            },
        ];
        assert_eq!(
            best(l, "https://a.gov.vn/ab/c/d").map(|s| s.id).as_deref(),
            Some("deeper")
        );
    }

    #[test]
    fn attribute_names_round_trip() {
        for a in Attribute::ALL {
            assert_eq!(Attribute::parse(a.as_str()), Some(a));
        }
        assert_eq!(Attribute::parse("password"), None);
    }
}
