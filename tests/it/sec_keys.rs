//! The master key's sub-keys (finding 18). Signing keys and authenticator
//! keys sealed with the raw master key by an earlier version survive the
//! upgrade: the published keys stay as they were, tokens signed before and
//! after verify, the authenticator keeps working; and each value is sealed
//! again under its own sub-key once, even by nodes starting together.

use idp::ids::{Email, UserId};
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use idp::crypto::{MasterKey, Seal};
use idp::jose::{self, Alg, SigningKey, VerifyingKey};
use idp::reseal::{Resealed, legacy_values};
use idp::store::{Factor, KeyRow, NewUser, Store};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::browser::{Browser, authorize_url, hidden, location, param, pkce};
use crate::harness::{Backends, Idp, PASSWORD, Postgres};
use crate::oidc_flow::{REDIRECT, rp_http};

const TAM: &str = "tamtt@binhphuoc.gov.vn";
const SECOND: &str = "/login/second-factor";

/// AES-256-GCM under the raw master key: how versions before the sub-keys
/// sealed (written out here, independent of the server's code).
fn legacy_seal(raw: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, raw).unwrap());
    let nonce: [u8; NONCE_LEN] = idp::crypto::random_bytes(NONCE_LEN)
        .unwrap()
        .try_into()
        .unwrap();
    let mut data = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut data,
    )
    .unwrap();
    [nonce.as_slice(), &data].concat()
}

fn legacy_opens(raw: &[u8; 32], aad: &[u8], sealed: &[u8]) -> bool {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, raw).unwrap());
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    let mut data = ct.to_vec();
    key.open_in_place(
        Nonce::try_assume_unique_for_key(nonce).unwrap(),
        Aad::from(aad),
        &mut data,
    )
    .is_ok()
}

fn totp_aad(user_id: &str) -> Vec<u8> {
    format!("totp:{user_id}").into_bytes()
}

/// The signing keys an earlier version left in a database: previous,
/// current and next of each algorithm, and a long-retired one.
struct OldKeys {
    /// The current keys, to sign as the old version did.
    current: BTreeMap<&'static str, SigningKey>,
    /// Every key's PKCS#8 DER, by kid.
    der: BTreeMap<String, Vec<u8>>,
    /// The public JWK of every key that was published, by kid.
    published: BTreeMap<String, Value>,
}

async fn write_old_keys(store: &Store, raw: &[u8; 32], now: i64) -> OldKeys {
    let mut old = OldKeys {
        current: BTreeMap::new(),
        der: BTreeMap::new(),
        published: BTreeMap::new(),
    };
    for alg in [Alg::RS256, Alg::ES256] {
        for (state, age) in [
            ("retired", 40 * 86_400),
            // Stopped signing five minutes ago: still published (within the tokens' lifetime).
            ("previous", 300),
            ("current", 3600),
            ("next", 3600),
        ] {
            let kid = idp::crypto::random_id().unwrap();
            let (key, der) = SigningKey::generate(kid.clone(), alg).unwrap();
            store
                .insert_key(&KeyRow {
                    kid: kid.clone(),
                    alg: alg.as_str().into(),
                    state: state.into(),
                    sealed_der: legacy_seal(raw, kid.as_bytes(), &der),
                    public_jwk: key.public_jwk().to_string(),
                    created_at: now - age - 3600,
                    updated_at: now - age,
                })
                .await
                .unwrap();
            old.der.insert(kid.clone(), der);
            if state != "retired" {
                old.published.insert(kid.clone(), key.public_jwk());
            }
            if state == "current" {
                old.current.insert(alg.as_str(), key);
            }
        }
    }
    old
}

/// The JWKS by kid.
async fn jwks(idp: &Idp) -> BTreeMap<String, Value> {
    idp.get_json("/jwks").await["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kid"].as_str().unwrap().to_owned(), k.clone()))
        .collect()
}

/// Every key the old version published is published unchanged, and no key
/// was made or replaced.
async fn published_as_before(idp: &Idp, old: &OldKeys) {
    let now = jwks(idp).await;
    for (kid, jwk) in &old.published {
        assert_eq!(now.get(kid), Some(jwk), "key {kid} published unchanged");
    }
    for kid in now.keys() {
        assert!(old.der.contains_key(kid), "no new key {kid}");
    }
}

