//! Encrypted assertions (XML Encryption, SAML core §2.3.4) for SPs whose
//! metadata gives an encryption certificate. The assertion is signed
//! first, then encrypted whole under a fresh AES key, AES-256-GCM unless
//! the SP's metadata lists other methods (our first choice among them;
//! registration refuses a list with none we have); the key goes to the
//! SP under its certificate's RSA key by RSA-OAEP (`rsa-oaep-mgf1p`, the
//! key transport every SP decrypts). Written in canonical form like the
//! rest of the response, whose signature covers it as written.

use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::cipher::{AES_128, AES_256, PaddedBlockEncryptingKey, UnboundCipherKey};
use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPublicEncryptingKey, PublicEncryptingKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::dsig::NS_DS;
use super::xml::Writer;
use super::{NS_SAML, SamlError};

pub const NS_XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
const TYPE_ELEMENT: &str = "http://www.w3.org/2001/04/xmlenc#Element";
const RSA_OAEP_MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

/// The content encryption methods we have, in the order we prefer them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Aes256Gcm,
    Aes128Gcm,
    Aes256Cbc,
    Aes128Cbc,
}

impl Method {
    const ALL: [Method; 4] = [
        Method::Aes256Gcm,
        Method::Aes128Gcm,
        Method::Aes256Cbc,
        Method::Aes128Cbc,
    ];

    pub fn uri(self) -> &'static str {
        match self {
            Method::Aes256Gcm => "http://www.w3.org/2009/xmlenc11#aes256-gcm",
            Method::Aes128Gcm => "http://www.w3.org/2009/xmlenc11#aes128-gcm",
            Method::Aes256Cbc => "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
            Method::Aes128Cbc => "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
        }
    }

    fn key_len(self) -> usize {
        match self {
            Method::Aes256Gcm | Method::Aes256Cbc => 32,
            Method::Aes128Gcm | Method::Aes128Cbc => 16,
        }
    }

    /// Our first choice among what the SP's metadata lists
    /// (`EncryptionMethod`), AES-256-GCM when it lists nothing; `None` when
    /// it lists only methods we do not have.
    pub fn for_sp(listed: &[String]) -> Option<Method> {
        if listed.is_empty() {
            return Some(Method::Aes256Gcm);
        }
        Method::ALL
            .into_iter()
            .find(|m| listed.iter().any(|l| l == m.uri()))
    }
}

fn crypto_error(what: &str) -> SamlError {
    SamlError::Key(format!("encrypting the assertion: {what}"))
}

/// The SP's RSA key from its certificate (DER), for key transport; `None`
/// when the certificate holds no RSA key of 2048 bits or more.
pub fn transport_key(cert_der: &[u8]) -> Option<OaepPublicEncryptingKey> {
    use der::{Decode, Encode};
    let cert = x509_cert::Certificate::from_der(cert_der).ok()?;
    let spki = cert
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .ok()?;
    let key = PublicEncryptingKey::from_der(&spki).ok()?;
    if key.key_size_bits() < 2048 {
        return None;
    }
    OaepPublicEncryptingKey::new(key).ok()
}

/// `plain` encrypted under `key` by `method`: IV (or nonce), ciphertext and,
/// for GCM, the tag, as XML Encryption lays them out in `CipherValue`.
fn encrypt_data(method: Method, key: &[u8], plain: &[u8]) -> Result<Vec<u8>, SamlError> {
    match method {
        Method::Aes256Gcm | Method::Aes128Gcm => {
            let alg = if method == Method::Aes256Gcm {
                &AES_256_GCM
            } else {
                &AES_128_GCM
            };
            let sealing = LessSafeKey::new(
                UnboundKey::new(alg, key).map_err(|_| crypto_error("AES-GCM key"))?,
            );
            let nonce: [u8; NONCE_LEN] = crate::crypto::random_bytes(NONCE_LEN)?
                .try_into()
                .map_err(|_| crypto_error("nonce"))?;
            let mut out = nonce.to_vec();
            let mut in_out = plain.to_vec();
            sealing
                .seal_in_place_append_tag(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::empty(),
                    &mut in_out,
                )
                .map_err(|_| crypto_error("AES-GCM"))?;
            out.extend_from_slice(&in_out);
            Ok(out)
        }
        Method::Aes256Cbc | Method::Aes128Cbc => {
            let alg = if method == Method::Aes256Cbc {
                &AES_256
            } else {
                &AES_128
            };
            let cbc = PaddedBlockEncryptingKey::cbc_pkcs7(
                UnboundCipherKey::new(alg, key).map_err(|_| crypto_error("AES-CBC key"))?,
            )
            .map_err(|_| crypto_error("AES-CBC key"))?;
            let mut in_out = plain.to_vec();
            // PKCS #7 padding is one form of the padding XML Encryption
            // §5.2 allows (the last byte gives its length).
            let context = cbc
                .encrypt(&mut in_out)
                .map_err(|_| crypto_error("AES-CBC"))?;
            let iv: &[u8] = (&context)
                .try_into()
                .map_err(|_| crypto_error("AES-CBC IV"))?;
            let mut out = iv.to_vec();
            out.extend_from_slice(&in_out);
            Ok(out)
        }
    }
}

