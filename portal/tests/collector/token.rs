//! Decision tokens and key files: round trips, every tamper refused, expiry,
//! key rotation, random input that never panics, and key files that keep
//! their secret.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use consent_portal::keys::{self, KeyError};
use consent_portal::token::{
    text_hash, Claims, Decision, KeyId, PageBinding, Signer, SigningKey, TokenError, Verifier,
    MAX_TOKEN_LEN, PREFIX, TOKEN_LEN,
};
use consent_testkit::Scratch;
use proptest::prelude::*;

const BASE64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const EXPIRES: i64 = 1_900_000_000;
const NOW: i64 = EXPIRES - 3600;
/// A page id as the portal draws them: 22 characters of base64url.
const PAGE_ID: &str = "Xq3_TzL0-mB9kWvR2sYp7A";

/// Where the claims sit in a token's decoded bytes (see token.rs).
const DECISION_BYTE: usize = 9;
const REQUEST_ID: std::ops::Range<usize> = 10..18;
const PAGE: std::ops::Range<usize> = 18..34;
const PAYLOAD_LEN: usize = 74;

/// A genuine version 1 token (one token for both buttons, customer id 42 in
/// clear), as pages carried before version 2; signed with the fuzz key.
const V1_TOKEN: &str = "v1.AYuByGJoG3ErAAAAAAAAAAEAAAAA9IZXADKoqi-ekJxgw2DAL23YFmeU6YAo8oSbRGF3jYKo9tueAAAAAAAAAAAqxanvw6RVWdguyP1xFRdmP-wwl0X5AR91lFaCZa3ukEW3H1qyKssRxARQPF7U2veJqL96T0iVICFoHWdHtPW4Bw";

fn signer(n: u8) -> Signer {
    Signer::new(SigningKey::from_bytes(&[n; 32]))
}

fn verifier(signers: &[&Signer]) -> Verifier {
    Verifier::new(signers.iter().map(|s| s.verifying_key()))
}

fn claims(decision: Decision) -> Claims {
    Claims {
        decision,
        request_id: 4711,
        page: PageBinding::of(PAGE_ID),
        expires_at: EXPIRES,
        text_hash: text_hash("Vi sparar ditt namn och din adress för att kunna fakturera dig."),
    }
}

fn decoded(token: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(&token[PREFIX.len()..])
        .expect("a token's body is base64url")
}

