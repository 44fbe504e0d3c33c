//! SMS sending against the test kit's stand-in for a 46elks-style gateway
//! (axum on 127.0.0.1) that records each form post and its basic auth, and
//! can refuse, fail, redirect or never answer. Also segment counting,
//! the message text, and Swedish mobile numbers to E.164.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use consent_extension::Language;
use consent_portal::config::{Sms, SmsTransport};
use consent_portal::send::phone::NumberProblem;
use consent_portal::send::sms::{compose, segments, Encoding, Segments, SmsSender};
use consent_portal::send::{normalize_swedish_mobile, Channel, Credentials, ErrorClass, SendError};
use consent_testkit::gateway::{Answer, SmsGateway};
use consent_testkit::Scratch;
use proptest::prelude::*;

use crate::assert_reason;

const USER: &str = "u7c0ffee1234";
const PASSWORD: &str = "elks-secret-pw";
const LINK: &str = "https://s.example.se/c/Xq3vB7nR2kLm9PzT4wYc1A.html";

/// The gateway stand-in, answering by path as a gateway would: accepted,
/// nonsense after a 200, refused, login refused, busy, moved, silent, or
/// (any other path) failing.
fn gateway() -> SmsGateway {
    SmsGateway::by_path(
        vec![
            ("/a1/sms", Answer::Created),
            ("/garbage", Answer::Nonsense),
            (
                "/bad",
                Answer::Status(400, "Invalid to number\n".to_owned()),
            ),
            (
                "/auth",
                Answer::Status(401, format!("Wrong login {USER} / {PASSWORD}")),
            ),
            ("/busy", Answer::Status(429, "Slow down".to_owned())),
            (
                "/moved",
                Answer::Redirect("http://127.0.0.2:9/a1/sms".to_owned()),
            ),
            ("/slow", Answer::Silent(Duration::from_secs(30))),
        ],
        Answer::Status(
            500,
            "<html><body><h1>500 Internal Server Error</h1>\n\n</body></html>".to_owned(),
        ),
    )
}

/// What sending "Hej" to 070-123 45 67 through the gateway's `path` fails
/// with, and the gateway.
fn error_from(path: &str) -> (SmsGateway, SendError) {
    let gateway = gateway();
    let e = sender(&gateway, path)
        .send("0701234567", "Hej")
        .expect_err("the gateway's answer is an error");
    (gateway, e)
}

fn http_config(url: String, timeout_seconds: u64) -> Sms {
    Sms {
        from: "DahlsRor".to_owned(),
        transport: SmsTransport::Http,
        gateway_url: Some(url),
        file_dir: None,
        timeout_seconds,
    }
}

fn credentials() -> Option<Credentials> {
    Some(Credentials {
        username: USER.to_owned(),
        password: PASSWORD.to_owned(),
    })
}

/// A sender to the gateway's `path`, with a timeout of 10 s and the login.
fn sender(gateway: &SmsGateway, path: &str) -> SmsSender {
    sender_with(gateway, path, 10, credentials())
}

fn sender_with(
    gateway: &SmsGateway,
    path: &str,
    timeout_seconds: u64,
    login: Option<Credentials>,
) -> SmsSender {
    SmsSender::new(
        &http_config(gateway.url(path), timeout_seconds),
        Path::new("."),
        login,
    )
    .expect("sender")
}

#[test]
fn posts_the_form_with_basic_auth_and_an_e164_number() {
    let gateway = gateway();
    let sms = sender(&gateway, "/a1/sms");
    let message = compose(Language::Sv, "Dahls Rör AB", LINK);
    assert_eq!(
        message,
        format!("Dahls Rör AB ber om ditt samtycke: {LINK}")
    );
    let sent = sms.send("070-123 45 67", &message).expect("sent");
    assert_eq!(
        sent,
        Segments {
            encoding: Encoding::Gsm7,
            count: 1,
            units: message.chars().count()
        }
    );
    let posted = gateway.posted();
    assert_eq!(posted.len(), 1);
    let post = &posted[0];
    assert_eq!(post.path, "/a1/sms");
    assert_eq!(
        post.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    let expected_auth = format!("Basic {}", STANDARD.encode(format!("{USER}:{PASSWORD}")));
    assert_eq!(post.authorization.as_deref(), Some(expected_auth.as_str()));
    let form: Vec<(&str, &str)> = post
        .form
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        form,
        [
            ("from", "DahlsRor"),
            ("message", message.as_str()),
            ("to", "+46701234567")
        ]
    );

    // Already E.164 is fine too, and any body a 2xx comes with.
    let garbage = sender(&gateway, "/garbage");
    assert!(garbage.send("+46701234567", "Hej").is_ok());
}

