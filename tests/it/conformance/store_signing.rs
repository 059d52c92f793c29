//! The store suite's document-signing keys: the first key stored under a
//! label wins on both stores, so every node signs with the same one.

use idp::crypto::MasterKey;
use idp::signing::soft::{LABEL, SoftBackend};
use idp::store::{DocumentKeyRow, Store};

pub(super) async fn document_keys(s: &Store) {
    assert!(s.document_key("absent").await.unwrap().is_none());
    let row = |sealed: u8| DocumentKeyRow {
        label: "office-test".into(),
        alg: "RS256".into(),
        sealed_der: vec![sealed, 0, 255],
        cert_der: vec![0x30, 0x00],
        created_at: 7,
    };
    assert!(s.insert_document_key(&row(1)).await.unwrap());
    assert!(
        !s.insert_document_key(&row(2)).await.unwrap(),
        "a second key under the label is not stored"
    );
    let got = s.document_key("office-test").await.unwrap().unwrap();
    assert_eq!(got.sealed_der, vec![1, 0, 255], "the first one stays");
    assert_eq!(got.cert_der, vec![0x30, 0x00]);
    assert_eq!((got.alg.as_str(), got.created_at), ("RS256", 7));

    // The software key: made once, the same certificate on every open, and
    // sealed so that another master key cannot open it.
    let master = std::sync::Arc::new(MasterKey::from_bytes(&[5; 32]).unwrap());
    let first = SoftBackend::open(s, &master, 1_790_000_000).await.unwrap();
    let again = SoftBackend::open(s, &master, 1_790_000_100).await.unwrap();
    assert_eq!(first.certificate(), again.certificate());
    let stored = s.document_key(LABEL).await.unwrap().unwrap();
    assert_eq!(stored.cert_der, first.certificate());
    assert_eq!(stored.alg, "ES256");
    let other = std::sync::Arc::new(MasterKey::from_bytes(&[6; 32]).unwrap());
    assert!(SoftBackend::open(s, &other, 1_790_000_200).await.is_err());
}
