//! A register larger than one batch of every step, through the real
//! `consent-portal sync`: sync reads, renders and sends a bounded batch at
//! a time (its memory must not grow with the register), and the batches
//! together must do exactly what one pass over everything did: one page
//! and one message per request, none twice, none missed; the same pages
//! kept on the next run; the pages of requests decided meanwhile deleted;
//! and a summary that lists the first customers in error by name and
//! counts all of them.

use std::collections::BTreeSet;

use consent_testkit::billing::Register;
use consent_testkit::sql;
use consent_testkit::world::FILE_EMAIL;

/// More than render's batch (2 000 pages) and send's (1 000 messages).
const EMAILS: usize = 2_300;
/// Customers whose e-mail address does not parse (set to `error` when
/// their message is built): more than a summary lists by name (100).
const UNREACHABLE: usize = 150;

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "sync failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("sync --json")
}

/// The page ids of the files in `site/c`.
fn pages_on_disk(register: &Register) -> BTreeSet<String> {
    std::fs::read_dir(register.dir.join("site/c"))
        .expect("site/c")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".html").map(str::to_owned)
        })
        .collect()
}

#[test]
fn a_register_larger_than_a_batch_gets_one_page_and_one_message_per_request() {
    let register = Register::create("batches", EMAILS, 0, FILE_EMAIL, &[]);
    let conn = register.conn();
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT ?1 + 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 + ?2)
         INSERT INTO kunder SELECT i, 'Kund ' || i, 'kund ' || i || ' at example.se', NULL FROM n",
        [EMAILS as i64, UNREACHABLE as i64],
    )
    .expect("customers with an address that does not parse");
    let queued = sql::int(
        &conn,
        &format!("SELECT count(consent_queue(nr)) FROM kunder WHERE nr > {EMAILS}"),
    );
    assert_eq!(queued as usize, UNREACHABLE);

    let first = json(&register.sync());
    let delivery = &first["delivery"];
    assert_eq!(delivery["sent_email"], EMAILS, "{first}");
    let listed = delivery["errors"].as_array().expect("errors").len();
    assert_eq!(
        (listed, delivery["errors_not_listed"].as_u64()),
        (100, Some((UNREACHABLE - 100) as u64)),
        "the first 100 by name, the rest counted"
    );

    // One message per request, each with the link to its own page.
    let pages: BTreeSet<String> = sql::rows(
        &conn,
        "SELECT page_id FROM consent_request WHERE status = 'sent'",
        [],
        |r| r.get(0),
    )
    .into_iter()
    .collect();
    assert_eq!(pages.len(), EMAILS);
    // The pages of the customers set to error were made before their
    // message failed; the next run deletes them.
    let on_disk = pages_on_disk(&register);
    assert_eq!(on_disk.len(), EMAILS + UNREACHABLE);
    assert!(pages.is_subset(&on_disk), "a sent request has no page");
    let mut linked = BTreeSet::new();
    for entry in std::fs::read_dir(register.dir.join("mail")).expect("mail") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("mail");
        let page = pages
            .iter()
            .find(|p| text.contains(&format!("/c/{p}.html")))
            .unwrap_or_else(|| panic!("a message links no sent page:\n{text}"));
        assert!(linked.insert(page.clone()), "two messages for page {page}");
    }
    assert!(linked == pages, "every request got its message");
    let statuses = register.statuses();
    assert_eq!(
        statuses.values().filter(|s| *s == "error").count(),
        UNREACHABLE
    );

    // Nothing changed: every page kept as it is, nothing sent.
    let second = json(&register.sync());
    assert_eq!(second["delivery"]["sent_email"], 0);
    assert_eq!(second["pages"]["pages"], EMAILS, "{second}");
    assert_eq!(second["pages"]["unchanged"], EMAILS, "{second}");
    assert_eq!(second["pages"]["written"], 0, "{second}");
    assert_eq!(second["pages"]["removed"], UNREACHABLE, "{second}");
    assert!(
        pages_on_disk(&register) == pages,
        "exactly the sent pages stay"
    );

    // A clerk approves most of them by hand: their pages go, the rest stay.
    let approved = sql::int(
        &conn,
        "SELECT count(consent_approve(nr)) FROM kunder WHERE nr <= 2100",
    );
    assert_eq!(approved, 2_100);
    let third = json(&register.sync());
    assert_eq!(third["pages"]["removed"], 2_100, "{third}");
    let left: BTreeSet<String> = sql::rows(
        &conn,
        "SELECT page_id FROM consent_request WHERE status = 'sent'",
        [],
        |r| r.get(0),
    )
    .into_iter()
    .collect();
    assert_eq!(left.len(), EMAILS - 2_100);
    assert!(
        pages_on_disk(&register) == left,
        "exactly the pending pages stay"
    );
}
