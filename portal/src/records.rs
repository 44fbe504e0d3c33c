//! `export` and `show`: customers' consent records (`consent_record`, read
//! through `consent_extension::record`), as files, as JSON Lines, or as
//! text for a person, in Swedish or English.

use consent_extension::record::{
    Event, Message, Reader, Record, Request, METHOD_CONSENT_PAGE, WITHDRAW_ON_PAGE,
};
use consent_extension::{ConsentError, Language};
use rusqlite::types::Value;
use rusqlite::Connection;

/// The record of the customer whose id is `id` as typed on a command line.
/// The text is tried first: the billing table's id column converts it as
/// its affinity says (an INTEGER column matches `17` to 17, a TEXT column
/// keeps `007`). A column with no affinity compares without converting, so
/// an id that is a whole number is then tried as an integer too.
pub fn find(conn: &Connection, reader: &Reader, id: &str) -> Result<Record, ConsentError> {
    match reader.record(conn, &Value::Text(id.to_owned())) {
        Err(unknown @ ConsentError::UnknownCustomer { .. }) => match id.trim().parse::<i64>() {
            Ok(n) => match reader.record(conn, &Value::Integer(n)) {
                Err(ConsentError::UnknownCustomer { .. }) => Err(unknown),
                found => found,
            },
            Err(_) => Err(unknown),
        },
        found => found,
    }
}

/// The longest file name `file_name` makes before it shortens one.
const LONGEST_NAME: usize = 200;

/// The file a customer's record is written to in an export folder:
/// `<id>.json`, the id percent-encoded so that any id is one safe file
/// name. Every byte but `A-Z`, `a-z`, `0-9`, `-` and `_` becomes `%XX`
/// (a `/`, a `.`, a space, and each byte of a non-ASCII letter): `17.json`,
/// `K%2F17.json`, `%2E%2E.json`. An empty id is `%.json`. A name longer
/// than 200 bytes keeps its first part and ends in `~` and 16 hex digits
/// of the id's SHA-256; the record inside names the id in full.
pub fn file_name(id: &Value) -> String {
    let bytes: Vec<u8> = match id {
        Value::Null => Vec::new(),
        Value::Integer(n) => n.to_string().into_bytes(),
        Value::Real(r) => r.to_string().into_bytes(),
        Value::Text(t) => t.clone().into_bytes(),
        Value::Blob(b) => b.clone(),
    };
    let mut name = String::with_capacity(bytes.len());
    for b in &bytes {
        if b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_' {
            name.push(char::from(*b));
        } else {
            name.push_str(&format!("%{b:02X}"));
        }
    }
    if name.is_empty() {
        name.push('%');
    }
    if name.len() > LONGEST_NAME {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(&bytes);
        let mut cut = LONGEST_NAME - 17;
        // Never cut inside a %XX.
        while name.as_bytes().get(cut.saturating_sub(1)) == Some(&b'%')
            || name.as_bytes().get(cut.saturating_sub(2)) == Some(&b'%')
        {
            cut -= 1;
        }
        name.truncate(cut);
        name.push('~');
        for b in &digest[..8] {
            name.push_str(&format!("{b:02x}"));
        }
    }
    name.push_str(".json");
    name
}

