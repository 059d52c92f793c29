//! `[log]`: the format and filter of what the server writes to standard error.

use serde::Deserialize;

/// `[log]`: what the server writes to standard error.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `json` (default) or `text`.
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `idp=debug,info`.
    pub level: String,
}

/// `log.format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line, for a log collector.
    #[default]
    Json,
    /// Lines for a person reading a terminal.
    Text,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Json,
            level: "info".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{env, typo};
    use super::*;
    use crate::config::Config;

    #[test]
    fn log_formats_are_json_or_text_and_a_typo_is_named() {
        let c = Config::load_from(None, &env(&[("IDP_LOG__FORMAT", "text")])).unwrap();
        assert_eq!(c.log.format, LogFormat::Text);
        assert_eq!(Config::default().log.format, LogFormat::Json);
        let e = typo("log", "format", "jsno");
        assert!(e.contains("json") && e.contains("text"), "{e}");
    }
}
