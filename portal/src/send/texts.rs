//! Everything a customer reads in an e-mail or SMS, and every reason the
//! register shows for a failed send, in Swedish and English.

use consent_extension::Language;

use super::phone::NumberProblem;
use super::{Channel, Problem};
use crate::texts::{fill, SILENCE_MEANS_NO};

/// The words of one consent e-mail, with the business's name filled in.
#[derive(Debug, Clone)]
pub(crate) struct EmailTexts {
    pub lang: &'static str,
    pub subject: String,
    pub greeting: &'static str,
    pub asks: String,
    pub link_label: &'static str,
    pub expiry: String,
    pub why: String,
}

impl EmailTexts {
    pub fn new(language: Language, business: &str, expiry_days: i64) -> EmailTexts {
        let t = |sv: &str, en: &str| fill(language, sv, en, business, expiry_days);
        EmailTexts {
            lang: language.code(),
            subject: t("{business} ber om ditt samtycke", "{business} asks for your consent"),
            greeting: language.pick("Hej!", "Hello,"),
            asks: t(
                "{business} ber om ditt samtycke till att spara och använda dina personuppgifter. På sidan nedan läser du vad det gäller, och du svarar med ett klick.",
                "{business} asks for your consent to store and use your personal data. The page below says what it is about, and you answer with one click.",
            ),
            link_label: language.pick("Läs och svara", "Read and answer"),
            expiry: t(SILENCE_MEANS_NO.0, SILENCE_MEANS_NO.1),
            why: t(
                "Du får det här meddelandet eftersom du är kund hos {business}. Har du frågor kan du svara på det.",
                "You receive this message because you are a customer of {business}. If you have questions, reply to it.",
            ),
        }
    }
}

/// The SMS: who asks, and the link. Short, so that it fits one segment.
pub(crate) fn sms(language: Language, business: &str, link: &str) -> String {
    let asks = language.pick("ber om ditt samtycke", "asks for your consent");
    format!("{business} {asks}: {link}")
}

