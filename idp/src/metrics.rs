//! Prometheus metrics: requests by route and status, latency, sign-ins and
//! tokens issued. Rendered in the text format at `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteOnly {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GrantLabel {
    pub grant_type: String,
}

/// A counter kept by a crate without metrics (the directory connector).
#[derive(Debug)]
struct AtomicCounter(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl prometheus_client::encoding::EncodeMetric for AtomicCounter {
    fn encode(
        &self,
        mut encoder: prometheus_client::encoding::MetricEncoder,
    ) -> Result<(), std::fmt::Error> {
        let v = self.0.load(std::sync::atomic::Ordering::Relaxed);
        encoder.encode_counter::<prometheus_client::encoding::NoLabelSet, _, u64>(&v, None)
    }

    fn metric_type(&self) -> prometheus_client::metrics::MetricType {
        prometheus_client::metrics::MetricType::Counter
    }
}

type HistogramFamily = Family<RouteOnly, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    requests: Family<RouteLabels, Counter>,
    latency: HistogramFamily,
    logins: Family<Outcome, Counter>,
    tokens: Family<GrantLabel, Counter>,
}

fn latency_histogram() -> Histogram {
    // 0.1 ms … about 1.6 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("idp");
        let requests = Family::<RouteLabels, Counter>::default();
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let logins = Family::<Outcome, Counter>::default();
        let tokens = Family::<GrantLabel, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register("logins", "Sign-in attempts by result", logins.clone());
        registry.register(
            "tokens_issued",
            "Token responses by grant type",
            tokens.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            logins,
            tokens,
        }
    }
}

impl Metrics {
    pub fn request(&self, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteOnly {
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    pub fn login(&self, ok: bool) {
        self.logins
            .get_or_create(&Outcome {
                result: if ok { "ok" } else { "failed" },
            })
            .inc();
    }

    pub fn token_issued(&self, grant_type: &str) {
        self.tokens
            .get_or_create(&GrantLabel {
                grant_type: grant_type.to_owned(),
            })
            .inc();
    }

    /// Registers the work done by password checks: hashes, and the
    /// directory's searches and binds (the same for every account).
    pub fn register_work(&mut self, hashes: Counter, directory: Option<&connectors::Work>) {
        self.registry.register(
            "password_checks",
            "Password hashes checked (real or stand-in)",
            hashes,
        );
        if let Some(w) = directory {
            self.registry.register(
                "directory_searches",
                "Directory searches",
                AtomicCounter(w.searches.clone()),
            );
            self.registry.register(
                "directory_binds",
                "Directory binds (a person's or a stand-in)",
                AtomicCounter(w.binds.clone()),
            );
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_with_labels() {
        let m = Metrics::default();
        m.request("/token", 200, 0.001);
        m.login(false);
        m.token_issued("client_credentials");
        let text = m.render();
        assert!(
            text.contains(r#"idp_http_requests_total{route="/token",status="200"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"idp_logins_total{result="failed"} 1"#));
        assert!(text.contains(r#"idp_tokens_issued_total{grant_type="client_credentials"} 1"#));
        assert!(text.contains("idp_http_request_duration_seconds_bucket"));
    }
}
