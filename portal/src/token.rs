//! Decision tokens: what a consent page embeds so that the collector, holding
//! only public keys, can tell a genuine decision form from a forged one.
//!
//! A token binds the request id, the customer id, an expiry (the same for
//! approve and decline) and the SHA-256 of the exact text the customer was
//! shown, under the portal's Ed25519 signing key. On the wire:
//!
//! ```text
//! v1.<base64url, no padding, of: payload || signature (64 bytes)>
//!
//! payload = 0x01                  version
//!         | key id       (8)      first 8 bytes of SHA-256(public key)
//!         | request id   (i64 BE)
//!         | expires at   (i64 BE) unix seconds
//!         | text hash    (32)     SHA-256 of the text shown
//!         | customer id:  0x00 | i64 BE              (integer)
//!                      or 0x01 | len (u8) | UTF-8    (text, <= 255 bytes)
//! signature = Ed25519 over b"consent-decision-token-v1\0" || payload
//! ```
//!
//! Verification is strict: any change of any byte, an unknown key id, an
//! expired token and malformed input of any length are errors, never panics.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use consent_extension::time::{self, UnixSeconds};
use ed25519_dalek::{Signature, Signer as _};
use sha2::{Digest, Sha256};

pub use ed25519_dalek::{SigningKey, VerifyingKey};

/// The text every token starts with; it names the format version.
pub const PREFIX: &str = "v1.";
/// The longest text customer id a token carries, in bytes.
pub const MAX_TEXT_ID_LEN: usize = 255;
/// Longer input is refused before decoding. The longest valid token (a
/// 255-byte text id) is 507 characters.
pub const MAX_TOKEN_LEN: usize = 1024;

const VERSION: u8 = 1;
/// Signatures made for tokens can never be mistaken for signatures over
/// anything else the key might sign later.
const DOMAIN: &[u8] = b"consent-decision-token-v1\0";
const SIGNATURE_LEN: usize = 64;
const TAG_INTEGER: u8 = 0;
const TAG_TEXT: u8 = 1;

/// A billing customer id: registers key customers by integer or by text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CustomerId {
    Integer(i64),
    /// At most [`MAX_TEXT_ID_LEN`] bytes of UTF-8.
    Text(String),
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CustomerId::Integer(n) => write!(f, "{n}"),
            CustomerId::Text(t) => f.write_str(t),
        }
    }
}

/// What a token says, and what verification gives back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    pub request_id: i64,
    pub customer_id: CustomerId,
    /// Unix seconds; the token is refused from this second on.
    pub expires_at: UnixSeconds,
    /// SHA-256 of the exact text shown (see [`text_hash`]).
    pub text_hash: [u8; 32],
}

/// Names a key pair: the first 8 bytes of SHA-256 of the 32-byte public key.
/// Shown as 16 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub [u8; 8]);

impl KeyId {
    pub fn of(key: &VerifyingKey) -> KeyId {
        let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let mut id = [0; 8];
        id.copy_from_slice(&digest[..8]);
        KeyId(id)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// SHA-256 of a text, as bound into tokens and stored with `consent_text`.
pub fn text_hash(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// Why a token could not be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignError {
    #[error(
        "customer id is {len} bytes long; a decision token carries text ids of at most \
         {MAX_TEXT_ID_LEN} bytes"
    )]
    CustomerIdTooLong { len: usize },
}

/// Why a token was refused. These reach logs and the sync summary.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("malformed decision token: {0}")]
    Malformed(&'static str),
    #[error("decision token of an unsupported version (this program reads v1 tokens)")]
    UnsupportedVersion,
    #[error(
        "decision token signed with key {0}, which is not among the verifying keys; \
         add that key's public key file if it is one of ours"
    )]
    UnknownKey(KeyId),
    #[error("decision token signature does not match its contents: altered or forged")]
    BadSignature,
    #[error("decision token expired at {}", time::format(*.expires_at))]
    Expired { expires_at: UnixSeconds },
}

/// Makes tokens with one signing key.
pub struct Signer {
    key: SigningKey,
    key_id: KeyId,
}

