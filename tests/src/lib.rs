//! What the end-to-end tests (`tests/it/`) and the load generator
//! (`tests/bench/`) share: the real peers they start ([`harness`]) and a
//! cookie-keeping HTTP client that walks the OIDC flows ([`browser`]).

pub mod browser;
pub mod harness;
