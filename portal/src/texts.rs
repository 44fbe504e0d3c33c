//! Everything a customer reads on the pages, in Swedish and English. The
//! business's own information text comes from the database; these are our
//! standard texts around it.

use consent_extension::Language;
use serde::Serialize;

/// The texts of one language, with the business's name filled in.
#[derive(Debug, Clone, Serialize)]
pub struct PageTexts {
    pub lang: &'static str,
    pub title: String,
    pub heading: String,
    pub asks: String,
    pub info_heading: String,
    pub standard_heading: String,
    pub standard: Vec<String>,
    pub approve: String,
    pub decline: String,
    pub thanks_title: String,
    pub thanks: Vec<String>,
    pub expired_title: String,
    pub expired: Vec<String>,
    pub not_found_title: String,
    pub not_found: Vec<String>,
    /// The withdrawal page: the receipt of a consent, and one button.
    pub receipt_title: String,
    pub receipt_heading: String,
    pub receipt_given: String,
    pub receipt_text_heading: String,
    pub withdraw_heading: String,
    pub withdraw_explain: Vec<String>,
    pub withdraw: String,
    /// The page the collector leads to after a withdrawal.
    pub withdrawn_title: String,
    pub withdrawn: Vec<String>,
}

/// How a consent was given, by the channel its request went out on: for
/// the receipt page and the receipt message. `{date}` is filled in later.
pub fn given_on(language: Language, channel: consent_extension::Channel) -> &'static str {
    use consent_extension::Channel;
    match channel {
        Channel::Email => language.pick(
            "Du gav det {date} genom att trycka på \"Jag godkänner\" på sidan vi skickade till dig med e-post.",
            "You gave it on {date} by pressing \"I approve\" on the page we sent you by e-mail.",
        ),
        Channel::Sms => language.pick(
            "Du gav det {date} genom att trycka på \"Jag godkänner\" på sidan vi skickade till dig med SMS.",
            "You gave it on {date} by pressing \"I approve\" on the page we sent you by SMS.",
        ),
    }
}

/// A text in the customer's language with the business's name and the
/// consent window filled in: `{business}`, and `{days}` as "7 dagar" or
/// "1 day".
pub fn fill(language: Language, sv: &str, en: &str, business: &str, expiry_days: i64) -> String {
    let days = match (language, expiry_days) {
        (Language::Sv, 1) => "1 dag".to_owned(),
        (Language::Sv, n) => format!("{n} dagar"),
        (Language::En, 1) => "1 day".to_owned(),
        (Language::En, n) => format!("{n} days"),
    };
    // The days first: a business name may hold anything, even "{days}".
    language
        .pick(sv, en)
        .replace("{days}", &days)
        .replace("{business}", business)
}

/// What silence means, in the page and in the message alike.
pub const SILENCE_MEANS_NO: (&str, &str) = (
    "Om du inte svarar inom {days} räknas det som att du inte har lämnat samtycke.",
    "If you do not answer within {days}, you are taken not to have consented.",
);