fn kid_of(jwt: &str) -> String {
    let header = jwt.split('.').next().unwrap();
    let h: Value = serde_json::from_slice(&idp::crypto::b64_decode(header).unwrap()).unwrap();
    h["kid"].as_str().unwrap().to_owned()
}

/// Verifies `jwt` against one published key.
fn verifies_with(jwt: &str, jwk: &Value) -> bool {
    jose::verify(jwt, &[VerifyingKey::from_jwk(jwk).unwrap()]).is_ok()
}

/// Every signing key row opens under the signing-key sub-key (the same DER
/// as before) and no longer under the raw master key.
async fn keys_under_sub_key(store: &Store, raw: &[u8; 32], old: &OldKeys) {
    let master = MasterKey::from_bytes(raw).unwrap();
    let rows = store.sealed_signing_keys().await.unwrap();
    assert_eq!(rows.len(), old.der.len());
    for (kid, sealed) in rows {
        assert!(
            !legacy_opens(raw, kid.as_bytes(), &sealed),
            "key {kid} is still sealed with the raw master key"
        );
        assert_eq!(
            master
                .open(Seal::SigningKey, kid.as_bytes(), &sealed)
                .unwrap(),
            old.der[&kid],
            "key {kid}"
        );
        assert!(
            master
                .open(Seal::TotpSecret, kid.as_bytes(), &sealed)
                .is_err(),
            "a signing key does not open as an authenticator key"
        );
    }
}

/// A log without its colour codes.
fn plain(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| c.is_ascii_alphabetic());
        } else {
            out.push(c);
        }
    }
    out
}

fn write_master_key(path: &std::path::Path, raw: &[u8; 32]) {
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .unwrap();
    f.write_all(hex.as_bytes()).unwrap();
}

/// Signs in at the portal with the password and a code from the authenticator.
async fn sign_in_with_code(idp: &Idp, code: &str) -> StatusCode {
    let b = Browser::new();
    let r = b
        .submit_login(&idp.base, &idp.url("/login"), "tamtt", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), SECOND, "the second factor comes next");
    let html = b.get(&idp.url(SECOND)).await.text().await.unwrap();
    let csrf = hidden(&html, "csrf").expect("csrf field");
    let r = b
        .http
        .post(idp.url(SECOND))
        .form(&[("csrf", csrf.as_str()), ("op", "totp"), ("code", code)])
        .send()
        .await
        .unwrap();
    let status = r.status();
    if status == StatusCode::SEE_OTHER {
        assert_eq!(location(&r), "/");
    }
    status
}

