//! JSON Web Signatures for our tokens (RFC 7515, 7517, 7518): RS256 and ES256
//! over aws-lc-rs. Keys are parsed once and kept, so signing costs only the
//! signature (an RSA re-parse per token would double its cost); no private-key
//! operation goes through the `rsa` crate (RUSTSEC-2023-0071).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::crypto::{b64, b64_decode};

#[derive(Debug, thiserror::Error)]
pub enum JoseError {
    #[error("malformed token")]
    Malformed,
    #[error("unsupported algorithm {0}")]
    UnsupportedAlg(String),
    #[error("no key matches the token")]
    UnknownKey,
    #[error("signature does not verify")]
    BadSignature,
    #[error("key error: {0}")]
    Key(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Alg {
    RS256,
    ES256,
}

impl Alg {
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::ES256 => "ES256",
        }
    }

    pub fn parse(s: &str) -> Option<Alg> {
        match s {
            "RS256" => Some(Alg::RS256),
            "ES256" => Some(Alg::ES256),
            _ => None,
        }
    }
}

enum Inner {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A private key ready to sign, with its `kid`.
pub struct SigningKey {
    pub kid: String,
    pub alg: Alg,
    inner: Inner,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({}, {})", self.kid, self.alg.as_str())
    }
}

impl SigningKey {
    /// A fresh key and its PKCS#8 DER (to be sealed and stored).
    pub fn generate(kid: String, alg: Alg) -> Result<(SigningKey, Vec<u8>), JoseError> {
        let der = match alg {
            Alg::RS256 => {
                let kp = RsaKeyPair::generate(KeySize::Rsa2048)
                    .map_err(|e| JoseError::Key(e.to_string()))?;
                aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&kp)
                    .map_err(|e| JoseError::Key(e.to_string()))?
                    .as_ref()
                    .to_vec()
            }
            Alg::ES256 => {
                let kp = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                    .map_err(|e| JoseError::Key(e.to_string()))?;
                kp.to_pkcs8v1()
                    .map_err(|e| JoseError::Key(e.to_string()))?
                    .as_ref()
                    .to_vec()
            }
        };
        Ok((SigningKey::from_pkcs8(kid, alg, &der)?, der))
    }

    pub fn from_pkcs8(kid: String, alg: Alg, der: &[u8]) -> Result<SigningKey, JoseError> {
        let inner = match alg {
            Alg::RS256 => {
                Inner::Rsa(RsaKeyPair::from_pkcs8(der).map_err(|e| JoseError::Key(e.to_string()))?)
            }
            Alg::ES256 => Inner::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|e| JoseError::Key(e.to_string()))?,
            ),
        };
        Ok(SigningKey {
            kid,
            alg,
            inner,
            rng: SystemRandom::new(),
        })
    }

    /// The public half as a JWK (RFC 7517 §4, RFC 7518 §6).
    pub fn public_jwk(&self) -> Value {
        match &self.inner {
            Inner::Rsa(kp) => {
                let pk = kp.public_key();
                json!({
                    "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                    "n": b64(pk.modulus().big_endian_without_leading_zero()),
                    "e": b64(pk.exponent().big_endian_without_leading_zero()),
                })
            }
            Inner::Ec(kp) => {
                // Uncompressed point: 0x04 || x (32) || y (32).
                let point = kp.public_key().as_ref();
                let x = point.get(1..33).unwrap_or_default();
                let y = point.get(33..65).unwrap_or_default();
                json!({
                    "kty": "EC", "use": "sig", "alg": "ES256", "kid": self.kid, "crv": "P-256",
                    "x": b64(x), "y": b64(y),
                })
            }
        }
    }

    /// Signs `claims` as a compact JWS with header `{alg, kid, typ}`.
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, JoseError> {
        let header = json!({"alg": self.alg.as_str(), "kid": self.kid, "typ": typ});
        let mut out = b64(header.to_string().as_bytes());
        out.push('.');
        out.push_str(&b64(
            &serde_json::to_vec(claims).map_err(|_| JoseError::Malformed)?
        ));
        let sig = match &self.inner {
            Inner::Rsa(kp) => {
                let mut sig = vec![0; kp.public_modulus_len()];
                kp.sign(&RSA_PKCS1_SHA256, &self.rng, out.as_bytes(), &mut sig)
                    .map_err(|e| JoseError::Key(e.to_string()))?;
                sig
            }
            Inner::Ec(kp) => kp
                .sign(&self.rng, out.as_bytes())
                .map_err(|e| JoseError::Key(e.to_string()))?
                .as_ref()
                .to_vec(),
        };
        out.push('.');
        out.push_str(&b64(&sig));
        Ok(out)
    }
}

/// A public key that can check signatures, parsed from a JWK.
#[derive(Clone, Debug)]
pub struct VerifyingKey {
    pub kid: Option<String>,
    pub alg: Alg,
    material: Material,
}

#[derive(Clone, Debug)]
enum Material {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    Ec { point: Vec<u8> },
}

