//! Every word of the owner's report, in Swedish and English, picked by the
//! register's `language` setting (as `crate::texts` keeps the consent
//! pages' words).

use consent_extension::Language;
use serde::Serialize;

/// The report's words in one language.
#[derive(Debug, Clone, Serialize)]
pub struct ReportTexts {
    #[serde(skip)]
    language: Language,
    pub lang: &'static str,
    pub title: String,
    pub heading: String,
    pub made_at: &'static str,
    pub counts_heading: &'static str,
    pub status: &'static str,
    pub customers: &'static str,
    pub total: &'static str,
    pub weekly_heading: &'static str,
    pub weekly_caption: String,
    pub weekly_table: &'static str,
    pub week: &'static str,
    /// The weekly table's first column: the week, and its Monday.
    pub week_column: &'static str,
    pub sent: &'static str,
    pub approved: &'static str,
    pub denied: &'static str,
    pub expired: &'static str,
    pub weekly_note: &'static str,
    pub no_events: &'static str,
    pub channel_heading: &'static str,
    pub channel_caption: &'static str,
    pub channel_table: &'static str,
    pub channel: &'static str,
    pub decided: &'static str,
    pub approved_share: &'static str,
    pub channel_note: &'static str,
    pub no_decisions: &'static str,
    pub errors_heading: &'static str,
    pub customer: &'static str,
    pub reason: &'static str,
    pub since: &'static str,
    pub no_errors: &'static str,
    pub footer: &'static str,
    /// Axis descriptions of the charts.
    pub requests_axis: &'static str,
    pub share_axis: &'static str,
    /// Said after each chart's description to a screen reader.
    pub numbers_below: &'static str,
}

impl ReportTexts {
    /// The words of `language`, with the business's name (or a neutral
    /// word when the register has none) and the number of weeks filled in.
    pub fn new(language: Language, business: Option<&str>, weeks: usize) -> ReportTexts {
        let p = |sv: &'static str, en: &'static str| language.pick(sv, en);
        let title = match business {
            Some(name) => format!("{} – {name}", p("Samtyckesrapport", "Consent report")),
            None => p("Samtyckesrapport", "Consent report").to_owned(),
        };
        let weekly_caption = match (language, weeks) {
            (Language::Sv, 1) => "Skickade, godkända, nekade och utgångna förfrågningar den senaste veckan".to_owned(),
            (Language::Sv, n) => format!(
                "Skickade, godkända, nekade och utgångna förfrågningar per vecka, de senaste {n} veckorna"
            ),
            (Language::En, 1) => "Requests sent, approved, denied and expired in the last week".to_owned(),
            (Language::En, n) => format!(
                "Requests sent, approved, denied and expired per week, the last {n} weeks"
            ),
        };
        ReportTexts {
            language,
            lang: language.code(),
            heading: title.clone(),
            title,
            made_at: p("Gjord", "Made"),
            counts_heading: p("Kunder per status", "Customers per status"),
            status: p("Status", "Status"),
            customers: p("Kunder", "Customers"),
            total: p("Totalt", "Total"),
            weekly_heading: p("Förfrågningar per vecka", "Requests per week"),
            weekly_caption,
            weekly_table: p("Förfrågningar per vecka, i siffror", "Requests per week, in numbers"),
            week: p("Vecka", "Week"),
            week_column: p("Vecka (måndag)", "Week (Monday)"),
            sent: p("Skickade", "Sent"),
            approved: p("Godkända", "Approved"),
            denied: p("Nekade", "Denied"),
            expired: p("Utgångna", "Expired"),
            weekly_note: p(
                "Veckorna är ISO-veckor (måndag till söndag, UTC). Utgångna är förfrågningar som inte besvarades i tid och därför räknas som nekade; nekade är de som kunden avböjde eller som återkallades.",
                "Weeks are ISO weeks (Monday to Sunday, UTC). Expired are requests not answered in time, which count as denied; denied are those the customer declined or that were withdrawn.",
            ),
            no_events: p(
                "Inga förfrågningar har skickats eller besvarats ännu.",
                "No request has been sent or answered yet.",
            ),
            channel_heading: p("Andel godkända per kanal", "Approval rate per channel"),
            channel_caption: p(
                "Andel godkända bland besvarade förfrågningar, per kanal de skickades med",
                "Share approved among decided requests, by the channel they were sent on",
            ),
            channel_table: p("Andel godkända per kanal, i siffror", "Approval rate per channel, in numbers"),
            channel: p("Kanal", "Channel"),
            decided: p("Besvarade", "Decided"),
            approved_share: p("Andel godkända", "Approved share"),
            channel_note: p(
                "Besvarade är förfrågningar som nu är godkända eller nekade (även utgångna); de som väntar på svar eller fick fel räknas inte.",
                "Decided are requests now approved or denied (expired included); those still waiting or in error are not counted.",
            ),
            no_decisions: p(
                "Ingen förfrågan som skickats har besvarats ännu.",
                "No request that was sent has been decided yet.",
            ),
            errors_heading: p("Kunder med fel", "Customers in error"),
            customer: p("Kund", "Customer"),
            reason: p("Orsak", "Reason"),
            since: p("sedan", "since"),
            no_errors: p("Ingen kund har fel.", "No customer is in error."),
            footer: p(
                "Siffrorna kommer från samtyckesregistret och dess logg i kunddatabasen. Statusarna är desamma som kommandot status visar.",
                "The numbers come from the consent register and its log in the billing database. The statuses are the ones the status command shows.",
            ),
            requests_axis: p("Förfrågningar", "Requests"),
            share_axis: p("Andel godkända (%)", "Approved share (%)"),
            numbers_below: p(
                "Siffrorna finns i tabellen under diagrammet.",
                "The numbers are in the table below the chart.",
            ),
        }
    }

    /// A week's short name on a chart's axis: "v. 47", "W47".
    pub fn week_short(&self, number: i64) -> String {
        match self.language {
            Language::Sv => format!("v. {number}"),
            _ => format!("W{number}"),
        }
    }

    /// A week's full name: "2026 v. 47", "2026-W47".
    pub fn week_long(&self, year: i64, number: i64) -> String {
        match self.language {
            Language::Sv => format!("{year} v. {number}"),
            _ => format!("{year}-W{number:02}"),
        }
    }

    /// A channel's name.
    pub fn channel_name(&self, channel: &str) -> &'static str {
        match (self.language, channel) {
            (Language::Sv, "email") => "E-post",
            (_, "email") => "E-mail",
            _ => "SMS",
        }
    }

    /// A share as people write it: "72,5 %", "72.5%"; "–" for none.
    pub fn percent(&self, share: Option<f64>) -> String {
        match share {
            None => "–".to_owned(),
            Some(value) => {
                let number = format!("{value:.1}");
                match self.language {
                    Language::Sv => format!("{} %", number.replace('.', ",")),
                    _ => format!("{number}%"),
                }
            }
        }
    }

    /// "130 av 180", "130 of 180".
    pub fn of(&self, part: i64, whole: i64) -> String {
        match self.language {
            Language::Sv => format!("{part} av {whole}"),
            _ => format!("{part} of {whole}"),
        }
    }
}
