//! Pressing a button as a customer's browser does: the pressed button's
//! `token` (each button of a consent page carries its own), POSTed as a
//! form to the collector's `/decision`; and the HTTP client the tests use
//! for it.

use std::time::Duration;

use consent_extension::time;
use consent_portal::token::{self, Claims, Decision, PageBinding, Signer};

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

/// The token of a page's `approve` or `decline` button, if it has one.
pub fn find_token<'h>(html: &'h str, decision: &str) -> Option<&'h str> {
    html.match_indices("name=\"token\" value=\"")
        .find_map(|(at, field)| {
            let rest = &html[at + field.len()..];
            let (token, after) = rest.split_once('"')?;
            let button_end = after.find('>')?;
            after[..button_end]
                .contains(&format!("class=\"{decision}\""))
                .then_some(token)
        })
}

/// The token of a page's `approve` or `decline` button.
pub fn token_of(html: &str, decision: &str) -> String {
    find_token(html, decision)
        .unwrap_or_else(|| panic!("no {decision} button with a token in:\n{html}"))
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

/// Presses a consent page's button: posts the button's token.
pub fn press(base: &str, token: &str) -> u16 {
    post(base, &[("token", token)])
}

/// A genuine token for `request_id` with page `page_id`, over the sample
/// [`INFO_TEXT`], valid for `expires_in` seconds from now (negative:
/// already expired).
pub fn signed_token(
    signer: &Signer,
    decision: Decision,
    request_id: i64,
    page_id: &str,
    expires_in: i64,
) -> String {
    signer.sign(&Claims {
        decision,
        request_id,
        page: PageBinding::of(page_id),
        expires_at: time::now() + expires_in,
        text_hash: token::text_hash(INFO_TEXT),
    })
}
