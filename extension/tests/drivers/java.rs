//! The SQLite JDBC driver (xerial sqlite-jdbc): a connection whose
//! configuration enables extension loading runs
//! `SELECT load_extension('.../libconsent')`.

use std::process::Command;
use std::time::Instant;

use consent_testkit::host::{run, run_ok};
use consent_testkit::shim::libconsent;
use consent_testkit::tools::sqlite_jdbc_jar;
use consent_testkit::{require, Tool};

use crate::{assert_walk_and_close, programs, Register};

#[test]
fn jdbc_walks_a_customer_with_load_extension() {
    if !require(&[Tool::JavaSqliteJdbc]) {
        return;
    }
    let register = Register::new("jdbc");
    let classes = register.dir.folder("classes");
    let jar = sqlite_jdbc_jar();
    let started = Instant::now();
    run_ok(
        Command::new("javac")
            .arg("-cp")
            .arg(&jar)
            .arg("-d")
            .arg(&classes)
            .arg(programs().join("Walk.java")),
        "javac Walk.java",
    );
    let compiled = started.elapsed();
    let class_path = std::env::join_paths([jar.as_path(), classes.as_path()]).expect("class path");
    // load_extension takes the path without the suffix, as the shell does.
    let lib = libconsent().with_extension("");
    let started = Instant::now();
    let mut java = Command::new("java");
    java.arg("-cp")
        .arg(class_path)
        .arg("Walk")
        .arg(&register.db)
        .arg(&lib);
    let run = run(java, None, &register.dir, "java");
    let took = started.elapsed();
    let version = assert_walk_and_close("SQLite JDBC", "the connection closed", &run, &register.db);
    eprintln!("JDBC (sqlite-jdbc): SQLite {version}, javac in {compiled:?}, the walk in {took:?}");
}