#[test]
fn without_credentials_no_authorization_header() {
    let gateway = gateway();
    let sms = sender_with(&gateway, "/a1/sms", 10, None);
    sms.send("0701234567", "Hej").expect("sent");
    assert_eq!(gateway.posted()[0].authorization, None);
}

#[test]
fn a_refusal_is_the_customers_error_with_the_gateways_words() {
    let (_, e) = error_from("/bad");
    assert_eq!(e.channel(), Channel::Sms);
    assert_reason(
        &e,
        ErrorClass::Permanent,
        "The SMS gateway refused the message: 400 Invalid to number",
        "SMS-tjänsten avvisade meddelandet: 400 Invalid to number",
    );
}

#[test]
fn gateway_failures_and_rate_limits_are_transient() {
    let (_, e) = error_from("/down");
    assert_eq!(e.class(), ErrorClass::Transient);
    assert_eq!(
        e.to_string(),
        "The SMS gateway asked to try again later: 500 <html><body><h1>500 Internal Server Error</h1> </body></html>"
    );
    let (_, e) = error_from("/busy");
    assert_eq!(e.class(), ErrorClass::Transient);
    assert!(e.to_string().contains("429 Slow down"), "{e}");
}

#[test]
fn refused_credentials_are_a_setup_error_that_never_shows_them() {
    let gateway = gateway();
    let sms = sender(&gateway, "/auth");
    assert!(!format!("{sms:?}").contains(PASSWORD), "{sms:?}");
    let e = sms.send("0701234567", "Hej").expect_err("401");
    assert_eq!(e.class(), ErrorClass::Setup);
    assert_eq!(
        e.to_string(),
        "The SMS gateway refused the login from CONSENT_SMS_USERNAME / CONSENT_SMS_PASSWORD: 401 Wrong login [redacted] / [redacted]"
    );
    assert!(!format!("{e:?}").contains(PASSWORD));
}

#[test]
fn a_redirect_is_a_setup_error_and_is_not_followed() {
    let (gateway, e) = error_from("/moved");
    assert_eq!(e.class(), ErrorClass::Setup);
    assert!(e.to_string().contains("301"), "{e}");
    assert_eq!(gateway.posted().len(), 1);
}

#[test]
fn a_silent_gateway_times_out() {
    let gateway = gateway();
    let sms = sender_with(&gateway, "/slow", 1, credentials());
    let started = Instant::now();
    let e = sms.send("0701234567", "Hej").expect_err("timeout");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_reason(
        &e,
        ErrorClass::Transient,
        "No answer from the SMS gateway within 1 second",
        "Inget svar från SMS-tjänsten inom 1 sekund",
    );
}

#[test]
fn an_unreachable_gateway_is_transient() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/a1/sms");
    let sms = SmsSender::new(&http_config(url, 5), Path::new("."), credentials()).unwrap();
    let e = sms.send("0701234567", "Hej").expect_err("refused");
    assert_eq!(e.class(), ErrorClass::Transient);
    let reason = e.to_string();
    assert!(
        reason.starts_with(&format!(
            "Could not reach the SMS gateway at http://127.0.0.1:{port}: "
        )),
        "{reason}"
    );
}

