//! The signing service as the API uses it: who signs with which key, a
//! bound on how many uploads are held at once, a deferred signature
//! completed once, and the audit record that comes with every signature (no
//! signed document leaves without one).

use std::sync::Arc;

use tokio::sync::{Semaphore, SemaphorePermit};

use super::backend::{BoxFuture, KeyInfo};
use super::trust::Anchors;
use super::tsp::TsaClient;
use super::{
    Appearance, KeyBackend, Placement, Position, SLOT_WAIT, SignKind, SignRequest, Signed,
    SigningError, deferred, policy, verify,
};
use crate::audit::{self, Event, Kind, Who};
use crate::cache::{Cache, CacheBackend};
use crate::config::{Config, SigningConfig};
use crate::crypto::MasterKey;
use crate::store::{Store, User};

/// What a person asks to be signed, besides the document.
#[derive(Clone, Debug)]
pub struct Params {
    pub kind: SignKind,
    pub reason: Option<String>,
    /// Where the signature goes; none: the person's default place from
    /// their account page (an office signature: over the official's).
    pub placement: Option<Placement>,
    /// The signature image to show instead of the account page's.
    pub image: Option<Vec<u8>>,
}

/// Who asks: the person, whether they are a clerk, and the app they ask through.
#[derive(Clone, Copy, Debug)]
pub struct Signer<'a> {
    pub user: &'a User,
    pub is_clerk: bool,
    pub client_id: &'a str,
}

pub struct Service {
    pub backend: Arc<dyn KeyBackend>,
    /// `[signing]`: which key a person or the office signs with.
    cfg: SigningConfig,
    /// `signing.tsa_url`: every signature is time-stamped (PAdES B-T).
    tsa: Option<TsaClient>,
    /// `signing.trust_anchors`: what verification and deferred signers' certificates chain to.
    anchors: Anchors,
    /// `signing.office_name` and the bytes of `signing.office_seal`: the
    /// office signature's appearance, when a seal is configured.
    office: Option<(String, Vec<u8>)>,
    store: Store,
    cache: Cache,
    /// MACs the state of deferred signatures.
    master: Arc<MasterKey>,
    /// Uploads being held (each up to the PDF cap): two per core, so the
    /// bodies waiting for a parsing slot are bounded too.
    uploads: Semaphore,
    /// Requests under way per person, each with the parses it started: one
    /// person (or a token of theirs in a loop) cannot hold every upload
    /// place, nor every parsing slot with parses their requests gave up on.
    per_person: PersonSlots,
}

/// The configured key backend, opened at start and, when that failed (a
/// token not plugged in, a module missing, a wrong PIN), again at the next
/// use: meanwhile signing answers `key_unavailable` and everything else
/// the IdP does goes on.
struct Reopening {
    cfg: SigningConfig,
    store: Store,
    master: Arc<MasterKey>,
    inner: tokio::sync::OnceCell<Arc<dyn KeyBackend>>,
    /// Why opening stopped being tried (a PIN the token refused).
    gave_up: std::sync::OnceLock<String>,
}

impl Reopening {
    async fn get(&self, now: i64) -> Result<&Arc<dyn KeyBackend>, SigningError> {
        if let Some(why) = self.gave_up.get() {
            return Err(SigningError::Key(why.clone()));
        }
        let opened = self
            .inner
            .get_or_try_init(|| policy::open_backend(&self.cfg, &self.store, &self.master, now))
            .await;
        // A PIN the token refused is not tried again: every try counts
        // towards the token locking it.
        if let Err(SigningError::Key(why)) = &opened
            && why.contains("CKR_PIN_")
        {
            let _ = self
                .gave_up
                .set(format!("{why} (not tried again until a restart)"));
        }
        opened
    }
}

impl KeyBackend for Reopening {
    fn key<'a>(&'a self, label: &'a str) -> BoxFuture<'a, Result<KeyInfo, SigningError>> {
        Box::pin(async move { self.get(crate::now()).await?.key(label).await })
    }

