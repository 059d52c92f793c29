//! RFC 3161 time-stamps for PAdES baseline B-T (ETSI EN 319 142-1 §5.3):
//! after the signature is made, the SHA-256 of its value is sent to a
//! time-stamping authority, and the token it answers (a CMS SignedData over
//! a TSTInfo) goes into the SignerInfo as the unsigned attribute
//! signature-time-stamp-token (RFC 5126 §5.11.4, id-aa 14).
//!
//! A TSA is a peer outside our control: connect and total timeouts, no
//! redirects, a cap on the answer's size, and the token is checked (status,
//! imprint, nonce, its own signature with the certificate it carries)
//! before anything uses it.

use std::time::Duration;

use aws_lc_rs::digest::{SHA256, digest};
use der::asn1::{Any, GeneralizedTime, Int, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;

use super::trust::{self, Anchors};
use super::{SigningError, cms, oids};

/// The largest answer a TSA may send: a token with a short chain is a few KiB.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// How long connecting to the TSA may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the whole exchange may take.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(15);

/// RFC 3161 §2.4.1 MessageImprint.
#[derive(Clone, Debug, Sequence, PartialEq, Eq)]
pub struct MessageImprint {
    pub hash_algorithm: AlgorithmIdentifierOwned,
    pub hashed_message: OctetString,
}

/// RFC 3161 §2.4.1 TimeStampReq (no policy, no extensions).
#[derive(Clone, Debug, Sequence)]
struct TimeStampReq {
    version: u8,
    message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    req_policy: Option<ObjectIdentifier>,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(default = "Default::default")]
    cert_req: bool,
}

/// RFC 3161 §2.4.2 PKIStatusInfo (the free text is kept opaque).
#[derive(Clone, Debug, Sequence)]
struct PkiStatusInfo {
    status: u8,
    #[asn1(optional = "true")]
    status_string: Option<Vec<Any>>,
    #[asn1(optional = "true")]
    fail_info: Option<der::asn1::BitString>,
}

/// RFC 3161 §2.4.2 TimeStampResp; the token is a ContentInfo, kept as DER.
#[derive(Clone, Debug, Sequence)]
struct TimeStampResp {
    status: PkiStatusInfo,
    #[asn1(optional = "true")]
    token: Option<Any>,
}

/// RFC 3161 §2.4.2 Accuracy.
#[derive(Clone, Debug, Sequence)]
struct Accuracy {
    #[asn1(optional = "true")]
    seconds: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    millis: Option<Int>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    micros: Option<Int>,
}

/// RFC 3161 §2.4.2 TSTInfo. genTime is read as it came (a TSA may write
/// fractions of a second, which `GeneralizedTime` refuses).
#[derive(Clone, Debug, Sequence)]
struct TstInfo {
    version: u8,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: Any,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    ordering: bool,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<GeneralName>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<Vec<Extension>>,
}

/// What a checked time-stamp token says.
#[derive(Clone, Debug)]
pub struct Token {
    /// When the TSA says it saw the imprint, seconds since the epoch.
    pub gen_time: i64,
    /// genTime as RFC 3339 text (UTC).
    pub gen_time_text: String,
    /// The subject of the certificate whose key signed the token.
    pub tsa: String,
    /// That certificate, DER.
    pub tsa_der: Vec<u8>,
    /// Every certificate the token carries, DER (for building its chain).
    pub certificates: Vec<Vec<u8>>,
    /// The SHA-256 imprint the token covers.
    pub imprint: Vec<u8>,
    /// The token's nonce, when it has one (big-endian, minimal).
    nonce: Option<Vec<u8>>,
}

fn ts_error(what: impl Into<String>) -> SigningError {
    SigningError::TimeStamp(what.into())
}

/// Reads genTime: `YYYYMMDDHHMMSS[.f…]Z` (RFC 3161 §2.4.2 wants UTC with `Z`).
fn gen_time(any: &Any) -> Result<i64, SigningError> {
    if der::Tagged::tag(any) != der::Tag::GeneralizedTime {
        return Err(ts_error("the token's genTime is not a GeneralizedTime"));
    }
    let text = std::str::from_utf8(any.value())
        .map_err(|_| ts_error("the token's genTime is not text"))?;
    let bad = || {
        ts_error(format!(
            "the token's genTime {text:?} is not YYYYMMDDHHMMSS[.f]Z"
        ))
    };
    let body = text.strip_suffix('Z').ok_or_else(bad)?;
    let (whole, frac) = body.split_once('.').unwrap_or((body, "0"));
    if whole.len() != 14
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.is_empty()
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let n = |r: std::ops::Range<usize>| whole[r].parse::<u16>().map_err(|_| bad());
    let t = GeneralizedTime::from_date_time(
        der::DateTime::new(
            n(0..4)?,
            u8::try_from(n(4..6)?).map_err(|_| bad())?,
            u8::try_from(n(6..8)?).map_err(|_| bad())?,
            u8::try_from(n(8..10)?).map_err(|_| bad())?,
            u8::try_from(n(10..12)?).map_err(|_| bad())?,
            u8::try_from(n(12..14)?).map_err(|_| bad())?,
        )
        .map_err(|_| bad())?,
    );
    i64::try_from(t.to_unix_duration().as_secs()).map_err(|_| bad())
}

