//! The customer's side after a decision, tried as a customer does it: an
//! approval is confirmed by a receipt in the channel the request went out
//! on (by e-mail with the record attached as JSON, by SMS as one line with
//! a link); the receipt's withdrawal page withdraws with one button; the
//! next sync denies the consent with the reason "withdrawn by customer" in
//! the log and confirms it; and the withdrawal page is gone once the
//! consent no longer stands.

use consent_portal::token::{Decision, PageBinding};
use consent_testkit::press::{self, signed_token};
use consent_testkit::sample::SetUp;
use consent_testkit::world::{Spec, World};
use mail_parser::{MessageParser, MimeHeaders};

const ANNA: i64 = 1; // e-mail
const BO: i64 = 2; // SMS only
const CIA: i64 = 3; // e-mail

/// A world whose customers were all queued and sent at `w.t0`.
fn sent(label: &str) -> World {
    let w = World::new(label, Spec::default());
    w.sql(&format!("SELECT consent_queue_all(NULL, {})", w.t0));
    w.sync(w.t0);
    assert_eq!(w.status(ANNA), "sent");
    assert_eq!(w.status(BO), "sent");
    w
}

/// The e-mails in the outbox whose subject starts with `subject`, parsed.
fn mails(w: &World, subject: &str) -> Vec<mail_parser::Message<'static>> {
    w.files("mail")
        .into_iter()
        .filter_map(|eml| {
            let message = MessageParser::default().parse(eml.as_bytes())?.into_owned();
            message
                .subject()
                .is_some_and(|s| s.starts_with(subject))
                .then_some(message)
        })
        .collect()
}

/// The SMS texts in the outbox that contain `needle`.
fn texts(w: &World, needle: &str) -> Vec<String> {
    w.files("sms")
        .into_iter()
        .filter_map(|json| {
            let sms: serde_json::Value = serde_json::from_str(&json).expect("an SMS file");
            let text = sms["message"].as_str()?.to_owned();
            text.contains(needle).then_some(text)
        })
        .collect()
}

#[test]
fn an_approval_by_email_gets_a_receipt_with_the_record_and_a_withdrawal_link() {
    let w = sent("receipt-email");
    let consent_page = w.sql(&format!(
        "SELECT page_id FROM consent_request WHERE customer_id = {ANNA}"
    ));
    assert_eq!(w.press(ANNA, "approve"), 303);
    let summary = w.sync(w.t0 + 60);
    assert_eq!(w.status(ANNA), "approved");
    assert_eq!(summary.notices.receipts, 1, "{summary:?}");
    assert_eq!(
        summary.pages.as_ref().map(|p| p.withdrawal.receipts),
        Some(1)
    );

    // The consent page is gone; the withdrawal page is there.
    assert!(!w.dir.join(format!("site/c/{consent_page}.html")).exists());
    let page_id = w.withdrawal_page_id(ANNA);
    assert_ne!(page_id, consent_page);
    let page = w.withdrawal_page(ANNA).expect("the withdrawal page");

    let receipts = mails(&w, "Kvitto på ditt samtycke till Dahls Rör AB");
    assert_eq!(receipts.len(), 1, "one receipt");
    let receipt = &receipts[0];
    assert_eq!(
        receipt
            .to()
            .and_then(|to| to.first())
            .and_then(|a| a.address()),
        Some("anna@example.se")
    );
    let body = receipt.body_text(0).expect("a plain text part");
    let link = format!("{}/w/{page_id}.html", w.base);
    for needle in [
        link.as_str(),
        "\"Jag godkänner\"",
        "med e-post",
        "> Vi sparar namn och e-post för fakturering.",
        "samtycke.json",
    ] {
        assert!(
            body.contains(needle),
            "{needle:?} not in the receipt:\n{body}"
        );
    }
    // The record, attached as JSON: the approved request, no page ids.
    let attachment = receipt.attachment(0).expect("the record is attached");
    assert_eq!(attachment.attachment_name(), Some("samtycke.json"));
    let content_type = attachment.content_type().expect("a content type");
    assert_eq!(
        (content_type.ctype(), content_type.subtype()),
        ("application", Some("json"))
    );
    let record: serde_json::Value =
        serde_json::from_slice(attachment.contents()).expect("the record is JSON");
    assert_eq!(record["status"], "approved", "{record:#}");
    let record_text = record.to_string();
    assert!(!record_text.contains(&page_id) && !record_text.contains(&consent_page));

    // The page says what was agreed to, when and how, with one button.
    assert!(page.contains("Vi sparar namn och e-post för fakturering."));
    assert!(page.contains("med e-post"));
    assert!(
        !page.contains("anna@") && !page.contains("Anna"),
        "no personal data on the page"
    );
    let token = press::token_of(&page, "withdraw");
    let claims = w
        .verifier()
        .verify(&token, w.t0 + 120)
        .expect("a genuine token");
    assert_eq!(claims.decision, Decision::Withdraw);
    assert_eq!(claims.page, PageBinding::of(&page_id));
    assert!(
        claims.expires_at >= w.t0 + 365 * 86_400,
        "valid for a year or more"
    );

    // Once: the next run sends no second receipt, and writes nothing new.
    let again = w.sync(w.t0 + 120);
    assert_eq!(again.notices.receipts, 0);
    assert_eq!(again.pages.map(|p| p.withdrawal.written), Some(0));
    assert_eq!(mails(&w, "Kvitto").len(), 1);
}

