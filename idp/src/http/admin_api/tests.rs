use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request};
use tower::ServiceExt;

use super::*;

const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::DELETE,
    Method::PUT,
    Method::PATCH,
];

fn concrete(path: &str) -> String {
    path.replace("{id}", "u1")
        .replace("{role}", "clerk")
        .replace("{app}", "onewin")
        .replace("{username}", "tamtt")
}

#[tokio::test]
async fn every_route_is_described_and_every_described_operation_exists() {
    let dir = tempfile::tempdir().unwrap();
    let idp = Arc::new(Idp::open(crate::testing::config(&dir, &[])).await.unwrap());
    let router = routes().with_state(idp);
    let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], BASE);
    let paths = doc["paths"].as_object().unwrap();

    let routed: BTreeSet<&str> = endpoints().iter().map(|(p, _)| *p).collect();
    let described: BTreeSet<&str> = paths.keys().map(String::as_str).collect();
    assert_eq!(
        routed, described,
        "the router and the document list the same paths"
    );

    for (path, ops) in paths {
        for method in METHODS {
            let resp = router
                .clone()
                .oneshot(
                    Request::builder()
                        .method(method.clone())
                        .uri(format!("{BASE}{}", concrete(path)))
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let routed = resp.status() != StatusCode::METHOD_NOT_ALLOWED
                && resp.status() != StatusCode::NOT_FOUND;
            let op = method.as_str().to_lowercase();
            assert_eq!(
                routed,
                ops.get(&op).is_some(),
                "{method} {path}: answered {} but described: {}",
                resp.status(),
                ops.get(&op).is_some()
            );
            // Without a token every described operation but the document itself is 401.
            if routed && path != "/openapi.json" {
                assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
                let challenge = resp.headers()[WWW_AUTHENTICATE].to_str().unwrap();
                assert!(
                    challenge.contains(r#"error="invalid_token""#),
                    "{challenge}"
                );
            }
        }
    }
}

#[test]
fn errors_are_json_with_the_bearer_challenge() {
    let e = ApiAuthError::InsufficientScope("admin");
    let r = ApiError::refused(e, "req").into_response();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        r.headers()[WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains(r#"scope="admin""#)
    );
    let r = ApiError::not_found().into_response();
    assert!(r.headers().get(WWW_AUTHENTICATE).is_none());
    assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
}
