//! Each customer in their language: a register whose billing table has a
//! language column (`consent_init`'s sixth argument). After a sync with
//! file transports, every page (`<html lang>` and its words), every
//! e-mail (the `.eml` files) and every SMS (the JSON files) is in the
//! customer's language, else in the `language` setting; a page once made
//! keeps its language, and its message follows the page, whatever the
//! customer's language says later.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use consent_portal::keys;
use consent_portal::sync::render;
use consent_testkit::sample::{SetUp, BUSINESS_NAME, INFO_TEXT};
use consent_testkit::world::{Spec, World, FILE_EMAIL, FILE_SMS};

const T0: i64 = 1_796_000_000;

/// A register with a language column `sprak`; `rows` are its customers as
/// SQL values `(nr, namn, epost, mobil, sprak)`.
fn world(label: &str, rows: &str, setting: &str) -> World {
    let register = format!(
        "CREATE TABLE kunder (nr INTEGER PRIMARY KEY, namn TEXT, epost TEXT, mobil TEXT, sprak TEXT);
         INSERT INTO kunder VALUES {rows};"
    );
    let set_up = SetUp::settings()
        .then("SELECT consent_init('kunder', 'nr', 'epost', 'mobil', 'namn', 'sprak')")
        .business_name(BUSINESS_NAME)
        .info_text(INFO_TEXT)
        .sms()
        .then(&format!("SELECT consent_setting('language', '{setting}')"))
        .then(&format!("SELECT consent_queue_all(NULL, {T0})"));
    World::new(
        label,
        Spec {
            register: &register,
            set_up,
            transports: format!("{FILE_EMAIL}{FILE_SMS}"),
            bearer: None,
            rate: None,
        },
    )
}

