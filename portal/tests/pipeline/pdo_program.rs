//! A billing application on PHP's PDO, which cannot load the extension,
//! asks for consent through the command table and reads statuses from the
//! view (extension/tests/drivers/pdo.php); the real `consent-portal sync`
//! applies its commands and sends the requests by e-mail (into files).
//! Commands that cannot succeed (an unknown customer, a misspelt word) are
//! refused with the reason on their row, and the others go on.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use consent_testkit::billing::Register;
use consent_testkit::host::run;
use consent_testkit::world::FILE_EMAIL;
use consent_testkit::{repo_root, require, sql, Tool};
use mail_parser::MessageParser;

/// The PDO program.
fn program() -> PathBuf {
    repo_root()
        .join("extension")
        .join("tests")
        .join("drivers")
        .join("pdo.php")
}

/// Runs one step of the PDO program on the register's database; its
/// `what|...` lines, after checking it exited cleanly.
fn pdo(register: &Register, args: &[&str]) -> Vec<String> {
    let mut php = Command::new("php");
    php.arg(program())
        .arg(register.dir.join("billing.db"))
        .args(args);
    let label = format!("pdo-{}", args.join("-").replace(' ', "_"));
    let run = run(php, None, &register.dir, &label);
    run.assert_clean(&format!("pdo.php {}", args.join(" ")));
    run.stdout.lines().map(str::to_owned).collect()
}

/// Runs the real `consent-portal sync --json`; its summary.
fn sync(register: &Register) -> serde_json::Value {
    let out = register.sync();
    assert!(
        out.status.success(),
        "sync failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("sync --json")
}

/// The recipients of the e-mails in `mail/`.
fn recipients(mail: &Path) -> Vec<String> {
    let mut to: Vec<String> = std::fs::read_dir(mail)
        .expect("the outbox")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| {
            let eml = std::fs::read(&p).expect("an e-mail");
            let message = MessageParser::default()
                .parse(&eml)
                .unwrap_or_else(|| panic!("{} does not parse", p.display()));
            let address = message
                .to()
                .and_then(|to| to.first())
                .and_then(|a| a.address())
                .unwrap_or_else(|| panic!("{} has no recipient", p.display()));
            address.to_owned()
        })
        .collect();
    to.sort();
    to
}

