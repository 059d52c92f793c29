//! Who acted, as the audit log records it: the client's address and the
//! request id (shown on error pages, so an admin can find the entry).

use crate::Idp;
use crate::store::{AuditEvent, User};

#[derive(Clone, Debug, Default)]
pub struct Who {
    pub ip: Option<String>,
    pub request_id: String,
}

impl Who {
    /// Records that this request did `kind` to `user`'s account.
    pub async fn audit(
        &self,
        idp: &Idp,
        kind: &str,
        user: &User,
        detail: Option<String>,
        now: i64,
    ) {
        let mut e = AuditEvent::new(kind, now);
        e.actor = Some(user.id.to_string());
        e.subject = Some(user.email.to_string());
        e.ip = self.ip.clone();
        e.request_id = Some(self.request_id.clone());
        e.detail = detail;
        idp.audit(e).await;
    }
}
