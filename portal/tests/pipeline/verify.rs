//! `consent-portal verify` against an insider: an honest register
//! verifies; each way of rewriting the evidence is named. The insider has
//! write access to the database file and drops the schema's guard
//! triggers first, as anyone with write access can; the chain, the
//! requests' last events and the heads recorded outside the database are
//! what catch them.

use consent_testkit::billing::portal;
use consent_testkit::sql;
use consent_testkit::world::{Spec, World};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter};

/// A register with an approval, a decline and pending requests, synced so
/// that its head is recorded.
fn honest(label: &str) -> World {
    let w = World::new(label, Spec::default());
    w.sql(&format!("SELECT consent_queue_all(NULL, {})", w.t0 - 60));
    w.sync(w.t0);
    assert_eq!(w.press(1, "approve"), 303);
    assert_eq!(w.press(3, "decline"), 303);
    let summary = w.sync(w.t0 + 60);
    assert_eq!(
        (w.status(1), w.status(3)),
        ("approved".into(), "denied".into())
    );
    assert!(summary.log.is_some_and(|l| l.hash.is_some()));
    w
}

/// Runs `consent-portal verify`: whether it passed, and what it printed.
fn verify(w: &World) -> (bool, String) {
    let config = w.dir.join("consent.toml");
    let output = portal(&["verify", "--config", config.to_str().expect("path")])
        .output()
        .expect("run consent-portal verify");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// What an insider does first: drop every trigger on the consent tables.
fn drop_guards(w: &World) {
    let triggers: Vec<String> = sql::column(
        &w.conn,
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'consent%'",
    );
    assert!(!triggers.is_empty());
    for t in triggers {
        w.conn
            .execute_batch(&format!("DROP TRIGGER \"{t}\""))
            .expect("drop trigger");
    }
}

fn approval_event(w: &World) -> i64 {
    sql::int(
        &w.conn,
        "SELECT id FROM consent_event WHERE to_status = 'approved'",
    )
}

fn assert_caught(w: &World, names: &str) {
    let (ok, text) = verify(w);
    assert!(!ok, "verify passed a tampered register:\n{text}");
    assert!(text.contains(names), "expected {names:?} in:\n{text}");
}

#[test]
fn an_honest_register_verifies() {
    let w = honest("verify-honest");
    let (ok, text) = verify(&w);
    assert!(ok, "{text}");
    assert!(text.contains("verify: ok"), "{text}");
    assert!(text.contains("recorded heads: all"), "{text}");
}

#[test]
fn replace_into_the_log_is_refused_and_after_dropped_guards_caught() {
    let w = honest("verify-replace");
    let event = approval_event(&w);
    let replace = "INSERT OR REPLACE INTO consent_event \
                     (id, customer_id, request_id, from_status, to_status, actor, detail, at, hash, form) \
                   SELECT id, customer_id, request_id, from_status, 'denied', actor, detail, at, hash, form \
                   FROM consent_event WHERE id = ?1";
    let refused = w
        .conn
        .execute(replace, [event])
        .expect_err("REPLACE into consent_event was accepted");
    assert!(refused.to_string().contains("consent_event"), "{refused}");
    drop_guards(&w);
    w.conn
        .execute(replace, [event])
        .expect("the insider's REPLACE");
    assert_caught(&w, &format!("row {event}"));
}

#[test]
fn a_deleted_event_is_caught() {
    let w = honest("verify-delete");
    let event = approval_event(&w);
    drop_guards(&w);
    w.conn
        .execute("DELETE FROM consent_event WHERE id = ?1", [event])
        .expect("delete");
    let (ok, text) = verify(&w);
    assert!(!ok, "{text}");
    assert!(
        text.contains(&format!("row {}", event + 1)) || text.contains("request"),
        "{text}"
    );
}

#[test]
fn a_direct_status_update_is_refused_and_after_dropped_guards_caught() {
    let w = honest("verify-status");
    let request = w.request_id(3);
    let update = "UPDATE consent_request SET status = 'approved' WHERE id = ?1";
    assert!(w.conn.execute(update, [request]).is_err());
    drop_guards(&w);
    w.conn
        .execute(update, [request])
        .expect("the insider's update");
    assert_caught(&w, &format!("request {request}"));
}

#[test]
fn an_edited_text_is_caught() {
    let w = honest("verify-text");
    drop_guards(&w);
    w.conn
        .execute(
            "UPDATE consent_text SET body = body || ' Och allt annat.'",
            [],
        )
        .expect("edit");
    assert_caught(&w, "consent_text");
}

#[test]
fn a_log_rebuilt_from_scratch_is_caught_by_the_recorded_heads() {
    let w = honest("verify-rebuilt");
    drop_guards(&w);
    // The approval becomes a denial, and the whole chain is recomputed so
    // that it is consistent in itself.
    let request = w.request_id(1);
    w.conn
        .execute_batch(&format!(
            "UPDATE consent_request SET status = 'denied', evidence = NULL WHERE id = {request};
             UPDATE consent_event SET to_status = 'denied', detail = 'declined' WHERE to_status = 'approved';"
        ))
        .expect("rewrite");
    let rows: Vec<Vec<Value>> = {
        let mut stmt = w
            .conn
            .prepare(
                "SELECT id, customer_id, request_id, from_status, to_status, actor, detail, at, form \
                 FROM consent_event ORDER BY id",
            )
            .expect("prepare");
        stmt.query_map([], |r| (0..9).map(|i| r.get::<_, Value>(i)).collect())
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let mut prev = Value::Null;
    for row in rows {
        let mut args = vec![prev];
        args.extend(row.iter().cloned());
        let hash: String = w
            .conn
            .query_row(
                "SELECT consent_event_hash(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params_from_iter(args),
                |r| r.get(0),
            )
            .expect("hash");
        w.conn
            .execute(
                "UPDATE consent_event SET hash = ?1 WHERE id = ?2",
                params![hash, row[0]],
            )
            .expect("store hash");
        prev = Value::Text(hash);
    }
    let in_db: String = w
        .conn
        .query_row("SELECT consent_verify_log()", [], |r| r.get(0))
        .expect("verify_log");
    assert_eq!(in_db, "ok", "the rebuilt chain is consistent in itself");
    assert_caught(&w, "NOT in the log");
}
