//! `idp sign …`: signing PDF documents with a key the server holds, and
//! verifying the signatures in one.

use std::path::PathBuf;

use clap::Subcommand;

use super::{CliError, fail};
use crate::audit::{self, Event, Kind};
use crate::config::Config;
use crate::config::SigningBackend;
use crate::images;
use crate::now;
use crate::signing::{
    self, Appearance, KeyBackend, Placement, Position, SignKind, SignRequest, pdf, policy, soft,
    trust, tsp,
};

#[derive(Debug, Subcommand)]
pub enum SignCommand {
    /// Sign a PDF (PAdES, an incremental update) with a key of the
    /// configured backend (`[signing]`).
    Pdf {
        /// The PDF to sign.
        input: PathBuf,
        /// Where to write the signed PDF (written whole or not at all).
        output: PathBuf,
        /// The key's label (CKA_LABEL on a PKCS#11 token); default: the
        /// software key (`soft`); required with backend pkcs11.
        #[arg(long)]
        key: Option<String>,
        /// What the signature is: the person's own, or the office's seal.
        #[arg(long, value_enum, default_value_t = KindArg::Personal)]
        kind: KindArg,
        /// Why it is signed (the signature's /Reason).
        #[arg(long)]
        reason: Option<String>,
        /// The page of a visible signature, numbered from 1 (with --rect).
        #[arg(long, requires = "rect")]
        page: Option<u32>,
        /// Its rectangle x1,y1,x2,y2 in PDF points (user space, origin at the
        /// page's lower left; with --page). Without --page/--rect a visible
        /// signature goes to the last page's bottom right.
        #[arg(long, requires = "page", allow_hyphen_values = true)]
        rect: Option<signing::Rect>,
        /// The signature image (PNG or JPEG, as the account page takes), or
        /// the seal with --office.
        #[arg(long, value_name = "PNG")]
        image: Option<PathBuf>,
        /// The signer's name under the image (default: the certificate's).
        #[arg(long, value_name = "TEXT")]
        name: Option<String>,
        /// The signer's title (chức vụ) under the name.
        #[arg(long, value_name = "TEXT")]
        title: Option<String>,
        /// The office's name: draws the office's signature (the seal from
        /// --image over the left third, the name and the signing time).
        #[arg(long, value_name = "TEXT", requires = "image", conflicts_with_all = ["name", "title"])]
        office: Option<String>,
    },
    /// Check every signature in a PDF and print a JSON report.
    Verify {
        /// The PDF to check.
        file: PathBuf,
        /// A trust anchor (PEM file), besides those of
        /// `signing.trust_anchors`; may be given more than once.
        #[arg(long = "anchor")]
        anchors: Vec<PathBuf>,
    },
    /// Print a software key's certificate (PEM), generating the key if
    /// there is none yet: the trust anchor for checking test signatures.
    /// The office's by default; `--email` for a person's own.
    Certificate {
        /// The person whose software key (`soft:EMAIL`) to show.
        #[arg(long)]
        email: Option<String>,
    },
}

/// `--kind`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum KindArg {
    Personal,
    Organization,
}

impl From<KindArg> for SignKind {
    fn from(k: KindArg) -> SignKind {
        match k {
            KindArg::Personal => SignKind::Personal,
            KindArg::Organization => SignKind::Organization,
        }
    }
}

/// PEM (RFC 7468) of a DER certificate.
fn pem(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----");
    out
}

