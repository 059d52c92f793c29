//! The registered SPs as the protocol uses them, and what each is told:
//! the NameID (the official e-mail, or a pairwise persistent identifier
//! no other SP can correlate) and the attributes, under their usual LDAP
//! `urn:oid:` names with a FriendlyName (SAML 2.0 X.500/LDAP attribute
//! profile), the same six as CAS.

use crate::Idp;
use crate::cas::Attribute;
use crate::crypto::Mac;
use crate::store::{SamlSp, User};

use super::metadata::SpMetadata;
use super::{NAMEID_EMAIL, NAMEID_PERSISTENT, SamlError};

/// An SP and what its metadata said.
#[derive(Clone, Debug)]
pub struct Sp {
    pub row: SamlSp,
    pub meta: SpMetadata,
}

impl Sp {
    pub fn label(&self) -> String {
        super::client_label(&self.row.entity_id)
    }

    pub fn name_id_format(&self) -> &'static str {
        if self.row.name_id == "persistent" {
            NAMEID_PERSISTENT
        } else {
            NAMEID_EMAIL
        }
    }
}

/// The SP `entity_id`, if registered.
pub async fn find(idp: &Idp, entity_id: &str) -> Result<Option<Sp>, SamlError> {
    let Some(row) = idp.store.saml_sp(entity_id).await? else {
        return Ok(None);
    };
    let meta: SpMetadata = serde_json::from_str(&row.endpoints)
        .map_err(|e| SamlError::Metadata(format!("{entity_id}: stored endpoints: {e}")))?;
    Ok(Some(Sp { row, meta }))
}

/// An attribute's SAML name and FriendlyName.
pub const fn saml_name(a: Attribute) -> (&'static str, &'static str) {
    match a {
        Attribute::Email => ("urn:oid:0.9.2342.19200300.100.1.3", "mail"),
        Attribute::Name => ("urn:oid:2.16.840.1.113730.3.1.241", "displayName"),
        Attribute::Unit => ("urn:oid:2.5.4.11", "ou"),
        Attribute::Title => ("urn:oid:2.5.4.12", "title"),
        Attribute::Phone => ("urn:oid:2.5.4.20", "telephoneNumber"),
        Attribute::LegacyUsername => ("urn:oid:0.9.2342.19200300.100.1.1", "uid"),
    }
}

/// The NameID `sp` gets for `user`, and its format.
pub fn name_id(idp: &Idp, sp: &Sp, user: &User) -> (String, &'static str) {
    let format = sp.name_id_format();
    if format == NAMEID_PERSISTENT {
        let mut data = user.id.to_string().into_bytes();
        data.push(0);
        data.extend_from_slice(sp.row.entity_id.as_bytes());
        (
            crate::crypto::b64(&idp.master.mac(Mac::SamlNameId, &data)),
            format,
        )
    } else {
        (user.email.to_string(), format)
    }
}

/// The attributes `sp` is told about `user`, with their values.
pub async fn released(
    idp: &Idp,
    sp: &Sp,
    user: &User,
) -> Result<Vec<(Attribute, String)>, SamlError> {
    let mut out = Vec::new();
    for name in &sp.row.attributes {
        let Some(a) = Attribute::parse(name) else {
            continue;
        };
        if let Some(v) = a.value(&idp.store, user, sp.row.app_id.as_deref()).await? {
            out.push((a, v));
        }
    }
    Ok(out)
}