fn encoded(bytes: &[u8]) -> String {
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

#[test]
fn round_trip_both_decisions_any_request_and_page() {
    let a = signer(1);
    let v = verifier(&[&a]);
    let pages = [PAGE_ID, "AAAAAAAAAAAAAAAAAAAAAA", "______________________"];
    for decision in [Decision::Approve, Decision::Decline] {
        for request_id in [0, 1001, i64::MIN, i64::MAX] {
            for page in pages {
                let c = Claims {
                    request_id,
                    page: PageBinding::of(page),
                    ..claims(decision)
                };
                let token = a.sign(&c);
                assert!(token.starts_with(PREFIX));
                assert!(token[PREFIX.len()..]
                    .chars()
                    .all(|ch| BASE64URL.contains(ch)));
                assert_eq!(v.verify(&token, NOW), Ok(c));
            }
        }
    }
    // Different pages bind differently.
    assert_ne!(PageBinding::of(pages[0]), PageBinding::of(pages[1]));
}

/// Version 1 tokens carried the customer id, up to 255 bytes of it, and
/// were up to 507 characters long. A version 2 token carries no customer
/// id: every token has the same length whatever it says.
#[test]
fn every_token_has_the_same_length_and_carries_no_customer_id() {
    let a = signer(1);
    let mut lengths = std::collections::BTreeSet::new();
    for decision in [Decision::Approve, Decision::Decline] {
        for (request_id, expires_at) in [(0, 0), (i64::MIN, i64::MIN), (i64::MAX, i64::MAX)] {
            let token = a.sign(&Claims {
                request_id,
                expires_at,
                ..claims(decision)
            });
            lengths.insert(token.len());
            assert_eq!(decoded(&token).len(), PAYLOAD_LEN + 64);
        }
    }
    // "v2." and 138 bytes (74 of claims, 64 of signature) in base64url.
    assert_eq!(lengths.into_iter().collect::<Vec<_>>(), [187]);
    assert_eq!(TOKEN_LEN, 187);
    // Refused before decoding: anything beyond the limit, which leaves room
    // for every token.
    let v = verifier(&[&a]);
    let token = a.sign(&claims(Decision::Approve));
    let padded = format!("{token}{}", "A".repeat(MAX_TOKEN_LEN - token.len() + 1));
    assert_eq!(
        v.verify(&padded, NOW),
        Err(TokenError::Malformed("longer than any token"))
    );
    // The page id itself is not in the token either, only its binding.
    let token = a.sign(&claims(Decision::Approve));
    assert!(!token.contains(PAGE_ID));
    assert!(!decoded(&token)
        .windows(PAGE_ID.len())
        .any(|w| w == PAGE_ID.as_bytes()));
}

#[test]
fn signing_is_deterministic() {
    let c = claims(Decision::Approve);
    assert_eq!(signer(1).sign(&c), signer(1).sign(&c));
}

#[test]
fn the_decision_is_signed_a_decline_cannot_become_an_approval() {
    let a = signer(1);
    let v = verifier(&[&a]);
    let approve = a.sign(&claims(Decision::Approve));
    let decline = a.sign(&claims(Decision::Decline));
    assert_ne!(approve, decline);
    assert_eq!(
        v.verify(&decline, NOW).map(|c| c.decision),
        Ok(Decision::Decline)
    );
    // The decline's payload with the approve byte, its own signature.
    let mut bytes = decoded(&decline);
    assert_eq!(bytes[DECISION_BYTE], 2);
    bytes[DECISION_BYTE] = 1;
    assert_eq!(
        v.verify(&encoded(&bytes), NOW),
        Err(TokenError::BadSignature)
    );
    // The decline's payload with the approval's signature.
    let spliced = [
        &decoded(&decline)[..PAYLOAD_LEN],
        &decoded(&approve)[PAYLOAD_LEN..],
    ]
    .concat();
    assert_eq!(
        v.verify(&encoded(&spliced), NOW),
        Err(TokenError::BadSignature)
    );
    // Neither 0 nor any byte after withdraw (3) is a decision.
    for byte in [0u8, 4, 0x81, 0xff] {
        let mut bytes = decoded(&decline);
        bytes[DECISION_BYTE] = byte;
        assert_eq!(
            v.verify(&encoded(&bytes), NOW),
            Err(TokenError::Malformed("unknown decision")),
            "{byte}"
        );
    }
}

#[test]
fn a_token_names_its_page_and_no_other() {
    let a = signer(1);
    let v = verifier(&[&a]);
    let token = a.sign(&claims(Decision::Approve));
    let c = v.verify(&token, NOW).expect("genuine");
    assert_eq!(c.page, PageBinding::of(PAGE_ID));
    assert_ne!(c.page, PageBinding::of("Xq3_TzL0-mB9kWvR2sYp7B"));
    assert_eq!(decoded(&token)[PAGE], PageBinding::of(PAGE_ID).0);
    // Another page's binding spliced in breaks the signature.
    let mut bytes = decoded(&token);
    bytes[PAGE].copy_from_slice(&PageBinding::of("Xq3_TzL0-mB9kWvR2sYp7B").0);
    assert_eq!(
        v.verify(&encoded(&bytes), NOW),
        Err(TokenError::BadSignature)
    );
}

fn sample_tokens(s: &Signer) -> Vec<String> {
    vec![
        s.sign(&claims(Decision::Approve)),
        s.sign(&claims(Decision::Decline)),
    ]
}

#[test]
fn every_single_character_substitution_is_rejected() {
    let a = signer(1);
    let v = verifier(&[&a]);
    // The base64url alphabet, plus what a careless copy or another encoding
    // might bring: padding, the standard alphabet, separators, non-ASCII.
    let replacements: Vec<char> = BASE64URL.chars().chain("=+/. %ä".chars()).collect();
    for token in sample_tokens(&a) {
        let chars: Vec<char> = token.chars().collect();
        for i in 0..chars.len() {
            for &c in &replacements {
                if c == chars[i] {
                    continue;
                }
                let mut changed = chars.clone();
                changed[i] = c;
                let changed: String = changed.into_iter().collect();
                let result = v.verify(&changed, NOW);
                assert!(result.is_err(), "accepted {changed} ({result:?})");
            }
        }
    }
}

#[test]
fn every_single_bit_flip_is_rejected() {
    let a = signer(1);
    let v = verifier(&[&a]);
    for token in sample_tokens(&a) {
        let bytes = decoded(&token);
        for bit in 0..bytes.len() * 8 {
            let mut changed = bytes.clone();
            changed[bit / 8] ^= 1 << (bit % 8);
            let result = v.verify(&encoded(&changed), NOW);
            assert!(result.is_err(), "bit {bit} flipped was accepted");
            match bit {
                // The version byte.
                0..8 => assert_eq!(result, Err(TokenError::Malformed("version byte is not 2"))),
                // The key id: no key of ours has that id.
                8..72 => assert!(matches!(result, Err(TokenError::UnknownKey(_)))),
                // The decision: one bit off approve (1) or decline (2) is
                // no decision, or another (3, withdraw) whose signature
                // fails.
                72..80 if (1..=3).contains(&changed[DECISION_BYTE]) => {
                    assert_eq!(result, Err(TokenError::BadSignature), "bit {bit}")
                }
                72..80 => assert_eq!(result, Err(TokenError::Malformed("unknown decision"))),
                _ => assert_eq!(result, Err(TokenError::BadSignature), "bit {bit}"),
            }
        }
    }
}

#[test]
fn truncated_and_extended_tokens_are_rejected() {
    let a = signer(1);
    let v = verifier(&[&a]);
    for token in sample_tokens(&a) {
        for len in 0..token.len() {
            assert!(v.verify(&token[..len], NOW).is_err(), "length {len}");
        }
        for tail in ["A", "AA", "AAAA", "=", "==", ".", " ", "\n"] {
            let longer = format!("{token}{tail}");
            assert!(v.verify(&longer, NOW).is_err(), "tail {tail:?}");
        }
        // The same bytes with one more byte encoded in.
        let mut bytes = decoded(&token);
        bytes.push(0);
        assert!(v.verify(&encoded(&bytes), NOW).is_err());
    }
}

#[test]
fn padded_or_standard_alphabet_spellings_are_rejected() {
    let a = signer(1);
    let v = verifier(&[&a]);
    // Find a token whose encoding needs padding and uses '-' or '_'.
    let mut found = 0;
    for request_id in 0..200 {
        let mut c = claims(Decision::Approve);
        c.request_id = request_id;
        let token = a.sign(&c);
        let bytes = decoded(&token);
        let padded = format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE.encode(&bytes)
        );
        if padded != token {
            assert!(v.verify(&padded, NOW).is_err());
        }
        let standard = format!("{PREFIX}{}", STANDARD.encode(&bytes));
        if standard.trim_end_matches('=') != token {
            found += 1;
            assert!(v.verify(&standard, NOW).is_err());
            assert!(v.verify(standard.trim_end_matches('='), NOW).is_err());
        }
    }
    assert!(found > 0);
}

