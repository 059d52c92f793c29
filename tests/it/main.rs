//! End-to-end tests against the real `idp` binary and real peers
//! (PostgreSQL, Redis, Node's openid-client). One test binary: each extra
//! binary costs a link on 2 cores. The peers are started by the `tests`
//! library's harness, one module per peer.

use tests::{browser, harness};

mod account;
mod backchannel;
mod brute_force;
mod cas;
mod cas_apache;
mod cas_policy;
mod chromium;
mod clients;
mod conformance;
mod console;
mod console_api;
mod console_apps;
mod console_browser;
mod console_links;
mod console_links_api;
mod console_links_browser;
mod demo_apps;
mod ldap;
mod link_connectors;
mod links;
mod mfa;
mod negative;
mod node_rp;
mod nodes;
mod oidc_flow;
mod ops;
mod policy;
mod portal;
mod reauth;
mod reset;
mod saml;
mod saml_mellon;
mod sec_edge;
mod sec_keys;
mod sec_mfa;
mod sec_oidc;
mod sec_sessions;
mod sec_signin;
mod secrets;
mod signing;
mod signing_api;
mod signing_pkcs11;
mod signing_timestamp;
mod signing_visible;
