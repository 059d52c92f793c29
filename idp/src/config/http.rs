//! `[http]`: the edge. Everything from outside waits with a timeout and is
//! counted: timeouts, the connection limit, per-address rate limits, trusted
//! reverse proxies and access to `/metrics`.

use std::net::SocketAddr;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{ConfigError, invalid};

/// `[http]`: the edge. Everything from outside waits with a timeout and is counted.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// A connection must send a request's whole header within this (also the
    /// idle limit of a kept-alive connection); slow-loris connections are closed.
    pub header_read_timeout_secs: u64,
    /// A request body that sends nothing for this long is cut (the request fails).
    pub body_read_timeout_secs: u64,
    /// A request (body included) must be answered within this; else 503.
    pub handler_timeout_secs: u64,
    /// Connections open at once; more wait in the kernel's queue until one closes.
    pub max_connections: usize,
    /// Requests from one address (IPv6: one /64) to the unauthenticated pages
    /// that store or compute something (`/authorize`, `/login`, `/password/…`,
    /// `/logout`) within `rate_limit_window_secs`; above it: 429.
    pub rate_limit_requests: u32,
    /// Failed requests (400, 401) from one address to `/token`, `/introspect`
    /// and `/revoke` within the window; above it: 429. Working apps are not counted.
    pub rate_limit_failures: u32,
    /// The window of both rate limits.
    pub rate_limit_window_secs: u64,
    /// Reverse proxies (addresses or CIDR ranges) whose forwarding header names
    /// the client; empty: the peer is the client and the headers are ignored.
    pub trusted_proxies: Vec<String>,
    /// Which header those proxies set: `x-forwarded-for` or `forwarded` (RFC 7239).
    /// One only: a header the proxy passes through untouched would be the client's word.
    pub client_ip_header: ClientIpHeader,
    /// `/metrics` answers only with `Authorization: Bearer` this token
    /// (`IDP_HTTP__METRICS_TOKEN_FILE` reads it from a file); unset: `/metrics` is off
    /// on the main address.
    pub metrics_token: Option<SecretString>,
    /// A second address serving only `/metrics` (a private interface for
    /// Prometheus); unset: none.
    pub metrics_listen: Option<SocketAddr>,
}

/// `http.client_ip_header`: the one forwarding header trusted proxies set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientIpHeader {
    /// `X-Forwarded-For: client, proxy1, …`
    XForwardedFor,
    /// `Forwarded: for=client` (RFC 7239).
    Forwarded,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 30,
            handler_timeout_secs: 60,
            max_connections: 1024,
            rate_limit_requests: 600,
            rate_limit_failures: 60,
            rate_limit_window_secs: 60,
            trusted_proxies: Vec::new(),
            client_ip_header: ClientIpHeader::XForwardedFor,
            metrics_token: None,
            metrics_listen: None,
        }
    }
}

impl HttpConfig {
    /// The trusted proxies as networks; an address alone is a /32 or /128.
    pub fn proxies(&self) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                let p = p.trim();
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        invalid(
                            "http.trusted_proxies",
                            format!("{p:?} is not an address or CIDR range; e.g. [\"10.0.0.5\", \"10.1.0.0/24\"]"),
                        )
                    })
            })
            .collect()
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (name, v, max) in [
            (
                "http.header_read_timeout_secs",
                self.header_read_timeout_secs,
                300,
            ),
            (
                "http.body_read_timeout_secs",
                self.body_read_timeout_secs,
                3600,
            ),
            ("http.handler_timeout_secs", self.handler_timeout_secs, 3600),
            (
                "http.rate_limit_window_secs",
                self.rate_limit_window_secs,
                86_400,
            ),
        ] {
            if !(1..=max).contains(&v) {
                return Err(invalid(name, format!("must be 1 to {max} seconds")));
            }
        }
        if !(1..=100_000).contains(&self.max_connections) {
            return Err(invalid("http.max_connections", "must be 1 to 100000"));
        }
        if self.rate_limit_requests == 0 || self.rate_limit_failures == 0 {
            return Err(invalid(
                "http.rate_limit_requests",
                "rate_limit_requests and rate_limit_failures must be at least 1",
            ));
        }
        if let Some(t) = &self.metrics_token
            && t.expose_secret().len() < 16
        {
            return Err(invalid(
                "http.metrics_token",
                "must be at least 16 characters; e.g. the output of `openssl rand -hex 32`",
            ));
        }
        self.proxies().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{env, typo};
    use super::*;
    use crate::config::Config;

    #[test]
    fn the_client_ip_header_is_one_of_two() {
        let c =
            Config::load_from(None, &env(&[("IDP_HTTP__CLIENT_IP_HEADER", "forwarded")])).unwrap();
        assert_eq!(c.http.client_ip_header, ClientIpHeader::Forwarded);
        let e = typo("http", "client_ip_header", "x-forwarded");
        assert!(e.contains("x-forwarded-for"), "{e}");
    }
}
