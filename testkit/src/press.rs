//! Pressing a button as a customer's browser does: the `token` hidden in a
//! consent page's form and the button's `decision`, POSTed as a form to the
//! collector's `/decision`; and the HTTP client the tests use for it.

use std::time::Duration;

use consent_extension::time;
use consent_portal::token::{self, Claims, CustomerId, Signer};

use crate::sample::INFO_TEXT;

/// An HTTP client that shows answers as they are: no redirect followed, no
/// status turned into an error, never waiting longer than 10 s.
pub fn client() -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)));
    config.build().into()
}

/// The value of a page's hidden `token` field, if it has one.
pub fn find_token(html: &str) -> Option<&str> {
    let (_, rest) = html.split_once("name=\"token\" value=\"")?;
    rest.split('"').next()
}

/// The value of a page's hidden `token` field.
pub fn token_of(html: &str) -> String {
    find_token(html)
        .unwrap_or_else(|| panic!("no token field in:\n{html}"))
        .to_owned()
}

/// POSTs `fields` as a form to `<base>/decision`; the status of the answer.
pub fn post(base: &str, fields: &[(&str, &str)]) -> u16 {
    client()
        .post(&format!("{base}/decision"))
        .send_form(fields.iter().copied())
        .expect("the collector answers")
        .status()
        .as_u16()
}

/// Presses a consent page's button: `decision` is `approve` or `decline`.
pub fn press(base: &str, token: &str, decision: &str) -> u16 {
    post(base, &[("token", token), ("decision", decision)])
}

/// A genuine token for `request_id` of `customer_id`, over the sample
/// [`INFO_TEXT`], valid for `expires_in` seconds from now (negative: already
/// expired).
pub fn signed_token(signer: &Signer, request_id: i64, customer_id: i64, expires_in: i64) -> String {
    signer
        .sign(&Claims {
            request_id,
            customer_id: CustomerId::Integer(customer_id),
            expires_at: time::now() + expires_in,
            text_hash: token::text_hash(INFO_TEXT),
        })
        .expect("sign a token")
}