impl Signer {
    pub fn new(key: SigningKey) -> Signer {
        let key_id = KeyId::of(&key.verifying_key());
        Signer { key, key_id }
    }

    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, SignError> {
        let mut message = DOMAIN.to_vec();
        encode_payload(&mut message, self.key_id, claims)?;
        let signature = self.key.sign(&message);
        let mut bytes = message.split_off(DOMAIN.len());
        bytes.extend_from_slice(&signature.to_bytes());
        Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// Checks tokens against one or more public keys: during a key rotation the
/// old and the new key both verify, while only the new one signs.
#[derive(Clone)]
pub struct Verifier {
    keys: Vec<(KeyId, VerifyingKey)>,
}

impl Verifier {
    /// The same key given twice counts once.
    pub fn new(keys: impl IntoIterator<Item = VerifyingKey>) -> Verifier {
        let mut unique: Vec<(KeyId, VerifyingKey)> = Vec::new();
        for key in keys {
            let id = KeyId::of(&key);
            if !unique.iter().any(|(known, _)| *known == id) {
                unique.push((id, key));
            }
        }
        Verifier { keys: unique }
    }

    pub fn key_ids(&self) -> impl Iterator<Item = KeyId> + '_ {
        self.keys.iter().map(|(id, _)| *id)
    }

    /// The claims of a genuine token that has not expired at `now` (unix
    /// seconds). Checks, in order: form, key id, signature, expiry; so
    /// `Expired` is only ever said of a genuine token.
    pub fn verify(&self, token: &str, now: UnixSeconds) -> Result<Claims, TokenError> {
        let bytes = decode(token)?;
        let (payload, signature) = bytes.split_at(bytes.len().saturating_sub(SIGNATURE_LEN));
        let signature = <&[u8; SIGNATURE_LEN]>::try_from(signature)
            .map_err(|_| TokenError::Malformed("too short"))?;
        let (key_id, claims) = parse_payload(payload)?;
        let key = self
            .keys
            .iter()
            .find(|(id, _)| *id == key_id)
            .map(|(_, key)| key)
            .ok_or(TokenError::UnknownKey(key_id))?;
        let mut message = Vec::with_capacity(DOMAIN.len() + payload.len());
        message.extend_from_slice(DOMAIN);
        message.extend_from_slice(payload);
        key.verify_strict(&message, &Signature::from_bytes(signature))
            .map_err(|_| TokenError::BadSignature)?;
        if now >= claims.expires_at {
            return Err(TokenError::Expired {
                expires_at: claims.expires_at,
            });
        }
        Ok(claims)
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("key_ids", &self.key_ids().collect::<Vec<_>>())
            .finish()
    }
}

fn encode_payload(out: &mut Vec<u8>, key_id: KeyId, claims: &Claims) -> Result<(), SignError> {
    out.push(VERSION);
    out.extend_from_slice(&key_id.0);
    out.extend_from_slice(&claims.request_id.to_be_bytes());
    out.extend_from_slice(&claims.expires_at.to_be_bytes());
    out.extend_from_slice(&claims.text_hash);
    match &claims.customer_id {
        CustomerId::Integer(n) => {
            out.push(TAG_INTEGER);
            out.extend_from_slice(&n.to_be_bytes());
        }
        CustomerId::Text(text) => {
            let len = u8::try_from(text.len())
                .map_err(|_| SignError::CustomerIdTooLong { len: text.len() })?;
            out.push(TAG_TEXT);
            out.push(len);
            out.extend_from_slice(text.as_bytes());
        }
    }
    Ok(())
}

/// The bytes after the prefix. The engine is strict: no padding, only the
/// url-safe alphabet, and unused trailing bits must be zero, so each byte
/// string has exactly one spelling.
fn decode(token: &str) -> Result<Vec<u8>, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed("longer than any token"));
    }
    let Some(body) = token.strip_prefix(PREFIX) else {
        return Err(if looks_versioned(token) {
            TokenError::UnsupportedVersion
        } else {
            TokenError::Malformed("does not start with \"v1.\"")
        });
    };
    URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| TokenError::Malformed("not base64url"))
}

/// `v<digits>.`: a token of some other version, not noise.
fn looks_versioned(token: &str) -> bool {
    let Some(rest) = token.strip_prefix('v') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && rest[digits..].starts_with('.')
}