/// `<saml:EncryptedAssertion>` holding `assertion` (signed, canonical XML)
/// for the holder of `key`.
pub fn encrypt_assertion(
    assertion: &str,
    key: &OaepPublicEncryptingKey,
    method: Method,
) -> Result<String, SamlError> {
    let content_key = crate::crypto::random_bytes(method.key_len())?;
    let data = encrypt_data(method, &content_key, assertion.as_bytes())?;
    let mut wrapped = vec![0; key.ciphertext_size()];
    let wrapped = key
        .encrypt(&OAEP_SHA1_MGF1SHA1, &content_key, &mut wrapped, None)
        .map_err(|_| crypto_error("RSA-OAEP"))?;
    let mut w = Writer::new();
    w.open("saml:EncryptedAssertion", &[("saml", NS_SAML)], &[])
        .open(
            "xenc:EncryptedData",
            &[("xenc", NS_XENC)],
            &[("Type", Some(TYPE_ELEMENT))],
        )
        .leaf(
            "xenc:EncryptionMethod",
            &[],
            &[("Algorithm", Some(method.uri()))],
            "",
        )
        .open("ds:KeyInfo", &[("ds", NS_DS)], &[])
        .open("xenc:EncryptedKey", &[], &[])
        .open(
            "xenc:EncryptionMethod",
            &[],
            &[("Algorithm", Some(RSA_OAEP_MGF1P))],
        )
        .leaf("ds:DigestMethod", &[], &[("Algorithm", Some(SHA1))], "")
        .close()
        .open("xenc:CipherData", &[], &[])
        .leaf("xenc:CipherValue", &[], &[], &B64.encode(wrapped))
        .close()
        .close()
        .close()
        .open("xenc:CipherData", &[], &[])
        .leaf("xenc:CipherValue", &[], &[], &B64.encode(data));
    Ok(w.finish())
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::aead::{AES_256_GCM, LessSafeKey, Nonce, UnboundKey};
    use aws_lc_rs::cipher::{AES_128, PaddedBlockDecryptingKey};

    use super::*;

    #[test]
    fn the_sp_list_picks_the_method() {
        assert_eq!(Method::for_sp(&[]), Some(Method::Aes256Gcm));
        let cbc = vec![
            "http://www.w3.org/2001/04/xmlenc#tripledes-cbc".to_owned(),
            Method::Aes128Cbc.uri().to_owned(),
        ];
        assert_eq!(Method::for_sp(&cbc), Some(Method::Aes128Cbc));
        let unknown = vec!["urn:x".to_owned()];
        assert_eq!(Method::for_sp(&unknown), None);
    }

    #[test]
    fn data_decrypts_with_the_content_key() -> Result<(), SamlError> {
        let key = [7u8; 32];
        let out = encrypt_data(Method::Aes256Gcm, &key, b"<a/>")?;
        let (nonce, sealed) = out.split_at(NONCE_LEN);
        let opening =
            LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).map_err(|_| crypto_error("k"))?);
        let mut sealed = sealed.to_vec();
        let plain = opening
            .open_in_place(
                Nonce::try_assume_unique_for_key(nonce).map_err(|_| crypto_error("n"))?,
                Aad::empty(),
                &mut sealed,
            )
            .map_err(|_| crypto_error("open"))?;
        assert_eq!(plain, b"<a/>");

        let key = [9u8; 16];
        let out = encrypt_data(Method::Aes128Cbc, &key, b"<assertion/>")?;
        let (iv, body) = out.split_at(16);
        let dec = PaddedBlockDecryptingKey::cbc_pkcs7(
            UnboundCipherKey::new(&AES_128, &key).map_err(|_| crypto_error("k"))?,
        )
        .map_err(|_| crypto_error("k"))?;
        let mut body = body.to_vec();
        let iv: [u8; 16] = iv.try_into().map_err(|_| crypto_error("iv"))?;
        let plain = dec
            .decrypt(
                &mut body,
                aws_lc_rs::cipher::DecryptionContext::Iv128(iv.into()),
            )
            .map_err(|_| crypto_error("decrypt"))?;
        assert_eq!(plain, b"<assertion/>");
        Ok(())
    }
}
