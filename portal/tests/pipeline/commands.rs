//! `sync` takes the commands a program without the extension left in
//! `consent_command` before anything else: a customer queued that way gets
//! a page and a message in the same run; refused commands are listed; a
//! dry run shows what would happen and changes nothing; queue on create
//! that a table rebuild switched off is switched on again, and said.

use consent_portal::sync;
use consent_testkit::sample::{SetUp, KUNDER};
use consent_testkit::world::{run_sync, Spec, World};
use rusqlite::Connection;

fn world(label: &str) -> World {
    World::new(
        label,
        Spec {
            register: KUNDER,
            set_up: SetUp::kunder()
                .sms()
                .then("SELECT consent_setting('queue_new_customers', '1')"),
            ..Spec::default()
        },
    )
}

/// The billing application's own connection: no extension.
fn plain(w: &World) -> Connection {
    Connection::open(w.dir.join("billing.db")).expect("open without the extension")
}

#[test]
fn sync_applies_commands_first_and_sends_in_the_same_run() {
    let w = world("sync-commands");
    let billing = plain(&w);
    billing
        .execute_batch(
            "INSERT INTO consent_command (customer_id, command) VALUES (1, 'queue'), (2, 'queue'), (77, 'queue');
             INSERT INTO kunder (nr, namn, epost) VALUES (6, 'Fia', 'fia@example.se');",
        )
        .expect("commands and a new customer, by plain SQL");

    let status = consent_portal::status::report(&w.conn).expect("status");
    assert_eq!(status.commands_pending, 4);
    let shown = consent_portal::status::to_text(&status);
    assert!(
        shown.contains("Kommandon som väntar på nästa uppdatering: 4"),
        "{shown}"
    );

    let dry = run_sync(&w.conn, &w.config, w.t0, true);
    assert_eq!(
        (dry.commands.taken.applied, dry.commands.taken.refused),
        (3, 1)
    );
    assert!(
        sync::to_text(&dry).contains("commands: 3 would apply, 1 refused"),
        "{}",
        sync::to_text(&dry)
    );
    assert_eq!(w.status(1), "missing", "a dry run changes nothing");
    assert_eq!(
        w.sql("SELECT count(*) FROM consent_command WHERE outcome IS NULL"),
        "4"
    );

    let run = run_sync(&w.conn, &w.config, w.t0 + 60, false);
    let text = sync::to_text(&run);
    assert_eq!(
        (run.commands.taken.applied, run.commands.taken.refused),
        (3, 1),
        "{text}"
    );
    assert!(
        text.contains("command 3 (customer 77) refused: consent_command: no customer with id 77"),
        "{text}"
    );
    // Queued by the commands, sent in the same run: Anna and Fia by
    // e-mail, Bo by SMS.
    assert_eq!((run.sent.sent_email, run.sent.sent_sms), (2, 1), "{text}");
    for customer in [1, 2, 6] {
        assert_eq!(w.status(customer), "sent", "customer {customer}");
    }
    // Read back by the program, through the view.
    let statuses: Vec<String> = {
        let mut stmt = billing
            .prepare(
                "SELECT customer_id || ' ' || status FROM consent_statuses ORDER BY customer_id",
            )
            .expect("view");
        let rows = stmt.query_map([], |r| r.get(0)).expect("view");
        rows.collect::<rusqlite::Result<_>>().expect("view")
    };
    assert_eq!(statuses, ["1 sent", "2 sent", "6 sent"]);
    let json = serde_json::to_value(&run).expect("json");
    assert_eq!(json["commands"]["applied"], 3, "{json}");
    assert_eq!(json["commands"]["refusals"][0]["customer"], "77", "{json}");

    let status = consent_portal::status::report(&w.conn).expect("status");
    assert_eq!((status.commands_pending, status.commands_refused), (0, 1));
    let shown = consent_portal::status::to_text(&status);
    assert!(shown.contains("Avvisade kommandon: 1"), "{shown}");

    // Taken once: the next run has nothing to apply.
    let again = run_sync(&w.conn, &w.config, w.t0 + 120, false);
    assert_eq!(again.commands.taken.total(), 0);
    assert!(!sync::to_text(&again).contains("commands:"));
}

#[test]
fn sync_puts_back_the_trigger_a_table_rebuild_dropped() {
    let w = world("sync-commands-rebuild");
    plain(&w)
        .execute_batch(
            "BEGIN;
             CREATE TABLE kunder_ny (nr INTEGER PRIMARY KEY, namn TEXT, epost TEXT, mobil TEXT);
             INSERT INTO kunder_ny SELECT * FROM kunder;
             DROP TABLE kunder;
             ALTER TABLE kunder_ny RENAME TO kunder;
             COMMIT;",
        )
        .expect("the billing application rebuilds its table");
    let dry = run_sync(&w.conn, &w.config, w.t0, true);
    assert_eq!(dry.commands.trigger_restored.as_deref(), Some("kunder"));
    assert!(sync::to_text(&dry).contains("would be put back"));
    let run = run_sync(&w.conn, &w.config, w.t0, false);
    let text = sync::to_text(&run);
    assert_eq!(
        run.commands.trigger_restored.as_deref(),
        Some("kunder"),
        "{text}"
    );
    assert!(text.contains("SELECT consent_queue_all()"), "{text}");
    plain(&w)
        .execute_batch("INSERT INTO kunder (nr, namn, epost) VALUES (7, 'Gun', 'gun@example.se')")
        .expect("a new customer");
    let next = run_sync(&w.conn, &w.config, w.t0 + 60, false);
    assert_eq!(next.commands.trigger_restored, None);
    assert_eq!(next.commands.taken.applied, 1);
    assert_eq!(w.status(7), "sent");
}