impl PageTexts {
    pub fn new(language: Language, business: &str, expiry_days: i64) -> PageTexts {
        let t = |sv: &str, en: &str| fill(language, sv, en, business, expiry_days);
        PageTexts {
            lang: language.code(),
            title: t("Samtycke – {business}", "Consent – {business}"),
            heading: t("Får vi spara dina uppgifter?", "May we keep your details?"),
            asks: t(
                "{business} ber om ditt samtycke till att spara och använda dina personuppgifter så som beskrivs nedan.",
                "{business} asks for your consent to store and use your personal data as described below.",
            ),
            info_heading: t("Information från {business}", "Information from {business}"),
            standard_heading: t("Om ditt samtycke", "About your consent"),
            standard: vec![
                t(
                    "Vilka uppgifter och varför: de uppgifter och ändamål som {business} beskriver ovan, och inget annat.",
                    "What and why: the data and purposes {business} describes above, and nothing else.",
                ),
                t(
                    "Hur länge: så länge du är kund hos {business}, eller tills du återkallar ditt samtycke.",
                    "For how long: as long as you are a customer of {business}, or until you withdraw your consent.",
                ),
                t(
                    "Du kan när som helst återkalla ditt samtycke, lika enkelt som du gav det: när du har godkänt får du ett kvitto med en länk till en sida där en knapp återkallar samtycket. Det påverkar inte det som redan har gjorts med stöd av samtycket.",
                    "You can withdraw your consent at any time, as easily as you gave it: once you approve, you get a receipt with a link to a page where one button withdraws it. Withdrawing does not affect what was done under the consent before.",
                ),
                t(SILENCE_MEANS_NO.0, SILENCE_MEANS_NO.1),
                t(
                    "Ditt svar sparas tillsammans med den här texten, så att {business} kan visa vad du har svarat på.",
                    "Your answer is kept together with this text, so that {business} can show what you answered to.",
                ),
            ],
            approve: t("Jag godkänner", "I approve"),
            decline: t("Jag godkänner inte", "I do not approve"),
            thanks_title: t("Tack för ditt svar", "Thank you for your answer"),
            thanks: vec![
                t(
                    "Ditt svar har tagits emot. Du kan stänga den här sidan.",
                    "Your answer has been received. You can close this page.",
                ),
                t(
                    "Har du godkänt får du ett kvitto, med en länk där du när som helst kan återkalla ditt samtycke.",
                    "If you approved, you will get a receipt, with a link where you can withdraw your consent at any time.",
                ),
            ],
            expired_title: t("Länken gäller inte längre", "This link is no longer valid"),
            expired: vec![
                t(
                    "Den här länken har gått ut, eller så har en ny förfrågan skickats till dig.",
                    "This link has expired, or a new request has been sent to you.",
                ),
                t(
                    "Kontakta {business} om du vill lämna eller ändra ditt samtycke.",
                    "Contact {business} to give or change your consent.",
                ),
            ],
            not_found_title: t("Sidan finns inte", "Page not found"),
            not_found: vec![
                t(
                    "Kontrollera att adressen är rätt, eller använd länken i det senaste meddelandet du fick.",
                    "Check that the address is right, or use the link in the latest message you received.",
                ),
                t(
                    "Kontakta {business} om du har frågor om ditt samtycke.",
                    "Contact {business} with any questions about your consent.",
                ),
            ],
            receipt_title: t("Ditt samtycke – {business}", "Your consent – {business}"),
            receipt_heading: t("Ditt samtycke", "Your consent"),
            receipt_given: t(
                "Du har gett {business} ditt samtycke till att spara och använda dina personuppgifter så som beskrivs i texten nedan.",
                "You have given {business} your consent to store and use your personal data as described in the text below.",
            ),
            receipt_text_heading: t("Texten du godkände", "The text you approved"),
            withdraw_heading: t("Återkalla ditt samtycke", "Withdraw your consent"),
            withdraw_explain: vec![
                t(
                    "Du kan återkalla ditt samtycke när som helst med knappen nedan. Du får en bekräftelse när {business} har registrerat det.",
                    "You can withdraw your consent at any time with the button below. You get a confirmation once {business} has recorded it.",
                ),
                t(
                    "Att återkalla påverkar inte det som redan har gjorts med stöd av samtycket.",
                    "Withdrawing does not affect what was done under the consent before.",
                ),
            ],
            withdraw: t("Återkalla mitt samtycke", "Withdraw my consent"),
            withdrawn_title: t("Ditt samtycke återkallas", "Your consent is being withdrawn"),
            withdrawn: vec![
                t(
                    "Vi har tagit emot att du återkallar ditt samtycke. Du kan stänga den här sidan.",
                    "We have received your withdrawal. You can close this page.",
                ),
                t(
                    "Du får en bekräftelse när {business} har registrerat det.",
                    "You get a confirmation once {business} has recorded it.",
                ),
            ],
        }
    }

    /// The consent text exactly as a customer reads it on the page, as plain
    /// text: this is what is stored in `consent_text` and what the decision
    /// token's hash binds.
    pub fn consent_text(&self, info_text: &str) -> String {
        let mut text = format!(
            "{}\n\n{}\n\n{}\n\n{}\n\n{}\n",
            self.heading,
            self.asks,
            self.info_heading,
            info_text.trim(),
            self.standard_heading
        );
        for paragraph in &self.standard {
            text.push_str(&format!("- {paragraph}\n"));
        }
        text.push_str(&format!("\n[{}] [{}]\n", self.approve, self.decline));
        text
    }
}