#[test]
fn withdrawing_on_the_page_denies_with_the_reason_in_the_log_and_confirms() {
    let w = sent("withdraw");
    assert_eq!(w.press(ANNA, "approve"), 303);
    w.sync(w.t0 + 60);
    let request = w.request_id(ANNA);
    let page_id = w.withdrawal_page_id(ANNA);
    let saved_copy = w.withdrawal_page(ANNA).expect("the withdrawal page");

    assert_eq!(
        w.withdraw(ANNA),
        303,
        "stored, and on to the withdrawn page"
    );
    let summary = w.sync(w.t0 + 120);
    assert_eq!(summary.decisions.withdrawn, 1, "{summary:?}");
    assert_eq!(w.status(ANNA), "denied");
    assert_eq!(
        w.sql(&format!(
            "SELECT label FROM consent_overview WHERE customer_id = {ANNA}"
        )),
        "Samtycke är nekat"
    );
    assert_eq!(
        w.sql(&format!(
            "SELECT detail FROM consent_event WHERE request_id = {request} ORDER BY id DESC LIMIT 1"
        )),
        "withdrawn by customer"
    );
    assert_eq!(w.sql("SELECT consent_verify_log()"), "ok");
    assert!(
        !w.dir.join(format!("site/w/{page_id}.html")).exists(),
        "the withdrawal page is removed once the consent no longer stands"
    );
    assert!(w.dir.join("site/withdrawn.html").exists());
    let confirmations = mails(&w, "Ditt samtycke till Dahls Rör AB är återkallat");
    assert_eq!(confirmations.len(), 1);
    assert_eq!(summary.notices.confirmations, 1);

    // Pressed again from a saved copy of the page: answered as before,
    // and nothing more happens.
    assert_eq!(
        w.press_token(&press::token_of(&saved_copy, "withdraw")),
        303
    );
    let again = w.sync(w.t0 + 180);
    assert_eq!(again.decisions.withdrawn, 0);
    assert_eq!(again.notices.confirmations, 0);
    assert_eq!(w.status(ANNA), "denied");
    assert_eq!(mails(&w, "Ditt samtycke").len(), 1);
}

#[test]
fn an_sms_receipt_is_one_line_with_the_withdrawal_link_and_the_page_names_the_channel() {
    let w = sent("receipt-sms");
    assert_eq!(w.press(BO, "approve"), 303);
    w.sync(w.t0 + 60);
    let page_id = w.withdrawal_page_id(BO);
    let receipts = texts(&w, &format!("/w/{page_id}.html"));
    assert_eq!(receipts.len(), 1, "{:?}", w.files("sms"));
    assert!(receipts[0].starts_with("Dahls Rör AB: tack för ditt samtycke."));
    assert!(!receipts[0].contains('\n'));
    let page = w.withdrawal_page(BO).expect("the withdrawal page");
    assert!(page.contains("med SMS"));
    assert!(
        !page.contains("070") && !page.contains("Bo"),
        "no personal data"
    );

    assert_eq!(w.withdraw(BO), 303);
    w.sync(w.t0 + 120);
    assert_eq!(w.status(BO), "denied");
    assert_eq!(texts(&w, "ditt samtycke är återkallat").len(), 1);
}