    fn sign<'a>(
        &'a self,
        label: &'a str,
        message: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, SigningError>> {
        Box::pin(async move { self.get(crate::now()).await?.sign(label, message).await })
    }
}

/// The most requests one person has under way at once (a request counts
/// until the last parse it started has ended).
pub const PER_PERSON: usize = 2;

/// How many requests each person has under way.
#[derive(Clone, Debug, Default)]
pub struct PersonSlots(Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>);

impl PersonSlots {
    /// A place for one more request of `user_id`, or [`SigningError::Busy`]
    /// when they have [`PER_PERSON`] under way. Reserved under the lock,
    /// not read then written.
    pub fn take(&self, user_id: &str) -> Result<PersonSlot, SigningError> {
        let mut m = self
            .0
            .lock()
            .map_err(|_| SigningError::Worker("a lock was poisoned".into()))?;
        let n = m.entry(user_id.to_owned()).or_insert(0);
        if *n >= PER_PERSON {
            return Err(SigningError::Busy);
        }
        *n += 1;
        Ok(PersonSlot {
            slots: self.clone(),
            user_id: user_id.to_owned(),
        })
    }

    /// How many requests `user_id` has under way.
    pub fn count(&self, user_id: &str) -> usize {
        self.0
            .lock()
            .map_or(0, |m| m.get(user_id).copied().unwrap_or(0))
    }
}

/// A person's place among the requests under way; given back when dropped.
/// Run the request [`super::holding`] it (shared in an `Arc`) so that a
/// parse the request stops waiting for keeps the place until its thread ends.
#[derive(Debug)]
pub struct PersonSlot {
    slots: PersonSlots,
    user_id: String,
}

impl Drop for PersonSlot {
    fn drop(&mut self) {
        if let Ok(mut m) = self.slots.0.lock()
            && let Some(n) = m.get_mut(&self.user_id)
        {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.user_id);
            }
        }
    }
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("signing::Service")
    }
}

impl Service {
    pub async fn open(
        config: &Config,
        store: &Store,
        cache: &Cache,
        master: &Arc<MasterKey>,
        now: i64,
    ) -> Result<Service, SigningError> {
        let backend = Reopening {
            cfg: config.signing.clone(),
            store: store.clone(),
            master: Arc::clone(master),
            inner: tokio::sync::OnceCell::new(),
            gave_up: std::sync::OnceLock::new(),
        };
        // Tried now so a mistake shows in the log at start; a token that is
        // not there yet does not stop the sign-on service.
        if let Err(e) = backend.get(now).await {
            tracing::error!(error = %e, "the document-signing keys are not available; signing answers key_unavailable and tries again on the next request");
        }
        let backend: Arc<dyn KeyBackend> = Arc::new(backend);
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let anchors = Anchors::load(&config.signing.trust_anchors)?;
        Ok(Service {
            backend,
            cfg: config.signing.clone(),
            tsa: config
                .signing
                .tsa_url
                .as_deref()
                .map(|url| {
                    Ok::<_, SigningError>(TsaClient::new(url)?.with_anchors(anchors.clone()))
                })
                .transpose()?,
            anchors,
            office: match &config.signing.office_seal {
                Some(path) => Some((
                    config.signing.office_name.clone().unwrap_or_default(),
                    std::fs::read(path).map_err(|e| {
                        SigningError::Key(format!("signing.office_seal {}: {e}", path.display()))
                    })?,
                )),
                None => None,
            },
            store: store.clone(),
            cache: cache.clone(),
            master: Arc::clone(master),
            uploads: Semaphore::new(2 * cores),
            per_person: PersonSlots::default(),
        })
    }

    /// A place for one more request of `user_id`, or [`SigningError::Busy`]
    /// when they have [`PER_PERSON`] under way.
    pub fn person_slot(&self, user_id: &str) -> Result<PersonSlot, SigningError> {
        self.per_person.take(user_id)
    }