#[test]
fn expiry_boundary() {
    let a = signer(1);
    let v = verifier(&[&a]);
    for decision in [Decision::Approve, Decision::Decline] {
        let c = claims(decision);
        let token = a.sign(&c);
        assert_eq!(v.verify(&token, EXPIRES - 1), Ok(c));
        assert_eq!(
            v.verify(&token, EXPIRES),
            Err(TokenError::Expired {
                expires_at: EXPIRES
            })
        );
        assert_eq!(
            v.verify(&token, i64::MAX),
            Err(TokenError::Expired {
                expires_at: EXPIRES
            })
        );
    }
}

#[test]
fn forged_token_is_a_bad_signature_even_when_expired() {
    let a = signer(1);
    let v = verifier(&[&a]);
    let token = a.sign(&claims(Decision::Decline));
    let forgeries: [fn(&mut Vec<u8>); 3] = [
        |bytes| bytes[REQUEST_ID.end - 1] ^= 1,
        |bytes| bytes[DECISION_BYTE] = 1,
        |bytes| bytes[PAGE.start] ^= 1,
    ];
    for forge in forgeries {
        let mut bytes = decoded(&token);
        forge(&mut bytes);
        assert_eq!(
            v.verify(&encoded(&bytes), EXPIRES + 1),
            Err(TokenError::BadSignature)
        );
    }
}

