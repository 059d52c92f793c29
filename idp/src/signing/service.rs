//! The signing service as the API uses it: who signs with which key, a
//! bound on how many documents are read at once, and the audit record that
//! comes with every signature (no signed document leaves without one).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

use super::{KeyBackend, SignKind, SignRequest, Signed, SigningError, deferred, soft, verify};
use crate::audit::{self, Event, Kind, Who};
use crate::crypto::MasterKey;
use crate::store::{Store, User};

/// How long a request waits for a free slot before it is told the service is busy.
const SLOT_WAIT: Duration = Duration::from_secs(30);

/// What a person asks to be signed, besides the document.
#[derive(Clone, Debug)]
pub struct Params {
    pub kind: SignKind,
    pub reason: Option<String>,
}

pub struct Service {
    pub backend: Arc<dyn KeyBackend>,
    store: Store,
    /// MACs the state of deferred signatures.
    master: Arc<MasterKey>,
    /// One slot per core: a PDF being read holds memory up to the caps of
    /// [`super::pdf`], so at most this many are read at once.
    slots: Semaphore,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("signing::Service")
    }
}

impl Service {
    pub async fn open(
        store: &Store,
        master: &Arc<MasterKey>,
        now: i64,
    ) -> Result<Service, SigningError> {
        let backend: Arc<dyn KeyBackend> =
            Arc::new(soft::SoftBackend::open(store, master, now).await?);
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Ok(Service {
            backend,
            store: store.clone(),
            master: Arc::clone(master),
            slots: Semaphore::new(cores),
        })
    }

    async fn slot(&self) -> Result<SemaphorePermit<'_>, SigningError> {
        match tokio::time::timeout(SLOT_WAIT, self.slots.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(SigningError::Busy),
        }
    }

    /// The key `user` signs `kind` with: their own for a personal
    /// signature, the office's for an organisation one, which only a clerk
    /// (văn thư) may use.
    pub fn key_for(
        &self,
        kind: SignKind,
        _user: &User,
        is_clerk: bool,
    ) -> Result<String, SigningError> {
        match kind {
            SignKind::Personal => Ok(soft::LABEL.to_owned()),
            SignKind::Organization if is_clerk => Ok(soft::LABEL.to_owned()),
            SignKind::Organization => Err(SigningError::NotAllowed),
        }
    }

    /// Signs `input` for `user` with the key [`Service::key_for`] picks, and
    /// records it in the audit log before answering.
    pub async fn sign_for(
        &self,
        user: &User,
        is_clerk: bool,
        input: Vec<u8>,
        params: &Params,
        who: &Who,
        now: i64,
    ) -> Result<Signed, SigningError> {
        let key = self.key_for(params.kind, user, is_clerk)?;
        let _slot = self.slot().await?;
        let req = SignRequest {
            key: &key,
            kind: params.kind,
            reason: params.reason.as_deref(),
        };
        let signed = super::sign_pdf(self.backend.as_ref(), input, &req, now).await?;
        record(&self.store, user, &signed, params.kind, &key, who, now).await?;
        Ok(signed)
    }

    /// The verification report of a document.
    pub async fn verify(&self, input: Vec<u8>) -> Result<verify::Report, SigningError> {
        let _slot = self.slot().await?;
        super::on_blocking(move || verify::verify(&input)).await
    }

    /// [`deferred::prepare`] under a slot; a personal signature only (the
    /// office's key is on the server).
    pub async fn prepare(
        &self,
        user: &User,
        input: Vec<u8>,
        chain: Vec<Vec<u8>>,
        params: &Params,
        now: i64,
    ) -> Result<deferred::Prepared, SigningError> {
        if params.kind != SignKind::Personal {
            return Err(SigningError::NotAllowed);
        }
        let _slot = self.slot().await?;
        let req = SignRequest {
            key: "",
            kind: params.kind,
            reason: params.reason.as_deref(),
        };
        deferred::prepare(
            &self.master,
            user.id.as_str(),
            user.email.as_str(),
            input,
            chain,
            &req,
            now,
        )
        .await
    }

    /// [`deferred::complete`] under a slot, audited like [`Service::sign_for`].
    pub async fn complete(
        &self,
        user: &User,
        prepared: Vec<u8>,
        state: &str,
        signature: Vec<u8>,
        who: &Who,
        now: i64,
    ) -> Result<Signed, SigningError> {
        let _slot = self.slot().await?;
        let (signed, kind) = deferred::complete(
            &self.master,
            user.id.as_str(),
            prepared,
            state,
            signature,
            now,
        )
        .await?;
        record(&self.store, user, &signed, kind, "deferred", who, now).await?;
        Ok(signed)
    }
}

/// The audit record of a signature: the document's hash before and after,
/// signer, kind, key, position, time. A signature that cannot be recorded is
/// not given out.
async fn record(
    store: &Store,
    user: &User,
    signed: &Signed,
    kind: SignKind,
    key: &str,
    who: &Who,
    now: i64,
) -> Result<(), SigningError> {
    let detail = serde_json::json!({
        "document_sha256": signed.input_sha256,
        "signed_sha256": signed.output_sha256,
        "kind": kind.as_str(),
        "key": key,
        "certificate": signed.signer,
        "position": "invisible",
    });
    let mut event = Event::new(Kind::SignPdfSigned, now)
        .actor(user.id.as_str())
        .subject(user.email.as_str())
        .request(who.request_id.as_str())
        .detail(detail.to_string());
    event.ip = who.ip.clone();
    audit::record(store, event).await?;
    Ok(())
}
