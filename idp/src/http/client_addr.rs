//! The client's address: the TCP peer, or, when the peer is one of
//! `http.trusted_proxies`, the address the proxies name in `X-Forwarded-For`
//! or `Forwarded` (RFC 7239 §4, §6). Audit records, new-device mails,
//! brute-force counters and rate limits all use it.
//!
//! The header is read from the right: each trusted hop vouches for the one
//! before it, and the first address that is not a trusted proxy is the client.
//! Entries further left were written by the client and are never believed.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use axum::http::header::FORWARDED;
use ipnet::IpNet;

use crate::config::ClientIpHeader;

/// More hops than this is not a real proxy chain.
const MAX_HOPS: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Header {
    XForwardedFor,
    /// RFC 7239.
    Forwarded,
}

/// The configured reverse proxies and the one header they set.
#[derive(Clone, Debug)]
pub struct Proxies {
    nets: Vec<IpNet>,
    header: Header,
}

impl Proxies {
    pub fn new(nets: Vec<IpNet>, header: Header) -> Proxies {
        Proxies { nets, header }
    }

    pub fn from_config(c: &crate::config::HttpConfig) -> Proxies {
        let nets = c.proxies().unwrap_or_else(|e| {
            // Validated at start; never reached.
            tracing::error!(error = %e, "trusted proxies ignored");
            Vec::new()
        });
        let header = match c.client_ip_header {
            ClientIpHeader::Forwarded => Header::Forwarded,
            ClientIpHeader::XForwardedFor => Header::XForwardedFor,
        };
        Proxies::new(nets, header)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The client of a request that came from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let name = match self.header {
            Header::XForwardedFor => "x-forwarded-for",
            Header::Forwarded => FORWARDED.as_str(),
        };
        let mut hops: Vec<Option<IpAddr>> = Vec::new();
        for value in headers.get_all(name) {
            // Bytes that are not text sit in an entry the client wrote (the
            // proxy appends clean ones on the right): read the rest anyway.
            let text = String::from_utf8_lossy(value.as_bytes());
            match self.header {
                Header::XForwardedFor => hops.extend(text.split(',').map(xff_entry)),
                Header::Forwarded => hops.extend(text.split(',').map(forwarded_element)),
            }
        }
        let mut client = peer;
        for hop in hops.iter().rev().take(MAX_HOPS) {
            match hop {
                // A malformed or hidden entry: nothing before it can be
                // trusted; the last hop vouched for is as far as we know.
                None => return client,
                Some(ip) if self.trusts(*ip) => client = *ip,
                Some(ip) => return *ip,
            }
        }
        client
    }
}

/// `::ffff:192.0.2.1` is `192.0.2.1`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`,
/// `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn node(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    s.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|r| r.parse::<IpAddr>().ok())
        .map(canonical)
}

fn xff_entry(s: &str) -> Option<IpAddr> {
    node(s)
}

