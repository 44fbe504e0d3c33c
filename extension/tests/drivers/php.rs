//! PHP's SQLite3 class loads libconsent.so with `loadExtension`, from the
//! one folder the `sqlite3.extension_dir` setting allows. (PHP's PDO cannot
//! load extensions: it uses the command table, in
//! portal/tests/pipeline/pdo_program.rs.)

use std::process::Command;
use std::time::Instant;

use consent_testkit::host::run;
use consent_testkit::shim::libconsent;
use consent_testkit::{require, Tool};

use crate::{assert_walk_and_close, programs, Register};

#[test]
fn php_sqlite3_walks_a_customer_with_load_extension() {
    if !require(&[Tool::Php]) {
        return;
    }
    let register = Register::new("php");
    let folder = libconsent().parent().expect("the build folder");
    let started = Instant::now();
    let mut php = Command::new("php");
    php.arg("-d")
        .arg(format!("sqlite3.extension_dir={}", folder.display()))
        .arg(programs().join("walk.php"))
        .arg(&register.db);
    let run = run(php, None, &register.dir, "php");
    let took = started.elapsed();
    let version = assert_walk_and_close("PHP SQLite3", "SQLite3::close", &run, &register.db);
    eprintln!("PHP SQLite3: SQLite {version}, the walk in {took:?}");
}
