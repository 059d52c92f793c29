//! The legacy-account sources over HTTP against a real server on loopback:
//! the sample exports served whole or paged behind an auth header, a wrong
//! header, a server that never answers and one whose body never ends.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use connectors::{
    AppConnector, ConnectorError, Format, LegacyAccount, Location, Paging, Source, SourceSettings,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "Bearer khoa-thu-nghiem";

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/legacy")
        .join(name);
    std::fs::read(path).unwrap()
}

/// The Onewin user API: `?page=N&size=S` over the fixture's accounts, with
/// the auth header required; it counts the pages asked for.
#[derive(Clone)]
struct Onewin {
    data: Arc<Vec<Value>>,
    pages: Arc<Mutex<HashMap<u32, u32>>>,
}

async fn onewin_users(
    State(api): State<Onewin>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, u32>>,
) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(TOKEN) {
        return (StatusCode::UNAUTHORIZED, "sai khóa").into_response();
    }
    let (page, size) = (
        q.get("page").copied().unwrap_or(1),
        q.get("size").copied().unwrap_or(20),
    );
    *api.pages.lock().unwrap().entry(page).or_default() += 1;
    let start = (page.saturating_sub(1) * size) as usize;
    let data: Vec<&Value> = api.data.iter().skip(start).take(size as usize).collect();
    axum::Json(json!({"data": data, "total": api.data.len()})).into_response()
}

/// eCabinet's accounts behind next-page links, 50 at a time.
async fn ecabinet_paged(Query(q): Query<HashMap<String, usize>>) -> axum::Json<Value> {
    let all: Vec<Value> = serde_json::from_slice(&fixture("ecabinet-users.json")).unwrap();
    let from = q.get("from").copied().unwrap_or(0);
    let items: Vec<&Value> = all.iter().skip(from).take(50).collect();
    let next = (from + 50 < all.len()).then(|| format!("/ecabinet/paged?from={}", from + 50));
    axum::Json(json!({"result": {"items": items}, "links": {"next": next}}))
}

struct Server {
    base: String,
    onewin: Onewin,
}