/// Why a request could not be sent, for the register.
pub(crate) fn reason(channel: Channel, problem: &Problem, language: Language) -> String {
    // The server, at the start of a sentence and inside one.
    let (server_cap, server) = match (channel, language) {
        (Channel::Email, Language::Sv) => ("E-postservern", "e-postservern"),
        (Channel::Email, Language::En) => ("The mail server", "the mail server"),
        (Channel::Sms, Language::Sv) => ("SMS-tjänsten", "SMS-tjänsten"),
        (Channel::Sms, Language::En) => ("The SMS gateway", "the SMS gateway"),
    };
    let env = match channel {
        Channel::Email => "CONSENT_SMTP_USERNAME / CONSENT_SMTP_PASSWORD",
        Channel::Sms => "CONSENT_SMS_USERNAME / CONSENT_SMS_PASSWORD",
    };
    let said = |status: &u16, text: &str| {
        if text.is_empty() {
            status.to_string()
        } else {
            format!("{status} {text}")
        }
    };
    let sv = language == Language::Sv;
    match problem {
        Problem::InvalidAddress { address } if sv => {
            format!("\"{address}\" är ingen giltig e-postadress")
        }
        Problem::InvalidAddress { address } => format!("\"{address}\" is not a valid e-mail address"),
        Problem::InvalidNumber(invalid) => invalid.reason(language),
        Problem::Refused { status, text } if sv => {
            format!("{server_cap} avvisade meddelandet: {}", said(status, text))
        }
        Problem::Refused { status, text } => {
            format!("{server_cap} refused the message: {}", said(status, text))
        }
        Problem::Deferred { status, text } if sv => {
            format!("{server_cap} bad om ett nytt försök senare: {}", said(status, text))
        }
        Problem::Deferred { status, text } => {
            format!("{server_cap} asked to try again later: {}", said(status, text))
        }
        Problem::Timeout { seconds: 1 } if sv => format!("Inget svar från {server} inom 1 sekund"),
        Problem::Timeout { seconds } if sv => {
            format!("Inget svar från {server} inom {seconds} sekunder")
        }
        Problem::Timeout { seconds: 1 } => format!("No answer from {server} within 1 second"),
        Problem::Timeout { seconds } => format!("No answer from {server} within {seconds} seconds"),
        Problem::Unreachable { server: at, detail } if sv => {
            format!("Kunde inte nå {server} på {at}: {detail}")
        }
        Problem::Unreachable { server: at, detail } => {
            format!("Could not reach {server} at {at}: {detail}")
        }
        Problem::Lost { detail } if sv => format!("Anslutningen till {server} bröts: {detail}"),
        Problem::Lost { detail } => format!("The connection to {server} broke: {detail}"),
        Problem::NoStarttls { server: at } if sv => format!(
            "{server_cap} på {at} erbjuder inte STARTTLS, så inget skickades (tls = \"starttls\" i konfigurationen)"
        ),
        Problem::NoStarttls { server: at } => format!(
            "{server_cap} at {at} does not offer STARTTLS, so nothing was sent (tls = \"starttls\" in the configuration)"
        ),
        Problem::Tls { server: at, detail } if sv => {
            format!("TLS mot {server} på {at} misslyckades: {detail}")
        }
        Problem::Tls { server: at, detail } => format!("TLS with {server} at {at} failed: {detail}"),
        Problem::SenderRefused {
            sender,
            status,
            text,
        } if sv => format!(
            "{server_cap} godtog inte avsändaren {sender} (email.from): {}",
            said(status, text)
        ),
        Problem::SenderRefused {
            sender,
            status,
            text,
        } => format!(
            "{server_cap} refused the sender {sender} (email.from): {}",
            said(status, text)
        ),
        Problem::LoginRefused { status, text } if sv => format!(
            "{server_cap} godtog inte inloggningen från {env}: {}",
            said(status, text)
        ),
        Problem::LoginRefused { status, text } => format!(
            "{server_cap} refused the login from {env}: {}",
            said(status, text)
        ),
        Problem::Other { detail } if sv => format!("Sändningen misslyckades: {detail}"),
        Problem::Other { detail } => format!("Sending failed: {detail}"),
        Problem::Config { setting, detail } if sv => format!("Konfigurationen: {setting} {detail}"),
        Problem::Config { setting, detail } => format!("Configuration: {setting} {detail}"),
    }
}

/// Why a mobile number is refused; `input` is the number as the register
/// holds it.
pub(crate) fn number_reason(problem: &NumberProblem, input: &str, language: Language) -> String {
    match (problem, language) {
        (NumberProblem::Empty, Language::Sv) => "Mobilnumret är tomt".to_owned(),
        (NumberProblem::Empty, Language::En) => "The mobile number is empty".to_owned(),
        (NumberProblem::NotANumber { character }, Language::Sv) => {
            format!("{input} är inget telefonnummer (det innehåller \"{character}\")")
        }
        (NumberProblem::NotANumber { character }, Language::En) => {
            format!("{input} is not a phone number (it contains \"{character}\")")
        }
        (NumberProblem::NotSwedish, Language::Sv) => format!("{input} är inget svenskt nummer"),
        (NumberProblem::NotSwedish, Language::En) => format!("{input} is not a Swedish number"),
        (NumberProblem::NotMobile, Language::Sv) => format!(
            "{input} är inget svenskt mobilnummer (de börjar med 070, 072, 073, 076 eller 079)"
        ),
        (NumberProblem::NotMobile, Language::En) => format!(
            "{input} is not a Swedish mobile number (they start with 070, 072, 073, 076 or 079)"
        ),
        (NumberProblem::TooShort, Language::Sv) => {
            format!("{input} är för kort för ett svenskt mobilnummer")
        }
        (NumberProblem::TooShort, Language::En) => {
            format!("{input} is too short for a Swedish mobile number")
        }
        (NumberProblem::TooLong, Language::Sv) => {
            format!("{input} är för långt för ett svenskt mobilnummer")
        }
        (NumberProblem::TooLong, Language::En) => {
            format!("{input} is too long for a Swedish mobile number")
        }
    }
}
