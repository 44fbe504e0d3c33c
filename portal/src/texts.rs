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
}

impl PageTexts {
    pub fn new(language: Language, business: &str, expiry_days: i64) -> PageTexts {
        let days = expiry_days;
        match language {
            Language::Sv => PageTexts {
                lang: "sv",
                title: format!("Samtycke – {business}"),
                heading: "Får vi spara dina uppgifter?".to_owned(),
                asks: format!(
                    "{business} ber om ditt samtycke till att spara och använda dina personuppgifter så som beskrivs nedan."
                ),
                info_heading: format!("Information från {business}"),
                standard_heading: "Om ditt samtycke".to_owned(),
                standard: vec![
                    format!("Vilka uppgifter och varför: de uppgifter och ändamål som {business} beskriver ovan, och inget annat."),
                    format!("Hur länge: så länge du är kund hos {business}, eller tills du återkallar ditt samtycke."),
                    format!("Du kan när som helst återkalla ditt samtycke, lika enkelt som du gav det: kontakta {business}. Det påverkar inte det som redan har gjorts med stöd av samtycket."),
                    if days == 1 {
                        "Om du inte svarar inom 1 dag räknas det som att du inte har lämnat samtycke.".to_owned()
                    } else {
                        format!("Om du inte svarar inom {days} dagar räknas det som att du inte har lämnat samtycke.")
                    },
                    format!("Ditt svar sparas tillsammans med den här texten, så att {business} kan visa vad du har svarat på."),
                ],
                approve: "Jag godkänner".to_owned(),
                decline: "Jag godkänner inte".to_owned(),
                thanks_title: "Tack för ditt svar".to_owned(),
                thanks: vec![
                    "Ditt svar har tagits emot. Du kan stänga den här sidan.".to_owned(),
                    format!("Vill du ändra ditt svar senare, kontakta {business}."),
                ],
                expired_title: "Länken gäller inte längre".to_owned(),
                expired: vec![
                    "Den här länken har gått ut, eller så har en ny förfrågan skickats till dig.".to_owned(),
                    format!("Kontakta {business} om du vill lämna eller ändra ditt samtycke."),
                ],
                not_found_title: "Sidan finns inte".to_owned(),
                not_found: vec![
                    "Kontrollera att adressen är rätt, eller använd länken i det senaste meddelandet du fick.".to_owned(),
                    format!("Kontakta {business} om du har frågor om ditt samtycke."),
                ],
            },
            Language::En => PageTexts {
                lang: "en",
                title: format!("Consent – {business}"),
                heading: "May we keep your details?".to_owned(),
                asks: format!(
                    "{business} asks for your consent to store and use your personal data as described below."
                ),
                info_heading: format!("Information from {business}"),
                standard_heading: "About your consent".to_owned(),
                standard: vec![
                    format!("What and why: the data and purposes {business} describes above, and nothing else."),
                    format!("For how long: as long as you are a customer of {business}, or until you withdraw your consent."),
                    format!("You can withdraw your consent at any time, as easily as you gave it: contact {business}. Withdrawing does not affect what was done under the consent before."),
                    if days == 1 {
                        "If you do not answer within 1 day, you are taken not to have consented.".to_owned()
                    } else {
                        format!("If you do not answer within {days} days, you are taken not to have consented.")
                    },
                    format!("Your answer is kept together with this text, so that {business} can show what you answered to."),
                ],
                approve: "I approve".to_owned(),
                decline: "I do not approve".to_owned(),
                thanks_title: "Thank you for your answer".to_owned(),
                thanks: vec![
                    "Your answer has been received. You can close this page.".to_owned(),
                    format!("To change your answer later, contact {business}."),
                ],
                expired_title: "This link is no longer valid".to_owned(),
                expired: vec![
                    "This link has expired, or a new request has been sent to you.".to_owned(),
                    format!("Contact {business} to give or change your consent."),
                ],
                not_found_title: "Page not found".to_owned(),
                not_found: vec![
                    "Check that the address is right, or use the link in the latest message you received.".to_owned(),
                    format!("Contact {business} with any questions about your consent."),
                ],
            },
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
