//! Benchmark, not a timed test: what recording each send costs. The same
//! number of messages through the same aiosmtpd server and connections,
//! once by the mailer alone (nothing written anywhere) and once by
//! `consent-portal sync` on a register (each outcome written before the
//! connection sends again; the pages rendered beforehand). Prints the
//! ratio. Run with
//! `cargo test --release -p consent-portal --test sync_throughput -- --ignored --nocapture`.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use consent_extension::Language;
use consent_portal::config::Config;
use consent_portal::send::email::{compose, Compose, Mailer};
use support::billing::{self, Register, BIN};
use support::smtp::{smtp_server_available, SmtpServer};

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("sync-throughput-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[test]
#[ignore = "benchmark"]
fn recording_each_send_against_the_mailer_alone() {
    if !smtp_server_available() {
        return;
    }
    for (connections, delay_ms, count) in [(1, 0, 300), (4, 20, 400), (8, 20, 800)] {
        let delay = format!("DATA:{delay_ms}");
        let case = format!("{connections}-{delay_ms}");

        // The mailer alone.
        let server = SmtpServer::start(&scratch(&format!("{case}-mailer")), &["--delay", &delay]);
        let register = Register::create(
            &scratch(&format!("{case}-register")),
            count,
            0,
            &billing::smtp_section(server.port, connections, 30),
            &[],
        );
        let config = Config::load(&register.dir.join("consent.toml")).expect("config");
        let mailer = Mailer::new(config.email.as_ref().expect("[email]"), &register.dir, None)
            .expect("mailer");
        let messages: Vec<_> = (1..=count as i64)
            .map(|id| {
                compose(&Compose {
                    language: Language::Sv,
                    business_name: "Dahls Rör AB",
                    link: &format!("https://samtycke.example.se/c/Page{id}.html"),
                    expiry_days: 7,
                    request_id: id,
                    page_id: &format!("Page{id}"),
                    from_domain: "example.se",
                    to: &format!("kund{id}@example.se"),
                })
            })
            .collect();
        let started = Instant::now();
        let summary = mailer.send_all(messages, |_, _| {});
        let alone = count as f64 / started.elapsed().as_secs_f64();
        assert_eq!(summary.sent, count);
        drop(server);

        // sync, with the pages already rendered.
        let server = SmtpServer::start(&scratch(&format!("{case}-sync")), &["--delay", &delay]);
        let path = register.dir.join("consent.toml");
        let text = std::fs::read_to_string(&path).expect("config");
        let text = text
            .lines()
            .map(|l| {
                if l.starts_with("smtp_port = ") {
                    format!("smtp_port = {}", server.port)
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&path, text).expect("config");
        let rendered = Command::new(BIN)
            .args(["render", "--config"])
            .arg(&path)
            .output()
            .expect("render");
        assert!(rendered.status.success());
        let started = Instant::now();
        let run = register.sync();
        let synced = count as f64 / started.elapsed().as_secs_f64();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert_eq!(server.received().len(), count);
        eprintln!(
            "{count} messages, {connections} connection(s), {delay_ms} ms reply delay: \
             mailer alone {alone:.0}/s, sync recording each {synced:.0}/s, ratio {:.2}",
            synced / alone
        );
    }
}