#[tokio::test]
async fn keys_and_authenticators_sealed_by_the_old_version_survive_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let raw: [u8; 32] = idp::crypto::random_bytes(32).unwrap().try_into().unwrap();
    let key_path = dir.path().join("master.key");
    write_master_key(&key_path, &raw);
    let db = format!("sqlite://{}/idp.db", dir.path().display());
    let store = Store::connect(&db).await.unwrap();
    store.migrate().await.unwrap();
    let now = idp::now();
    let old = write_old_keys(&store, &raw, now).await;
    let backends = Backends {
        database_url: Some(db.clone()),
        env: vec![("IDP_MASTER_KEY_PATH".into(), key_path.display().to_string())],
        ..Backends::default()
    };

    // The upgraded server starts on them: the same keys are published, and
    // they are now sealed under the signing-key sub-key.
    let mut first = Idp::spawn(&backends);
    published_as_before(&first, &old).await;
    keys_under_sub_key(&store, &raw, &old).await;
    assert!(
        plain(&first.log()).contains("signing_keys=8 authenticator_keys=0"),
        "the re-sealing is in the log:\n{}",
        first.log()
    );

    // It signs with the old current keys, and its tokens verify against them.
    first.add_person();
    let secret = first.add_client("vanban", REDIRECT, &[]);
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        &first.base,
        "vanban",
        REDIRECT,
        &[
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = Browser::new()
        .sign_in_via(&first.base, &url, "tamtt", PASSWORD)
        .await;
    let code = param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let r = rp_http()
        .post(first.url("/token"))
        .basic_auth("vanban", Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = r.json().await.unwrap();
    let id_token = t["id_token"].as_str().unwrap().to_owned();
    let access = t["access_token"].as_str().unwrap();
    let rs = &old.current["RS256"];
    let es = &old.current["ES256"];
    assert_eq!(kid_of(&id_token), rs.kid);
    assert!(verifies_with(&id_token, &rs.public_jwk()));
    assert_eq!(kid_of(access), es.kid);
    assert!(verifies_with(access, &es.public_jwk()));
    let me = rp_http()
        .get(first.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let sub = me.json::<Value>().await.unwrap()["sub"]
        .as_str()
        .unwrap()
        .to_owned();

    // A token signed by the old version (its current ES256 key) is still accepted.
    let before = es
        .sign(
            "at+jwt",
            &json!({
                "iss": first.base,
                "sub": sub,
                "aud": "vanban",
                "client_id": "vanban",
                "iat": now - 60,
                "exp": now + 600,
                "jti": idp::crypto::random_id().unwrap(),
                "scope": "openid email",
                "gid": idp::crypto::random_id().unwrap(),
            }),
        )
        .unwrap();
    let me = rp_http()
        .get(first.url("/userinfo"))
        .bearer_auth(&before)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK, "{}", me.text().await.unwrap());

    // An authenticator the old version enrolled (its key sealed with the raw
    // master key) works on the upgraded server...
    let user = store
        .user_by_email(&Email::parse(TAM).unwrap())
        .await
        .unwrap()
        .unwrap();
    let totp_key = idp::crypto::random_bytes(20).unwrap();
    let old_secret = idp::crypto::b64(&legacy_seal(&raw, &totp_aad(&user.id), &totp_key));
    store
        .put_factor(&Factor {
            user_id: user.id.clone(),
            kind: idp::kinds::FactorKind::Totp,
            secret: Some(old_secret),
            address: None,
            last_step: 0,
            created_at: now - 86_400,
        })
        .await
        .unwrap();
    let totp = totp_rs::Builder::new()
        .with_secret(totp_key.clone())
        .build()
        .unwrap();
    let at = u64::try_from(idp::now()).unwrap();
    assert_eq!(
        sign_in_with_code(&first, &totp.generate(at).to_string()).await,
        StatusCode::SEE_OTHER,
        "the authenticator still works"
    );

    // ...and after the next start its key is sealed under the authenticator
    // sub-key; the signing keys are not touched again.
    first.terminate();
    let second = Idp::spawn(&backends);
    assert!(
        plain(&second.log()).contains("signing_keys=0 authenticator_keys=1"),
        "{}",
        second.log()
    );
    let stored = store.factors(&user.id).await.unwrap();
    let sealed = idp::crypto::b64_decode(stored[0].secret.as_deref().unwrap()).unwrap();
    assert!(!legacy_opens(&raw, &totp_aad(&user.id), &sealed));
    let master = MasterKey::from_bytes(&raw).unwrap();
    assert_eq!(
        master
            .open(Seal::TotpSecret, &totp_aad(&user.id), &sealed)
            .unwrap(),
        totp_key
    );
    assert!(
        master
            .open(Seal::SigningKey, &totp_aad(&user.id), &sealed)
            .is_err()
    );
    // The next time step (within the allowed skew): each step works once.
    let fresh = u64::try_from(idp::now()).unwrap().max(at);
    assert_eq!(
        sign_in_with_code(&second, &totp.generate(fresh + 30).to_string()).await,
        StatusCode::SEE_OTHER,
        "the authenticator works after the re-sealing"
    );
    published_as_before(&second, &old).await;
    keys_under_sub_key(&store, &raw, &old).await;
    let published = jwks(&second).await;
    assert!(verifies_with(&id_token, &published[&rs.kid]));
    assert!(verifies_with(&before, &published[&es.kid]));
    store.close().await;
}

/// People with an authenticator enrolled by the old version.
async fn write_old_authenticators(store: &Store, raw: &[u8; 32], n: usize) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    for i in 0..n {
        let u = store
            .create_user(
                &NewUser {
                    id: format!("u{i}").into(),
                    email: Email::parse(&format!("nguoi{i}@binhphuoc.gov.vn")).unwrap(),
                    name: format!("Người {i}"),
                    phone: None,
                    unit: None,
                    title: None,
                    employee_code: None,
                    password_hash: None,
                    is_admin: false,
                },
                1,
            )
            .await
            .unwrap();
        let key = idp::crypto::random_bytes(20).unwrap();
        store
            .put_factor(&Factor {
                user_id: u.id.clone(),
                kind: idp::kinds::FactorKind::Totp,
                secret: Some(idp::crypto::b64(&legacy_seal(raw, &totp_aad(&u.id), &key))),
                address: None,
                last_step: 0,
                created_at: 1,
            })
            .await
            .unwrap();
        keys.push(key);
    }
    keys
}