impl VerifyingKey {
    /// Parses an RSA or P-256 JWK; `None` for anything else (other curves, encryption keys).
    pub fn from_jwk(jwk: &Value) -> Option<VerifyingKey> {
        let s = |k: &str| jwk.get(k).and_then(Value::as_str);
        if s("use").is_some_and(|u| u != "sig") {
            return None;
        }
        let kid = s("kid").map(str::to_owned);
        match s("kty")? {
            "RSA" => Some(VerifyingKey {
                kid,
                alg: Alg::RS256,
                material: Material::Rsa {
                    n: b64_decode(s("n")?)?,
                    e: b64_decode(s("e")?)?,
                },
            }),
            "EC" if s("crv") == Some("P-256") => {
                let mut point = vec![4u8];
                point.extend(b64_decode(s("x")?)?);
                point.extend(b64_decode(s("y")?)?);
                (point.len() == 65).then_some(VerifyingKey {
                    kid,
                    alg: Alg::ES256,
                    material: Material::Ec { point },
                })
            }
            _ => None,
        }
    }

    fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        match &self.material {
            Material::Rsa { n, e } => RsaPublicKeyComponents { n, e }
                .verify(&RSA_PKCS1_2048_8192_SHA256, message, sig)
                .is_ok(),
            Material::Ec { point } => UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                .verify(message, sig)
                .is_ok(),
        }
    }
}

/// The parts of a JWS header we look at.
#[derive(Debug, Deserialize)]
pub struct Header {
    pub alg: String,
    pub kid: Option<String>,
    pub typ: Option<String>,
}

/// A token whose signature has been checked; its claims still need checking.
#[derive(Debug)]
pub struct Verified {
    pub header: Header,
    pub claims: Map<String, Value>,
}

/// Checks a compact JWS against `keys`: the algorithm must be one we allow
/// (never `none`), and the key is chosen by `kid` when the token names one.
pub fn verify(token: &str, keys: &[VerifyingKey]) -> Result<Verified, JoseError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JoseError::Malformed);
    };
    let header: Header = serde_json::from_slice(&b64_decode(h).ok_or(JoseError::Malformed)?)
        .map_err(|_| JoseError::Malformed)?;
    let alg =
        Alg::parse(&header.alg).ok_or_else(|| JoseError::UnsupportedAlg(header.alg.clone()))?;
    let sig = b64_decode(s).ok_or(JoseError::Malformed)?;
    let message = &token.as_bytes()[..h.len() + 1 + p.len()];
    let mut candidates = keys
        .iter()
        .filter(|k| k.alg == alg)
        .filter(|k| header.kid.is_none() || k.kid.is_none() || k.kid == header.kid)
        .peekable();
    if candidates.peek().is_none() {
        return Err(JoseError::UnknownKey);
    }
    if !candidates.any(|k| k.verify(message, &sig)) {
        return Err(JoseError::BadSignature);
    }
    let claims: Map<String, Value> =
        serde_json::from_slice(&b64_decode(p).ok_or(JoseError::Malformed)?)
            .map_err(|_| JoseError::Malformed)?;
    Ok(Verified { header, claims })
}

/// Reads a JWK Set document (`{"keys": [...]}`) into the keys we can use.
pub fn parse_jwks(doc: &Value) -> Vec<VerifyingKey> {
    doc.get("keys")
        .and_then(Value::as_array)
        .map(|keys| keys.iter().filter_map(VerifyingKey::from_jwk).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(alg: Alg) {
        let (key, der) = SigningKey::generate("k1".into(), alg).unwrap();
        let again = SigningKey::from_pkcs8("k1".into(), alg, &der).unwrap();
        let token = again.sign("JWT", &json!({"sub": "a", "n": 1})).unwrap();
        let vk = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        let v = verify(&token, std::slice::from_ref(&vk)).unwrap();
        assert_eq!(v.claims["sub"], "a");
        assert_eq!(v.header.kid.as_deref(), Some("k1"));
        assert_eq!(v.header.typ.as_deref(), Some("JWT"));

        // Tampered payload fails.
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = b64(br#"{"sub":"admin","n":1}"#);
        parts[1] = &forged;
        assert!(matches!(
            verify(&parts.join("."), std::slice::from_ref(&vk)),
            Err(JoseError::BadSignature)
        ));

        // Another key of the same algorithm fails.
        let (other, _) = SigningKey::generate("k1".into(), alg).unwrap();
        let ovk = VerifyingKey::from_jwk(&other.public_jwk()).unwrap();
        assert!(verify(&token, &[ovk]).is_err());
    }

    #[test]
    fn rs256_signs_and_verifies() {
        roundtrip(Alg::RS256);
    }

    #[test]
    fn es256_signs_and_verifies() {
        roundtrip(Alg::ES256);
    }

    #[test]
    fn alg_none_and_hs256_are_refused() {
        let (key, _) = SigningKey::generate("k".into(), Alg::ES256).unwrap();
        let vk = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        let none = format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(br#"{"sub":"x"}"#));
        assert!(matches!(
            verify(&none, std::slice::from_ref(&vk)),
            Err(JoseError::UnsupportedAlg(_))
        ));
        let hs = format!(
            "{}.{}.AAAA",
            b64(br#"{"alg":"HS256"}"#),
            b64(br#"{"sub":"x"}"#)
        );
        assert!(matches!(
            verify(&hs, &[vk]),
            Err(JoseError::UnsupportedAlg(_))
        ));
    }

    #[test]
    fn malformed_tokens_are_errors() {
        assert!(matches!(verify("a.b", &[]), Err(JoseError::Malformed)));
        assert!(matches!(verify("a.b.c.d", &[]), Err(JoseError::Malformed)));
        assert!(matches!(verify("!!.b.c", &[]), Err(JoseError::Malformed)));
    }
}