async fn start() -> Server {
    let doc: Value = serde_json::from_slice(&fixture("onewin-users.json")).unwrap();
    let onewin = Onewin {
        data: Arc::new(doc["data"].as_array().unwrap().clone()),
        pages: Arc::default(),
    };
    let file = |name: &'static str| get(move || async move { fixture(name) });
    let router = axum::Router::new()
        .route("/onewin/users", get(onewin_users))
        .route("/ecabinet/paged", get(ecabinet_paged))
        .route("/ioffice.csv", file("ioffice-users.csv"))
        .route("/calendar.csv", file("calendar-users.csv"))
        .route("/ecabinet.json", file("ecabinet-users.json"))
        .with_state(onewin.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Server { base, onewin }
}

async fn read(
    format: Format,
    url: String,
    settings: SourceSettings,
) -> Result<Vec<LegacyAccount>, ConnectorError> {
    let source = Source {
        format,
        location: Location::parse(&url),
        settings,
    };
    source.list_accounts(&|_| {}).await
}

fn paged(auth: Option<&str>) -> SourceSettings {
    SourceSettings {
        auth_header: auth.map(Into::into),
        paging: Paging::Page {
            page_param: "page".into(),
            size_param: "size".into(),
            size: 100,
            first: 1,
        },
        ..SourceSettings::default()
    }
}

#[tokio::test]
async fn a_paged_user_api_is_read_whole_and_each_page_once() {
    let server = start().await;
    let progress = Mutex::new(Vec::new());
    let source = Source {
        format: Format::Onewin,
        location: Location::parse(&format!("{}/onewin/users", server.base)),
        settings: paged(Some(TOKEN)),
    };
    let accounts = source
        .list_accounts(&|n| progress.lock().unwrap().push(n))
        .await
        .unwrap();
    let served: BTreeSet<&str> = server
        .onewin
        .data
        .iter()
        .map(|a| a["tenDangNhap"].as_str().unwrap())
        .collect();
    let read: BTreeSet<&str> = accounts.iter().map(|a| a.username.as_str()).collect();
    assert_eq!(accounts.len(), 313);
    assert_eq!(read, served, "every account, each once");
    // Pages 1–4 hold 100, 100, 100 and 13 accounts; page 5 is empty and ends it.
    let pages = server.onewin.pages.lock().unwrap().clone();
    assert_eq!(
        pages,
        HashMap::from([(1, 1), (2, 1), (3, 1), (4, 1), (5, 1)])
    );
    assert_eq!(*progress.lock().unwrap(), [250, 313]);
}

#[tokio::test]
async fn a_wrong_or_missing_auth_header_is_a_clear_unavailable() {
    let server = start().await;
    for auth in [Some("Bearer sai"), None] {
        let e = read(
            Format::Onewin,
            format!("{}/onewin/users", server.base),
            paged(auth),
        )
        .await
        .unwrap_err();
        assert!(matches!(e, ConnectorError::Unavailable(_)), "{e}");
        let e = e.to_string();
        assert!(
            e.contains("refused the credentials (HTTP 401)") && e.contains("auth_header"),
            "{e}"
        );
        assert!(!e.contains("khoa-thu-nghiem"), "{e}");
    }
}

#[tokio::test]
async fn every_app_format_reads_over_http_like_its_file() {
    let server = start().await;
    for (format, path, file) in [
        (Format::Ioffice, "/ioffice.csv", "ioffice-users.csv"),
        (Format::Calendar, "/calendar.csv", "calendar-users.csv"),
        (Format::Ecabinet, "/ecabinet.json", "ecabinet-users.json"),
    ] {
        let over_http = read(
            format,
            format!("{}{path}", server.base),
            SourceSettings::default(),
        )
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join(file);
        std::fs::write(&local, fixture(file)).unwrap();
        let from_file = read(
            format,
            local.display().to_string(),
            SourceSettings::default(),
        )
        .await
        .unwrap();
        assert!(!over_http.is_empty());
        assert_eq!(over_http, from_file, "{path}");
    }
}

#[tokio::test]
async fn a_generic_json_api_follows_next_page_links() {
    let server = start().await;
    let mut settings = SourceSettings {
        paging: Paging::NextLink {
            path: "links.next".into(),
        },
        ..SourceSettings::default()
    };
    let f = &mut settings.fields;
    f.username = "result.items[].account".into();
    f.display_name = "fullName".into();
    f.email = "mail".into();
    f.phone = "mobile".into();
    f.unit = "organization".into();
    let accounts = read(
        Format::Json,
        format!("{}/ecabinet/paged", server.base),
        settings,
    )
    .await
    .unwrap();
    assert_eq!(accounts.len(), 260);
    assert_eq!(accounts[0].display_name, "TẠ PHƯƠNG VÂN");
}

#[tokio::test]
async fn a_download_over_the_byte_cap_is_refused() {
    let server = start().await;
    let settings = SourceSettings {
        max_bytes: 4096,
        ..SourceSettings::default()
    };
    let e = read(
        Format::Ioffice,
        format!("{}/ioffice.csv", server.base),
        settings,
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("larger than 4096 bytes"), "{e}");
    // Paged: the cap is for all pages together.
    let settings = SourceSettings {
        max_bytes: 40_000,
        ..paged(Some(TOKEN))
    };
    let e = read(
        Format::Onewin,
        format!("{}/onewin/users", server.base),
        settings,
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("larger than 40000 bytes"), "{e}");
}

/// A raw server: accepts, reads the request, then says nothing for a
/// minute, or (`endless`) streams a chunked body that never ends.
async fn raw_server(endless: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                if !endless {
                    // Says nothing, for longer than any test waits.
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    return;
                }
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
                // At most 256 MiB, far past the cap; the client hangs up long before.
                for _ in 0..4096 {
                    if socket.write_all(chunk.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    base
}

#[tokio::test]
async fn a_server_that_never_answers_hits_the_timeout() {
    let base = raw_server(false).await;
    let settings = SourceSettings {
        read_timeout_secs: 1,
        request_timeout_secs: 3,
        ..SourceSettings::default()
    };
    let started = Instant::now();
    let e = read(Format::Onewin, format!("{base}/users"), settings)
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(e, ConnectorError::Unavailable(_)), "{e}");
    assert!(e.to_string().contains("no answer in time"), "{e}");
}

#[tokio::test]
async fn an_endless_body_hits_the_size_cap() {
    let base = raw_server(true).await;
    let settings = SourceSettings {
        max_bytes: 1024 * 1024,
        ..SourceSettings::default()
    };
    let started = Instant::now();
    let e = read(Format::Onewin, format!("{base}/users"), settings)
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(e.to_string().contains("larger than 1048576 bytes"), "{e}");
}