/// The customer's current page, as written.
fn page(w: &World, customer: i64) -> String {
    let page_id = w.sql(&format!(
        "SELECT page_id FROM consent_request WHERE customer_id = {customer} ORDER BY id DESC LIMIT 1"
    ));
    let path = w.dir.join("site/c").join(format!("{page_id}.html"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Asserts that a page is wholly in `lang` (`sv` or `en`).
fn assert_page_in(w: &World, customer: i64, lang: &str) {
    let html = page(w, customer);
    let (own, other) = match lang {
        "sv" => (
            [
                "Får vi spara dina uppgifter?",
                "Jag godkänner",
                "Om ditt samtycke",
            ],
            [
                "May we keep your details?",
                "I approve",
                "About your consent",
            ],
        ),
        _ => (
            [
                "May we keep your details?",
                "I approve",
                "About your consent",
            ],
            [
                "Får vi spara dina uppgifter?",
                "Jag godkänner",
                "Om ditt samtycke",
            ],
        ),
    };
    assert!(
        html.contains(&format!("<html lang=\"{lang}\">")),
        "customer {customer}: {html}"
    );
    for words in own {
        assert!(html.contains(words), "customer {customer} lacks {words:?}");
    }
    for words in other {
        assert!(!html.contains(words), "customer {customer} has {words:?}");
    }
    // The information text is the business's own, in whatever language
    // it was written.
    assert!(html.contains(INFO_TEXT), "customer {customer}");
    // The page's recorded text is in its language.
    assert_eq!(
        w.sql(&format!(
            "SELECT t.language FROM consent_request AS r JOIN consent_text AS t ON t.hash = r.text_hash \
             WHERE r.customer_id = {customer} ORDER BY r.id DESC LIMIT 1"
        )),
        lang,
        "customer {customer}"
    );
}

/// Base64 or quoted-printable content as text.
fn decode(encoding: &str, content: &str) -> String {
    match encoding {
        "base64" => {
            let joined: String = content.split_whitespace().collect();
            String::from_utf8(STANDARD.decode(joined).expect("base64")).expect("UTF-8")
        }
        "quoted-printable" | "q" => {
            let bytes = content.replace("=\n", "").into_bytes();
            let mut out = Vec::with_capacity(bytes.len());
            let mut i = 0;
            while i < bytes.len() {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match (bytes[i], hex) {
                    (b'=', Some(byte)) => {
                        out.push(byte);
                        i += 3;
                    }
                    // RFC 2047's Q encoding writes a space as '_'.
                    (b'_', _) if encoding == "q" => {
                        out.push(b' ');
                        i += 1;
                    }
                    (b, _) => {
                        out.push(b);
                        i += 1;
                    }
                }
            }
            String::from_utf8(out).expect("UTF-8")
        }
        _ => content.to_owned(),
    }
}

/// A header's value, unfolded, its RFC 2047 encoded words decoded.
fn header(head: &str, name: &str) -> String {
    let unfolded = head.replace("\n ", " ").replace("\n\t", " ");
    let value = unfolded
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} in {head}"));
    let mut out = String::new();
    let mut last_encoded = false;
    for word in value.split(' ') {
        let encoded = word
            .strip_prefix("=?")
            .and_then(|w| w.strip_suffix("?="))
            .and_then(|w| {
                let mut parts = w.splitn(3, '?');
                let _charset = parts.next()?;
                let encoding = parts.next()?.to_ascii_lowercase();
                let text = parts.next()?;
                Some(match encoding.as_str() {
                    "b" => decode("base64", text),
                    _ => decode("q", text),
                })
            });
        match encoded {
            Some(text) => {
                if !last_encoded && !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&text);
                last_encoded = true;
            }
            None => {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(word);
                last_encoded = false;
            }
        }
    }
    out
}

/// An e-mail as read: its recipient, subject, and its parts decoded.
struct Mail {
    to: String,
    subject: String,
    body: String,
}

fn read_mail(eml: &str) -> Mail {
    let eml = eml.replace("\r\n", "\n");
    let (head, body) = eml.split_once("\n\n").expect("headers and body");
    let mut decoded = String::new();
    for part in body.split("\n--") {
        let Some((part_head, content)) = part.split_once("\n\n") else {
            continue;
        };
        let encoding = part_head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Transfer-Encoding: "))
            .unwrap_or("7bit")
            .trim()
            .to_ascii_lowercase();
        decoded.push_str(&decode(&encoding, content));
        decoded.push('\n');
    }
    Mail {
        to: header(head, "To"),
        subject: header(head, "Subject"),
        body: decoded,
    }
}

/// Every e-mail in the outbox, by recipient.
fn mails(w: &World) -> BTreeMap<String, Mail> {
    w.files("mail")
        .iter()
        .map(|eml| read_mail(eml))
        .map(|m| (m.to.clone(), m))
        .collect()
}

fn assert_mail_in(mail: &Mail, lang: &str) {
    let (subject, silence, other) = match lang {
        "sv" => (
            format!("{BUSINESS_NAME} ber om ditt samtycke"),
            "Om du inte svarar inom 7 dagar",
            "If you do not answer",
        ),
        _ => (
            format!("{BUSINESS_NAME} asks for your consent"),
            "If you do not answer within 7 days",
            "Om du inte svarar",
        ),
    };
    assert_eq!(mail.subject, subject, "{}", mail.to);
    assert!(
        mail.body.contains(silence) && !mail.body.contains(other),
        "{}: {}",
        mail.to,
        mail.body
    );
    assert!(
        mail.body.contains(&format!("<html lang=\"{lang}\">")),
        "{}: {}",
        mail.to,
        mail.body
    );
}

/// Every SMS in the outbox: number -> text.
fn sms(w: &World) -> BTreeMap<String, String> {
    w.files("sms")
        .iter()
        .map(|file| {
            let json: serde_json::Value = serde_json::from_str(file).expect("JSON");
            (
                json["to"].as_str().expect("to").to_owned(),
                json["message"].as_str().expect("message").to_owned(),
            )
        })
        .collect()
}

#[test]
fn each_customer_gets_page_and_message_in_their_language() {
    // The setting is Swedish. Anna 'en', Bo 'sv-SE', Cia NULL, by e-mail;
    // Dan 'en-GB' and Eva 'de' (not one we speak), by SMS.
    let w = world(
        "lang-sv",
        "(1, 'Anna', 'anna@example.se', NULL, 'en'),
         (2, 'Bo', 'bo@example.se', NULL, 'sv-SE'),
         (3, 'Cia', 'cia@example.se', NULL, NULL),
         (4, 'Dan', NULL, '070-123 45 67', 'en-GB'),
         (5, 'Eva', NULL, '070-765 43 21', 'de')",
        "sv",
    );
    let summary = w.sync(T0 + 60);
    let sent = &summary.sent;
    assert_eq!(
        (sent.sent_email, sent.sent_sms, sent.errors.len()),
        (3, 2, 0),
        "{}",
        consent_portal::sync::to_text(&summary)
    );
    for (customer, lang) in [(1, "en"), (2, "sv"), (3, "sv"), (4, "en"), (5, "sv")] {
        assert_page_in(&w, customer, lang);
    }
    // One text per language, made and stored once.
    assert_eq!(
        w.sql("SELECT group_concat(language, ',') FROM (SELECT language FROM consent_text ORDER BY language)"),
        "en,sv"
    );

    let mails = mails(&w);
    assert_eq!(mails.len(), 3);
    assert_mail_in(&mails["anna@example.se"], "en");
    assert_mail_in(&mails["bo@example.se"], "sv");
    assert_mail_in(&mails["cia@example.se"], "sv");
    let texts = sms(&w);
    assert_eq!(
        texts["+46701234567"],
        format!(
            "{BUSINESS_NAME} asks for your consent: {}",
            w.config
                .page_url(&w.sql("SELECT page_id FROM consent_request WHERE customer_id = 4"))
        )
    );
    assert!(
        texts["+46707654321"].starts_with(&format!("{BUSINESS_NAME} ber om ditt samtycke: ")),
        "{texts:?}"
    );
}

#[test]
fn a_customer_may_speak_swedish_in_an_english_register() {
    // The setting is English; Anna says 'svenska', Bo nothing; Cia cannot
    // be reached, and the reason the clerk reads is in the setting's
    // language, whatever hers.
    let w = world(
        "lang-en",
        "(1, 'Anna', 'anna@example.se', NULL, 'svenska'),
         (2, 'Bo', 'bo@example.se', NULL, NULL),
         (3, 'Cia', NULL, NULL, 'sv')",
        "en",
    );
    w.sync(T0 + 60);
    assert_page_in(&w, 1, "sv");
    assert_page_in(&w, 2, "en");
    let mails = mails(&w);
    assert_mail_in(&mails["anna@example.se"], "sv");
    assert_mail_in(&mails["bo@example.se"], "en");
    assert_eq!(w.status(3), "error");
    let reason = w.sql("SELECT reason FROM consent_request WHERE customer_id = 3");
    assert!(
        reason.contains("neither an e-mail address nor a mobile number"),
        "{reason}"
    );
}

#[test]
fn a_page_keeps_its_language_and_its_message_follows_the_page() {
    let w = world(
        "lang-frozen",
        "(1, 'Anna', 'anna@example.se', NULL, 'en'),
         (2, 'Bo', 'bo@example.se', NULL, 'sv'),
         (3, 'Cia', 'cia@example.se', NULL, NULL)",
        "sv",
    );
    w.sql(&format!("SELECT consent_revoke(3, 'not yet', {})", T0 + 10));
    w.sync(T0 + 60);
    assert_page_in(&w, 1, "en");
    assert_page_in(&w, 2, "sv");

    // Cia is queued and her page made (render alone, as
    // `consent-portal render` does) while she is English...
    w.sql(&format!("SELECT consent_queue(3, {})", T0 + 100));
    w.conn
        .execute_batch("UPDATE kunder SET sprak = 'english' WHERE nr = 3")
        .expect("update");
    let signer = keys::load_signer(&w.config.resolve(&w.config.keys.signing_key)).expect("signer");
    render::render(&w.conn, &w.config, &signer, T0 + 110).expect("render");
    assert_page_in(&w, 3, "en");

    // ...then everyone's language changes, and every page is made again
    // from nothing (no cache, no files).
    w.conn
        .execute_batch(
            "UPDATE kunder SET sprak = CASE nr WHEN 1 THEN 'sv' WHEN 2 THEN 'en' WHEN 3 THEN 'svenska' END",
        )
        .expect("update");
    std::fs::remove_file(w.dir.join(render::CACHE_FILE)).expect("the cache");
    for entry in std::fs::read_dir(w.dir.join("site/c")).expect("pages") {
        std::fs::remove_file(entry.expect("entry").path()).expect("remove a page");
    }
    let summary = w.sync(T0 + 200);
    assert_eq!(summary.sent.sent_email, 1, "Cia's message");
    // The pages keep their words and their language...
    assert_page_in(&w, 1, "en");
    assert_page_in(&w, 2, "sv");
    assert_page_in(&w, 3, "en");
    // ...and Cia's message, sent after her language changed, says what her
    // page says.
    let mails = mails(&w);
    assert_mail_in(&mails["cia@example.se"], "en");
    assert_eq!(
        w.sql("SELECT count(*) FROM consent_text"),
        "2",
        "no new text: every page kept its own"
    );
}
