//! The pages the renderer writes, in headless Chromium: screenshots at
//! 360 px and 1280 px, and no WCAG 2.1 AA violation (axe-core), no request
//! to any other host, no sideways scrolling, no CSP or console error. With
//! them the withdrawal page of a consent given on a consent page, and the
//! page a withdrawal leads to.

use consent_testkit::browser::check_site;
use consent_testkit::site::{fixture, NOW};
use consent_testkit::sql;

fn check_language(language: &str) {
    let f = fixture(&format!("browser-{language}"));
    f.sql(&format!("SELECT consent_setting('language', '{language}')"));
    f.sql(
        "SELECT consent_setting('info_text', 'Vi sparar ditt namn, din adress och din e-postadress för att kunna \
         fakturera dig och påminna dig om service av din värmepump.\nUppgifterna lämnas inte ut till någon annan.')",
    );
    f.render();
    // David's page went out by e-mail and he approved on it.
    let david = sql::text(
        &f.conn,
        "SELECT page_id FROM consent_request WHERE customer_id = 4",
    );
    f.sql(&format!(
        "SELECT consent_mark_sent(4, 'email', '{david}', {NOW})"
    ));
    f.sql(&format!(
        "SELECT consent_approve(4, '{{\"via\": \"consent page\"}}', {})",
        NOW + 60
    ));
    f.render();
    let withdrawal = sql::text(
        &f.conn,
        "SELECT page_id FROM consent_notice WHERE kind = 'receipt'",
    );
    let page = f.pages()[0]
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let consent = format!("c/{page}");
    let withdrawal = format!("w/{withdrawal}.html");
    let pages = [
        consent.as_str(),
        withdrawal.as_str(),
        "thanks.html",
        "withdrawn.html",
        "expired.html",
        "404.html",
    ];
    let Some(report) = check_site(&f.site(), &pages, &format!("rendered-{language}")) else {
        return;
    };
    assert_eq!(report.screenshots.len(), 2 * pages.len());
    eprintln!(
        "screenshots of the rendered {language} site in {}",
        report.out_dir.display()
    );
}

#[test]
fn the_swedish_pages_pass_in_chromium() {
    check_language("sv");
}

#[test]
fn the_english_pages_pass_in_chromium() {
    check_language("en");
}