/// Reads a signature or seal image, refusing an oversized, broken or
/// non-PNG/JPEG one here, before anything is signed.
fn read_image(path: &PathBuf) -> Result<Vec<u8>, CliError> {
    let len = std::fs::metadata(path)
        .map_err(|e| fail(format!("{}: {e}", path.display())))?
        .len();
    if usize::try_from(len).map_or(true, |l| l > images::SIGNATURE_MAX_BYTES) {
        return Err(fail(format!(
            "{}: the image is {}",
            path.display(),
            images::ImageError::TooManyBytes
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(format!("{}: {e}", path.display())))?;
    images::decode_signature(&bytes)
        .map_err(|e| fail(format!("{}: the image: {e}", path.display())))?;
    Ok(bytes)
}

/// What a visible signature asked for on the command line shows, if any.
fn appearance_from_flags(
    image: Option<&PathBuf>,
    name: Option<String>,
    title: Option<String>,
    office: Option<String>,
    visible: bool,
) -> Result<Option<Appearance>, CliError> {
    let image = image.map(read_image).transpose()?;
    if let Some(office) = office {
        return Ok(image.map(|seal| Appearance::Organization { office, seal }));
    }
    if image.is_none() && name.is_none() && title.is_none() && !visible {
        return Ok(None);
    }
    Ok(Some(Appearance::Personal {
        // Empty: the certificate's name is drawn.
        name: name.unwrap_or_default(),
        title,
        image,
    }))
}

/// Reads a file the signing service may take, refusing an oversized one
/// before reading it whole; hashed as it is read ([`signing::Upload`]).
fn read_pdf(path: &PathBuf) -> Result<signing::Upload, CliError> {
    let len = std::fs::metadata(path)
        .map_err(|e| fail(format!("{}: {e}", path.display())))?
        .len();
    if usize::try_from(len).map_or(true, |l| l > pdf::MAX_PDF_BYTES) {
        return Err(fail(format!(
            "{}: {}",
            path.display(),
            signing::SigningError::TooLarge {
                limit: pdf::MAX_PDF_BYTES
            }
        )));
    }
    // With room after it for the update, so signing appends in place.
    let mut doc = signing::Upload::expecting(usize::try_from(len).unwrap_or(0));
    std::fs::File::open(path)
        .and_then(|mut f| doc.read_from(&mut f))
        .map_err(|e| fail(format!("{}: {e}", path.display())))?;
    Ok(doc)
}

pub(super) async fn run(config: &Config, cmd: SignCommand) -> Result<(), CliError> {
    match cmd {
        SignCommand::Pdf {
            input,
            output,
            key,
            kind,
            reason,
            page,
            rect,
            image,
            name,
            title,
            office,
        } => {
            // The operator names the key; the web and API go through signing::policy.
            let key = match (key, config.signing.backend) {
                (Some(k), _) => k,
                (None, SigningBackend::Soft) => soft::LABEL.to_owned(),
                (None, SigningBackend::Pkcs11) => {
                    return Err(fail(
                        "with signing.backend = pkcs11, name the key: --key LABEL (its CKA_LABEL)",
                    ));
                }
            };
            let placement = match (page, rect) {
                (Some(page), Some(rect)) => Some(Position::At(Placement { page, rect })),
                _ => None,
            };
            let appearance =
                appearance_from_flags(image.as_ref(), name, title, office, placement.is_some())?;
            // The document, the database and the token are opened side by
            // side: each mostly waits on the disk or the token's own files.
            let path = input.clone();
            let read = async move {
                tokio::task::spawn_blocking(move || read_pdf(&path))
                    .await
                    .map_err(|e| fail(format!("reading the document: {e}")))?
            };
            let token = async {
                match config.signing.backend {
                    SigningBackend::Pkcs11 => Some(policy::open_pkcs11(&config.signing).await),
                    SigningBackend::Soft => None,
                }
            };
            let (bytes, opened, token) = tokio::join!(read, crate::open_store(config), token);
            let bytes = bytes?;
            let (store, master) = opened?;
            let now = now();
            let backend = match token {
                Some(token) => token?,
                None => policy::open_backend(&config.signing, &store, &master, now).await?,
            };
            let tsa = match &config.signing.tsa_url {
                Some(url) => Some(
                    tsp::TsaClient::new(url)
                        .map_err(|e| fail(format!("signing.tsa_url: {e}")))?
                        .with_anchors(trust::Anchors::load(&config.signing.trust_anchors)?),
                ),
                None => None,
            };
            let req = SignRequest {
                key: &key,
                kind: kind.into(),
                reason: reason.as_deref(),
                tsa: tsa.as_ref(),
                placement,
                appearance,
            };
            // The clerk's office signature goes only on what an official
            // signed, as through the API.
            if req.kind == SignKind::Organization {
                let anchors = trust::Anchors::load(&config.signing.trust_anchors)
                    .map_err(|e| fail(format!("trust anchors: {e}")))?;
                let trust_required = !anchors.is_empty();
                let input_bytes = bytes.bytes().to_vec();
                let report = signing::on_blocking(move || {
                    signing::verify::verify_with(&input_bytes, &anchors, now)
                })
                .await
                .map_err(|e| fail(format!("{}: {e}", input.display())))?;
                signing::verify::check_sealable(&report, trust_required)
                    .map_err(|e| fail(format!("{}: {e}", input.display())))?;
            }
            let signed = signing::sign_pdf(backend.as_ref(), bytes, &req, now)
                .await
                .map_err(|e| fail(format!("{}: {e}", input.display())))?;
            let detail = serde_json::json!({
                "document_sha256": signed.input_sha256,
                "signed_sha256": signed.output_sha256,
                "kind": req.kind.as_str(),
                "key": req.key,
                "position": match signed.placement {
                    Some(p) => serde_json::json!({"page": p.page, "rect": p.rect.to_array()}),
                    None => serde_json::json!("invisible"),
                },
                "timestamped": tsa.is_some(),
            });
            // No output without its audit record, and no output removed
            // once in place: staged whole, audited, then renamed.
            let audit = audit::record(
                &store,
                Event::new(Kind::SignPdfSigned, now)
                    .actor("cli")
                    .subject(signed.signer.as_str())
                    .detail(detail.to_string()),
            );
            signing::write_audited(&output, &signed.pdf, audit)
                .await
                .map_err(|e| fail(format!("{}: {e}", output.display())))?;
            println!("signed {} → {}", input.display(), output.display());
            println!("signer: {}", signed.signer);
            println!("sha256: {}", signed.output_sha256);
        }
        SignCommand::Verify { file, anchors } => {
            let bytes = read_pdf(&file)?.into_bytes();
            let paths: Vec<PathBuf> = config
                .signing
                .trust_anchors
                .iter()
                .chain(&anchors)
                .cloned()
                .collect();
            let anchors =
                trust::Anchors::load(&paths).map_err(|e| fail(format!("trust anchors: {e}")))?;
            let now = now();
            let report =
                signing::on_blocking(move || signing::verify::verify_with(&bytes, &anchors, now))
                    .await
                    .map_err(|e| fail(format!("{}: {e}", file.display())))?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        SignCommand::Certificate { email } => {
            let (store, master) = crate::open_store(config).await?;
            let backend = soft::SoftBackend::open(&store, &master, now()).await?;
            let label = email
                .as_deref()
                .map_or(soft::LABEL.into(), soft::person_label);
            let key = backend.key(&label).await.map_err(|e| fail(e.to_string()))?;
            let cert = key
                .chain
                .first()
                .ok_or_else(|| fail("the key has no certificate"))?;
            println!("{}", pem(cert));
        }
    }
    Ok(())
}
