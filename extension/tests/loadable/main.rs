//! The real libconsent.so, built by its own cargo command, loaded into real
//! hosts: Debian's sqlite3 shell and Debian's /usr/bin/python3.
//!
//! Without a host these tests are skipped: a note on stderr and a line in
//! the skip list (see consent_testkit::skip); in CI (`CI=true`) a missing
//! host fails them. The runner of the SQL suites in tests/sql is `suite.rs`.

mod suite;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use consent_testkit::host::{assert_checks, run, sqlite3};
use consent_testkit::shim::{libconsent, load_line};
use consent_testkit::tools::PYTHON_THAT_LOADS_EXTENSIONS;
use consent_testkit::{repo_root, require, Scratch, Tool};
use suite::{fixture, run_check_file, run_error_file, sql_dir, sql_files};

/// The functions the extension adds: the SQL contract in docs/reference.md.
const CONTRACT: [&str; 16] = [
    "consent_apply_commands",
    "consent_approve",
    "consent_expire",
    "consent_forget",
    "consent_init",
    "consent_label",
    "consent_mark_error",
    "consent_mark_sent",
    "consent_queue",
    "consent_queue_all",
    "consent_record",
    "consent_revoke",
    "consent_setting",
    "consent_status",
    "consent_verify_log",
    "consent_version",
];

/// The contract, and the functions the schema's triggers call
/// (`consent_extension::TRIGGER_FUNCTIONS`).
fn everything_added() -> BTreeSet<String> {
    CONTRACT
        .iter()
        .chain(consent_extension::TRIGGER_FUNCTIONS.iter())
        .map(|s| (*s).to_owned())
        .collect()
}

/// A scratch folder for a test that drives the sqlite3 shell; None when
/// the shell is not here (the test is skipped).
#[track_caller]
fn with_the_shell(label: &str) -> Option<Scratch> {
    require(&[Tool::Sqlite3Shell]).then(|| Scratch::new(label))
}

