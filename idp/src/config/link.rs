//! `[link]`: how `idp link import` reads the apps whose accounts come from a
//! generic CSV or HTTP-JSON source (column names, JSON paths, paging, the
//! auth header), one table per app: `[link.sources.APP]`. The four known
//! apps (onewin, ioffice, ecabinet, calendar) bring their own field names:
//! their export files need no table, their user APIs one for the auth
//! header, paging and caps.

use std::collections::BTreeMap;

use connectors::SourceSettings;
use serde::Deserialize;

use super::{ConfigError, invalid};

/// `[link]`: account-linking sources.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkConfig {
    /// Per app id (`idp app add APP`): how its generic `csv` or `json`
    /// source is read.
    pub sources: BTreeMap<String, SourceSettings>,
}

impl LinkConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (app, settings) in &self.sources {
            let plain = !app.is_empty()
                && app.len() <= 64
                && app
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
            if !plain {
                return Err(invalid(
                    &format!("link.sources.{app}"),
                    "the table's name must be an app id (1-64 of A-Z a-z 0-9 . _ -)",
                ));
            }
            settings
                .validate()
                .map_err(|e| invalid(&format!("link.sources.{app}.{}", e.field), e.problem))?;
        }
        Ok(())
    }

    /// How `app`'s generic source is read (the defaults when not configured).
    pub fn source(&self, app: &str) -> SourceSettings {
        self.sources.get(app).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_table_is_named_by_an_app_id() {
        let mut c = LinkConfig::default();
        c.sources.insert("hrm".into(), SourceSettings::default());
        assert!(c.validate().is_ok());
        c.sources
            .insert("văn bản".into(), SourceSettings::default());
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("link.sources.văn bản"), "{e}");
    }
}
