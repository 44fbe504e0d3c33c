// The fixed key pair, the fixed clock and the seed corpus of the fuzz
// targets. portal/tests/fuzz.rs includes this file (`include!`) to check
// that the committed seeds in corpus/ are the ones written here, so it
// holds only items (no inner attributes) and uses only what consent-portal's
// tests have.

use consent_portal::token::{
    text_hash, Claims, Decision, PageBinding, Signer, SigningKey, Verifier,
};

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

/// A genuine version 1 token signed with the fuzz key (one token for both
/// buttons, customer id 42 in clear), as pages carried before version 2:
/// refused as a version 1 token.
pub const VERSION_1_TOKEN: &str = "v1.AYuByGJoG3ErAAAAAAAAAAEAAAAA9IZXADKoqi-ekJxgw2DAL23YFmeU6YAo8oSbRGF3jYKo9tueAAAAAAAAAAAqxanvw6RVWdguyP1xFRdmP-wwl0X5AR91lFaCZa3ukEW3H1qyKssRxARQPF7U2veJqL96T0iVICFoHWdHtPW4Bw";

pub fn signer() -> Signer {
    Signer::new(SigningKey::from_bytes(&SECRET_KEY))
}

pub fn verifier() -> Verifier {
    Verifier::new([signer().verifying_key()])
}

/// The claims of a button of the page `page_id` (22 characters of
/// base64url, as the portal draws them).
fn claims(decision: Decision, request_id: i64, page_id: &str, expires_at: i64) -> Claims {
    Claims {
        decision,
        request_id,
        page: PageBinding::of(page_id),
        expires_at,
        text_hash: text_hash("Vi sparar namn och e-post för fakturering."),
    }
}

fn sign(claims: &Claims) -> String {
    signer().sign(claims)
}

/// The seed corpus: (target, file name, contents).
pub fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let page = "Kx7Qm2_pL9vZ-a3BcD4eFg";
    let approve = sign(&claims(Decision::Approve, 1, page, FAR_FUTURE));
    let decline = sign(&claims(Decision::Decline, 1, page, FAR_FUTURE));
    let extremes = sign(&claims(
        Decision::Decline,
        i64::MAX,
        "______________________",
        FAR_FUTURE,
    ));
    let expired = sign(&claims(
        Decision::Approve,
        5,
        "AAAAAAAAAAAAAAAAAAAAAA",
        LONG_AGO,
    ));
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
        ("token_verify", "approve", approve.clone().into_bytes()),
        ("token_verify", "decline", decline.clone().into_bytes()),
        ("token_verify", "extremes", extremes.clone().into_bytes()),
        ("token_verify", "expired", expired.clone().into_bytes()),
        (
            "token_verify",
            "version_1",
            VERSION_1_TOKEN.as_bytes().to_vec(),
        ),
        ("token_verify", "other_version", b"v3.AAAA".to_vec()),
        post("approve", form, format!("token={approve}")),
        post("decline", form, format!("token={decline}")),
        post(
            "charset",
            Some(&form_utf8),
            format!("token={extremes}&extra=1"),
        ),
        post("expired", form, format!("token={expired}")),
        post(
            "version_1",
            form,
            format!("token={VERSION_1_TOKEN}&decision=approve"),
        ),
        // The form of the pages before version 2, the field saying the
        // other button: the token's decision is the one stored.
        post(
            "old_form",
            form,
            format!("token={decline}&decision=approve"),
        ),
        post("twice", form, format!("token={approve}&token={decline}")),
        post("plain_text", Some("text/plain"), format!("token={decline}")),
        post("no_type", None, format!("token={approve}")),
    ]
}
