//! `consent-portal demo`: the whole "update consent" loop on a sample
//! register, with no setup. It makes a billing database with a typical
//! legacy customer table, sets consent up, queues everyone, syncs with file
//! transports for e-mail and SMS, serves the pages and the collector on
//! localhost, prints the links, and keeps syncing so that a decision made in
//! a browser shows up within seconds. When an approval's receipt goes out,
//! it prints the receipt's withdrawal link too, so the customer's side can
//! be tried to the end. `--once` decides a few requests itself through real
//! HTTP posts to its collector and ends with the status table.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use consent_portal::collector::{self, CollectorApp, Inbox};
use consent_portal::config::{self, Config};
use consent_portal::{keys, status, sync};
use rusqlite::Connection;

#[derive(clap::Args)]
pub struct Args {
    /// The folder for the demo's files (database, site, outbox). It must be
    /// new or a previous demo's. Default: a folder in the system's
    /// temporary directory.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Run the loop once, deciding a few requests through the collector,
    /// print the status table and stop.
    #[arg(long)]
    once: bool,
    /// The address to serve on; another free port is used if it is taken.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Seconds between syncs.
    #[arg(long, default_value_t = 3)]
    every: u64,
}

/// Marks a folder as the demo's, so a later demo may clear it.
const MARKER: &str = ".consent-demo";

const CUSTOMERS: &str = "
CREATE TABLE kunder (
    kundnr     INTEGER PRIMARY KEY,
    namn       TEXT NOT NULL,
    epost      TEXT,
    mobil      TEXT,
    adress     TEXT,
    kund_sedan TEXT,
    sprak      TEXT
);
INSERT INTO kunder VALUES
    (1001, 'Anna Andersson',   'anna.andersson@example.se', NULL,               'Storgatan 1, Umeå',    '2009-03-01', 'sv'),
    (1002, 'Bo Berg',          NULL,                        '070-123 45 67',    'Sjövägen 4, Luleå',    '2011-06-15', NULL),
    (1003, 'Cecilia Carlsson', NULL,                        NULL,               'Kyrkvägen 9, Gävle',   '2015-01-20', NULL),
    (1004, 'David Dahl',       'david.dahl@example.se',     '0709-87 65 43',    'Torget 2, Visby',      '2018-09-09', 'sv-SE'),
    (1005, 'Eva Ek',           'eva.ek@example.se',         NULL,               'Ekvägen 12, Växjö',    '2020-02-29', NULL),
    (1006, 'Fredrik Falk',     NULL,                        '08-123 456 78',    'Hamngatan 3, Stockholm','2021-11-11', NULL),
    (1007, 'Greta Grön',       '  ',                        '+46 73 555 12 34', 'Åsvägen 7, Östersund', '2022-05-05', NULL),
    (1008, 'Hassan Holm',      'hassan.holm@example.se',    NULL,               'Parkgatan 8, Malmö',   '2024-04-04', 'en');
";

pub fn run(args: &Args) -> Result<()> {
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("consent-demo"));
    prepare_dir(&dir)?;
    let listener = bind(&args.listen)?;
    let address = listener
        .local_addr()
        .context("cannot read the address listened on")?;
    let base = format!("http://{address}");
    let config = set_up(&dir, &base)?;
    println!("The demo register and its files are in {}", dir.display());

    // The collector and the site, on their own thread and runtime.
    let app = CollectorApp::from_config(
        &config,
        keys::load_verifier(&config.verifying_key_paths())?,
        Inbox::open(&config.resolve(&config.collector.inbox))?,
        None,
    )?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || -> Result<()> {
        let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
        runtime.block_on(async move {
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            collector::serve(listener, app, async {
                let _ = stopped.await;
            })
            .await
        })?;
        Ok(())
    });
    println!("Serving the pages and the collector on {base}\n");

    let quiet = super::Bar::default();
    let first = super::sync::run_once(&config, false, &quiet)?;
    print!("{}", sync::to_text(&first));
    println!("\nThe consent pages that went out (e-mails in outbox/email, SMS in outbox/sms):");
    for (name, channel, link) in sent_links(&config)? {
        println!("  {name:<18} {channel:<6} {link}");
    }

    let result = if args.once {
        decide_some(&config).and_then(|()| {
            let second = super::sync::run_once(&config, false, &quiet)?;
            println!("\nAfter the decisions:");
            print!("{}", sync::to_text(&second));
            print_new_receipts(&config, &mut std::collections::HashSet::new())
        })
    } else {
        println!("\nOpen a link, press a button, and watch the status change here. Ctrl-C stops.");
        keep_syncing(&config, Duration::from_secs(args.every.max(1)))
    };
    println!("\nStatus of the register:");
    print_status(&config)?;
    let _ = stop.send(());
    match server.join() {
        Ok(served) => served.context("the collector stopped")?,
        Err(_) => bail!("the collector's thread failed"),
    }
    result
}

