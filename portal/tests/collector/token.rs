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
    text_hash, Claims, CustomerId, KeyId, SignError, Signer, SigningKey, TokenError, Verifier,
    MAX_TEXT_ID_LEN, PREFIX,
};
use consent_testkit::Scratch;
use proptest::prelude::*;

const BASE64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const EXPIRES: i64 = 1_900_000_000;
const NOW: i64 = EXPIRES - 3600;

fn signer(n: u8) -> Signer {
    Signer::new(SigningKey::from_bytes(&[n; 32]))
}

fn verifier(signers: &[&Signer]) -> Verifier {
    Verifier::new(signers.iter().map(|s| s.verifying_key()))
}

fn claims(customer_id: CustomerId) -> Claims {
    Claims {
        request_id: 4711,
        customer_id,
        expires_at: EXPIRES,
        text_hash: text_hash("Vi sparar ditt namn och din adress för att kunna fakturera dig."),
    }
}

/// A text id of exactly `len` bytes, multi-byte characters included.
fn text_id(len: usize) -> CustomerId {
    let mut s = "é".repeat(len / 2);
    if len % 2 == 1 {
        s.push('x');
    }
    assert_eq!(s.len(), len);
    CustomerId::Text(s)
}

#[test]
fn round_trip_integer_and_text_customer_ids() {
    let a = signer(1);
    let v = verifier(&[&a]);
    let ids = [
        CustomerId::Integer(0),
        CustomerId::Integer(1001),
        CustomerId::Integer(i64::MIN),
        CustomerId::Integer(i64::MAX),
        CustomerId::Text(String::new()),
        CustomerId::Text("K-1001".into()),
        CustomerId::Text("Åsa Öberg 12".into()),
        text_id(MAX_TEXT_ID_LEN),
    ];
    for id in ids {
        let c = claims(id);
        let token = a.sign(&c).unwrap();
        assert!(token.starts_with(PREFIX));
        assert!(token[PREFIX.len()..]
            .chars()
            .all(|ch| BASE64URL.contains(ch)));
        assert_eq!(v.verify(&token, NOW), Ok(c));
    }
}

#[test]
fn text_id_over_255_bytes_is_refused_at_signing() {
    assert_eq!(
        signer(1).sign(&claims(text_id(MAX_TEXT_ID_LEN + 1))),
        Err(SignError::CustomerIdTooLong { len: 256 })
    );
    assert_eq!(
        signer(1).sign(&claims(text_id(10_000))),
        Err(SignError::CustomerIdTooLong { len: 10_000 })
    );
}

#[test]
fn signing_is_deterministic() {
    let c = claims(CustomerId::Integer(5));
    assert_eq!(signer(1).sign(&c), signer(1).sign(&c));
}

fn sample_tokens(s: &Signer) -> Vec<String> {
    vec![
        s.sign(&claims(CustomerId::Integer(1001))).expect("sign"),
        s.sign(&claims(CustomerId::Text("K-1001".into())))
            .expect("sign"),
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
        let bytes = URL_SAFE_NO_PAD.decode(&token[PREFIX.len()..]).unwrap();
        for bit in 0..bytes.len() * 8 {
            let mut changed = bytes.clone();
            changed[bit / 8] ^= 1 << (bit % 8);
            let changed = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(&changed));
            let result = v.verify(&changed, NOW);
            assert!(result.is_err(), "bit {bit} flipped was accepted");
            if (8..72).contains(&bit) {
                // The key id: no key of ours has that id.
                assert!(matches!(result, Err(TokenError::UnknownKey(_))));
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
        let mut bytes = URL_SAFE_NO_PAD.decode(&token[PREFIX.len()..]).unwrap();
        bytes.push(0);
        let longer = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(&bytes));
        assert!(v.verify(&longer, NOW).is_err());
    }
}