#[test]
fn a_pdo_program_queues_by_command_and_reads_statuses_through_the_view() {
    if !require(&[Tool::Php]) {
        return;
    }
    // kunder set up, nobody asked; the billing application adds three
    // customers with an e-mail address.
    let register = Register::create("pdo-program", 0, 0, FILE_EMAIL, &[]);
    let mail = register.dir.folder("mail");
    register
        .conn()
        .execute_batch(
            "INSERT INTO kunder VALUES (1, 'Kund 1', 'kund1@example.se', NULL),
                                       (2, 'Kund 2', 'kund2@example.se', NULL),
                                       (3, 'Kund 3', 'kund3@example.se', NULL);",
        )
        .expect("customers");

    // PDO: the functions are not there, the table and the view are.
    let probe = pdo(&register, &["probe"]);
    assert!(
        probe.iter().any(|l| l.starts_with("version|3.")),
        "{probe:?}"
    );
    assert!(
        probe
            .iter()
            .any(|l| l.starts_with("functions|") && l.contains("no such function: consent_status")),
        "PDO must run without the extension: {probe:?}"
    );

    // Commands by plain INSERT, two that cannot succeed among them.
    let commands = [
        ("1", "queue"),
        ("999", "queue"),
        ("1", "aprove"),
        ("2", "queue"),
        ("3", "queue"),
    ];
    for (i, (customer, command)) in commands.iter().enumerate() {
        assert_eq!(
            pdo(&register, &["command", customer, command]),
            [format!("command|{}", i + 1)],
            "the row id PDO got back"
        );
    }
    assert_eq!(
        pdo(&register, &["statuses"]),
        [
            "status|1|missing|",
            "status|2|missing|",
            "status|3|missing|"
        ],
        "nothing happens until sync"
    );

    let first = sync(&register);
    assert_eq!(first["commands"]["applied"], 3, "{first:#}");
    assert_eq!(first["commands"]["refused"], 2, "{first:#}");
    let refused: Vec<(i64, String)> = first["commands"]["refusals"]
        .as_array()
        .expect("refusals")
        .iter()
        .map(|r| {
            (
                r["command_id"].as_i64().expect("an id"),
                r["customer"].as_str().expect("a customer").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        refused,
        [(2, "999".to_owned()), (3, "1".to_owned())],
        "{first:#}"
    );
    // Queued by the commands, sent in the same run: one e-mail each.
    assert_eq!(first["delivery"]["sent_email"], 3, "{first:#}");
    assert_eq!(
        recipients(&mail),
        ["kund1@example.se", "kund2@example.se", "kund3@example.se"]
    );

    // Read back by PDO: the view, and each command's outcome on its row.
    let sent = "Begäran om samtycke är skickat";
    assert_eq!(
        pdo(&register, &["statuses"]),
        [
            format!("status|1|sent|{sent}"),
            format!("status|2|sent|{sent}"),
            format!("status|3|sent|{sent}"),
        ]
    );
    let rows = pdo(&register, &["commands"]);
    assert_eq!(rows.len(), 5, "{rows:?}");
    for (i, row) in [0, 3, 4].map(|i| (i, &rows[i])) {
        let (customer, command) = commands[i];
        assert_eq!(
            row,
            &format!("command|{}|{customer}|{command}|applied|queued|", i + 1),
            "the applied commands keep the status they left"
        );
    }
    assert!(
        rows[1].starts_with("command|2|999|queue|refused||")
            && rows[1].contains("no customer with id 999"),
        "{}",
        rows[1]
    );
    assert!(
        rows[2].starts_with("command|3|1|aprove|refused||")
            && rows[2].contains("unknown command 'aprove'")
            && rows[2].contains("'approve'"),
        "the refusal names the word and the right ones: {}",
        rows[2]
    );

    // The customers answer by phone: the clerk's program records it.
    assert_eq!(
        pdo(&register, &["command", "1", "approve", "phoned the office"]),
        ["command|6"]
    );
    assert_eq!(
        pdo(&register, &["command", "2", "revoke", "customer wrote in"]),
        ["command|7"]
    );
    let second = sync(&register);
    assert_eq!(second["commands"]["applied"], 2, "{second:#}");
    assert_eq!(second["commands"]["refused"], 0, "{second:#}");
    assert_eq!(
        pdo(&register, &["statuses"]),
        [
            "status|1|approved|Samtycke är godkänt".to_owned(),
            "status|2|denied|Samtycke är nekat".to_owned(),
            format!("status|3|sent|{sent}"),
        ]
    );
    let rows = pdo(&register, &["commands"]);
    assert_eq!(
        rows[5..],
        [
            "command|6|1|approve|applied|approved|",
            "command|7|2|revoke|applied|denied|",
        ]
    );

    // The notes reached the audit log, which verifies; each command was
    // taken once.
    let conn = register.conn();
    let details: BTreeSet<String> = sql::rows(
        &conn,
        "SELECT customer_id || ' ' || to_status || ' ' || detail FROM consent_event \
         WHERE to_status IN ('approved', 'denied')",
        [],
        |r| r.get(0),
    )
    .into_iter()
    .collect();
    assert_eq!(
        details,
        BTreeSet::from([
            "1 approved phoned the office".to_owned(),
            "2 denied customer wrote in".to_owned()
        ])
    );
    assert_eq!(sql::text(&conn, "SELECT consent_verify_log()"), "ok");
    let third = sync(&register);
    assert_eq!(third["commands"]["applied"], 0, "{third:#}");
    assert_eq!(register.integrity(), "ok");
}