/// RFC 3339 text of a time in seconds since the epoch.
pub fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Checks a time-stamp token (a ContentInfo, DER): a SignedData over a
/// TSTInfo whose imprint is the SHA-256 of `signature`, signed (with the
/// content-type and message-digest attributes) by a certificate it carries.
pub fn check_token(token: &[u8], signature: &[u8]) -> Result<Token, SigningError> {
    check_token_over(token, digest(&SHA256, signature).as_ref(), "the signature")
}

/// [`check_token`] for a token whose imprint must be `sha256`, the digest
/// of `what` (a document time-stamp's: the bytes its /ByteRange covers).
pub fn check_token_over(token: &[u8], sha256: &[u8], what: &str) -> Result<Token, SigningError> {
    let sd = cms::parse_signed_data(token, oids::TST_INFO)
        .map_err(|e| ts_error(format!("the token is not a SignedData: {e}")))?;
    let content = sd
        .econtent
        .as_deref()
        .ok_or_else(|| ts_error("the token has no TSTInfo"))?;
    let info =
        TstInfo::from_der(content).map_err(|e| ts_error(format!("the token's TSTInfo: {e}")))?;
    if info.version != 1 {
        return Err(ts_error("the token's TSTInfo is not version 1"));
    }
    // RFC 3161 §2.4.2: the ESS signing-certificate attribute names the
    // TSA's certificate, so another certificate on its key cannot claim it.
    if !cms::names_certificate(&sd.signed_attrs, &sd.signer_der) {
        return Err(ts_error(
            "the token's signed attributes do not name its TSA certificate",
        ));
    }
    if sd.digest_algorithm != oids::SHA256
        || digest(&SHA256, content).as_ref() != sd.message_digest.as_slice()
    {
        return Err(ts_error("the token's digest does not match its TSTInfo"));
    }
    if !cms::verify(
        &sd.signer,
        sd.signature_algorithm,
        &sd.attrs_der,
        &sd.signature,
    ) {
        return Err(ts_error(
            "the token's signature does not verify with its TSA certificate",
        ));
    }
    let imprint = &info.message_imprint;
    if imprint.hash_algorithm.oid != oids::SHA256
        || !crate::crypto::ct_eq(imprint.hashed_message.as_bytes(), sha256)
    {
        return Err(ts_error(format!(
            "the token's imprint is not the SHA-256 of {what}"
        )));
    }
    let gen_time = gen_time(&info.gen_time)?;
    Ok(Token {
        gen_time,
        gen_time_text: rfc3339(gen_time),
        tsa: cms::subject(&sd.signer),
        tsa_der: sd.signer_der.clone(),
        certificates: sd.certificates.clone(),
        imprint: imprint.hashed_message.as_bytes().to_vec(),
        nonce: info.nonce.map(|n| n.as_bytes().to_vec()),
    })
}

/// A time-stamping authority reached over HTTP (RFC 3161 §3.4).
#[derive(Clone, Debug)]
pub struct TsaClient {
    url: reqwest::Url,
    http: reqwest::Client,
    /// What the token's signer must chain to (`signing.trust_anchors`);
    /// empty: not checked here (verification reports it).
    anchors: Anchors,
}

/// How far the TSA's clock may be from ours.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

