// The fixed key pair, the fixed clock and the seed corpus of the fuzz
// targets. portal/tests/fuzz.rs includes this file (`include!`) to check
// that the committed seeds in corpus/ are the ones written here, so it
// holds only items (no inner attributes) and uses only what consent-portal's
// tests have.

use consent_portal::token::{text_hash, Claims, CustomerId, Signer, SigningKey, Verifier};

/// The secret half of the fuzz key pair. Known to everyone: it signs only
/// the fuzz seeds and the claims the targets make up.
pub const SECRET_KEY: [u8; 32] = [0x5e; 32];

/// The clock `token_verify` verifies at (2026-11-30).
pub const NOW: i64 = 1_796_000_000;

/// Seeds that should verify expire at 2100-01-01, so that they stay valid for
/// `decision_post`, whose collector verifies at the real time.
pub const FAR_FUTURE: i64 = 4_102_444_800;

/// Expired long ago, at 2001-09-09.
pub const LONG_AGO: i64 = 1_000_000_000;

/// How `decision_post` reads its input: the content type, a newline, the
/// body. Input without a newline is a body sent without a content type.
pub const FORM_TYPE: &str = "application/x-www-form-urlencoded";

pub fn signer() -> Signer {
    Signer::new(SigningKey::from_bytes(&SECRET_KEY))
}

pub fn verifier() -> Verifier {
    Verifier::new([signer().verifying_key()])
}

fn claims(request_id: i64, customer_id: CustomerId, expires_at: i64) -> Claims {
    Claims {
        request_id,
        customer_id,
        expires_at,
        text_hash: text_hash("Vi sparar namn och e-post för fakturering."),
    }
}

fn sign(claims: &Claims) -> String {
    signer().sign(claims).expect("seed claims are signable")
}

/// The seed corpus: (target, file name, contents).
pub fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let integer = sign(&claims(1, CustomerId::Integer(42), FAR_FUTURE));
    let text = sign(&claims(2, CustomerId::Text("K-1001".into()), FAR_FUTURE));
    let unicode = sign(&claims(3, CustomerId::Text("Åsa-7".into()), FAR_FUTURE));
    let longest = sign(&claims(4, CustomerId::Text("x".repeat(255)), FAR_FUTURE));
    let expired = sign(&claims(5, CustomerId::Integer(-9), LONG_AGO));
    // A decision_post seed: the content type on the first line, the body
    // after it (None: no content type at all).
    let post = |name, content_type: Option<&str>, body: String| {
        let bytes = match content_type {
            Some(content_type) => format!("{content_type}\n{body}").into_bytes(),
            None => body.into_bytes(),
        };
        ("decision_post", name, bytes)
    };
    let form = Some(FORM_TYPE);
    let form_utf8 = format!("{FORM_TYPE}; charset=utf-8");
    vec![
        ("token_verify", "integer_id", integer.clone().into_bytes()),
        ("token_verify", "text_id", text.clone().into_bytes()),
        ("token_verify", "unicode_id", unicode.clone().into_bytes()),
        ("token_verify", "longest", longest.into_bytes()),
        ("token_verify", "expired", expired.clone().into_bytes()),
        ("token_verify", "other_version", b"v2.AAAA".to_vec()),
        post("approve", form, format!("token={integer}&decision=approve")),
        post("decline", form, format!("decision=decline&token={text}")),
        post(
            "charset",
            Some(&form_utf8),
            format!("token={unicode}&decision=approve&extra=1"),
        ),
        post("expired", form, format!("token={expired}&decision=approve")),
        post("no_decision", form, format!("token={integer}")),
        post(
            "twice",
            form,
            format!("token={integer}&decision=approve&decision=decline"),
        ),
        post(
            "plain_text",
            Some("text/plain"),
            format!("token={text}&decision=decline"),
        ),
        post("no_type", None, format!("token={integer}&decision=approve")),
    ]
}
