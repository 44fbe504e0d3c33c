//! Decision tokens: what a consent page embeds so that the collector, holding
//! only public keys, can tell a genuine decision from a forged or altered one.
//!
//! A page carries one token per button. Each binds its decision (approve or
//! decline on a consent page, withdraw on a withdrawal page), the request id, the page it was made for, an expiry and the
//! SHA-256 of the exact text the customer was shown, under the portal's
//! Ed25519 signing key. The decision is read from the verified token and
//! nowhere else, so no one between the customer and the register can turn a
//! decline into an approval. No customer id or other personal data is in a
//! token: the request id and the page binding tie it to one request of one
//! register. On the wire:
//!
//! ```text
//! v2.<base64url, no padding, of: payload || signature (64 bytes)>
//!
//! payload = 0x02                  version
//!         | key id       (8)      first 8 bytes of SHA-256(public key)
//!         | decision     (1)      0x01 approve, 0x02 decline, 0x03 withdraw
//!         | request id   (i64 BE)
//!         | page binding (16)     first 16 bytes of SHA-256("consent-page\0" || page id)
//!         | expires at   (i64 BE) unix seconds
//!         | text hash    (32)     SHA-256 of the text shown
//! signature = Ed25519 over b"consent-decision-token-v2\0" || payload
//! ```
//!
//! Version 1 tokens (one token for both buttons, with the customer id in
//! clear) are refused as an unsupported version: the next `sync` renders
//! every page again with version 2 tokens.
//!
//! Verification is strict: any change of any byte, an unknown key id, an
//! expired token and malformed input of any length are errors, never panics.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use consent_extension::time::{self, UnixSeconds};
use ed25519_dalek::{Signature, Signer as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use ed25519_dalek::{SigningKey, VerifyingKey};

/// The text every token starts with; it names the format version.
pub const PREFIX: &str = "v2.";
/// Longer input is refused before decoding. Every valid token is
/// [`TOKEN_LEN`] characters.
pub const MAX_TOKEN_LEN: usize = 1024;
/// The length of every version 2 token.
pub const TOKEN_LEN: usize = PREFIX.len() + (4 * (PAYLOAD_LEN + SIGNATURE_LEN)).div_ceil(3);

const VERSION: u8 = 2;
/// Signatures made for tokens can never be mistaken for signatures over
/// anything else the key signs, or for the tokens of another version.
const DOMAIN: &[u8] = b"consent-decision-token-v2\0";
/// What the page binding hashes before the page id.
const PAGE_DOMAIN: &[u8] = b"consent-page\0";
const SIGNATURE_LEN: usize = 64;
const PAYLOAD_LEN: usize = 1 + 8 + 1 + 8 + 16 + 8 + 32;

/// What a customer answered: the button a token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Approve,
    Decline,
    /// The one button of a withdrawal page: take back a consent given.
    Withdraw,
}

impl Decision {
    /// The word stored in the inbox and shown in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Decline => "decline",
            Decision::Withdraw => "withdraw",
        }
    }

    /// `approve`, `decline` or `withdraw`, exactly.
    pub fn parse(word: &str) -> Option<Decision> {
        match word {
            "approve" => Some(Decision::Approve),
            "decline" => Some(Decision::Decline),
            "withdraw" => Some(Decision::Withdraw),
            _ => None,
        }
    }

    fn byte(self) -> u8 {
        match self {
            Decision::Approve => 1,
            Decision::Decline => 2,
            Decision::Withdraw => 3,
        }
    }

    fn from_byte(byte: u8) -> Option<Decision> {
        match byte {
            1 => Some(Decision::Approve),
            2 => Some(Decision::Decline),
            3 => Some(Decision::Withdraw),
            _ => None,
        }
    }
}

/// Ties a token to one page: a one-way hash of the page id, so the token
/// names the page without revealing its address.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageBinding(pub [u8; 16]);

impl PageBinding {
    pub fn of(page_id: &str) -> PageBinding {
        let mut h = Sha256::new();
        h.update(PAGE_DOMAIN);
        h.update(page_id.as_bytes());
        let digest: [u8; 32] = h.finalize().into();
        let mut binding = [0; 16];
        binding.copy_from_slice(&digest[..16]);
        PageBinding(binding)
    }
}

impl fmt::Debug for PageBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PageBinding({})", hex(&self.0))
    }
}

/// What a token says, and what verification gives back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    pub decision: Decision,
    pub request_id: i64,
    pub page: PageBinding,
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