#[test]
fn an_invalid_number_is_the_customers_error_and_nothing_is_posted() {
    let gateway = gateway();
    let e = sender(&gateway, "/a1/sms")
        .send("070-123", "Hej")
        .expect_err("invalid");
    assert_reason(
        &e,
        ErrorClass::Permanent,
        "070-123 is too short for a Swedish mobile number",
        "070-123 är för kort för ett svenskt mobilnummer",
    );
    assert!(gateway.posted().is_empty());
}

#[test]
fn configuration_is_checked() {
    let mut config = http_config("http://api.46elks.com/a1/sms".to_owned(), 10);
    let e = SmsSender::new(&config, Path::new("."), credentials()).expect_err("clear");
    assert_eq!(e.class(), ErrorClass::Setup);
    assert!(
        e.to_string()
            .starts_with("Configuration: sms.gateway_url must start with https://"),
        "{e}"
    );
    assert!(SmsSender::new(&config, Path::new("."), None).is_ok());

    config.gateway_url = Some("https://api.46elks.com/a1/sms".to_owned());
    for bad in ["Dahls Rör", "TwelveLetters", "", "+4670abc"] {
        config.from = bad.to_owned();
        let e = SmsSender::new(&config, Path::new("."), None).expect_err(bad);
        assert!(e.to_string().starts_with("Configuration: sms.from"), "{e}");
    }
    for good in ["DahlsRor", "Dahls2", "+46701234567"] {
        config.from = good.to_owned();
        assert!(
            SmsSender::new(&config, Path::new("."), None).is_ok(),
            "{good}"
        );
    }
    config.gateway_url = None;
    let e = SmsSender::new(&config, Path::new("."), None).expect_err("no url");
    assert_eq!(
        e.to_string(),
        "Configuration: sms.gateway_url is needed with transport = \"http\""
    );
}