#[test]
fn token_of_another_key_is_an_unknown_key() {
    let (a, b) = (signer(1), signer(2));
    let token = a.sign(&claims(Decision::Approve));
    assert_eq!(
        verifier(&[&b]).verify(&token, NOW),
        Err(TokenError::UnknownKey(a.key_id()))
    );
    assert_ne!(a.key_id(), b.key_id());
}

#[test]
fn rotation_old_and_new_keys_verify_only_the_new_one_signs() {
    let (old, new) = (signer(1), signer(2));
    let old_token = old.sign(&claims(Decision::Approve));
    let new_token = new.sign(&claims(Decision::Decline));

    let during = verifier(&[&old, &new]);
    assert_eq!(
        during.key_ids().collect::<Vec<_>>(),
        [old.key_id(), new.key_id()]
    );
    assert!(during.verify(&old_token, NOW).is_ok());
    assert!(during.verify(&new_token, NOW).is_ok());

    let after = verifier(&[&new]);
    assert_eq!(
        after.verify(&old_token, NOW),
        Err(TokenError::UnknownKey(old.key_id()))
    );
    assert!(after.verify(&new_token, NOW).is_ok());

    // The same key given twice counts once.
    assert_eq!(verifier(&[&new, &new]).key_ids().count(), 1);
}

#[test]
fn oversized_input_is_refused_before_decoding() {
    let v = verifier(&[&signer(1)]);
    for len in [1025, 10_000, 1 << 20] {
        let token = format!("{PREFIX}{}", "A".repeat(len));
        assert_eq!(
            v.verify(&token, NOW),
            Err(TokenError::Malformed("longer than any token"))
        );
    }
}

#[test]
fn a_version_1_token_is_refused_as_such() {
    // Genuine when it was made, and signed by a key the verifier knows: it
    // is still refused, for its version, before the key is looked at.
    let fuzz_key = Signer::new(SigningKey::from_bytes(&[0x5e; 32]));
    let v = verifier(&[&fuzz_key]);
    for now in [0, NOW, i64::MAX] {
        assert_eq!(v.verify(V1_TOKEN, now), Err(TokenError::Version1));
    }
    assert_eq!(v.verify("v1.AAAA", NOW), Err(TokenError::Version1));
    // Its bytes under the version 2 prefix are no token either.
    let body = &V1_TOKEN["v1.".len()..];
    assert!(v.verify(&format!("{PREFIX}{body}"), NOW).is_err());
}

#[test]
fn messages_say_what_happened() {
    let a = signer(1);
    let v = verifier(&[&a]);
    let err = v.verify("hello", NOW).unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed decision token: does not start with \"v2.\""
    );
    assert_eq!(
        v.verify("v3.AAAA", NOW).unwrap_err().to_string(),
        "decision token of an unsupported version (this program reads v2 tokens)"
    );
    let v1 = v.verify(V1_TOKEN, NOW).unwrap_err().to_string();
    assert!(
        v1.starts_with("decision token of version 1")
            && v1.contains("the customer can answer there"),
        "{v1}"
    );
    let token = a.sign(&claims(Decision::Approve));
    assert_eq!(
        v.verify(&token, EXPIRES).unwrap_err().to_string(),
        "decision token expired at 2030-03-17T17:46:40Z"
    );
}