/// The `for=` of one `Forwarded` element (`for=192.0.2.60;proto=http;by=…`).
/// `unknown` and obfuscated identifiers (`_hidden`) name no address.
fn forwarded_element(element: &str) -> Option<IpAddr> {
    let mut found = None;
    for pair in element.split(';') {
        let (key, value) = pair.trim().split_once('=')?;
        if key.trim().eq_ignore_ascii_case("for") {
            if found.is_some() {
                return None; // two `for`s in one element: malformed
            }
            let value = value.trim();
            let value = match value.strip_prefix('"') {
                Some(v) => v.strip_suffix('"')?,
                None => value,
            };
            found = Some(node(value)?);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn proxies(nets: &[&str], header: Header) -> Proxies {
        Proxies::new(nets.iter().map(|n| n.parse().unwrap()).collect(), header)
    }

    fn headers(name: &str, values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn x_forwarded_for_is_read_from_the_right() {
        let p = proxies(&["10.0.0.1/32", "10.1.0.0/24"], Header::XForwardedFor);
        let peer = ip("10.0.0.1");
        let cases: &[(&[&str], &str)] = &[
            // The client as the proxy saw it.
            (&["203.0.113.7"], "203.0.113.7"),
            // A spoofed left-most entry is the client's word: ignored.
            (&["1.2.3.4, 203.0.113.7"], "203.0.113.7"),
            (&["1.2.3.4", "203.0.113.7"], "203.0.113.7"),
            // Through two trusted proxies.
            (&["1.2.3.4, 203.0.113.7, 10.1.0.9"], "203.0.113.7"),
            // Ports and brackets as some proxies write them.
            (&["203.0.113.7:51000"], "203.0.113.7"),
            (&["[2001:db8::7]:443"], "2001:db8::7"),
            (&["2001:db8::7"], "2001:db8::7"),
            (&["::ffff:203.0.113.7"], "203.0.113.7"),
            // Malformed: no further than the last hop vouched for.
            (&["203.0.113.7, nonsense"], "10.0.0.1"),
            (&["1.2.3.4, garbage, 10.1.0.9"], "10.1.0.9"),
            (&[""], "10.0.0.1"),
            (&["203.0.113.7,"], "10.0.0.1"),
            // Only trusted hops: the left-most of them.
            (&["10.1.0.5, 10.1.0.9"], "10.1.0.5"),
            // No header: the peer.
            (&[], "10.0.0.1"),
        ];
        for (values, want) in cases {
            let h = headers("x-forwarded-for", values);
            assert_eq!(p.client(peer, &h), ip(want), "{values:?}");
        }
    }

    #[test]
    fn bytes_that_are_not_text_do_not_hide_the_client() {
        let p = proxies(&["10.0.0.1/32"], Header::XForwardedFor);
        let mut h = HeaderMap::new();
        // The client's own entry holds a byte that is not text; the proxy appended the real one.
        h.append(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"\xff\xfe, 203.0.113.7").unwrap(),
        );
        assert_eq!(p.client(ip("10.0.0.1"), &h), ip("203.0.113.7"));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let p = proxies(&["10.0.0.1/32"], Header::XForwardedFor);
        let h = headers("x-forwarded-for", &["203.0.113.7"]);
        assert_eq!(p.client(ip("198.51.100.2"), &h), ip("198.51.100.2"));
        let none = proxies(&[], Header::XForwardedFor);
        assert_eq!(none.client(ip("10.0.0.1"), &h), ip("10.0.0.1"));
        // The header this deployment does not use is ignored, even from a proxy.
        let fwd = headers("forwarded", &["for=203.0.113.7"]);
        assert_eq!(p.client(ip("10.0.0.1"), &fwd), ip("10.0.0.1"));
        // A v4-mapped peer matches a v4 range.
        assert_eq!(p.client(ip("::ffff:10.0.0.1"), &h), ip("203.0.113.7"));
    }

    #[test]
    fn forwarded_follows_rfc_7239() {
        let p = proxies(&["10.0.0.1/32", "10.1.0.0/24"], Header::Forwarded);
        let peer = ip("10.0.0.1");
        let cases: &[(&[&str], &str)] = &[
            (&["for=203.0.113.7"], "203.0.113.7"),
            (&["For=\"[2001:db8:cafe::17]:4711\""], "2001:db8:cafe::17"),
            (&["for=192.0.2.60;proto=http;by=203.0.113.43"], "192.0.2.60"),
            (&["for=1.2.3.4, for=203.0.113.7"], "203.0.113.7"),
            (
                &["for=1.2.3.4", "for=203.0.113.7;proto=https"],
                "203.0.113.7",
            ),
            (
                &["for=1.2.3.4, for=203.0.113.7, for=10.1.0.9"],
                "203.0.113.7",
            ),
            // Unknown and obfuscated nodes, missing or doubled `for`, bad quoting.
            (&["for=unknown"], "10.0.0.1"),
            (&["for=_hidden"], "10.0.0.1"),
            (&["proto=https"], "10.0.0.1"),
            (&["for=1.2.3.4;for=203.0.113.7"], "10.0.0.1"),
            (&["for=\"203.0.113.7"], "10.0.0.1"),
            (&["for=203.0.113.7, for=10.1.0.9, junk"], "10.0.0.1"),
        ];
        for (values, want) in cases {
            let h = headers("forwarded", values);
            assert_eq!(p.client(peer, &h), ip(want), "{values:?}");
        }
    }

    #[test]
    fn a_long_chain_is_cut() {
        let p = proxies(&["10.0.0.0/8"], Header::XForwardedFor);
        let mut chain = vec!["203.0.113.7".to_owned()];
        chain.extend((0..50).map(|i| format!("10.0.0.{i}")));
        let h = headers("x-forwarded-for", &[&chain.join(", ")]);
        assert!(
            p.trusts(p.client(ip("10.0.0.1"), &h)),
            "no further than {MAX_HOPS} hops"
        );
    }
}
