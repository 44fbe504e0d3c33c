//! The shipped files as the tools read them: `systemd-analyze verify` on
//! the units and `nginx -t` on the site.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Stdio};

use consent_testkit::scratch::repo_root;
use consent_testkit::tools::{require, Tool};
use consent_testkit::Scratch;

use super::{certificate, free_port, main_config, nginx_site, nginx_test, site_for_test};
use super::{Substitutions, HOST};

const UNITS: [&str; 3] = [
    "consent-collector.service",
    "consent-sync.service",
    "consent-sync.timer",
];

/// The binary the units start.
const INSTALLED_BINARY: &str = "usr/local/bin/consent-portal";

/// `systemd-analyze verify --root=ROOT` on the units as installed under
/// ROOT: its exit status and everything it printed.
fn verify_units(root: &Path) -> (bool, String) {
    let mut command = Command::new("systemd-analyze");
    command
        .arg("verify")
        .arg(format!("--root={}", root.display()))
        .arg("--man=no");
    for unit in UNITS {
        command.arg(root.join("etc/systemd/system").join(unit));
    }
    let out = command
        .stdin(Stdio::null())
        .output()
        .expect("run systemd-analyze");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

/// A root folder with the units where docs/deployment.md puts them, the
/// binary the tests were built with at /usr/local/bin/consent-portal, and
/// the machine's own system units (sysinit.target and the rest, which the
/// units depend on) linked in.
fn installed_root(dir: &Scratch) -> std::path::PathBuf {
    let root = dir.folder("root");
    let units = root.join("etc/systemd/system");
    std::fs::create_dir_all(&units).expect("units folder");
    for unit in UNITS {
        std::fs::copy(
            repo_root().join("deploy/systemd").join(unit),
            units.join(unit),
        )
        .expect("copy unit");
    }
    std::fs::create_dir_all(root.join("usr/lib/systemd")).expect("usr/lib/systemd");
    symlink("/lib/systemd/system", root.join("usr/lib/systemd/system")).expect("system units");
    let binary = root.join(INSTALLED_BINARY);
    std::fs::create_dir_all(binary.parent().expect("bin folder")).expect("bin folder");
    std::fs::copy(env!("CARGO_BIN_EXE_consent-portal"), &binary).expect("copy the binary");
    root
}

#[test]
fn systemd_units_verify_without_a_word() {
    if !require(&[Tool::SystemdAnalyze]) {
        return;
    }
    let dir = Scratch::new("deploy-units");
    let root = installed_root(&dir);
    let (ok, said) = verify_units(&root);
    // It exits 0 on a misspelt key and only prints "Unknown key": silence
    // is the check.
    assert!(
        ok && said.trim().is_empty(),
        "systemd-analyze verify:\n{said}"
    );

    // The check itself catches what it is for: a misspelt key, and a
    // binary that is not where ExecStart says.
    let sync = root.join("etc/systemd/system/consent-sync.service");
    let text = std::fs::read_to_string(&sync).expect("read unit");
    std::fs::write(&sync, text.replacen("ProtectHome=", "ProtectHom=", 1)).expect("write");
    let (_, said) = verify_units(&root);
    assert!(said.contains("Unknown key"), "{said}");
    std::fs::write(&sync, text).expect("write");
    std::fs::remove_file(root.join(INSTALLED_BINARY)).expect("remove binary");
    let (ok, said) = verify_units(&root);
    assert!(!ok && said.contains("consent-portal"), "{said}");
}

#[test]
fn the_nginx_site_passes_nginx_t() {
    if !require(&[Tool::Nginx, Tool::Openssl]) {
        return;
    }
    let dir = Scratch::new("deploy-nginx-t");
    let (cert, key) = certificate(dir.path());
    let shipped = std::fs::read_to_string(nginx_site()).expect("read the site");
    assert!(shipped.contains(&format!("server_name {HOST};")));
    let site = dir.join("consent-collector.conf");
    let substituted = site_for_test(
        &shipped,
        &Substitutions {
            http_port: free_port(),
            https_port: free_port(),
            certificate: &cert,
            key: &key,
            upstream: "127.0.0.1:8080",
        },
    );
    std::fs::write(&site, substituted).expect("write site");
    let config = main_config(dir.path(), &site);
    let (ok, said) = nginx_test(dir.path(), &config);
    assert!(ok, "nginx -t:\n{said}");
    assert!(said.contains("test is successful"), "{said}");
}