#[test]
fn signer_debug_holds_no_secret() {
    let seed = [0x5a; 32];
    let s = Signer::new(SigningKey::from_bytes(&seed));
    let debug = format!("{s:?} {:?}", verifier(&[&s]));
    assert!(debug.contains(&s.key_id().to_string()), "{debug}");
    assert!(!debug.contains(&STANDARD.encode(seed)));
    assert!(!debug.contains(&consent_portal::token::hex(&seed)));
    assert!(!debug.contains("90, 90, 90"), "{debug}"); // 0x5a as decimal bytes
}

// Random input: never a panic, never a verified token.

fn arb_claims() -> impl Strategy<Value = Claims> {
    (
        any::<bool>(),
        any::<i64>(),
        any::<[u8; 16]>(),
        (i64::MIN + 1)..=i64::MAX,
        any::<[u8; 32]>(),
    )
        .prop_map(
            |(approve, request_id, page, expires_at, text_hash)| Claims {
                decision: if approve {
                    Decision::Approve
                } else {
                    Decision::Decline
                },
                request_id,
                page: PageBinding(page),
                expires_at,
                text_hash,
            },
        )
}

proptest! {
    #[test]
    fn arbitrary_strings_never_verify(s in "\\PC{0,600}") {
        let v = verifier(&[&signer(1)]);
        let prefixed = format!("{PREFIX}{s}");
        prop_assert!(v.verify(&s, NOW).is_err());
        prop_assert!(v.verify(&prefixed, NOW).is_err());
    }

    #[test]
    fn arbitrary_base64url_never_verifies(s in "[A-Za-z0-9_-]{0,600}") {
        let v = verifier(&[&signer(1)]);
        let token = format!("{PREFIX}{s}");
        prop_assert!(v.verify(&token, NOW).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_verify(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let v = verifier(&[&signer(1)]);
        prop_assert!(v.verify(&encoded(&bytes), NOW).is_err());
    }

    /// Past the version byte and a key id the verifier knows, so the random
    /// bytes reach the claim parser and the signature check.
    #[test]
    fn arbitrary_bytes_after_a_known_key_id_never_verify(
        tail in proptest::collection::vec(any::<u8>(), 0..600)
    ) {
        let a = signer(1);
        let v = verifier(&[&a]);
        let mut bytes = vec![2];
        bytes.extend_from_slice(&a.key_id().0);
        bytes.extend_from_slice(&tail);
        let result = v.verify(&encoded(&bytes), NOW);
        prop_assert!(
            matches!(result, Err(TokenError::Malformed(_)) | Err(TokenError::BadSignature)),
            "{:?}", result
        );
        prop_assert_ne!(result, Err(TokenError::Malformed("version byte is not 2")));
    }

    #[test]
    fn arbitrary_claims_round_trip(c in arb_claims()) {
        let a = signer(1);
        let token = a.sign(&c);
        prop_assert_eq!(token.len(), TOKEN_LEN);
        prop_assert_eq!(verifier(&[&a]).verify(&token, c.expires_at - 1), Ok(c));
    }
}

// Key files.

/// A new key pair in a scratch folder: the folder, the signing key file
/// and the verifying key file.
fn key_files(label: &str) -> (Scratch, PathBuf, PathBuf) {
    let tmp = Scratch::new(label);
    let (sk, pk) = (tmp.join("signing.key"), tmp.join("verifying.pub"));
    keys::write_new_key_pair(&sk, &pk).expect("a new key pair");
    (tmp, sk, pk)
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

/// The base64 seed line of a signing key file.
fn seed_line(path: &Path) -> String {
    fs::read_to_string(path)
        .expect("key file")
        .lines()
        .nth(1)
        .expect("a seed line")
        .to_owned()
}

#[test]
fn key_pair_files_sign_and_verify() {
    let tmp = Scratch::new("pair");
    let (sk, pk) = (tmp.join("signing.key"), tmp.join("verifying.pub"));
    let key_id = keys::write_new_key_pair(&sk, &pk).unwrap();

    assert_eq!(mode(&sk), 0o600);
    let signing_text = fs::read_to_string(&sk).unwrap();
    assert!(signing_text.starts_with("consent-portal Ed25519 signing key: keep secret\n"));
    assert_eq!(signing_text.lines().count(), 2);
    assert_eq!(STANDARD.decode(seed_line(&sk)).unwrap().len(), 32);
    let verifying_text = fs::read_to_string(&pk).unwrap();
    assert!(verifying_text.starts_with(&format!("consent-portal Ed25519 verifying key {key_id}\n")));
    assert_eq!(key_id.to_string().len(), 16);

    let signer = keys::load_signer(&sk).unwrap();
    assert_eq!(signer.key_id(), key_id);
    let verifier = keys::load_verifier(&[pk]).unwrap();
    for decision in [Decision::Approve, Decision::Decline] {
        let c = claims(decision);
        assert_eq!(verifier.verify(&signer.sign(&c), NOW), Ok(c));
    }
}

#[test]
fn key_files_are_never_overwritten() {
    let (tmp, sk, pk) = key_files("overwrite");
    let (before_sk, before_pk) = (fs::read(&sk).unwrap(), fs::read(&pk).unwrap());

    let err = keys::write_new_key_pair(&sk, &pk).unwrap_err();
    assert!(matches!(&err, KeyError::Exists(p) if *p == sk), "{err:?}");
    assert!(err.to_string().contains("already exists"));
    // A new signing key beside an existing public key: refused, and the new
    // signing key file is not left behind.
    let other_sk = tmp.join("other.key");
    let err = keys::write_new_key_pair(&other_sk, &pk).unwrap_err();
    assert!(matches!(&err, KeyError::Exists(p) if *p == pk), "{err:?}");
    assert!(!other_sk.exists());

    assert_eq!(fs::read(&sk).unwrap(), before_sk);
    assert_eq!(fs::read(&pk).unwrap(), before_pk);
    assert!(matches!(
        keys::write_new_key_pair(&other_sk, &other_sk),
        Err(KeyError::SamePath)
    ));
}

#[test]
fn no_half_pair_remains_when_the_second_file_fails() {
    let tmp = Scratch::new("half");
    let sk = tmp.join("signing.key");
    let err = keys::write_new_key_pair(&sk, &tmp.join("missing/verifying.pub")).unwrap_err();
    assert!(matches!(err, KeyError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("missing/verifying.pub"));
    assert!(!sk.exists());
}

#[test]
fn signing_key_readable_by_others_is_refused_without_showing_it() {
    let (_tmp, sk, pk) = key_files("mode");
    let seed = seed_line(&sk);
    for bad in [0o644, 0o640, 0o604, 0o610, 0o601, 0o660] {
        chmod(&sk, bad);
        let err = keys::load_signer(&sk).unwrap_err();
        let message = format!("{err} {err:?}");
        assert!(matches!(err, KeyError::TooOpen { .. }), "{message}");
        assert!(
            message.contains(&format!("chmod 600 {}", sk.display())),
            "{message}"
        );
        assert!(message.contains(&format!("{bad:o}")), "{message}");
        assert!(!message.contains(&seed), "{message}");
    }
    for good in [0o600, 0o400] {
        chmod(&sk, good);
        assert!(keys::load_signer(&sk).is_ok());
    }
    // Public keys may be world-readable.
    chmod(&pk, 0o644);
    assert!(keys::load_verifier(&[pk]).is_ok());
}

#[test]
fn malformed_key_files_are_refused_without_showing_them() {
    let (tmp, sk, pk) = key_files("malformed");
    let seed = seed_line(&sk);

    // Each file given in the other's place.
    let err = keys::load_signer(&pk).unwrap_err();
    assert!(matches!(err, KeyError::TooOpen { .. }) || err.to_string().contains("public"));
    chmod(&pk, 0o600);
    let err = keys::load_signer(&pk).unwrap_err();
    assert!(
        err.to_string().contains("verifying (public) key file"),
        "{err}"
    );
    let err = keys::load_verifier(std::slice::from_ref(&sk)).unwrap_err();
    assert!(
        err.to_string().contains("signing (private) key file"),
        "{err}"
    );
    assert!(!format!("{err} {err:?}").contains(&seed));

    let write_private = |name: &str, text: &str| {
        let path = tmp.join(name);
        fs::write(&path, text).unwrap();
        chmod(&path, 0o600);
        path
    };
    let header = "consent-portal Ed25519 signing key: keep secret";
    let short = &seed[..seed.len() - 4];
    let cases = [
        ("empty", String::new()),
        ("no-key-line", format!("{header}\n")),
        ("bad-header", format!("some key\n{seed}\n")),
        ("not-base64", format!("{header}\n{seed}!\n")),
        ("short", format!("{header}\n{short}\n")),
        ("extra-line", format!("{header}\n{seed}\n{seed}\n")),
        ("huge", format!("{header}\n{seed}\n{}", " ".repeat(5000))),
    ];
    for (name, text) in cases {
        let path = write_private(name, &text);
        let err = keys::load_signer(&path).unwrap_err();
        let message = format!("{err} {err:?}");
        assert!(
            matches!(err, KeyError::Malformed { .. }),
            "{name}: {message}"
        );
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(!message.contains(&seed), "{name}: {message}");
        assert!(!message.contains(short), "{name}: {message}");
    }

    // A public key file whose header names another key.
    let text = fs::read_to_string(&pk).unwrap();
    let altered = tmp.join("altered.pub");
    fs::write(
        &altered,
        text.replacen("verifying key ", "verifying key 00", 1),
    )
    .unwrap();
    let err = keys::load_verifier(&[pk.clone(), altered]).unwrap_err();
    assert!(matches!(err, KeyError::KeyIdMismatch { .. }), "{err:?}");

    let missing = tmp.join("missing.key");
    let err = keys::load_signer(&missing).unwrap_err();
    assert!(err.to_string().contains("missing.key"), "{err}");
    assert!(matches!(
        keys::load_verifier(&[]),
        Err(KeyError::NoVerifyingKeys)
    ));
}

#[test]
fn loaded_signer_debug_holds_no_secret() {
    let (_tmp, sk, _pk) = key_files("debug");
    let seed = seed_line(&sk);
    let seed_hex = consent_portal::token::hex(&STANDARD.decode(&seed).unwrap());
    let debug = format!("{:?}", keys::load_signer(&sk).unwrap());
    assert!(!debug.contains(&seed), "{debug}");
    assert!(!debug.contains(&seed_hex), "{debug}");
}

#[test]
fn generated_keys_differ() {
    let a = keys::generate().unwrap();
    let b = keys::generate().unwrap();
    assert_ne!(a.to_bytes(), b.to_bytes());
    assert_ne!(KeyId::of(&a.verifying_key()), KeyId::of(&b.verifying_key()));
}

/// `cargo test -p consent-portal --test collector token::sign_and_verify_throughput -- --ignored --nocapture`
#[test]
#[ignore = "measurement, prints numbers"]
fn sign_and_verify_throughput() {
    let a = signer(1);
    let v = verifier(&[&signer(3), &signer(2), &a]);
    let c = claims(Decision::Approve);
    let n = 20_000;
    let start = Instant::now();
    let tokens: Vec<String> = (0..n)
        .map(|i| {
            let mut c = c.clone();
            c.request_id = i;
            a.sign(&c)
        })
        .collect();
    let signed = start.elapsed();
    let start = Instant::now();
    for token in &tokens {
        v.verify(token, NOW).unwrap();
    }
    let verified = start.elapsed();
    let start = Instant::now();
    let mut rejected = 0;
    for token in &tokens {
        rejected += usize::from(v.verify(&token[..token.len() - 1], NOW).is_err());
    }
    let parsed = start.elapsed();
    assert_eq!(rejected, tokens.len());
    let rate = |d: std::time::Duration| n as f64 / d.as_secs_f64();
    println!(
        "sign {:.0}/s, verify {:.0}/s, reject malformed {:.0}/s ({} chars per token)",
        rate(signed),
        rate(verified),
        rate(parsed),
        tokens[0].len()
    );
}
