//! `idp sign …`: signing PDF documents with a key the server holds, and
//! verifying the signatures in one.

use std::path::PathBuf;

use clap::Subcommand;

use super::{CliError, fail};
use crate::audit::{self, Event, Kind};
use crate::config::Config;
use crate::config::SigningBackend;
use crate::now;
use crate::signing::{self, SignKind, SignRequest, pdf, policy, soft};

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
    },
    /// Check every signature in a PDF and print a JSON report.
    Verify {
        /// The PDF to check.
        file: PathBuf,
    },
    /// Print the software key's certificate (PEM), generating the key if
    /// there is none yet: the trust anchor for checking test signatures.
    Certificate,
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

/// Reads a file the signing service may take, refusing an oversized one
/// before reading it whole.
fn read_pdf(path: &PathBuf) -> Result<Vec<u8>, CliError> {
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
    std::fs::read(path).map_err(|e| fail(format!("{}: {e}", path.display())))
}

pub(super) async fn run(config: &Config, cmd: SignCommand) -> Result<(), CliError> {
    match cmd {
        SignCommand::Pdf {
            input,
            output,
            key,
            kind,
            reason,
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
            let bytes = read_pdf(&input)?;
            let (store, master) = crate::open_store(config).await?;
            let now = now();
            let backend = policy::open_backend(&config.signing, &store, &master, now).await?;
            let req = SignRequest {
                key: &key,
                kind: kind.into(),
                reason: reason.as_deref(),
            };
            let signed = signing::sign_pdf(backend.as_ref(), bytes, &req, now)
                .await
                .map_err(|e| fail(format!("{}: {e}", input.display())))?;
            signing::write_atomically(&output, &signed.pdf)
                .map_err(|e| fail(format!("{}: {e}", output.display())))?;
            let detail = serde_json::json!({
                "document_sha256": signed.input_sha256,
                "signed_sha256": signed.output_sha256,
                "kind": req.kind.as_str(),
                "key": req.key,
                "position": "invisible",
            });
            audit::record(
                &store,
                Event::new(Kind::SignPdfSigned, now)
                    .actor("cli")
                    .subject(signed.signer.as_str())
                    .detail(detail.to_string()),
            )
            .await?;
            println!("signed {} → {}", input.display(), output.display());
            println!("signer: {}", signed.signer);
            println!("sha256: {}", signed.output_sha256);
        }
        SignCommand::Verify { file } => {
            let bytes = read_pdf(&file)?;
            let report = signing::on_blocking(move || signing::verify::verify(&bytes))
                .await
                .map_err(|e| fail(format!("{}: {e}", file.display())))?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        SignCommand::Certificate => {
            let (store, master) = crate::open_store(config).await?;
            let backend = soft::SoftBackend::open(&store, &master, now()).await?;
            println!("{}", pem(backend.certificate()));
        }
    }
    Ok(())
}