impl TsaClient {
    /// A client for the TSA at `url` (http or https).
    pub fn new(url: &str) -> Result<TsaClient, SigningError> {
        let url =
            reqwest::Url::parse(url).map_err(|e| ts_error(format!("TSA URL {url:?}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ts_error(format!("TSA URL {url}: not http or https")));
        }
        let http = reqwest::Client::builder()
            // A TSA that redirects is answering something else.
            .redirect(reqwest::redirect::Policy::none())
            // Straight to the TSA: no proxy from the environment in between.
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TOTAL_TIMEOUT)
            .build()
            .map_err(|e| ts_error(e.to_string()))?;
        Ok(TsaClient {
            url,
            http,
            anchors: Anchors::default(),
        })
    }

    /// The same client, refusing tokens whose signer does not chain to
    /// `anchors` as a time-stamping authority.
    pub fn with_anchors(mut self, anchors: Anchors) -> TsaClient {
        self.anchors = anchors;
        self
    }

    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// Asks for a token over the SHA-256 of `signature`, with a random
    /// nonce and the TSA's certificate, and checks what comes back. Returns
    /// the token (a ContentInfo, DER) and what it says.
    pub async fn stamp(&self, signature: &[u8]) -> Result<(Vec<u8>, Token), SigningError> {
        let mut nonce = crate::crypto::random_bytes(8)?;
        // Positive and minimal, so the TSA echoes exactly these bytes.
        nonce[0] = (nonce[0] & 0x7f) | 0x40;
        let req = TimeStampReq {
            version: 1,
            message_imprint: MessageImprint {
                hash_algorithm: AlgorithmIdentifierOwned {
                    oid: oids::SHA256,
                    parameters: None,
                },
                hashed_message: OctetString::new(digest(&SHA256, signature).as_ref())?,
            },
            req_policy: None,
            nonce: Some(Int::new(&nonce)?),
            cert_req: true,
        };
        let body = req.to_der()?;
        let failed = |e: reqwest::Error| {
            let what = if e.is_timeout() {
                "did not answer in time"
            } else if e.is_connect() {
                "cannot be reached"
            } else {
                "failed"
            };
            ts_error(format!("the TSA at {} {what}: {e}", self.url))
        };
        let mut resp = self
            .http
            .post(self.url.clone())
            .header("content-type", "application/timestamp-query")
            .body(body)
            .send()
            .await
            .map_err(failed)?;
        if !resp.status().is_success() {
            return Err(ts_error(format!(
                "the TSA at {} answered HTTP {}",
                self.url,
                resp.status()
            )));
        }
        if resp
            .content_length()
            .is_some_and(|l| l > MAX_RESPONSE_BYTES as u64)
        {
            return Err(ts_error(format!(
                "the TSA's answer is larger than {MAX_RESPONSE_BYTES} bytes"
            )));
        }
        let mut answer = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(failed)? {
            if answer.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(ts_error(format!(
                    "the TSA's answer is larger than {MAX_RESPONSE_BYTES} bytes"
                )));
            }
            answer.extend_from_slice(&chunk);
        }
        let (token_der, token) = read_response(&answer, signature)?;
        if token.nonce.as_deref() != Some(nonce.as_slice()) {
            return Err(ts_error("the token's nonce is not the one asked with"));
        }
        let now = crate::now();
        if (token.gen_time - now).abs() > MAX_CLOCK_SKEW_SECS {
            return Err(ts_error(format!(
                "the token's time {} is more than {MAX_CLOCK_SKEW_SECS} s from ours",
                token.gen_time_text
            )));
        }
        let trust = trust::check(
            &self.anchors,
            &token.tsa_der,
            &token.certificates,
            now,
            trust::Purpose::TimeStamping,
        );
        if trust.status == trust::TrustStatus::Untrusted {
            return Err(ts_error(format!(
                "the TSA's certificate does not chain to the trust anchors: {}",
                trust.reason.unwrap_or_default()
            )));
        }
        Ok((token_der, token))
    }
}

/// Reads a TimeStampResp: granted (0) or granted with mods (1), with a token
/// over `signature`.
fn read_response(answer: &[u8], signature: &[u8]) -> Result<(Vec<u8>, Token), SigningError> {
    let resp = TimeStampResp::from_der(answer)
        .map_err(|e| ts_error(format!("the TSA's answer is not a TimeStampResp: {e}")))?;
    if resp.status.status > 1 {
        return Err(ts_error(format!(
            "the TSA refused (status {}{})",
            resp.status.status,
            resp.status
                .fail_info
                .as_ref()
                .map(|f| format!(", failInfo {:?}", f.raw_bytes()))
                .unwrap_or_default()
        )));
    }
    let token = resp
        .token
        .ok_or_else(|| ts_error("the TSA granted but sent no token"))?
        .to_der()?;
    let checked = check_token(&token, signature)?;
    Ok((token, checked))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gen_time_reads_whole_and_fractional_seconds() {
        let any = |s: &str| Any::new(der::Tag::GeneralizedTime, s.as_bytes()).unwrap();
        assert_eq!(gen_time(&any("20260921141320Z")).unwrap(), 1_790_000_000);
        assert_eq!(
            gen_time(&any("20260921141320.123Z")).unwrap(),
            1_790_000_000
        );
        for bad in [
            "20260921141320",
            "2026092114132Z",
            "20260921141320.Z",
            "2026O921141320Z",
        ] {
            assert!(gen_time(&any(bad)).is_err(), "{bad}");
        }
        assert_eq!(rfc3339(1_790_000_000), "2026-09-21T14:13:20Z");
    }

    #[test]
    fn garbage_answers_are_time_stamp_errors() {
        for answer in [&b""[..], b"<html>", &[0x30, 0x03, 0x02, 0x01, 0x02]] {
            let e = read_response(answer, b"sig").unwrap_err();
            assert!(matches!(e, SigningError::TimeStamp(_)), "{e}");
        }
        // status 2 (rejection) with no token.
        let e = read_response(&[0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02], b"sig").unwrap_err();
        assert!(e.to_string().contains("refused"), "{e}");
    }
}
