//! The pages on one origin and the collector on another, as a real
//! deployment has them (a static host, and `serve` behind its own name):
//! "Jag godkänner" pressed in headless Chromium posts to the collector,
//! whose 303 leads back to the site's thank-you page. Browsers apply the
//! page's CSP `form-action` to that redirect too, so the policy must name
//! the site's origin beside the collector's; with the collector's alone the
//! customer sees an error page although the decision was stored. Both are
//! checked here: the page as rendered lands on thanks.html with no CSP
//! violation, and a copy with the old policy is blocked.
//!
//! The site is served by a collector of the same configuration on
//! 127.0.0.1 (it serves the site folder as a static host would), the
//! collector proper on 127.0.0.2. Skipped, visibly, without Chromium,
//! Node.js or tests/browser's npm packages.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use consent_portal::config::{self, Config};
use consent_portal::sync::render;
use consent_testkit::browser::{run_node, screenshot_folder};
use consent_testkit::collector::RunningCollector;
use consent_testkit::sample::{self, SetUp, BUSINESS_NAME, CUSTOMERS};
use consent_testkit::site::key_pair;
use consent_testkit::{repo_root, require, sql, Scratch, Tool};

const LABEL: &str = "two-origins";
const PRESS_TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn approving_on_a_site_and_collector_of_two_origins_lands_on_the_thank_you_page() {
    if !require(&[Tool::Browser]) {
        return;
    }
    let out_dir = screenshot_folder(LABEL);
    let dir = Scratch::new("two-origins");
    let conn = sample::open(&dir.join("billing.db"));
    conn.execute_batch(CUSTOMERS).expect("the sample register");
    SetUp::customers()
        .business_name(BUSINESS_NAME)
        .queue_all()
        .apply(&conn);

    let site_listener = TcpListener::bind("127.0.0.1:0").expect("bind the site");
    let collector_listener = TcpListener::bind("127.0.0.2:0").expect("bind the collector");
    let site = format!("http://{}", site_listener.local_addr().expect("address"));
    let collector = format!(
        "http://{}",
        collector_listener.local_addr().expect("address")
    );
    std::fs::write(
        dir.join("consent.toml"),
        config::template("billing.db", &site, &format!("{collector}/decision")),
    )
    .expect("write consent.toml");
    let (signer, _) = key_pair(&dir);
    let config = Config::load(&dir.join("consent.toml")).expect("consent.toml loads");
    render::render(&conn, &config, &signer, consent_extension::time::now()).expect("render");
    let _site_host = RunningCollector::for_config(&config, site_listener, None, |_| {});
    let _collector = RunningCollector::for_config(&config, collector_listener, None, |_| {});

    let pages: Vec<String> = sql::rows(
        &conn,
        "SELECT page_id FROM consent_request WHERE page_id IS NOT NULL ORDER BY id",
        [],
        |r| r.get(0),
    );
    assert!(pages.len() >= 2, "two pages to press: {pages:?}");
    let stored = || {
        let inbox =
            rusqlite::Connection::open(config.resolve(&config.collector.inbox)).expect("the inbox");
        sql::int(&inbox, "SELECT count(*) FROM decision")
    };

    // The page as rendered: the press lands on the site's thank-you page.
    let (passed, json, log) = press(
        &format!("{site}/c/{}.html", pages[0]),
        &collector,
        &out_dir.join("approved.png"),
        &out_dir,
        "approved",
    );
    assert!(passed, "pressing failed:\n{log}\n{json}");
    assert_eq!(json["finalUrl"], format!("{site}/thanks.html"), "{json}");
    assert_eq!(json["cspViolations"], serde_json::json!([]), "{json}");
    assert_eq!(stored(), 1);

    // The same press under the old policy (form-action: the collector
    // only) is blocked on its way back, though the collector stored it.
    let second = dir.join("site/c").join(format!("{}.html", pages[1]));
    let html = std::fs::read_to_string(&second).expect("the second page");
    let escaped = |s: &str| s.replace('/', "&#x2f;");
    let both = escaped(&format!("form-action {collector} {site};"));
    assert!(
        html.contains(&both),
        "the rendered policy names both origins: {html}"
    );
    std::fs::write(
        &second,
        html.replace(&both, &escaped(&format!("form-action {collector};"))),
    )
    .expect("write the old policy");
    let (passed, json, log) = press(
        &format!("{site}/c/{}.html", pages[1]),
        &collector,
        &out_dir.join("old-policy.png"),
        &out_dir,
        "old-policy",
    );
    assert!(
        !passed,
        "the old policy let the redirect through:\n{log}\n{json}"
    );
    let violations = json["cspViolations"].to_string();
    assert!(violations.contains("form-action"), "{json}\n{log}");
    assert_ne!(json["finalUrl"], format!("{site}/thanks.html"), "{json}");
    assert_eq!(
        stored(),
        2,
        "the collector stored the blocked customer's decision"
    );
}

/// Runs `node tests/browser/press.mjs URL "Jag godkänner" OUT.png` with the
/// collector's origin allowed; whether it passed, its JSON and its log.
fn press(
    url: &str,
    collector: &str,
    screenshot: &Path,
    out_dir: &Path,
    name: &str,
) -> (bool, serde_json::Value, String) {
    let json_path = out_dir.join(format!("{name}.json"));
    let log_path = out_dir.join(format!("{name}.log"));
    let mut script = Command::new("node");
    script
        .arg(Path::new("tests").join("browser").join("press.mjs"))
        .arg(url)
        .arg("Jag godkänner")
        .arg(screenshot)
        .env("PRESS_ALSO_ORIGINS", collector)
        .current_dir(repo_root());
    let status = run_node(
        script,
        &json_path,
        &log_path,
        PRESS_TIMEOUT,
        &format!("press.mjs on {url}"),
    );
    let json = std::fs::read_to_string(&json_path).unwrap_or_default();
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let value = serde_json::from_str(&json).unwrap_or(serde_json::Value::Null);
    (status.success(), value, log)
}