/// An empty folder, or a previous demo's (cleared).
fn prepare_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)?.next().is_none();
        if !empty && !dir.join(MARKER).exists() {
            bail!(
                "{} is not empty and not a previous demo's folder; pass --dir with a new folder",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(
        dir.join(MARKER),
        "made by consent-portal demo; it may clear this folder\n",
    )?;
    Ok(())
}

fn bind(wanted: &str) -> Result<std::net::TcpListener> {
    match std::net::TcpListener::bind(wanted) {
        Ok(listener) => Ok(listener),
        Err(e) => {
            eprintln!("{wanted} is taken ({e}); using another port");
            std::net::TcpListener::bind("127.0.0.1:0").context("cannot listen on 127.0.0.1")
        }
    }
}

/// The sample register, consent set up, everyone queued, a configuration
/// with file transports.
fn set_up(dir: &Path, base: &str) -> Result<Config> {
    let db = dir.join("billing.db");
    let conn = Connection::open(&db)?;
    conn.execute_batch(CUSTOMERS)
        .context("creating the sample register")?;
    consent_extension::register(&conn)?;
    for sql in [
        // Hassan reads English: his page and e-mail are in English.
        "SELECT consent_init('kunder', 'kundnr', 'epost', 'mobil', 'namn', 'sprak')",
        "SELECT consent_setting('business_name', 'Dahls Rör AB')",
        "SELECT consent_setting('info_text', 'Vi sparar ditt namn, din adress, din e-postadress och ditt mobilnummer \
         för att kunna fakturera dig och påminna dig om service av din värmepump. Uppgifterna lämnas inte ut \
         till någon annan.')",
        "SELECT consent_setting('sms_enabled', 1)",
        "SELECT consent_queue_all()",
    ] {
        conn.query_row(sql, [], |_| Ok(())).with_context(|| format!("running {sql}"))?;
    }
    drop(conn);
    let mut text = config::template("billing.db", base, &format!("{base}/decision"));
    text.push_str(
        "\n# The demo sends into files instead of to real people.\n\
         [email]\nfrom = \"Dahls Rör AB <samtycke@dahlsror.example.se>\"\ntransport = \"file\"\nfile_dir = \"outbox/email\"\n\n\
         [sms]\nfrom = \"DahlsRor\"\ntransport = \"file\"\nfile_dir = \"outbox/sms\"\n",
    );
    std::fs::write(dir.join(config::FILE_NAME), text)?;
    for outbox in ["outbox/email", "outbox/sms"] {
        std::fs::create_dir_all(dir.join(outbox))?;
    }
    keys::write_new_key_pair(
        &dir.join("consent-signing.key"),
        &dir.join("consent-verifying.key"),
    )?;
    Ok(Config::load(&dir.join(config::FILE_NAME))?)
}

/// (name, channel, link) of every sent request.
fn sent_links(config: &Config) -> Result<Vec<(String, String, String)>> {
    let conn = super::open_database(config)?;
    let mut stmt = conn.prepare(
        "SELECT k.namn, r.channel, r.page_id FROM consent_request AS r \
         JOIN kunder AS k ON k.kundnr = r.customer_id WHERE r.status = 'sent' ORDER BY r.customer_id",
    )?;
    let rows = stmt.query_map([], |r| {
        let channel: String = r.get(1)?;
        let page: String = r.get(2)?;
        Ok((r.get(0)?, channel, config.page_url(&page)))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One line per receipt sent since the last call (by `shown`), with the
/// withdrawal link it carries.
fn print_new_receipts(config: &Config, shown: &mut std::collections::HashSet<i64>) -> Result<()> {
    for (notice, name, channel, link) in receipt_links(config)? {
        if shown.insert(notice) {
            println!(
                "\nA receipt went to {name} ({channel}, in outbox/{channel}); \
                 withdraw the consent on {link}"
            );
        }
    }
    Ok(())
}

/// (notice id, name, channel, withdrawal link) of every receipt sent whose
/// consent still stands.
fn receipt_links(config: &Config) -> Result<Vec<(i64, String, String, String)>> {
    let conn = super::open_database(config)?;
    let mut stmt = conn.prepare(
        "SELECT n.id, k.namn, r.channel, n.page_id FROM consent_notice AS n \
         JOIN consent_request AS r ON r.id = n.request_id \
         JOIN kunder AS k ON k.kundnr = r.customer_id \
         WHERE n.kind = 'receipt' AND n.sent_at IS NOT NULL AND n.page_id IS NOT NULL \
           AND r.status = 'approved' ORDER BY n.id",
    )?;
    let rows = stmt.query_map([], |r| {
        let page: String = r.get(3)?;
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            config.withdrawal_url(&page),
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Approves the first sent request and declines the second, as a customer
/// would: open the page, press the button (a form POST to the collector).
fn decide_some(config: &Config) -> Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let links = sent_links(config)?;
    for ((name, _, link), decision) in links.iter().zip(["approve", "decline"]) {
        let page = agent.get(link).call()?.body_mut().read_to_string()?;
        // The pressed button's own token, as a browser posts it.
        let token = page
            .split("name=\"token\" value=\"")
            .skip(1)
            .find(|rest| {
                rest.split('>')
                    .next()
                    .is_some_and(|tag| tag.contains(&format!("class=\"{decision}\"")))
            })
            .and_then(|rest| rest.split('"').next())
            .with_context(|| format!("the page has no {decision} button"))?;
        let answer = agent
            .post(&config.site.collector_url)
            .send_form([("token", token)])?;
        println!(
            "\n{name} pressed '{decision}' on {link}: the collector answered {} {}",
            answer.status().as_u16(),
            answer
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .map(|l| format!("-> {l}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

fn keep_syncing(config: &Config, every: Duration) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let quiet = super::Bar::default();
    let mut last = String::new();
    let mut shown = std::collections::HashSet::new();
    // One listener for the whole loop, so a Ctrl-C during a sync is not lost.
    let mut interrupted = Box::pin(tokio::signal::ctrl_c());
    loop {
        let stop = runtime.block_on(async {
            tokio::select! {
                _ = &mut interrupted => true,
                _ = tokio::time::sleep(every) => false,
            }
        });
        if stop {
            return Ok(());
        }
        let summary = super::sync::run_once(config, false, &quiet)?;
        if summary.decisions.collected > 0 || summary.sent.sent_email + summary.sent.sent_sms > 0 {
            print!("{}", sync::to_text(&summary));
        }
        print_new_receipts(config, &mut shown)?;
        let table = status_text(config)?;
        if table != last {
            println!("\n{table}");
            last = table;
        }
    }
}

fn status_text(config: &Config) -> Result<String> {
    let conn = super::open_database(config)?;
    Ok(status::to_text(&status::report(&conn)?))
}

fn print_status(config: &Config) -> Result<()> {
    print!("{}", status_text(config)?);
    Ok(())
}