#[test]
fn file_transport_writes_one_json_file_per_message() {
    let base = Scratch::new("send-sms-files");
    let config = Sms {
        from: "DahlsRor".to_owned(),
        transport: SmsTransport::File,
        gateway_url: None,
        file_dir: Some(PathBuf::from("sms")),
        timeout_seconds: 30,
    };
    let sms = SmsSender::new(&config, base.path(), None).expect("sender");
    let message = compose(Language::En, "Dahls Rör AB", LINK);
    sms.send("070-123 45 67", &message).expect("written");
    sms.send("+46 73 000 00 01", "Hej ✓").expect("written");
    let mut files: Vec<PathBuf> = std::fs::read_dir(base.join("sms"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    let read = |p: &PathBuf| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let by_to: BTreeMap<String, serde_json::Value> = files
        .iter()
        .map(read)
        .map(|v| (v["to"].as_str().unwrap().to_owned(), v))
        .collect();
    assert_eq!(
        by_to["+46701234567"],
        serde_json::json!({
            "from": "DahlsRor",
            "to": "+46701234567",
            "message": format!("Dahls Rör AB asks for your consent: {LINK}"),
            "encoding": "GSM-7",
            "segments": 1,
        })
    );
    assert_eq!(by_to["+46730000001"]["encoding"], "UCS-2");
}

#[test]
fn segments_follow_gsm_03_38_and_ucs2() {
    let cases: &[(String, Encoding, usize, usize)] = &[
        (String::new(), Encoding::Gsm7, 1, 0),
        ("a".repeat(160), Encoding::Gsm7, 1, 160),
        ("a".repeat(161), Encoding::Gsm7, 2, 161),
        ("a".repeat(306), Encoding::Gsm7, 2, 306),
        ("a".repeat(307), Encoding::Gsm7, 3, 307),
        // The extension table takes two septets: € ^ { } [ ] ~ \ |
        ("€".repeat(80), Encoding::Gsm7, 1, 160),
        ("€".repeat(81), Encoding::Gsm7, 2, 162),
        // An escape pair is never split: 152 + 2 does not fit in 153.
        (
            format!("{}€{}", "a".repeat(152), "a".repeat(10)),
            Encoding::Gsm7,
            2,
            164,
        ),
        (
            "åäöÅÄÖéÉüÜñÑßæøÆØ@£$¥èùìòÇ_ΔΦΓΛΩΠΨΣΘΞ¡¿§¤".to_owned(),
            Encoding::Gsm7,
            1,
            41,
        ),
        ("ж".repeat(70), Encoding::Ucs2, 1, 70),
        ("ж".repeat(71), Encoding::Ucs2, 2, 71),
        ("ж".repeat(134), Encoding::Ucs2, 2, 134),
        ("ж".repeat(135), Encoding::Ucs2, 3, 135),
        // One character outside GSM-7 switches the whole text.
        (format!("{}ç", "a".repeat(69)), Encoding::Ucs2, 1, 70),
        // An emoji is a surrogate pair: two units, never split.
        ("😀".repeat(35), Encoding::Ucs2, 1, 70),
        (format!("{}😀", "a".repeat(66)), Encoding::Ucs2, 1, 68),
        (
            format!("{}😀{}", "a".repeat(66), "a".repeat(3)),
            Encoding::Ucs2,
            2,
            71,
        ),
    ];
    for (text, encoding, count, units) in cases {
        let got = segments(text);
        assert_eq!(
            got,
            Segments {
                encoding: *encoding,
                count: *count,
                units: *units
            },
            "{text:?}"
        );
    }
}

#[test]
fn the_sms_fits_one_gsm7_segment_where_it_can() {
    for language in [Language::Sv, Language::En] {
        let text = compose(language, "Dahls Rör AB", LINK);
        assert_eq!(segments(&text).encoding, Encoding::Gsm7, "{text}");
        assert_eq!(segments(&text).count, 1, "{text}");
    }
    // Typographic quotes and dashes become plain ones to stay in GSM-7.
    let text = compose(Language::Sv, "Café “Ölstugan” – Åre’s", LINK);
    assert_eq!(
        text,
        format!("Café \"Ölstugan\" - Åre's ber om ditt samtycke: {LINK}")
    );
    assert_eq!(segments(&text).encoding, Encoding::Gsm7);
    // A name that needs UCS-2 keeps its letters.
    let text = compose(Language::En, "Łódź Plumbing", LINK);
    assert!(text.starts_with("Łódź Plumbing asks"), "{text}");
    assert_eq!(segments(&text).encoding, Encoding::Ucs2);
    assert_eq!(segments(&text).count, 2);
}

#[test]
fn swedish_mobile_numbers_to_e164() {
    for input in [
        "070-123 45 67",
        "0701234567",
        "070 123 45 67",
        "070-1234567",
        "070.123.45.67",
        "(070) 123 45 67",
        "070/123 45 67",
        "+46 70 123 45 67",
        "+46701234567",
        "+46 (0)70-123 45 67",
        "0046701234567",
        "0046 70 123 45 67",
        "46701234567",
        "701234567",
        " 070–123\u{a0}45\u{a0}67 ",
    ] {
        assert_eq!(
            normalize_swedish_mobile(input).as_deref(),
            Ok("+46701234567"),
            "{input:?}"
        );
    }
    for (input, output) in [
        ("072-000 00 00", "+46720000000"),
        ("073 999 99 99", "+46739999999"),
        ("076-555 12 34", "+46765551234"),
        ("079-123 45 67", "+46791234567"),
    ] {
        assert_eq!(
            normalize_swedish_mobile(input).as_deref(),
            Ok(output),
            "{input:?}"
        );
    }
}

#[test]
fn invalid_numbers_say_why() {
    for (input, problem, en, sv) in [
        ("", NumberProblem::Empty, "The mobile number is empty", "Mobilnumret är tomt"),
        (
            "070-123",
            NumberProblem::TooShort,
            "070-123 is too short for a Swedish mobile number",
            "070-123 är för kort för ett svenskt mobilnummer",
        ),
        (
            "070-123 45 678",
            NumberProblem::TooLong,
            "070-123 45 678 is too long for a Swedish mobile number",
            "070-123 45 678 är för långt för ett svenskt mobilnummer",
        ),
        (
            "08-123 456 78",
            NumberProblem::NotMobile,
            "08-123 456 78 is not a Swedish mobile number (they start with 070, 072, 073, 076 or 079)",
            "08-123 456 78 är inget svenskt mobilnummer (de börjar med 070, 072, 073, 076 eller 079)",
        ),
        (
            "+47 912 34 567",
            NumberProblem::NotSwedish,
            "+47 912 34 567 is not a Swedish number",
            "+47 912 34 567 är inget svenskt nummer",
        ),
        (
            "070-123 45 67 (mobil)",
            NumberProblem::NotANumber { character: 'm' },
            "070-123 45 67 (mobil) is not a phone number (it contains \"m\")",
            "070-123 45 67 (mobil) är inget telefonnummer (det innehåller \"m\")",
        ),
    ] {
        let e = normalize_swedish_mobile(input).expect_err(input);
        assert_eq!(e.problem(), &problem, "{input:?}");
        assert_eq!(e.reason(Language::En), en);
        assert_eq!(e.reason(Language::Sv), sv);
    }
    for (input, problem) in [
        ("071-123 45 67", NumberProblem::NotMobile),
        ("074-123 45 67", NumberProblem::NotMobile),
        ("031-123 45 67", NumberProblem::NotMobile),
        ("0771-23 45 67", NumberProblem::NotMobile),
        ("46812345678", NumberProblem::NotMobile),
        ("0045 20 12 34 56", NumberProblem::NotSwedish),
        ("+", NumberProblem::TooShort),
        ("07", NumberProblem::TooShort),
        ("070+1234567", NumberProblem::NotANumber { character: '+' }),
        ("070 123 45 67 8", NumberProblem::TooLong),
    ] {
        assert_eq!(
            normalize_swedish_mobile(input).expect_err(input).problem(),
            &problem,
            "{input:?}"
        );
    }
    // A long input is quoted short.
    let long = "07".repeat(100);
    assert!(
        normalize_swedish_mobile(&long)
            .unwrap_err()
            .to_string()
            .len()
            < 120
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn normalising_never_panics_and_is_idempotent(input in "\\PC{0,40}") {
        if let Ok(e164) = normalize_swedish_mobile(&input) {
            prop_assert!(e164.len() == 12 && e164.starts_with("+467"), "{}", e164);
            prop_assert!(e164[1..].bytes().all(|b| b.is_ascii_digit()));
            prop_assert_eq!(normalize_swedish_mobile(&e164), Ok(e164.clone()));
        }
    }

    #[test]
    fn digits_and_separators_never_panic(input in "[0-9 +()./-]{0,30}") {
        let _ = normalize_swedish_mobile(&input);
    }

    #[test]
    fn every_way_of_writing_a_mobile_number_gives_the_same_e164(
        series in prop::sample::select(vec!['0', '2', '3', '6', '9']),
        rest in "[0-9]{7}",
        prefix in prop::sample::select(vec!["0", "+46", "+46 ", "0046", "46", "+46 (0)", ""]),
        separators in prop::collection::vec(prop::sample::select(vec!["", " ", "-", ".", "\u{a0}"]), 10),
    ) {
        let digits = format!("7{series}{rest}");
        let mut written = prefix.to_owned();
        for (i, d) in digits.chars().enumerate() {
            written.push(d);
            written.push_str(separators[i]);
        }
        prop_assert_eq!(normalize_swedish_mobile(&written), Ok(format!("+46{digits}")), "{:?}", written);
    }

    #[test]
    fn segments_never_panic_and_count_at_least_one(text in "\\PC{0,400}") {
        let s = segments(&text);
        prop_assert!(s.count >= 1);
        let (single, per) = match s.encoding { Encoding::Gsm7 => (160, 153), Encoding::Ucs2 => (70, 67) };
        if s.units <= single {
            prop_assert_eq!(s.count, 1);
        } else {
            // Never fewer than the units need, and at most one extra per
            // segment for an unsplittable pair.
            prop_assert!(s.count >= s.units.div_ceil(per));
            prop_assert!(s.count <= s.units.div_ceil(per - 1));
        }
    }
}