fn parse_payload(payload: &[u8]) -> Result<(KeyId, Claims), TokenError> {
    let mut r = Reader(payload);
    if r.array::<1>()? != [VERSION] {
        return Err(TokenError::Malformed("version byte is not 1"));
    }
    let key_id = KeyId(r.array()?);
    let request_id = i64::from_be_bytes(r.array()?);
    let expires_at = i64::from_be_bytes(r.array()?);
    let text_hash = r.array()?;
    let customer_id = match r.array::<1>()? {
        [TAG_INTEGER] => CustomerId::Integer(i64::from_be_bytes(r.array()?)),
        [TAG_TEXT] => {
            let [len] = r.array::<1>()?;
            let text = std::str::from_utf8(r.slice(usize::from(len))?)
                .map_err(|_| TokenError::Malformed("customer id is not UTF-8"))?;
            CustomerId::Text(text.to_owned())
        }
        _ => return Err(TokenError::Malformed("unknown kind of customer id")),
    };
    if !r.0.is_empty() {
        return Err(TokenError::Malformed("bytes left over after the claims"));
    }
    let claims = Claims {
        request_id,
        customer_id,
        expires_at,
        text_hash,
    };
    Ok((key_id, claims))
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn array<const N: usize>(&mut self) -> Result<[u8; N], TokenError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(TokenError::Malformed("too short"))?;
        self.0 = rest;
        Ok(*head)
    }

    fn slice(&mut self, len: usize) -> Result<&'a [u8], TokenError> {
        if self.0.len() < len {
            return Err(TokenError::Malformed("too short"));
        }
        let (head, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(customer_id: CustomerId) -> Claims {
        Claims {
            request_id: 7,
            customer_id,
            expires_at: 2_000_000_000,
            text_hash: text_hash("Vi sparar ditt namn."),
        }
    }

    #[test]
    fn payload_layout_matches_the_documented_format() {
        let signer = Signer::new(SigningKey::from_bytes(&[1; 32]));
        let token = signer.sign(&claims(CustomerId::Integer(-2))).unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(&token[PREFIX.len()..]).unwrap();
        assert_eq!(bytes.len(), 1 + 8 + 8 + 8 + 32 + 1 + 8 + SIGNATURE_LEN);
        assert_eq!(bytes[0], 1);
        assert_eq!(bytes[1..9], signer.key_id().0);
        assert_eq!(bytes[9..17], 7i64.to_be_bytes());
        assert_eq!(bytes[17..25], 2_000_000_000i64.to_be_bytes());
        assert_eq!(bytes[25..57], text_hash("Vi sparar ditt namn."));
        assert_eq!(bytes[57], TAG_INTEGER);
        assert_eq!(bytes[58..66], (-2i64).to_be_bytes());

        let token = signer
            .sign(&claims(CustomerId::Text("K-1".into())))
            .unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(&token[PREFIX.len()..]).unwrap();
        assert_eq!(bytes[57..62], [TAG_TEXT, 3, b'K', b'-', b'1']);
        assert_eq!(bytes.len(), 62 + SIGNATURE_LEN);
    }

    #[test]
    fn longest_token_fits_the_length_bound() {
        let signer = Signer::new(SigningKey::from_bytes(&[1; 32]));
        let id = CustomerId::Text("x".repeat(MAX_TEXT_ID_LEN));
        let token = signer.sign(&claims(id)).unwrap();
        assert_eq!(token.len(), 507);
        assert!(token.len() <= MAX_TOKEN_LEN);
    }

    #[test]
    fn key_id_is_the_start_of_the_public_key_hash() {
        let key = SigningKey::from_bytes(&[1; 32]).verifying_key();
        let digest = Sha256::digest(key.as_bytes());
        assert_eq!(KeyId::of(&key).0, digest[..8]);
        assert_eq!(KeyId::of(&key).to_string(), hex(&digest[..8]));
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }

    #[test]
    fn other_versions_are_named_as_such() {
        let verifier = Verifier::new([SigningKey::from_bytes(&[1; 32]).verifying_key()]);
        for token in ["v2.AAAA", "v10.", "v0.xyz"] {
            assert_eq!(
                verifier.verify(token, 0),
                Err(TokenError::UnsupportedVersion)
            );
        }
        for token in ["", "v", "v.", "V1.AAAA", "va.AAAA", " v1.AAAA", "1.AAAA"] {
            assert!(matches!(
                verifier.verify(token, 0),
                Err(TokenError::Malformed(_))
            ));
        }
    }

    #[test]
    fn error_messages_read_as_sentences() {
        assert_eq!(
            TokenError::Expired {
                expires_at: 1_700_000_000
            }
            .to_string(),
            "decision token expired at 2023-11-14T22:13:20Z"
        );
        assert_eq!(
            TokenError::UnknownKey(KeyId([0xab; 8])).to_string(),
            "decision token signed with key abababababababab, which is not among the verifying \
             keys; add that key's public key file if it is one of ours"
        );
    }
}