#[test]
fn a_withdrawal_needs_the_withdrawal_pages_own_token() {
    let w = sent("withdraw-forged");
    assert_eq!(w.press(ANNA, "approve"), 303);
    w.sync(w.t0 + 60);
    let request = w.request_id(ANNA);
    let consent_page = w.sql(&format!(
        "SELECT page_id FROM consent_request WHERE id = {request}"
    ));
    // A genuine signature, with the withdraw decision, but bound to the
    // consent page (whoever held the consent link, not the receipt).
    let token = signed_token(
        &w.signer(),
        Decision::Withdraw,
        request,
        &consent_page,
        3600,
    );
    assert_eq!(w.press_token(&token), 303, "the collector cannot tell");
    let summary = w.sync(w.t0 + 120);
    assert_eq!(w.status(ANNA), "approved");
    assert_eq!(summary.decisions.withdrawn, 0);
    let refused = &summary.decisions.refused;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0].reason.contains("another page"),
        "{}",
        refused[0].reason
    );

    // A withdrawal of a consent a clerk revoked meanwhile (from a saved
    // copy of the page) changes nothing: it no longer applies.
    assert_eq!(w.press(BO, "approve"), 303);
    w.sync(w.t0 + 125);
    let request = w.request_id(BO);
    let saved_copy = w.withdrawal_page(BO).expect("the withdrawal page");
    w.sql(&format!(
        "SELECT consent_revoke({BO}, 'asked by phone', {})",
        w.t0 + 130
    ));
    assert_eq!(
        w.press_token(&press::token_of(&saved_copy, "withdraw")),
        303
    );
    let summary = w.sync(w.t0 + 180);
    assert_eq!(w.status(BO), "denied");
    assert_eq!(summary.decisions.withdrawn, 0);
    assert_eq!(
        summary.notices.confirmations, 0,
        "no confirmation of what the customer did not do"
    );
    let refused = &summary.decisions.refused;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0].reason.contains("no longer applies"),
        "{}",
        refused[0].reason
    );
    assert_eq!(
        w.sql(&format!(
            "SELECT detail FROM consent_event WHERE request_id = {request} ORDER BY id DESC LIMIT 1"
        )),
        "asked by phone"
    );
}

#[test]
fn a_clerks_approval_by_hand_gets_no_receipt() {
    let w = sent("manual-no-receipt");
    w.sql(&format!(
        "SELECT consent_approve({CIA}, 'signed on paper', {})",
        w.t0 + 30
    ));
    let summary = w.sync(w.t0 + 60);
    assert_eq!(w.status(CIA), "approved");
    assert_eq!(summary.notices.receipts, 0);
    assert_eq!(w.sql("SELECT count(*) FROM consent_notice"), "0");
    assert!(mails(&w, "Kvitto").is_empty());
}

#[test]
fn each_customer_gets_their_receipt_in_the_language_of_the_text_they_approved() {
    let w = World::new(
        "receipt-english",
        Spec {
            set_up: SetUp::kunder()
                .sms()
                .then("SELECT consent_setting('language', 'en')"),
            ..Spec::default()
        },
    );
    w.sql(&format!("SELECT consent_queue_all(NULL, {})", w.t0));
    w.sync(w.t0);
    assert_eq!(w.press(ANNA, "approve"), 303);
    w.sync(w.t0 + 60);
    let receipts = mails(&w, "Receipt for your consent to Dahls Rör AB");
    assert_eq!(receipts.len(), 1);
    let attachment = receipts[0].attachment(0).expect("the record");
    assert_eq!(attachment.attachment_name(), Some("consent.json"));
    let page = w.withdrawal_page(ANNA).expect("the page");
    assert!(page.contains("<html lang=\"en\">") && page.contains("Withdraw my consent"));
}

#[test]
fn a_forgotten_customer_gets_no_receipt_and_loses_the_withdrawal_page() {
    let w = sent("forget-receipts");
    assert_eq!(w.press(ANNA, "approve"), 303);
    w.sync(w.t0 + 60);
    let page_id = w.withdrawal_page_id(ANNA);
    assert!(w.withdrawal_page(ANNA).is_some());

    // Cia's approval, with the portal's evidence, is recorded; she asks to
    // be forgotten before the run that would send her receipt. Anna asks
    // too, after hers.
    w.sql(&format!(
        "SELECT consent_approve({CIA}, '{{\"via\": \"consent page\"}}', {})",
        w.t0 + 70
    ));
    for customer in [ANNA, CIA] {
        w.sql(&format!("SELECT consent_forget({customer}, {})", w.t0 + 80));
    }
    let summary = w.sync(w.t0 + 120);
    assert_eq!(
        summary.notices.receipts, 0,
        "nobody is written to after asking to be forgotten"
    );
    assert_eq!(
        w.sql(&format!(
            "SELECT count(*) FROM consent_notice AS n JOIN consent_request AS r ON r.id = n.request_id \
             WHERE r.customer_id = {CIA}"
        )),
        "0"
    );
    assert!(
        !w.dir.join(format!("site/w/{page_id}.html")).exists(),
        "the erased withdrawal page is removed"
    );
    assert_eq!(w.status(ANNA), "approved", "the consent itself stands");
    assert_eq!(w.sql("SELECT consent_verify_log()"), "ok");
}