/// Every `tests/sql/*.sql` suite passes through the shell.
#[test]
fn sql_suites_pass() {
    let Some(tmp) = with_the_shell("suites") else {
        return;
    };
    let files = sql_files(&sql_dir());
    let failures: Vec<String> = files
        .iter()
        .flat_map(|file| run_check_file(file, &tmp))
        .collect();
    assert!(
        failures.is_empty(),
        "{} failure(s) in the SQL suites:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every statement of `tests/sql/errors/*.sql` marked to fail fails with
/// the expected message, and every other one passes.
#[test]
fn sql_error_suites_fail_as_expected() {
    let Some(tmp) = with_the_shell("errors") else {
        return;
    };
    let mut failures = Vec::new();
    let mut expected_errors = 0;
    for file in sql_files(&sql_dir().join("errors")) {
        let (failed, errors) = run_error_file(&file, &tmp);
        failures.extend(failed);
        expected_errors += errors;
    }
    assert!(
        failures.is_empty(),
        "{} failure(s) in the SQL error suites:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        expected_errors > 50,
        "only {expected_errors} expected errors: were the suites emptied?"
    );
}

/// `.load` adds exactly the contract's functions, the two the triggers call
/// and the overview table; writers are direct-only, the trigger functions
/// innocuous; and `consent_extension::FUNCTIONS` lists the contract.
#[test]
fn load_adds_exactly_the_contract_functions() {
    let Some(tmp) = with_the_shell("functions") else {
        return;
    };
    let list = "SELECT DISTINCT '{tag}', name FROM pragma_function_list ORDER BY name;\n\
                SELECT DISTINCT '{tag}-module', name FROM pragma_module_list ORDER BY name;\n";
    let script = format!(
        "{}{load}{}SELECT DISTINCT 'direct-only', name, flags & 524288 != 0 FROM pragma_function_list \
         WHERE name LIKE 'consent%' ORDER BY name;\n\
         SELECT DISTINCT 'innocuous', name, flags & 2097152 != 0 FROM pragma_function_list \
         WHERE name LIKE 'consent%' ORDER BY name;\n{load}{}",
        list.replace("{tag}", "before"),
        list.replace("{tag}", "after"),
        list.replace("{tag}", "again"),
        load = load_line(),
    );
    let run = sqlite3(&tmp.join("functions.db"), &script, &tmp, "functions");
    run.assert_clean("listing functions around .load");

    let names = |tag: &str| -> BTreeSet<String> {
        run.stdout
            .lines()
            .filter_map(|line| line.split_once('|'))
            .filter(|(t, _)| *t == tag)
            .map(|(_, name)| name.to_owned())
            .collect()
    };
    let consent = |set: &BTreeSet<String>| -> BTreeSet<String> {
        set.iter()
            .filter(|n| n.starts_with("consent"))
            .cloned()
            .collect()
    };
    let contract: BTreeSet<String> = CONTRACT.iter().map(|s| (*s).to_owned()).collect();
    let everything = everything_added();
    let (before, after) = (names("before"), names("after"));
    assert!(
        before.len() > 20,
        "pragma_function_list printed too little:\n{}",
        run.stdout
    );
    assert_eq!(
        consent(&before),
        BTreeSet::new(),
        "consent functions before .load"
    );
    assert_eq!(consent(&after), everything, "consent functions after .load");
    let added: BTreeSet<String> = after.difference(&before).cloned().collect();
    assert_eq!(
        added, everything,
        ".load must add exactly the contract's functions and the trigger functions"
    );
    assert!(before.is_subset(&after), ".load removed functions");

    let (modules_before, modules_after) = (names("before-module"), names("after-module"));
    let added_modules: Vec<&String> = modules_after.difference(&modules_before).collect();
    assert_eq!(
        added_modules,
        ["consent_overview"],
        ".load must add the consent_overview table"
    );

    // Loading again (an application that loads on every open) changes nothing.
    assert_eq!(names("again"), after, "functions after a second .load");
    assert_eq!(
        names("again-module"),
        modules_after,
        "modules after a second .load"
    );

    let registered: BTreeSet<String> = consent_extension::FUNCTIONS
        .iter()
        .map(|f| f.sig.name.to_owned())
        .collect();
    assert_eq!(registered, contract, "consent_extension::FUNCTIONS");

    // Functions that write may only be called directly, never from a
    // trigger or view someone else put into the database file.
    for function in consent_extension::FUNCTIONS {
        let line = format!(
            "direct-only|{}|{}",
            function.sig.name,
            u8::from(function.writes)
        );
        assert!(
            run.stdout.lines().any(|l| l == line),
            "expected `{line}` in:\n{}",
            run.stdout
        );
    }
    // The triggers call these, also under PRAGMA trusted_schema=OFF.
    for name in consent_extension::TRIGGER_FUNCTIONS {
        for line in [
            format!("direct-only|{name}|0"),
            format!("innocuous|{name}|1"),
        ] {
            assert!(
                run.stdout.lines().any(|l| l == line),
                "expected `{line}` in:\n{}",
                run.stdout
            );
        }
    }
}

/// Runs `sql` through the shell without the extension, as the billing
/// application or a DBA would, and expects a clean exit.
fn plain_sqlite3(db: &Path, sql: &str, tmp: &Scratch, label: &str) -> String {
    let run = sqlite3(db, sql, tmp, label);
    run.assert_clean(label);
    run.stdout
}

/// Runs `sql` through the shell and expects it to fail with a message
/// holding every one of `wanted`.
fn assert_refused(db: &Path, sql: &str, tmp: &Scratch, label: &str, wanted: &[&str]) {
    let run = sqlite3(db, sql, tmp, label);
    assert!(!run.status.success(), "{label}: {run:?}");
    for wanted in wanted {
        assert!(
            run.stderr.contains(wanted),
            "{label}: expected {wanted:?} in: {}",
            run.stderr
        );
    }
}

/// The billing application changes its own table with a plain sqlite3 that
/// never loaded the extension; consent keeps working, and a renamed recorded
/// column gives the clear error.
#[test]
fn billing_application_alters_its_table_without_the_extension() {
    let Some(tmp) = with_the_shell("beside") else {
        return;
    };
    let db = tmp.join("billing.db");
    plain_sqlite3(&db, &fixture(), &tmp, "fixture");
    let load = load_line();
    assert_checks(
        &db,
        &format!(
            "{load}select 'init', consent_init('customers', 'id', 'email', 'mobile') = 'ok';\n\
             select 'text', consent_setting('info_text', 'Vi vill skicka nyheter.') is not null;\n\
             select 'queue_all', consent_queue_all('missing', '2026-01-01T00:00:00Z') = 3;\n"
        ),
        3,
        &tmp,
        "init",
    );

    // The application's own schema changes, on columns consent did not record.
    plain_sqlite3(
        &db,
        "ALTER TABLE customers DROP COLUMN notes;\n\
         ALTER TABLE customers RENAME COLUMN name TO full_name;\n\
         ALTER TABLE customers ADD COLUMN customer_since TEXT;\n\
         CREATE INDEX customers_by_name ON customers (full_name);\n\
         INSERT INTO customers (id, full_name, email) VALUES (7, 'Greta Gran', 'greta@example.com');\n",
        &tmp,
        "alter-unrecorded",
    );
    let plain = plain_sqlite3(
        &db,
        "PRAGMA integrity_check;\nSELECT count(*) FROM consent_event;\n",
        &tmp,
        "integrity",
    );
    assert_eq!(plain, "ok\n6\n", "a plain sqlite3 reads the database");
    assert_checks(
        &db,
        &format!(
            "{load}select 'status', consent_status(1) = 'queued';\n\
             select 'new_customer', consent_status(7) = 'missing';\n\
             select 'queue_new', consent_queue(7, '2026-01-02T00:00:00Z') = 'queued';\n\
             select 'overview', (select count(*) from consent_overview) = 7;\n\
             select 'init_with_name', consent_init('customers', 'id', 'email', 'mobile', 'full_name') = 'ok';\n\
             select 'overview_names', (select name from consent_overview where customer_id = 7) = 'Greta Gran';\n"
        ),
        6,
        &tmp,
        "after-alter-unrecorded",
    );

    // The application renames recorded columns: it is not blocked, and
    // consent says which column and what to do.
    plain_sqlite3(
        &db,
        "ALTER TABLE customers RENAME COLUMN full_name TO display_name;\n",
        &tmp,
        "rename-name",
    );
    assert_refused(
        &db,
        &format!("{load}SELECT * FROM consent_overview;\n"),
        &tmp,
        "overview-renamed",
        &["consent_overview", "column \"full_name\"", "consent_init"],
    );
    plain_sqlite3(
        &db,
        "ALTER TABLE customers RENAME COLUMN email TO e_mail;\n",
        &tmp,
        "rename-email",
    );
    assert_refused(
        &db,
        &format!("{load}SELECT consent_status(1);\n"),
        &tmp,
        "status-renamed",
        &["consent_status", "column \"email\"", "consent_init"],
    );
    assert_checks(
        &db,
        &format!(
            "{load}select 'reinit', consent_init('customers', 'id', 'e_mail', 'mobile', 'display_name') = 'ok';\n\
             select 'status', consent_status(1) = 'queued';\n\
             select 'overview', (select name from consent_overview where customer_id = 1) = 'Anna Andersson';\n"
        ),
        3,
        &tmp,
        "after-reinit",
    );
}

/// On a WAL database the shell uses every function, including a per-row
/// statement in a transaction, then closes cleanly: exit 0, nothing on
/// stderr (an unfinalized statement would print there), no -wal left.
#[test]
fn shell_closes_cleanly_in_wal_mode() {
    let Some(tmp) = with_the_shell("wal") else {
        return;
    };
    let db = tmp.join("billing.db");
    let mode = plain_sqlite3(
        &db,
        &format!("PRAGMA journal_mode=wal;\n{}", fixture()),
        &tmp,
        "fixture",
    );
    assert_eq!(mode, "wal\n");
    let script = format!(
        "{load}select 'init', consent_init('customers', 'id', 'email', 'mobile', 'name') = 'ok';\n\
         select 'version', length(consent_version()) > 0;\n\
         select 'text', consent_setting('info_text', 'Vi vill skicka nyheter.') = 'Vi vill skicka nyheter.';\n\
         select 'sms', consent_setting('sms_enabled', '1') = 1;\n\
         BEGIN;\n\
         SELECT 'per_row', consent_queue(id, '2026-01-01T00:00:00Z') IN ('queued', 'error') FROM customers;\n\
         COMMIT;\n\
         select 'statuses', (select group_concat(consent_status(id), ',') from customers) = 'queued,queued,error,error,queued,queued';\n\
         select 'sent', consent_mark_sent(1, 'email', NULL, '2026-01-01T01:00:00Z') = 'sent';\n\
         select 'failed', consent_mark_sent(2, 'sms', NULL, '2026-01-01T01:00:00Z') = 'sent' and consent_mark_error(2, 'gateway 500', '2026-01-01T01:00:01Z') = 'error';\n\
         select 'approved', consent_approve(5, NULL, '2026-01-02T00:00:00Z') = 'approved';\n\
         select 'revoked', consent_revoke(5, NULL, '2026-01-03T00:00:00Z') = 'denied';\n\
         select 'expired', consent_expire('2026-01-08T01:00:00Z') = 1;\n\
         select 'requeued', consent_queue_all('denied', '2026-01-09T00:00:00Z') = 2;\n\
         select 'label', consent_label(consent_status(1)) = 'Begäran om samtycke är köad';\n\
         select 'overview', (select count(*) from consent_overview) = 6;\n\
         select 'events', (select count(*) from consent_event) = 14;\n\
         select 'still_wal', (select journal_mode from pragma_journal_mode) = 'wal';\n",
        load = load_line()
    );
    assert_checks(&db, &script, 21, &tmp, "functions");
    let wal = tmp.join("billing.db-wal");
    assert!(
        !wal.exists(),
        "{} is left after the shell exited",
        wal.display()
    );
    let mode = plain_sqlite3(&db, "PRAGMA journal_mode;\n", &tmp, "mode");
    assert_eq!(
        mode, "wal\n",
        "the billing database's journal mode is the application's choice"
    );
}

/// Debian's Python loads the extension, uses it over 1000 customers in a
/// transaction, and closing the connection releases the database.
#[test]
fn python_closes_and_releases_the_database() {
    if !require(&[Tool::DebianPython]) {
        return;
    }
    let tmp = Scratch::new("python");
    let scratch = Scratch::new("python-db");
    let script = repo_root()
        .join("tests")
        .join("python")
        .join("load_and_close.py");
    let mut command = Command::new(PYTHON_THAT_LOADS_EXTENSIONS);
    command.arg(&script).arg(libconsent()).arg(scratch.path());
    let run = run(command, None, &tmp, "python");
    assert!(
        run.status.success() && run.stdout.ends_with("all ok\n"),
        "{} failed ({}):\n--- stdout\n{}--- stderr\n{}",
        script.display(),
        run.status,
        run.stdout,
        run.stderr
    );
    assert!(run.stdout.contains("ok wal_file_gone_after_close\n"));
    assert!(run.stdout.contains("ok exclusive_access\n"));
}

/// The 100 000-customer register: every 10th without e-mail, every 3rd
/// with a mobile number.
const BULK_FIXTURE: &str = "\
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, mobile TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO customers
SELECT i, 'Customer ' || i,
       CASE WHEN i % 10 = 0 THEN NULL ELSE 'c' || i || '@example.com' END,
       CASE WHEN i % 3 = 0 THEN '+4670' || i ELSE NULL END
FROM n;
";

/// Checks on a bulk database after the first pass (SMS off): 90 000 with
/// e-mail queued; 10 000 errors, 3 333 of them with a mobile number.
const BULK_FIRST_PASS: &str = "\
select 'queued', (select count(*) from consent_request where status = 'queued') = 90000;
select 'errors', (select count(*) from consent_request where status = 'error') = 10000;
select 'errors_no_sms', (select count(*) from consent_request where reason = 'Kunden saknar e-postadress, och SMS är inte aktiverat (sms_enabled = 0)') = 3333;
select 'errors_nothing', (select count(*) from consent_request where reason = 'Kunden saknar både e-postadress och mobilnummer') = 6667;
select 'one_event_per_change', (select count(*) from consent_event) = 100000;
select 'one_request_each', (select count(distinct customer_id) from consent_request) = 100000;
";

/// Checks after the second pass (SMS on): the 3 333 mobile-only errors
/// are queued too.
const BULK_SECOND_PASS: &str = "\
select 'sms_on', consent_setting('sms_enabled', '1') = 1;
{second}
select 'overview_by_status', (select group_concat(status || '=' || n, ',') from (select status, count(*) as n from consent_overview group by status order by status)) = 'error=6667,queued=93333';
select 'events_after', (select count(*) from consent_event) = 103333;
select 'events_from_error', (select count(*) from consent_event where from_status = 'error' and to_status = 'queued') = 3333;
select 'nothing_left_missing', consent_queue_all('missing', '2026-01-03T00:00:00Z') = 0 and (select count(*) from consent_event) = 103333;
";

/// 100 000 customers through the shell, set-based and per row, with the
/// same outcomes and one event per change.
#[test]
fn hundred_thousand_customers_through_the_shell() {
    let Some(tmp) = with_the_shell("bulk") else {
        return;
    };
    let setup = format!(
        "{}select 'init', consent_init('customers', 'id', 'email', 'mobile', 'name') = 'ok';\n\
         select 'text', consent_setting('info_text', 'Vi vill skicka nyheter.') is not null;\n",
        load_line()
    );
    let at = "'2026-01-01T00:00:00Z'";

    let set_based = tmp.join("set-based.db");
    plain_sqlite3(&set_based, BULK_FIXTURE, &tmp, "fixture-set-based");
    let started = Instant::now();
    let script = format!(
        "{setup}select 'queue_all', consent_queue_all('missing', {at}) = 90000;\n{BULK_FIRST_PASS}{}",
        BULK_SECOND_PASS.replace(
            "{second}",
            "select 'queue_all_errors', consent_queue_all('error', '2026-01-02T00:00:00Z') = 3333;"
        )
    );
    assert_checks(&set_based, &script, 15, &tmp, "set-based");
    eprintln!("100 000 customers set-based: {:?}", started.elapsed());

    let per_row = tmp.join("per-row.db");
    plain_sqlite3(&per_row, BULK_FIXTURE, &tmp, "fixture-per-row");
    let started = Instant::now();
    let script = format!(
        "{setup}BEGIN;\nSELECT 'per_row_calls', count(consent_queue(id, {at})) = 100000 FROM customers;\nCOMMIT;\n\
         {BULK_FIRST_PASS}{}",
        BULK_SECOND_PASS.replace(
            "{second}",
            "BEGIN;\nSELECT 'per_row_again', count(consent_queue(id, '2026-01-02T00:00:00Z')) = 100000 FROM customers;\nCOMMIT;"
        )
    );
    assert_checks(&per_row, &script, 15, &tmp, "per-row");
    eprintln!("100 000 customers per row: {:?}", started.elapsed());

    // Both ways leave the same requests.
    let dump = "SELECT customer_id, status, prev_status, reason, created_at FROM consent_request ORDER BY customer_id, supersedes;\n";
    let a = plain_sqlite3(&set_based, dump, &tmp, "dump-set-based");
    let b = plain_sqlite3(&per_row, dump, &tmp, "dump-per-row");
    assert!(a == b, "set-based and per-row runs disagree");
    assert!(!tmp.join("set-based.db-wal").exists() && !tmp.join("per-row.db-wal").exists());
}