/// What a person reads: the labels of [`to_text`], in Swedish and English.
struct Words {
    customer: &'static str,
    status: &'static str,
    business: &'static str,
    purpose: &'static str,
    never_asked: &'static str,
    request: &'static str,
    asked: &'static str,
    sent: &'static str,
    given: &'static str,
    decided: &'static str,
    withdrawn: &'static str,
    reason: &'static str,
    how: &'static str,
    on_page: &'static str,
    by_hand: &'static str,
    text: &'static str,
    no_text: &'static str,
    evidence: &'static str,
    signed: &'static str,
    received: &'static str,
    applied: &'static str,
    recorded_by_hand: &'static str,
    receipt: &'static str,
    receipt_none: &'static str,
    receipt_not_yet: &'static str,
    receipt_pending: &'static str,
    receipt_sent: &'static str,
    receipt_failed: &'static str,
    withdrawal: &'static str,
    withdraw_page_or_business: &'static str,
    withdraw_business: &'static str,
    confirmation_sent: &'static str,
    confirmation_pending: &'static str,
    confirmation_failed: &'static str,
    by_email: &'static str,
    by_sms: &'static str,
    earlier: &'static str,
    events: &'static str,
    event_columns: [&'static str; 5],
    none: &'static str,
    chain: &'static str,
}

const SV: Words = Words {
    customer: "Kund",
    status: "Status",
    business: "Företag",
    purpose: "Ändamål",
    never_asked: "Kunden har aldrig tillfrågats om samtycke.",
    request: "förfrågan",
    asked: "Begärt",
    sent: "Skickat",
    given: "Samtycke lämnat",
    decided: "Beslutat",
    withdrawn: "Återkallat",
    reason: "Orsak",
    how: "Hur",
    on_page: "på samtyckessidan (signerat beslut, bundet till texten)",
    by_hand: "registrerat för hand",
    text: "Sidans text",
    no_text: "ingen sida gjordes",
    evidence: "Bevis",
    signed: "signerat beslut från samtyckessidan",
    received: "mottaget",
    applied: "infört",
    recorded_by_hand: "registrerat för hand",
    receipt: "Kvitto",
    receipt_none: "inget (bara samtycken på samtyckessidan får kvitto)",
    receipt_not_yet: "inget ännu",
    receipt_pending: "inte skickat ännu",
    receipt_sent: "skickat",
    receipt_failed: "kunde inte skickas",
    withdrawal: "Återkalla",
    withdraw_page_or_business: "med länken i kvittot, eller genom att kontakta företaget",
    withdraw_business: "genom att kontakta företaget",
    confirmation_sent: "bekräftelse skickad",
    confirmation_pending: "bekräftelse inte skickad ännu",
    confirmation_failed: "bekräftelsen kunde inte skickas",
    by_email: "per e-post",
    by_sms: "per SMS",
    earlier: "Tidigare förfrågningar",
    events: "Händelser",
    event_columns: ["nr", "tid", "från → till", "av", "uppgift"],
    none: "–",
    chain: "Loggens kedja",
};

const EN: Words = Words {
    customer: "Customer",
    status: "Status",
    business: "Business",
    purpose: "Purpose",
    never_asked: "The customer has never been asked for consent.",
    request: "request",
    asked: "Asked",
    sent: "Sent",
    given: "Consent given",
    decided: "Decided",
    withdrawn: "Withdrawn",
    reason: "Reason",
    how: "How",
    on_page: "on the consent page (signed decision, bound to the text)",
    by_hand: "recorded by hand",
    text: "The text of the page",
    no_text: "no page was made",
    evidence: "Evidence",
    signed: "signed decision from the consent page",
    received: "received",
    applied: "applied",
    recorded_by_hand: "recorded by hand",
    receipt: "Receipt",
    receipt_none: "none (only consents given on the consent page get one)",
    receipt_not_yet: "none yet",
    receipt_pending: "not sent yet",
    receipt_sent: "sent",
    receipt_failed: "could not be sent",
    withdrawal: "Withdraw",
    withdraw_page_or_business: "with the link in the receipt, or by asking the business",
    withdraw_business: "by asking the business",
    confirmation_sent: "confirmation sent",
    confirmation_pending: "confirmation not sent yet",
    confirmation_failed: "the confirmation could not be sent",
    by_email: "by e-mail",
    by_sms: "by SMS",
    earlier: "Earlier requests",
    events: "Events",
    event_columns: ["id", "at", "from → to", "by", "detail"],
    none: "-",
    chain: "Log chain",
};

/// The record as a person reads it, in `language`: the status, the
/// current request (when asked, sent, given, how, the words, the evidence,
/// the receipt, how to withdraw), the earlier requests, then the events as
/// a table.
pub fn to_text(record: &Record, language: Language) -> String {
    let w = language.pick(&SV, &EN);
    let mut out = String::new();
    let mut line = |label: &str, value: &str| {
        out.push_str(&format!("{:<18} {value}\n", format!("{label}:")));
    };
    line(w.customer, &id_shown(record));
    line(w.status, &format!("{} ({})", record.label, record.status));
    if let Some(name) = &record.controller.name {
        line(w.business, name);
    }
    if let Some(purpose) = &record.purpose {
        line(w.purpose, &one_line(purpose));
    }
    let Some(consent) = &record.consent else {
        out.push('\n');
        out.push_str(w.never_asked);
        out.push('\n');
        return out;
    };
    out.push('\n');
    out.push_str(&request_text(consent, w));
    let earlier: Vec<&Request> = record
        .requests
        .iter()
        .filter(|r| r.request_id != consent.request_id)
        .collect();
    if !earlier.is_empty() {
        out.push_str(&format!("\n{}:\n", w.earlier));
        for r in earlier {
            let when = r
                .decided_at
                .as_deref()
                .or(r.asked_at.as_deref())
                .unwrap_or(w.none);
            let mut summary = format!("  {} {}: {} ({when})", w.request, r.request_id, r.status);
            if let Some(given) = &r.given_at {
                summary.push_str(&format!("; {} {given}", w.given.to_lowercase()));
            }
            if let Some(reason) = &r.reason {
                summary.push_str(&format!("; {}", one_line(reason)));
            }
            out.push_str(&summary);
            out.push('\n');
        }
    }
    out.push_str(&format!("\n{}:\n", w.events));
    out.push_str(&events_table(&record.events, w));
    if let Some(chain) = &record.chain {
        out.push_str(&format!(
            "\n{}: {} {}..{}, {}\n",
            w.chain,
            w.event_columns[0],
            chain.first_event_id,
            chain.last_event_id,
            chain.last_hash.as_deref().unwrap_or(w.none)
        ));
    }
    out
}

fn id_shown(record: &Record) -> String {
    match &record.subject.customer_id {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The current request, field by field.
fn request_text(r: &Request, w: &Words) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: &str| {
        out.push_str(&format!("{:<18} {value}\n", format!("{label}:")));
    };
    line(
        w.asked,
        &format!(
            "{} ({} {})",
            r.asked_at.as_deref().unwrap_or(w.none),
            w.request,
            r.request_id
        ),
    );
    if let Some(sent) = &r.sent_at {
        let channel = match r.channel.as_deref() {
            Some("email") => w.by_email,
            Some("sms") => w.by_sms,
            _ => "",
        };
        line(w.sent, format!("{sent} {channel}").trim_end());
    }
    if let Some(given) = &r.given_at {
        line(w.given, given);
    }
    if let Some(method) = r.method {
        line(
            w.how,
            if method == METHOD_CONSENT_PAGE {
                w.on_page
            } else {
                w.by_hand
            },
        );
    }
    if r.decided_at.is_some() && r.decided_at != r.given_at {
        line(w.decided, r.decided_at.as_deref().unwrap_or(w.none));
    }
    if let Some(withdrawn) = &r.withdrawn_at {
        line(w.withdrawn, withdrawn);
    }
    if let Some(reason) = &r.reason {
        line(w.reason, &one_line(reason));
    }
    if let Some(evidence) = &r.evidence {
        line(w.evidence, &evidence_summary(evidence, w));
    }
    if r.given_at.is_some() {
        line(w.receipt, &receipt_text(r, w));
    }
    if let Some(withdrawal) = &r.withdrawal {
        let mut how = if withdrawal.methods.contains(&WITHDRAW_ON_PAGE) {
            w.withdraw_page_or_business.to_owned()
        } else {
            w.withdraw_business.to_owned()
        };
        if let Some(confirmation) = &withdrawal.confirmation {
            how.push_str(&format!(
                "; {}",
                message_text(
                    confirmation,
                    w.confirmation_sent,
                    w.confirmation_pending,
                    w.confirmation_failed
                )
            ));
        }
        line(w.withdrawal, &how);
    }
    match &r.notice {
        Some(notice) => {
            let language = notice.language.as_deref().unwrap_or("?");
            out.push_str(&format!(
                "\n{} (SHA-256 {}, {language}):\n",
                w.text, notice.sha256
            ));
            for text_line in notice.text.as_deref().unwrap_or(w.none).lines() {
                out.push_str(&format!("    {text_line}\n").replace("    \n", "\n"));
            }
        }
        None => out.push_str(&format!("{:<18} {}\n", format!("{}:", w.text), w.no_text)),
    }
    out
}

/// The evidence in one line: the signed decision's times and text, or the
/// text a clerk gave.
fn evidence_summary(evidence: &serde_json::Value, w: &Words) -> String {
    let field = |key: &str| evidence.get(key).and_then(serde_json::Value::as_str);
    match evidence {
        serde_json::Value::String(text) if text == "manual" => w.recorded_by_hand.to_owned(),
        serde_json::Value::String(text) => format!("{}: {}", w.recorded_by_hand, one_line(text)),
        _ if field("via") == Some(METHOD_CONSENT_PAGE) => {
            let mut summary = w.signed.to_owned();
            if let Some(received) = field("received_at") {
                summary.push_str(&format!(", {} {received}", w.received));
            }
            if let Some(applied) = field("applied_at") {
                summary.push_str(&format!(", {} {applied}", w.applied));
            }
            if let Some(text) = field("text_sha256") {
                summary.push_str(&format!(", SHA-256 {}", text.get(..12).unwrap_or(text)));
            }
            summary
        }
        other => other.to_string(),
    }
}

fn receipt_text(r: &Request, w: &Words) -> String {
    match &r.receipt {
        None if r.method == Some(METHOD_CONSENT_PAGE) => w.receipt_not_yet.to_owned(),
        None => w.receipt_none.to_owned(),
        Some(m) => message_text(m, w.receipt_sent, w.receipt_pending, w.receipt_failed),
    }
}

fn message_text(m: &Message, sent: &str, pending: &str, failed: &str) -> String {
    match (&m.sent_at, &m.error) {
        (Some(at), _) => format!("{sent} {at}"),
        (None, Some(error)) => format!("{failed}: {}", one_line(error)),
        (None, None) => pending.to_owned(),
    }
}

/// The events as a table with a header, one row each.
fn events_table(events: &[Event], w: &Words) -> String {
    let rows: Vec<[String; 5]> = events
        .iter()
        .map(|e| {
            [
                e.id.to_string(),
                e.at.clone().unwrap_or_default(),
                format!(
                    "{} → {}",
                    e.from.as_deref().unwrap_or("?"),
                    e.to.as_deref().unwrap_or("?")
                ),
                e.actor.clone().unwrap_or_default(),
                e.detail
                    .as_deref()
                    .map_or_else(|| w.none.to_owned(), |d| detail_text(d, w)),
            ]
        })
        .collect();
    let header = w.event_columns.map(str::to_owned);
    let mut widths = [0usize; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut text = String::from(" ");
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            let pad = width - cell.chars().count();
            if i == 0 {
                text.push_str(&format!(" {}{cell}", " ".repeat(pad)));
            } else {
                text.push_str(&format!("  {cell}{}", " ".repeat(pad)));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

/// An event's detail in a table cell: signed evidence by what it is, any
/// other text on one line, shortened.
fn detail_text(detail: &str, w: &Words) -> String {
    match serde_json::from_str::<serde_json::Value>(detail) {
        Ok(json)
            if json.get("via").and_then(serde_json::Value::as_str) == Some(METHOD_CONSENT_PAGE) =>
        {
            w.signed.to_owned()
        }
        _ => shortened(&one_line(detail), 60),
    }
}

/// A text on one line: its lines joined with spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn shortened(text: &str, most: usize) -> String {
    if text.chars().count() <= most {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(most - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_and_distinct() {
        assert_eq!(file_name(&Value::Integer(17)), "17.json");
        assert_eq!(file_name(&Value::Integer(-3)), "-3.json");
        assert_eq!(file_name(&Value::Text("K/17".into())), "K%2F17.json");
        assert_eq!(file_name(&Value::Text("..".into())), "%2E%2E.json");
        assert_eq!(file_name(&Value::Text("".into())), "%.json");
        assert_eq!(file_name(&Value::Text("Åsa 1".into())), "%C3%85sa%201.json");
        assert_eq!(file_name(&Value::Text("a%2F".into())), "a%252F.json");
        let long = "x/".repeat(300);
        let name = file_name(&Value::Text(long.clone()));
        assert!(name.len() <= 210, "{name}");
        assert!(name.ends_with(".json") && name.contains('~'));
        assert_ne!(name, file_name(&Value::Text(format!("{long}y"))));
        for name in [name, file_name(&Value::Text("a/../b".into()))] {
            assert!(!name.contains('/') && !name.starts_with('.'), "{name}");
        }
    }
}