    /// A place for one upload, or [`SigningError::Busy`] after a while.
    pub async fn upload_slot(&self) -> Result<SemaphorePermit<'_>, SigningError> {
        match tokio::time::timeout(SLOT_WAIT, self.uploads.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(SigningError::Busy),
        }
    }

    /// The key `who` signs `kind` with: their own for a personal
    /// signature, the office's for an organisation one, which only a clerk
    /// (văn thư) may use.
    pub fn key_for(&self, kind: SignKind, who: &Signer<'_>) -> Result<String, SigningError> {
        policy::key_for(&self.cfg, kind, who.user.email.as_str(), who.is_clerk)
    }

    /// Signs `input` for `signer` with the key [`Service::key_for`] picks,
    /// and records it in the audit log before answering.
    pub async fn sign_for(
        &self,
        signer: &Signer<'_>,
        input: super::Upload,
        params: &Params,
        who: &Who,
        now: i64,
    ) -> Result<Signed, SigningError> {
        let key = self.key_for(params.kind, signer)?;
        // A person's key must carry their own certificate: a token set up
        // with someone else's under their label is refused.
        if params.kind == SignKind::Personal {
            let info = self.backend.key(&key).await?;
            let cert = info.chain.first().ok_or(SigningError::NoCertificate)?;
            let cert = <x509_cert::Certificate as der::Decode>::from_der(cert)?;
            if !deferred::belongs_to(&cert, signer.user.email.as_str()) {
                return Err(SigningError::NotYourCertificate);
            }
        }
        // The clerk seals what an official signed: a document with no
        // signature, one whose signatures no longer hold (changed after
        // signing, a signature broken or removed), or, with trust anchors
        // configured, one signed by someone they do not vouch for, is not
        // issued under the office's seal.
        if params.kind == SignKind::Organization {
            let report = self.verify(input.bytes().to_vec(), now).await?;
            verify::check_sealable(&report, !self.anchors.is_empty())?;
        }
        let (placement, appearance) = self.look(signer.user, params).await?;
        let req = SignRequest {
            key: &key,
            kind: params.kind,
            reason: params.reason.as_deref(),
            tsa: self.tsa.as_ref(),
            placement,
            appearance,
        };
        let signed = super::sign_pdf(self.backend.as_ref(), input, &req, now).await?;
        let detail = detail(&signed, params.kind, &key);
        record(
            &self.store,
            Kind::SignPdfSigned,
            signer.user,
            detail,
            who,
            now,
        )
        .await?;
        Ok(signed)
    }

    /// Where a signature goes and what it shows. A personal one: the place
    /// asked for or the person's default from their account page, their
    /// signature image (the one sent, or the account page's), name and
    /// title. The office's: over the official's signature, its seal, name
    /// and the time; invisible when no seal is configured.
    async fn look(
        &self,
        user: &User,
        params: &Params,
    ) -> Result<(Option<Position>, Option<Appearance>), SigningError> {
        let default = |over: bool| {
            let (page, place) = (user.signature_page, user.signature_place);
            if over {
                Position::OverLastSignature { page, place }
            } else {
                Position::Default { page, place }
            }
        };
        match params.kind {
            SignKind::Personal => {
                let image = match &params.image {
                    Some(i) => Some(i.clone()),
                    None => self.store.signature(&user.id).await?.map(|s| s.image),
                };
                let appearance = Appearance::Personal {
                    name: user.name.clone(),
                    title: user.title.clone(),
                    image,
                };
                let at = params.placement.map_or(default(false), Position::At);
                Ok((Some(at), Some(appearance)))
            }
            SignKind::Organization => match &self.office {
                // The office's seal is the configured one: a clerk does not
                // choose what the office's seal looks like.
                Some((office, seal)) => {
                    let appearance = Appearance::Organization {
                        office: office.clone(),
                        seal: seal.clone(),
                    };
                    let at = params.placement.map_or(default(true), Position::At);
                    Ok((Some(at), Some(appearance)))
                }
                None => Ok((params.placement.map(Position::At), None)),
            },
        }
    }

    /// The verification report of a document, against the trust anchors.
    pub async fn verify(&self, input: Vec<u8>, now: i64) -> Result<verify::Report, SigningError> {
        let anchors = self.anchors.clone();
        super::on_blocking(move || verify::verify_with(&input, &anchors, now)).await
    }

    /// [`deferred::prepare`], audited: a personal signature only (the
    /// office's key is on the server).
    pub async fn prepare(
        &self,
        signer: &Signer<'_>,
        input: super::Upload,
        chain: Vec<Vec<u8>>,
        params: &Params,
        who: &Who,
        now: i64,
    ) -> Result<deferred::Prepared, SigningError> {
        if params.kind != SignKind::Personal {
            return Err(SigningError::DeferredPersonalOnly);
        }
        let (placement, appearance) = self.look(signer.user, params).await?;
        let req = SignRequest {
            key: "",
            kind: params.kind,
            reason: params.reason.as_deref(),
            tsa: None,
            placement,
            appearance,
        };
        let bound = deferred::Bound {
            user_id: signer.user.id.as_str(),
            email: signer.user.email.as_str(),
            client_id: signer.client_id,
        };
        let prepared =
            deferred::prepare(&self.master, &bound, &self.anchors, input, chain, &req, now).await?;
        let detail = serde_json::json!({
            "document_sha256": prepared.input_sha256,
            "to_sign_sha256": super::hex(&prepared.to_sign_sha256),
            "certificate": prepared.signer,
            "client": signer.client_id,
        });
        record(
            &self.store,
            Kind::SignPdfPrepared,
            signer.user,
            detail,
            who,
            now,
        )
        .await?;
        Ok(prepared)
    }

    /// [`deferred::complete`], once per state, audited like [`Service::sign_for`].
    pub async fn complete(
        &self,
        signer: &Signer<'_>,
        prepared: Vec<u8>,
        state: &str,
        signature: Vec<u8>,
        who: &Who,
        now: i64,
    ) -> Result<Signed, SigningError> {
        let bound = deferred::Bound {
            user_id: signer.user.id.as_str(),
            email: signer.user.email.as_str(),
            client_id: signer.client_id,
        };
        let done = deferred::complete(
            &self.master,
            &bound,
            prepared,
            state,
            signature,
            self.tsa.as_ref(),
            now,
        )
        .await?;
        // Once per state: a second complete of the same one is refused.
        let key = format!("signing:deferred:{}", done.state_id);
        let ttl = std::time::Duration::from_secs(deferred::STATE_TTL_SECS.unsigned_abs() + 60);
        if !self
            .cache
            .set_nx(&key, b"1", ttl)
            .await
            .map_err(|e| SigningError::Cache(e.to_string()))?
        {
            return Err(SigningError::BadState("it has been used already"));
        }
        let detail = detail(&done.signed, done.kind, "deferred");
        record(
            &self.store,
            Kind::SignPdfSigned,
            signer.user,
            detail,
            who,
            now,
        )
        .await?;
        Ok(done.signed)
    }
}

fn detail(signed: &Signed, kind: SignKind, key: &str) -> serde_json::Value {
    serde_json::json!({
        "document_sha256": signed.input_sha256,
        "signed_sha256": signed.output_sha256,
        "kind": kind.as_str(),
        "key": key,
        "certificate": signed.signer,
        "position": match signed.placement {
            Some(p) => serde_json::json!({"page": p.page, "rect": p.rect.to_array()}),
            None => serde_json::json!("invisible"),
        },
    })
}

/// An audit record of the signing service. A signature that cannot be
/// recorded is not given out.
async fn record(
    store: &Store,
    kind: Kind,
    user: &User,
    detail: serde_json::Value,
    who: &Who,
    now: i64,
) -> Result<(), SigningError> {
    let mut event = Event::new(kind, now)
        .actor(user.id.as_str())
        .subject(user.email.as_str())
        .request(who.request_id.as_str())
        .detail(detail.to_string());
    event.ip = who.ip.clone();
    audit::record(store, event).await?;
    Ok(())
}
