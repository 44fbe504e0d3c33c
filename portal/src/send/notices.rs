//! The messages sent after a decision, in the language of the text the
//! customer answered: the receipt of an approval (what was agreed to, when
//! and how, and the link to withdraw; by e-mail also the record attached as
//! JSON), and the confirmation of a withdrawal. Like a request, each has a
//! Message-ID of its own that stays the same when it is sent again.

use consent_extension::notices::NoticeKind;
use consent_extension::time::{self, UnixSeconds};
use consent_extension::Language;
use sha2::{Digest, Sha256};

use super::email::{escape, Attachment, EmailMessage};
use super::Channel;
use crate::texts::{fill, given_on, PageTexts};
use crate::token::hex;

/// One notice to send.
#[derive(Debug, Clone)]
pub struct NoticeJob {
    pub notice_id: i64,
    pub kind: NoticeKind,
    /// The address or number, as the register holds it.
    pub to: String,
    pub language: Language,
    pub business_name: String,
    /// When the consent was given (a receipt) or withdrawn (a
    /// confirmation).
    pub at: UnixSeconds,
    /// The channel the request went out on, and this notice goes out on.
    pub channel: Channel,
    /// A receipt's: the exact words approved.
    pub text: Option<String>,
    /// A receipt's: the withdrawal page.
    pub link: Option<String>,
    /// A receipt's: the customer's consent record (`consent_record`), as
    /// JSON, attached to the e-mail.
    pub record: Option<String>,
}

/// The name of the attached record.
pub fn attachment_name(language: Language) -> &'static str {
    language.pick("samtycke.json", "consent.json")
}

/// The Message-ID of a notice: the same for every send of it, different
/// for every notice, and saying nothing of the withdrawal link (see
/// [`super::email::message_id`]).
pub fn message_id(notice_id: i64, kind: NoticeKind, from_domain: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"consent-notice-message-id\0");
    h.update(kind.as_str().as_bytes());
    h.update(notice_id.to_be_bytes());
    let digest = h.finalize();
    format!("<consent-{}@{from_domain}>", hex(&digest[..16]))
}

/// A time as a message shows it: `2026-12-01 10:15 UTC`.
fn moment(at: UnixSeconds) -> String {
    let stamp = time::format(at);
    match (stamp.get(..10), stamp.get(11..16)) {
        (Some(day), Some(clock)) => format!("{day} {clock} UTC"),
        _ => stamp,
    }
}

/// The paragraphs of a notice's e-mail, and its subject.
struct Words {
    subject: String,
    paragraphs: Vec<Paragraph>,
}

enum Paragraph {
    Plain(String),
    /// The consent text, kept as its lines.
    Quote(String),
    Link(String),
}

fn words(job: &NoticeJob) -> Words {
    let language = job.language;
    let business = job.business_name.as_str();
    let t = |sv: &str, en: &str| fill(language, sv, en, business, 0);
    let page = PageTexts::new(language, business, 0);
    let hello = Paragraph::Plain(language.pick("Hej!", "Hello,").to_owned());
    match job.kind {
        NoticeKind::Receipt => {
            let mut paragraphs = vec![
                hello,
                Paragraph::Plain(page.receipt_given.clone()),
                Paragraph::Plain(
                    given_on(language, job.channel).replace("{date}", &moment(job.at)),
                ),
            ];
            if let Some(text) = &job.text {
                paragraphs.push(Paragraph::Plain(format!("{}:", page.receipt_text_heading)));
                paragraphs.push(Paragraph::Quote(text.clone()));
            }
            if let Some(link) = &job.link {
                paragraphs.push(Paragraph::Plain(t(
                    "Du kan återkalla ditt samtycke när som helst, lika enkelt som du gav det, med en knapp på den här sidan:",
                    "You can withdraw your consent at any time, as easily as you gave it, with one button on this page:",
                )));
                paragraphs.push(Paragraph::Link(link.clone()));
            }
            if job.record.is_some() {
                paragraphs.push(Paragraph::Plain(
                    t(
                        "Kvittot finns också bifogat som filen {file}: texten, tiderna och beviset för ditt svar.",
                        "The receipt is also attached as the file {file}: the text, the times and the proof of your answer.",
                    )
                    .replace("{file}", attachment_name(language)),
                ));
            }
            paragraphs.push(Paragraph::Plain(t(
                "Du får det här meddelandet eftersom du har lämnat ditt samtycke till {business}. Har du frågor kan du svara på det.",
                "You receive this message because you gave your consent to {business}. If you have questions, reply to it.",
            )));
            Words {
                subject: t(
                    "Kvitto på ditt samtycke till {business}",
                    "Receipt for your consent to {business}",
                ),
                paragraphs,
            }
        }
        NoticeKind::Withdrawal => Words {
            subject: t(
                "Ditt samtycke till {business} är återkallat",
                "Your consent to {business} is withdrawn",
            ),
            paragraphs: vec![
                hello,
                Paragraph::Plain(
                    t(
                        "{business} har registrerat att du återkallade ditt samtycke {when}.",
                        "{business} has recorded that you withdrew your consent on {when}.",
                    )
                    .replace("{when}", &moment(job.at)),
                ),
                Paragraph::Plain(t(
                    "Att återkalla påverkar inte det som redan har gjorts med stöd av samtycket. Vill du lämna ditt samtycke igen, kontakta {business}.",
                    "Withdrawing does not affect what was done under the consent before. To give your consent again, contact {business}.",
                )),
            ],
        },
    }
}