/// Two nodes re-seal the same old database at once: every value is sealed
/// again exactly once, nothing is lost, and a value that neither key opens
/// (sealed with another master key) is left as it is and reported.
async fn two_nodes_reseal_at_once(url: &str) {
    let a = Store::connect(url).await.unwrap();
    a.migrate().await.unwrap();
    let b = Store::connect(url).await.unwrap();
    let raw = [42u8; 32];
    let master = MasterKey::from_bytes(&raw).unwrap();
    let old = write_old_keys(&a, &raw, idp::now()).await;
    let totp_keys = write_old_authenticators(&a, &raw, 12).await;
    // One authenticator sealed with another master key: unreadable here.
    let stranger = a
        .create_user(
            &NewUser {
                id: "lac".into(),
                email: Email::parse("lac@binhphuoc.gov.vn").unwrap(),
                name: "Người lạ".into(),
                phone: None,
                unit: None,
                title: None,
                employee_code: None,
                password_hash: None,
                is_admin: false,
            },
            1,
        )
        .await
        .unwrap();
    let foreign = idp::crypto::b64(&legacy_seal(&[7; 32], &totp_aad(&stranger.id), b"x"));
    a.put_factor(&Factor {
        user_id: stranger.id.clone(),
        kind: idp::kinds::FactorKind::Totp,
        secret: Some(foreign.clone()),
        address: None,
        last_step: 0,
        created_at: 1,
    })
    .await
    .unwrap();

    let (ra, rb) = tokio::join!(legacy_values(&a, &master), legacy_values(&b, &master));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.signing_keys + rb.signing_keys, 8, "{ra:?} {rb:?}");
    assert_eq!(ra.totp_secrets + rb.totp_secrets, 12, "{ra:?} {rb:?}");
    assert_eq!(ra.unreadable, ["authenticator of user lac"]);

    keys_under_sub_key(&a, &raw, &old).await;
    for (i, key) in totp_keys.iter().enumerate() {
        let id = format!("u{i}");
        let f = a.factors(&UserId::from(id.as_str())).await.unwrap();
        let sealed = idp::crypto::b64_decode(f[0].secret.as_deref().unwrap()).unwrap();
        assert!(!legacy_opens(&raw, &totp_aad(&id), &sealed));
        assert_eq!(
            &master
                .open(Seal::TotpSecret, &totp_aad(&id), &sealed)
                .unwrap(),
            key
        );
    }
    assert_eq!(
        a.factors(&UserId::from("lac")).await.unwrap()[0]
            .secret
            .as_deref(),
        Some(foreign.as_str()),
        "an unreadable value is left as it was"
    );

    // Once is enough: a later start has nothing to do.
    let again = legacy_values(&b, &master).await.unwrap();
    assert_eq!(
        again,
        Resealed {
            signing_keys: 0,
            totp_secrets: 0,
            unreadable: vec!["authenticator of user lac".into()],
        }
    );

    // A row replaced since it was read (a new enrolment) is not overwritten.
    let (kid, sealed) = a.sealed_signing_keys().await.unwrap().remove(0);
    assert!(!a.reseal_signing_key(&kid, b"stale", b"new").await.unwrap());
    assert!(
        !a.reseal_totp_secret(&UserId::from("u0"), "stale", "new")
            .await
            .unwrap()
    );
    assert_eq!(a.sealed_signing_keys().await.unwrap()[0], (kid, sealed));
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn two_nodes_reseal_each_value_once_on_sqlite_and_postgres() {
    let dir = tempfile::tempdir().unwrap();
    two_nodes_reseal_at_once(&format!("sqlite://{}/idp.db", dir.path().display())).await;
    let pg = Postgres::start();
    two_nodes_reseal_at_once(&pg.url).await;
}
