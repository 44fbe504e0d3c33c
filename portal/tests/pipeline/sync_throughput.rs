//! Benchmark, not a timed test: what recording each send costs. The same
//! number of messages through the same aiosmtpd server and connections,
//! once by the mailer alone (nothing written anywhere) and once by
//! `consent-portal sync` on a register (each outcome written before the
//! connection sends again; the pages rendered beforehand). Prints the
//! ratio. Run with
//! `cargo test --release -p consent-portal --test pipeline sync_throughput -- --ignored --nocapture`.

use std::process::Command;
use std::time::Instant;

use consent_extension::Language;
use consent_portal::config::Config;
use consent_portal::send::email::{compose, Mailer};
use consent_portal::send::{Job, Texts};
use consent_testkit::billing::{portal_program, Register};
use consent_testkit::smtp::{SmtpServer, THROUGHPUT_CASES};
use consent_testkit::world::smtp_email;
use consent_testkit::{require, Tool};

#[test]
#[ignore = "benchmark"]
fn recording_each_send_against_the_mailer_alone() {
    if !require(&[Tool::Aiosmtpd]) {
        return;
    }
    for (connections, delay_ms, count) in THROUGHPUT_CASES {
        let case = format!("{connections}-{delay_ms}");

        // The mailer alone.
        let server = SmtpServer::with_data_delay(delay_ms);
        let register = Register::create(
            &format!("sync-throughput-{case}"),
            count,
            0,
            &smtp_email(server.port, connections, Some(30)),
            &[],
        );
        let config = Config::load(&register.config()).expect("config");
        let mailer = Mailer::new(
            config.email.as_ref().expect("[email]"),
            register.dir.path(),
            None,
        )
        .expect("mailer");
        let messages: Vec<_> = (1..=count as i64)
            .map(|id| {
                let texts = Texts {
                    language: Language::Sv,
                    business_name: "Dahls Rör AB".to_owned(),
                    expiry_days: 7,
                };
                let job = Job {
                    request_id: id,
                    page_id: format!("Page{id}"),
                    to: format!("kund{id}@example.se"),
                    link: format!("https://samtycke.example.se/c/Page{id}.html"),
                    language: Language::Sv,
                };
                compose(&texts, &job, "example.se")
            })
            .collect();
        let started = Instant::now();
        let summary = mailer.send_all(messages, |_, _| {});
        let alone = count as f64 / started.elapsed().as_secs_f64();
        assert_eq!(summary.sent, count);
        drop(server);

        // sync, with the pages already rendered.
        let server = SmtpServer::with_data_delay(delay_ms);
        let path = register.config();
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
        let rendered = Command::new(portal_program())
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