/// The e-mail of a notice; `from_domain` is the domain of `email.from`.
pub fn compose_email(job: &NoticeJob, from_domain: &str) -> EmailMessage {
    let Words {
        subject,
        paragraphs,
    } = words(job);
    let mut text = String::new();
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{subject}</title>\n</head>\n<body>\n",
        lang = job.language.code(),
        subject = escape(&subject),
    );
    for paragraph in &paragraphs {
        match paragraph {
            Paragraph::Plain(words) => {
                text.push_str(words);
                html.push_str(&format!("<p>{}</p>\n", escape(words)));
            }
            Paragraph::Quote(words) => {
                for line in words.lines() {
                    text.push_str("> ");
                    text.push_str(line);
                    text.push('\n');
                }
                html.push_str(&format!(
                    "<blockquote style=\"white-space:pre-line\">{}</blockquote>\n",
                    escape(words.trim_end())
                ));
            }
            Paragraph::Link(link) => {
                text.push_str(link);
                html.push_str(&format!(
                    "<p><a href=\"{link}\">{link}</a></p>\n",
                    link = escape(link)
                ));
            }
        }
        text.push_str("\n\n");
    }
    html.push_str("</body>\n</html>\n");
    EmailMessage {
        request_id: job.notice_id,
        to: job.to.clone(),
        subject,
        text: text.trim_end().to_owned() + "\n",
        html,
        message_id: message_id(job.notice_id, job.kind, from_domain),
        attachment: job.record.as_ref().map(|record| Attachment {
            filename: attachment_name(job.language).to_owned(),
            content_type: "application/json",
            body: record.clone(),
        }),
    }
}

/// The SMS of a notice: short, one line, the link last.
pub fn compose_sms(job: &NoticeJob) -> String {
    let business = &job.business_name;
    match (job.kind, &job.link) {
        (NoticeKind::Receipt, Some(link)) => {
            let says = job.language.pick(
                "tack för ditt samtycke. Kvitto, och återkalla när du vill",
                "thank you for your consent. Receipt, and withdraw any time",
            );
            format!("{business}: {says}: {link}")
        }
        (NoticeKind::Receipt, None) => {
            let says = job
                .language
                .pick("tack för ditt samtycke.", "thank you for your consent.");
            format!("{business}: {says}")
        }
        (NoticeKind::Withdrawal, _) => {
            let says = job
                .language
                .pick("ditt samtycke är återkallat", "your consent is withdrawn");
            format!("{business}: {says} ({}).", moment(job.at))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(language: Language) -> NoticeJob {
        NoticeJob {
            notice_id: 4,
            kind: NoticeKind::Receipt,
            to: "anna@example.se".to_owned(),
            language,
            business_name: "Dahls <Rör> AB".to_owned(),
            at: 1_764_584_100,
            channel: Channel::Email,
            text: Some("Får vi spara dina uppgifter?\n\n- Hur länge".to_owned()),
            link: Some("https://s.example.se/w/AAAAAAAAAAAAAAAAAAAAAA.html".to_owned()),
            record: Some("{\"status\":\"approved\"}".to_owned()),
        }
    }

    #[test]
    fn a_receipt_says_what_when_how_and_how_to_withdraw_in_both_languages() {
        let sv = compose_email(&receipt(Language::Sv), "example.se");
        assert_eq!(sv.subject, "Kvitto på ditt samtycke till Dahls <Rör> AB");
        for needle in [
            "2025-12-01 10:15 UTC",
            "\"Jag godkänner\"",
            "> Får vi spara dina uppgifter?",
            "https://s.example.se/w/AAAAAAAAAAAAAAAAAAAAAA.html",
            "samtycke.json",
        ] {
            assert!(sv.text.contains(needle), "{needle} in {}", sv.text);
        }
        assert!(sv.html.contains("Dahls &lt;Rör&gt; AB"), "{}", sv.html);
        assert!(!sv.html.contains("<Rör>"));
        let attachment = sv.attachment.expect("the record is attached");
        assert_eq!(attachment.filename, "samtycke.json");
        assert_eq!(attachment.content_type, "application/json");

        let en = compose_email(&receipt(Language::En), "example.se");
        assert_eq!(en.subject, "Receipt for your consent to Dahls <Rör> AB");
        assert!(
            en.text.contains("withdraw your consent at any time"),
            "{}",
            en.text
        );
        assert_eq!(
            en.attachment.map(|a| a.filename).as_deref(),
            Some("consent.json")
        );
    }

    #[test]
    fn message_ids_are_stable_distinct_and_say_nothing() {
        let a = message_id(4, NoticeKind::Receipt, "example.se");
        assert_eq!(a, message_id(4, NoticeKind::Receipt, "example.se"));
        assert_ne!(a, message_id(4, NoticeKind::Withdrawal, "example.se"));
        assert_ne!(a, message_id(5, NoticeKind::Receipt, "example.se"));
        assert!(
            a.starts_with("<consent-") && a.ends_with("@example.se>"),
            "{a}"
        );
    }

    #[test]
    fn sms_notices_are_one_line() {
        let job = NoticeJob {
            channel: Channel::Sms,
            ..receipt(Language::Sv)
        };
        let sms = compose_sms(&job);
        assert!(
            sms.ends_with("https://s.example.se/w/AAAAAAAAAAAAAAAAAAAAAA.html"),
            "{sms}"
        );
        assert!(!sms.contains('\n'));
        let withdrawn = compose_sms(&NoticeJob {
            kind: NoticeKind::Withdrawal,
            link: None,
            ..job
        });
        assert_eq!(
            withdrawn,
            "Dahls <Rör> AB: ditt samtycke är återkallat (2025-12-01 10:15 UTC)."
        );
    }
}
