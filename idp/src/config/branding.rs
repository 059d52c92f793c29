//! `[branding]`: the name, logo and colour every page shows.

use std::path::PathBuf;

use serde::Deserialize;

use super::{ConfigError, invalid};

/// How the pages present the deployment; the default is neutral.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrandingConfig {
    /// Shown in every page's header instead of "Hệ thống thông tin chính quyền số".
    pub name: Option<String>,
    /// A PNG or JPEG logo beside the name, at most 256 KiB.
    pub logo_path: Option<PathBuf>,
    /// The main colour, `#rrggbb`.
    pub primary_color: Option<String>,
}

impl BrandingConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(c) = &self.primary_color {
            // Written into a stylesheet: nothing but `#` and six hex digits.
            let ok =
                c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|d| d.is_ascii_hexdigit());
            if !ok {
                return Err(invalid(
                    "branding.primary_color",
                    "must be #rrggbb, e.g. IDP_BRANDING__PRIMARY_COLOR=#0b5394",
                ));
            }
        }
        Ok(())
    }
}
