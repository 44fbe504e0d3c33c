//! The owner's report (`consent-portal report`) in headless Chromium: a
//! register with eight weeks of history, its report written into a folder
//! and checked as the consent pages are (screenshots at 360 px and 1280 px,
//! no WCAG 2.1 AA violation, no request anywhere, no sideways scrolling, no
//! CSP or console error, no script).

use consent_portal::report;
use consent_portal::templates::Templates;
use consent_testkit::browser::check_site;
use consent_testkit::history::{self, Plan};
use consent_testkit::sample;
use consent_testkit::site::NOW;
use consent_testkit::Scratch;

fn check(plan: Plan, label: &str) {
    let dir = Scratch::new(label);
    let conn = sample::open(&dir.join("billing.db"));
    history::build(&conn, &plan);
    let gathered = report::gather(&conn, NOW).expect("gather the report");
    assert_eq!(gathered.weeks.len(), 8, "{:?}", gathered.weeks);
    let templates = Templates::load(None).expect("the built-in templates");
    let html = report::to_html(&gathered, &templates).expect("the report's HTML");
    let site = dir.folder("site");
    std::fs::write(site.join("report.html"), html).expect("write the report");
    let Some(checked) = check_site(&site, &["report.html"], label) else {
        return;
    };
    assert_eq!(checked.screenshots.len(), 2);
    // The page beside its screenshots, to open by hand.
    std::fs::copy(
        site.join("report.html"),
        checked.out_dir.join("report.html"),
    )
    .expect("copy the report beside its screenshots");
    eprintln!(
        "report screenshots in {} ({:.1?})",
        checked.out_dir.display(),
        checked.elapsed
    );
}

#[test]
fn the_swedish_report_passes_in_chromium() {
    check(Plan::default(), "report-sv");
}

#[test]
fn the_english_report_passes_in_chromium() {
    check(
        Plan {
            language: "en",
            ..Plan::default()
        },
        "report-en",
    );
}