/// Why a token was refused. These reach logs and the sync summary.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("malformed decision token: {0}")]
    Malformed(&'static str),
    #[error(
        "decision token of version 1, made before each button had its own signed token; \
         the page has been made again since, and the customer can answer there"
    )]
    Version1,
    #[error("decision token of an unsupported version (this program reads v2 tokens)")]
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

    pub fn sign(&self, claims: &Claims) -> String {
        let mut message = Vec::with_capacity(DOMAIN.len() + PAYLOAD_LEN + SIGNATURE_LEN);
        message.extend_from_slice(DOMAIN);
        encode_payload(&mut message, self.key_id, claims);
        let signature = self.key.sign(&message);
        let mut bytes = message.split_off(DOMAIN.len());
        bytes.extend_from_slice(&signature.to_bytes());
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
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

fn encode_payload(out: &mut Vec<u8>, key_id: KeyId, claims: &Claims) {
    out.push(VERSION);
    out.extend_from_slice(&key_id.0);
    out.push(claims.decision.byte());
    out.extend_from_slice(&claims.request_id.to_be_bytes());
    out.extend_from_slice(&claims.page.0);
    out.extend_from_slice(&claims.expires_at.to_be_bytes());
    out.extend_from_slice(&claims.text_hash);
}

/// The bytes after the prefix. The engine is strict: no padding, only the
/// url-safe alphabet, and unused trailing bits must be zero, so each byte
/// string has exactly one spelling.
fn decode(token: &str) -> Result<Vec<u8>, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed("longer than any token"));
    }
    let Some(body) = token.strip_prefix(PREFIX) else {
        return Err(if token.starts_with("v1.") {
            TokenError::Version1
        } else if looks_versioned(token) {
            TokenError::UnsupportedVersion
        } else {
            TokenError::Malformed("does not start with \"v2.\"")
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
        return Err(TokenError::Malformed("version byte is not 2"));
    }
    let key_id = KeyId(r.array()?);
    let [decision] = r.array::<1>()?;
    let decision =
        Decision::from_byte(decision).ok_or(TokenError::Malformed("unknown decision"))?;
    let request_id = i64::from_be_bytes(r.array()?);
    let page = PageBinding(r.array()?);
    let expires_at = i64::from_be_bytes(r.array()?);
    let text_hash = r.array()?;
    if !r.0.is_empty() {
        return Err(TokenError::Malformed("bytes left over after the claims"));
    }
    let claims = Claims {
        decision,
        request_id,
        page,
        expires_at,
        text_hash,
    };
    Ok((key_id, claims))
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn array<const N: usize>(&mut self) -> Result<[u8; N], TokenError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(TokenError::Malformed("too short"))?;
        self.0 = rest;
        Ok(*head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(decision: Decision) -> Claims {
        Claims {
            decision,
            request_id: 7,
            page: PageBinding::of("AbCdEfGhIjKlMnOpQrStUv"),
            expires_at: 2_000_000_000,
            text_hash: text_hash("Vi sparar ditt namn."),
        }
    }

    #[test]
    fn payload_layout_matches_the_documented_format() {
        let signer = Signer::new(SigningKey::from_bytes(&[1; 32]));
        let token = signer.sign(&claims(Decision::Decline));
        assert_eq!(token.len(), TOKEN_LEN);
        let bytes = URL_SAFE_NO_PAD.decode(&token[PREFIX.len()..]).unwrap();
        assert_eq!(bytes.len(), PAYLOAD_LEN + SIGNATURE_LEN);
        assert_eq!(bytes[0], 2);
        assert_eq!(bytes[1..9], signer.key_id().0);
        assert_eq!(bytes[9], 2, "decline");
        assert_eq!(bytes[10..18], 7i64.to_be_bytes());
        let page: [u8; 32] = Sha256::digest(b"consent-page\0AbCdEfGhIjKlMnOpQrStUv").into();
        assert_eq!(bytes[18..34], page[..16]);
        assert_eq!(bytes[34..42], 2_000_000_000i64.to_be_bytes());
        assert_eq!(bytes[42..74], text_hash("Vi sparar ditt namn."));
        let approve = signer.sign(&claims(Decision::Approve));
        let approve = URL_SAFE_NO_PAD.decode(&approve[PREFIX.len()..]).unwrap();
        assert_eq!(approve[9], 1, "approve");
    }

    #[test]
    fn the_two_buttons_tokens_differ_only_in_the_decision() {
        let signer = Signer::new(SigningKey::from_bytes(&[1; 32]));
        let verifier = Verifier::new([signer.verifying_key()]);
        let approve = signer.sign(&claims(Decision::Approve));
        let decline = signer.sign(&claims(Decision::Decline));
        assert_ne!(approve, decline);
        assert_eq!(
            verifier.verify(&approve, 0).unwrap().decision,
            Decision::Approve
        );
        assert_eq!(
            verifier.verify(&decline, 0).unwrap().decision,
            Decision::Decline
        );
        // Flipping the decision byte of a decline breaks the signature.
        let mut bytes = URL_SAFE_NO_PAD.decode(&decline[PREFIX.len()..]).unwrap();
        bytes[9] = 1;
        let flipped = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        assert_eq!(verifier.verify(&flipped, 0), Err(TokenError::BadSignature));
    }

    #[test]
    fn no_customer_data_is_readable() {
        // The payload holds only numbers and hashes; the customer id is not
        // among its inputs at all.
        let token = Signer::new(SigningKey::from_bytes(&[1; 32])).sign(&claims(Decision::Approve));
        let bytes = URL_SAFE_NO_PAD.decode(&token[PREFIX.len()..]).unwrap();
        assert!(!bytes
            .windows(b"AbCdEfGhIjKlMnOpQrStUv".len())
            .any(|w| w == b"AbCdEfGhIjKlMnOpQrStUv"));
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
        assert_eq!(verifier.verify("v1.AAAA", 0), Err(TokenError::Version1));
        for token in ["v3.AAAA", "v10.", "v0.xyz"] {
            assert_eq!(
                verifier.verify(token, 0),
                Err(TokenError::UnsupportedVersion)
            );
        }
        for token in ["", "v", "v.", "V2.AAAA", "va.AAAA", " v2.AAAA", "2.AAAA"] {
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
