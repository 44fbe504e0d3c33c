//! A register with weeks of history, for the owner's report: a few hundred
//! customers of the sample business asked for consent day by day, each
//! answering, declining, bouncing or staying silent until `consent_expire`
//! denies the request, all through the real SQL functions at the times they
//! happened.

use rusqlite::Connection;

use crate::rng::Rng;
use crate::sample::{SetUp, BUSINESS_NAME, INFO_TEXT};

/// What a history is made of.
#[derive(Debug, Clone)]
pub struct Plan {
    /// How many customers the register holds.
    pub customers: usize,
    /// The Monday 00:00 UTC the first request may be queued (unix seconds).
    pub start: i64,
    /// How many weeks the business has been asking.
    pub weeks: i64,
    /// The choices of the random number generator.
    pub seed: u64,
    /// `sv` or `en`.
    pub language: &'static str,
}

/// A realistic history: 300 customers over 8 weeks ending on 2026-11-29
/// (the test kit's clock), in Swedish.
impl Default for Plan {
    fn default() -> Plan {
        Plan {
            customers: 300,
            // Monday 2026-10-05, ISO week 41.
            start: 1_791_158_400,
            weeks: 8,
            seed: 2026,
            language: "sv",
        }
    }
}

const FIRST: &[&str] = &[
    "Anna", "Bo", "Cecilia", "David", "Eva", "Fredrik", "Greta", "Hans", "Ingrid", "Johan",
    "Karin", "Lars", "Maria", "Nils", "Olof", "Petra", "Rut", "Sven", "Tove", "Ulf",
];
const LAST: &[&str] = &[
    "Andersson",
    "Berg",
    "Carlsson",
    "Dahl",
    "Ek",
    "Falk",
    "Gustafsson",
    "Holm",
    "Isaksson",
    "Johansson",
    "Karlsson",
    "Lind",
    "Nilsson",
    "Olsson",
    "Persson",
    "Ström",
];

/// One call of a consent function at a time, in the order they happened.
#[derive(Debug)]
struct Call {
    at: i64,
    sql: String,
}

/// Makes `customers (id, name, email, mobile)` in `conn` (a connection with
/// the consent functions registered), sets consent up (SMS on, the
/// business's name, `plan.language`) and plays the history. Returns the
/// time of its last event.
pub fn build(conn: &Connection, plan: &Plan) -> i64 {
    let mut rng = Rng::new(plan.seed);
    conn.execute_batch(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, mobile TEXT)",
    )
    .expect("the customers table");
    let mut contacts = Vec::new();
    for id in 1..=plan.customers as i64 {
        let first = FIRST[rng.below(FIRST.len() as u64) as usize];
        let last = LAST[rng.below(LAST.len() as u64) as usize];
        let email = format!("{}.{}{id}@example.se", first.to_lowercase(), id % 7);
        let mobile = format!("070-{:03} {:02} {:02}", id % 1000, rng.below(100), id % 100);
        let (email, mobile, reachable) = match rng.below(100) {
            0..=59 => (Some(email), None, true),
            60..=79 => (None, Some(mobile), true),
            80..=91 => (Some(email), Some(mobile), true),
            92..=96 => (None, None, false),
            // A landline: no mobile number, so no SMS either.
            _ => (
                None,
                Some(format!("08-{:03} {:02} {:02}", id % 1000, id % 89, id % 97)),
                false,
            ),
        };
        let has_email = email.is_some();
        conn.execute(
            "INSERT INTO customers VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![id, format!("{first} {last}"), email, mobile],
        )
        .expect("a customer");
        contacts.push((id, has_email, reachable));
    }
    SetUp::init("customers", "id", "email", "mobile", Some("name"))
        .business_name(BUSINESS_NAME)
        .info_text(INFO_TEXT)
        .sms()
        .then(&format!(
            "SELECT consent_setting('language', '{}')",
            plan.language
        ))
        .apply(conn);

    let end = plan.start + plan.weeks * 7 * 86_400;
    let mut calls = Vec::new();
    for (id, has_email, reachable) in contacts {
        // More asked as the business gets going; some never asked yet.
        if rng.chance(8) {
            continue;
        }
        let day = (rng.below(plan.weeks as u64 * 7) + rng.below(plan.weeks as u64 * 7))
            .div_euclid(2) as i64
            + rng.range(0, 3) as i64;
        let queued =
            plan.start + day.min(plan.weeks * 7 - 1) * 86_400 + rng.range(7, 16) as i64 * 3600;
        calls.push(Call {
            at: queued,
            sql: format!("SELECT consent_queue({id}, {queued})"),
        });
        if !reachable {
            continue; // queueing records the error: nothing to send
        }
        let channel = if has_email { "email" } else { "sms" };
        let sent = queued + rng.range(5, 90) as i64 * 60;
        if channel == "email" && rng.chance(3) {
            calls.push(Call {
                at: sent,
                sql: format!(
                    "SELECT consent_mark_error({id}, '550 5.1.1 mailbox unavailable', {sent})"
                ),
            });
            continue;
        }
        calls.push(Call {
            at: sent,
            sql: format!("SELECT consent_mark_sent({id}, '{channel}', NULL, {sent})"),
        });
        // Most answers come within a day or two; silence lasts until
        // consent_expire denies the request after 7 days.
        let answer = sent + (rng.below(48 * 60) + rng.below(48 * 60) * rng.below(3)) as i64 * 60;
        let approve_percent = if channel == "email" { 64 } else { 47 };
        let roll = rng.below(100);
        if roll < approve_percent {
            calls.push(Call {
                at: answer,
                sql: format!("SELECT consent_approve({id}, 'signed', {answer})"),
            });
            if rng.chance(2) {
                let later = answer + rng.range(1, 20) as i64 * 86_400;
                calls.push(Call {
                    at: later,
                    sql: format!("SELECT consent_revoke({id}, 'customer asked', {later})"),
                });
            }
        } else if roll < approve_percent + 14 {
            calls.push(Call {
                at: answer,
                sql: format!("SELECT consent_revoke({id}, 'declined', {answer})"),
            });
        }
    }
    // consent_expire each night at 02:00, as a scheduled sync runs it.
    let mut night = plan.start + 2 * 3600;
    while night < end {
        calls.push(Call {
            at: night,
            sql: format!("SELECT consent_expire({night})"),
        });
        night += 86_400;
    }
    calls.retain(|c| c.at < end);
    calls.sort_by_key(|c| c.at);
    for call in &calls {
        conn.query_row(&call.sql, [], |_| Ok(()))
            .unwrap_or_else(|e| panic!("{}: {e}", call.sql));
    }
    calls.last().map(|c| c.at).unwrap_or(plan.start)
}
