//! unixODBC's `isql` with the SQLite ODBC driver, which loads libconsent.so
//! itself when the data source names it in `LoadExt=`: the way an
//! application written against ODBC gets the functions without a line of
//! code changed.

use std::process::Command;
use std::time::Instant;

use consent_testkit::host::run;
use consent_testkit::shim::libconsent;
use consent_testkit::tools::sqlite_odbc_driver;
use consent_testkit::{require, Tool};

use crate::{assert_walk, programs, steps, Register};

/// The data source `[billing]`: the driver by its path (no odbcinst.ini
/// needed), the register, the extension.
pub fn odbc_ini(db: &std::path::Path) -> String {
    format!(
        "[billing]\nDriver={}\nDatabase={}\nLoadExt={}\nTimeout=10000\n",
        sqlite_odbc_driver().display(),
        db.display(),
        libconsent().display()
    )
}

#[test]
fn isql_walks_a_customer_through_the_sqlite_odbc_driver() {
    if !require(&[Tool::Odbc]) {
        return;
    }
    let register = Register::new("odbc");
    let ini = register.dir.join("odbc.ini");
    std::fs::write(&ini, odbc_ini(&register.db)).expect("odbc.ini");
    // An empty system folder: the test reads no odbcinst.ini of the machine.
    let system = register.dir.folder("odbc-system");
    let started = Instant::now();
    let mut isql = Command::new("isql");
    // -v: the driver's error messages; -b: batch, no prompts; -x0x7c:
    // columns separated by `|`.
    isql.args(["-v", "-b", "-x0x7c", "billing"])
        .env("ODBCINI", &ini)
        .env("ODBCSYSINI", &system);
    let run = run(
        isql,
        Some(&programs().join("walk.sql")),
        &register.dir,
        "isql",
    );
    let took = started.elapsed();

    // isql goes on after a failed statement and still exits 0; it says so
    // on stderr, once, for the unknown customer.
    assert!(
        run.status.success(),
        "isql exited with {}:\n{}{}",
        run.status,
        run.stdout,
        run.stderr
    );
    assert_eq!(
        run.stderr.lines().collect::<Vec<_>>(),
        ["[ISQL]ERROR: Could not SQLExecute"],
        "isql's errors (only the unknown customer's):\n{}",
        run.stdout
    );
    // The driver's message comes on stdout as `[state][SQLite]message (code)`.
    let mut lines = steps(&run.stdout);
    for (step, rest) in &mut lines {
        if let Some(message) = step.strip_prefix("[S1000][SQLite]") {
            *rest = format!("{message}{rest}");
            *step = "unknown".to_owned();
        }
    }
    let version = assert_walk("isql (unixODBC)", &run, &lines, &register.db);
    eprintln!("ODBC (SQLite ODBC driver): SQLite {version}, the walk in {took:?}");
}