#[test]
fn padded_or_standard_alphabet_spellings_are_rejected() {
    let a = signer(1);
    let v = verifier(&[&a]);
    // Find a token whose encoding needs padding and uses '-' or '_'.
    let mut found = 0;
    for request_id in 0..200 {
        let mut c = claims(CustomerId::Integer(1));
        c.request_id = request_id;
        let token = a.sign(&c).unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(&token[PREFIX.len()..]).unwrap();
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
    let c = claims(CustomerId::Integer(1));
    let token = a.sign(&c).unwrap();
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

#[test]
fn forged_token_is_a_bad_signature_even_when_expired() {
    let a = signer(1);
    let v = verifier(&[&a]);
    let token = a.sign(&claims(CustomerId::Integer(1))).unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(&token[PREFIX.len()..]).unwrap();
    bytes[9] ^= 1; // request id
    let forged = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(&bytes));
    assert_eq!(
        v.verify(&forged, EXPIRES + 1),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn token_of_another_key_is_an_unknown_key() {
    let (a, b) = (signer(1), signer(2));
    let token = a.sign(&claims(CustomerId::Integer(1))).unwrap();
    assert_eq!(
        verifier(&[&b]).verify(&token, NOW),
        Err(TokenError::UnknownKey(a.key_id()))
    );
    assert_ne!(a.key_id(), b.key_id());
}

#[test]
fn rotation_old_and_new_keys_verify_only_the_new_one_signs() {
    let (old, new) = (signer(1), signer(2));
    let old_token = old.sign(&claims(CustomerId::Integer(1))).unwrap();
    let new_token = new.sign(&claims(CustomerId::Integer(2))).unwrap();

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
fn messages_say_what_happened() {
    let a = signer(1);
    let v = verifier(&[&a]);
    let err = v.verify("hello", NOW).unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed decision token: does not start with \"v1.\""
    );
    assert_eq!(
        v.verify("v2.AAAA", NOW).unwrap_err().to_string(),
        "decision token of an unsupported version (this program reads v1 tokens)"
    );
    let token = a.sign(&claims(CustomerId::Integer(1))).unwrap();
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

fn arb_customer_id() -> impl Strategy<Value = CustomerId> {
    prop_oneof![
        any::<i64>().prop_map(CustomerId::Integer),
        ".{0,255}".prop_map(|mut s| {
            while s.len() > MAX_TEXT_ID_LEN {
                s.pop();
            }
            CustomerId::Text(s)
        }),
    ]
}

fn arb_claims() -> impl Strategy<Value = Claims> {
    (
        any::<i64>(),
        arb_customer_id(),
        (i64::MIN + 1)..=i64::MAX,
        any::<[u8; 32]>(),
    )
        .prop_map(|(request_id, customer_id, expires_at, text_hash)| Claims {
            request_id,
            customer_id,
            expires_at,
            text_hash,
        })
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
        let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(&bytes));
        prop_assert!(v.verify(&token, NOW).is_err());
    }

    /// Past the version byte and a key id the verifier knows, so the random
    /// bytes reach the claim parser and the signature check.
    #[test]
    fn arbitrary_bytes_after_a_known_key_id_never_verify(
        tail in proptest::collection::vec(any::<u8>(), 0..600)
    ) {
        let a = signer(1);
        let v = verifier(&[&a]);
        let mut bytes = vec![1];
        bytes.extend_from_slice(&a.key_id().0);
        bytes.extend_from_slice(&tail);
        let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(&bytes));
        let result = v.verify(&token, NOW);
        prop_assert!(matches!(result, Err(TokenError::Malformed(_)) | Err(TokenError::BadSignature)));
    }

    #[test]
    fn arbitrary_claims_round_trip(c in arb_claims()) {
        let a = signer(1);
        let token = a.sign(&c).unwrap();
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
    let c = claims(CustomerId::Text("K-1".into()));
    assert_eq!(verifier.verify(&signer.sign(&c).unwrap(), NOW), Ok(c));
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
    let c = claims(CustomerId::Text("K-1001".into()));
    let n = 20_000;
    let start = Instant::now();
    let tokens: Vec<String> = (0..n)
        .map(|i| {
            let mut c = c.clone();
            c.request_id = i;
            a.sign(&c).unwrap()
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
