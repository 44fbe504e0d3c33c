//! Decision tokens against hostile input.
//!
//! Each input is used twice:
//! - as a token (when it is UTF-8), verified with the fixed key: it must never
//!   panic, and a token that verifies must be exactly the one the key signs
//!   for its claims (nobody without the key can make another one);
//! - as a recipe: claims to sign (either button's), then edits of the
//!   token's characters or of its decoded bytes. An edited token may be
//!   refused, but if it verifies it says exactly the signed claims (the
//!   decision included: a decline never becomes an approval); an unedited
//!   one verifies (or is expired).

#![no_main]

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use consent_portal::token::{
    Claims, Decision, PageBinding, Signer, TokenError, Verifier, PREFIX, TOKEN_LEN,
};
use consent_portal_fuzz::{keep_stderr_for_panics, signer, verifier, NOW};
use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Button {
    Approve,
    Decline,
}

#[derive(Arbitrary, Debug)]
enum Edit {
    /// XOR a character of the token text.
    FlipChar {
        at: u16,
        with: u8,
    },
    /// XOR a byte of the decoded token, then encode it again.
    FlipByte {
        at: u16,
        with: u8,
    },
    InsertChar {
        at: u16,
        char: u8,
    },
    InsertByte {
        at: u16,
        byte: u8,
    },
    RemoveChar {
        at: u16,
    },
    RemoveByte {
        at: u16,
    },
    Truncate {
        to: u16,
    },
}

#[derive(Arbitrary, Debug)]
struct Recipe {
    button: Button,
    request_id: i64,
    page: [u8; 16],
    expires_at: i64,
    text_hash: [u8; 32],
    edits: Vec<Edit>,
}

fn keys() -> &'static (Signer, Verifier) {
    static KEYS: OnceLock<(Signer, Verifier)> = OnceLock::new();
    KEYS.get_or_init(|| (signer(), verifier()))
}

fuzz_target!(init: keep_stderr_for_panics(), |data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        as_token(token);
    }
    if let Ok(recipe) = Recipe::arbitrary(&mut Unstructured::new(data)) {
        signed_then_edited(recipe);
    }
});

fn as_token(token: &str) {
    let (signer, verifier) = keys();
    match verifier.verify(token, NOW) {
        Ok(claims) => {
            let signed = signer.sign(&claims);
            assert_eq!(
                token, signed,
                "a token that is not the key's own verified as {claims:?}"
            );
        }
        Err(TokenError::Expired { expires_at }) => assert!(expires_at <= NOW),
        Err(_) => {}
    }
}

fn signed_then_edited(recipe: Recipe) {
    let (signer, verifier) = keys();
    let claims = Claims {
        decision: match recipe.button {
            Button::Approve => Decision::Approve,
            Button::Decline => Decision::Decline,
        },
        request_id: recipe.request_id,
        page: PageBinding(recipe.page),
        expires_at: recipe.expires_at,
        text_hash: recipe.text_hash,
    };
    let token = signer.sign(&claims);
    assert_eq!(token.len(), TOKEN_LEN, "every token has the same length");
    let genuine = verifier.verify(&token, NOW);
    if claims.expires_at > NOW {
        assert_eq!(
            genuine.as_ref(),
            Ok(&claims),
            "a signed token did not verify"
        );
    } else {
        assert_eq!(
            genuine,
            Err(TokenError::Expired {
                expires_at: claims.expires_at
            })
        );
    }

    let mut edited = token.clone().into_bytes();
    for edit in &recipe.edits {
        apply(&mut edited, edit);
    }
    let Ok(edited) = String::from_utf8(edited) else {
        return;
    };
    let result = verifier.verify(&edited, NOW);
    if edited == token {
        assert_eq!(result, genuine, "the same token verified differently");
        return;
    }
    match result {
        Ok(got) => {
            assert_eq!(
                got, claims,
                "an edited token verified as other claims: {edited:?}"
            );
            panic!("an edited token verified: {token:?} -> {edited:?}");
        }
        Err(TokenError::Expired { expires_at }) => {
            // Expired is only said of a genuine token: the same claims.
            assert_eq!(expires_at, claims.expires_at, "edited token: {edited:?}");
            panic!("an edited token passed the signature check: {token:?} -> {edited:?}");
        }
        Err(_) => {}
    }
}

fn apply(token: &mut Vec<u8>, edit: &Edit) {
    let at = |at: u16, len: usize| usize::from(at) % (len + 1);
    match *edit {
        Edit::FlipChar { at: i, with } => {
            if !token.is_empty() {
                let i = usize::from(i) % token.len();
                token[i] ^= with;
            }
        }
        Edit::InsertChar { at: i, char } => {
            let i = at(i, token.len());
            token.insert(i, char);
        }
        Edit::RemoveChar { at: i } => {
            if !token.is_empty() {
                token.remove(usize::from(i) % token.len());
            }
        }
        Edit::Truncate { to } => token.truncate(usize::from(to)),
        Edit::FlipByte { at: i, with } => edit_decoded(token, |bytes| {
            if !bytes.is_empty() {
                let i = usize::from(i) % bytes.len();
                bytes[i] ^= with;
            }
        }),
        Edit::InsertByte { at: i, byte } => edit_decoded(token, |bytes| {
            let i = at(i, bytes.len());
            bytes.insert(i, byte);
        }),
        Edit::RemoveByte { at: i } => edit_decoded(token, |bytes| {
            if !bytes.is_empty() {
                bytes.remove(usize::from(i) % bytes.len());
            }
        }),
    }
}

/// Edits the bytes a token spells, when it still spells some.
fn edit_decoded(token: &mut Vec<u8>, edit: impl FnOnce(&mut Vec<u8>)) {
    let Some(body) = token.strip_prefix(PREFIX.as_bytes()) else {
        return;
    };
    let Ok(mut bytes) = URL_SAFE_NO_PAD.decode(body) else {
        return;
    };
    edit(&mut bytes);
    *token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)).into_bytes();
}
