//! Rendering the static site into a temporary folder: what a page shows and
//! must never show, signatures that verify, pruning, and no rewrite when
//! nothing changed.

use std::path::Path;

use consent_portal::config::Config;
use consent_portal::sync::render;
use consent_portal::token::{self, Decision, PageBinding};
use consent_testkit::press::{find_token, token_of};
use consent_testkit::site::{fixture, NOW};
use consent_testkit::sql;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn one_page_per_pending_request_with_the_texts_and_two_buttons() {
    let f = fixture("content");
    let summary = f.render();
    assert_eq!((summary.pages, summary.new_page_ids), (2, 2), "{summary:?}");
    assert_eq!(f.pages().len(), 2);
    let html = f.page_of(1);
    for needle in [
        "<!DOCTYPE html>",
        "<html lang=\"sv\">",
        "<meta name=\"robots\" content=\"noindex, nofollow\">",
        "<meta name=\"referrer\" content=\"no-referrer\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "Dahls Rör AB",
        "Vi sparar namn och e-post för fakturering.",
        "Om ditt samtycke",
        "återkalla ditt samtycke",
        "inom 7 dagar",
        "method=\"post\"",
        "class=\"approve\">Jag godkänner</button>",
        "class=\"decline\">Jag godkänner inte</button>",
        "Jag godkänner</button>",
        "Jag godkänner inte</button>",
    ] {
        assert!(html.contains(needle), "page lacks {needle:?}");
    }
    // Each button posts its own token, and nothing else is posted.
    assert_eq!(html.matches("name=\"token\" value=\"v2.").count(), 2);
    assert!(!html.contains("name=\"decision\""), "{html}");
    assert!(!html.contains("type=\"hidden\""), "{html}");
    let (approve, decline) = (find_token(&html, "approve"), find_token(&html, "decline"));
    assert!(approve.is_some() && decline.is_some() && approve != decline);
    // A form may post only to the collector, and be redirected only to the
    // site's thank-you page.
    assert!(
        html.contains(
            "form-action https:&#x2f;&#x2f;insamling.example.se https:&#x2f;&#x2f;samtycke.example.se;"
        ),
        "CSP: {html}"
    );
    assert!(html.contains("default-src &#x27;none&#x27;"));
    for page in ["thanks.html", "expired.html", "404.html"] {
        let html = read(&f.site().join(page));
        assert!(
            html.contains("<html lang=\"sv\">") && html.contains("noindex"),
            "{page}"
        );
    }
    assert_eq!(
        read(&f.site().join("robots.txt")),
        "User-agent: *\nDisallow: /\n"
    );
}

#[test]
fn english_when_the_register_is_in_english() {
    let f = fixture("english");
    f.sql("SELECT consent_setting('language', 'en')");
    f.render();
    let html = f.page_of(1);
    assert!(
        html.contains("<html lang=\"en\">") && html.contains("I do not approve</button>"),
        "{html}"
    );
    assert!(read(&f.site().join("thanks.html")).contains("Thank you for your answer"));
}

#[test]
fn each_buttons_token_verifies_and_binds_its_decision_request_page_and_text() {
    // David, customer 4, has a page.
    let f = fixture("token");
    f.render();
    let html = f.page_of(4);
    let verify = |html: &str, decision: Decision| {
        let claims = f
            .verifier
            .verify(&token_of(html, decision.as_str()), NOW)
            .expect("a valid token");
        assert_eq!(claims.decision, decision, "{html}");
        claims
    };
    let claims = verify(&html, Decision::Approve);
    let (request_id, text_hash, page_id): (i64, String, String) = f
        .conn
        .query_row(
            "SELECT id, text_hash, page_id FROM consent_request WHERE customer_id = 4",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("request");
    assert_eq!(claims.request_id, request_id);
    assert_eq!(claims.page, PageBinding::of(&page_id));
    assert_eq!(token::hex(&claims.text_hash), text_hash);
    // The decline button's token says the same but for the decision.
    let decline = verify(&html, Decision::Decline);
    assert_eq!(
        decline,
        token::Claims {
            decision: Decision::Decline,
            ..claims.clone()
        }
    );
    // Not sent yet: valid for the expiry period from this render, the time
    // the send step of the same run records as sent.
    assert_eq!(claims.expires_at, NOW + 7 * 86_400);
    // The exact text is stored once, under its hash.
    let body = sql::text(
        &f.conn,
        &format!("SELECT body FROM consent_text WHERE hash = '{text_hash}'"),
    );
    assert_eq!(token::hex(&token::text_hash(&body)), text_hash);
    assert!(
        body.contains("Vi sparar namn och e-post för fakturering.")
            && body.contains("Jag godkänner inte")
    );
    let texts = sql::int(&f.conn, "SELECT count(*) FROM consent_text");
    assert_eq!(texts, 1, "one text for every page showing it");
    // The page id is 128 random bits in base64url, and marking the request
    // sent keeps it.
    assert_eq!(page_id.len(), 22);
    assert!(page_id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    f.sql("SELECT consent_mark_sent(4, 'email', NULL, '2026-11-29T10:00:00Z')");
    let kept = sql::text(
        &f.conn,
        "SELECT page_id FROM consent_request WHERE customer_id = 4",
    );
    assert_eq!(kept, page_id);
    // Sent: the tokens expire exactly `expiry_days` after sending, the
    // second the consent window closes (no extra day).
    f.render();
    let sent_at = consent_extension::time::parse("2026-11-29T10:00:00Z").expect("a time");
    for decision in [Decision::Approve, Decision::Decline] {
        let claims = verify(&f.page_of(4), decision);
        assert_eq!(claims.expires_at, sent_at + 7 * 86_400);
        assert_eq!(claims.page, PageBinding::of(&page_id));
    }
}

#[test]
fn every_text_is_escaped() {
    let f = fixture("escape");
    f.sql("SELECT consent_setting('business_name', '<script>alert(1)</script> & Co')");
    f.sql("SELECT consent_setting('info_text', 'Hej <img src=x onerror=alert(2)> {{ 7*7 }} \"quoted\"')");
    f.render();
    for path in f
        .pages()
        .iter()
        .chain([f.site().join("thanks.html")].iter())
    {
        let html = read(path);
        assert!(!html.contains("<script"), "{}: {html}", path.display());
        assert!(!html.contains("<img"), "{}", path.display());
        // (A bare "49" could be part of a page's random token.)
        assert!(
            !html.contains("Hej <img") && !html.contains(" 49 &quot;quoted"),
            "template syntax in a value is never evaluated"
        );
    }
    let html = f.page_of(1);
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; Co"),
        "{html}"
    );
    assert!(html.contains("{{ 7*7 }}"));
}

#[test]
fn nothing_external_and_no_personal_data_on_any_page() {
    let f = fixture("privacy");
    f.render();
    let files = f.all_pages();
    for path in files {
        let html = read(&path);
        // Everything the sample register knows about its customers.
        for personal in [
            "Anna",
            "Andersson",
            "anna@example",
            "example.se\"",
            "Bo Berg",
            "070-123",
            "Cecilia",
            "David Dahl",
            "david@example",
            "0709876543",
        ] {
            assert!(
                !html.contains(personal),
                "{} shows {personal:?}",
                path.display()
            );
        }
        // No attribute loads anything: no src, no href, no url() in the style.
        for attribute in [
            " src=", " href=", "url(", "@import", "<script", "<link", "<iframe",
        ] {
            assert!(
                !html.contains(attribute),
                "{} has {attribute}",
                path.display()
            );
        }
    }
}

/// A page the last render did not record (written by a run killed before
/// it finished its cache, or the cache lost) is found by looking through
/// the folder: such a run leaves its half-written cache behind, and the
/// next render looks every page on disk up instead of trusting the cache.
#[test]
fn after_a_killed_render_every_page_on_disk_is_looked_up() {
    let f = fixture("prune-after-kill");
    f.render();
    assert_eq!(f.pages().len(), 2);
    let orphan = f.site().join("c").join("AAAAAAAAAAAAAAAAAAAAAA.html");
    std::fs::write(&orphan, "a page of a request no longer pending").expect("orphan");
    // Trusting the cache, the render does not see it.
    let summary = f.render();
    assert_eq!(summary.removed, 0, "{summary:?}");
    assert!(orphan.exists());
    // A render killed while it wrote its cache left this behind.
    let half = f.dir.join("..consent-render-cache.tmp-999999");
    std::fs::write(&half, "AAAA").expect("half-written cache");
    let summary = f.render();
    assert_eq!((summary.pages, summary.removed), (2, 1), "{summary:?}");
    assert!(!orphan.exists(), "the orphan page is deleted");
    assert!(!half.exists(), "the half-written cache is cleared away");
    assert_eq!(f.pages().len(), 2);
    // With the cache lost, the same.
    std::fs::write(&orphan, "again").expect("orphan");
    std::fs::remove_file(f.dir.join(".consent-render-cache")).expect("the cache");
    let summary = f.render();
    assert_eq!(summary.removed, 1, "{summary:?}");
    assert!(!orphan.exists());
}

#[test]
fn pages_of_requests_no_longer_pending_are_deleted() {
    let f = fixture("prune");
    f.render();
    assert_eq!(f.pages().len(), 2);
    let anna = f.page_of(1);
    assert!(!anna.is_empty());
    f.sql("SELECT consent_approve(1)");
    // A temporary file left by an interrupted run goes too.
    std::fs::write(f.site().join("c").join(".x.html.tmp-999"), "half").expect("stray temp file");
    let summary = f.render();
    assert_eq!((summary.pages, summary.removed), (1, 1), "{summary:?}");
    assert_eq!(f.pages().len(), 1);
    // Re-queued: a new request, a new page id, a new page.
    f.sql("SELECT consent_revoke(1)");
    f.sql("SELECT consent_queue(1)");
    let summary = f.render();
    assert_eq!((summary.pages, summary.new_page_ids), (2, 1), "{summary:?}");
    assert_eq!(f.pages().len(), 2);
    for decision in ["approve", "decline"] {
        assert_ne!(token_of(&f.page_of(1), decision), token_of(&anna, decision));
    }
}

#[test]
fn a_second_render_with_nothing_changed_writes_nothing() {
    let f = fixture("unchanged");
    let first = f.render();
    // Two pages, then thanks, withdrawn, expired, 404 and robots.txt.
    assert_eq!(first.written, 2 + 5);
    let stamp = |p: &Path| {
        std::fs::metadata(p)
            .expect("meta")
            .modified()
            .expect("mtime")
    };
    let before: Vec<_> = f.pages().iter().map(|p| stamp(p)).collect();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let second = f.render();
    assert_eq!((second.written, second.unchanged), (0, 2), "{second:?}");
    let after: Vec<_> = f.pages().iter().map(|p| stamp(p)).collect();
    assert_eq!(before, after, "no page rewritten");
    // A change of text applies to new requests only: the pages already
    // made keep their words (and their tokens' text hash), so nothing is
    // written.
    f.sql("SELECT consent_setting('info_text', 'Ny text.')");
    let changed = f.render();
    assert_eq!((changed.written, changed.unchanged), (0, 2), "{changed:?}");
    assert_eq!(
        before,
        f.pages().iter().map(|p| stamp(p)).collect::<Vec<_>>()
    );
    assert!(f.pages().iter().all(|p| {
        let html = read(p);
        html.contains("Vi sparar namn och e-post för fakturering.") && !html.contains("Ny text.")
    }));
    // A new request gets a page with the new text, written once.
    f.sql("SELECT consent_revoke(1)");
    f.sql("SELECT consent_queue(1)");
    let requeued = f.render();
    assert_eq!((requeued.written, requeued.removed), (1, 1), "{requeued:?}");
    assert!(f.page_of(1).contains("Ny text."));
    assert_eq!(f.render().written, 0);
    // A page deleted on disk is noticed and written again.
    let page = f.pages()[0].clone();
    std::fs::remove_file(&page).expect("delete");
    assert_eq!(f.render().written, 1);
    assert!(read(&page).starts_with("<!DOCTYPE html>"));
}

#[test]
fn templates_can_be_replaced_from_a_folder() {
    let mut f = fixture("override");
    let templates = f.dir.join("templates");
    std::fs::create_dir_all(&templates).expect("dir");
    std::fs::write(templates.join("style.css"), "body{color:#000}").expect("css");
    std::fs::write(
        templates.join("thanks.html"),
        "{% extends \"base.html\" %}{% block title %}Tack!{% endblock %}{% block main %}<h1>Tack, {{ business_name }}</h1>{% endblock %}",
    )
    .expect("template");
    let text = read(&f.dir.join("consent.toml"))
        .replace("# templates = \"templates\"", "templates = \"templates\"");
    std::fs::write(f.dir.join("consent.toml"), text).expect("config");
    f.config = Config::load(&f.dir.join("consent.toml")).expect("config");
    f.render();
    let thanks = read(&f.site().join("thanks.html"));
    assert!(
        thanks.contains("<h1>Tack, Dahls Rör AB</h1>")
            && thanks.contains("<style>body{color:#000}</style>")
    );
    // The CSP allows exactly the style in use.
    use base64::Engine;
    use sha2::Digest;
    let hash =
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(b"body{color:#000}"));
    assert!(thanks.contains(&hash.replace('/', "&#x2f;")), "{thanks}");
    // A template with an undefined variable is an error, not an empty gap.
    std::fs::write(templates.join("expired.html"), "{{ no_such_thing }}").expect("template");
    let e = render::render(&f.conn, &f.config, &f.signer, NOW).expect_err("strict templates");
    assert!(e.to_string().contains("expired.html"), "{e}");
}

#[test]
fn render_says_what_to_set_when_a_text_is_missing() {
    let f = fixture("unset");
    let conn = &f.conn;
    conn.execute(
        "DELETE FROM consent_settings WHERE key = 'business_name'",
        [],
    )
    .expect("unset");
    let e = render::render(conn, &f.config, &f.signer, NOW).expect_err("no business name");
    let message = e.to_string();
    assert!(
        message.contains("business_name") && message.contains("consent_setting('business_name'"),
        "{message}"
    );
}

#[test]
fn the_render_cache_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture("cache-mode");
    f.render();
    // The cache lists every page id, each as good as its link.
    let cache = f.dir.join(render::CACHE_FILE);
    let text = std::fs::read_to_string(&cache).expect("the cache");
    assert!(f
        .pages()
        .iter()
        .all(|p| text.contains(p.file_stem().and_then(|s| s.to_str()).expect("name"))));
    let mode = std::fs::metadata(&cache)
        .expect("the cache")
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "the render cache has mode {mode:o}");
}

#[test]
fn a_text_that_cannot_be_made_again_is_shown_word_for_word() {
    // A text stored before the settings it was made from were kept (or
    // whose standard wording an upgrade changed since): its pages show the
    // stored words themselves, and their tokens bind their hash.
    use consent_extension::requests::{self, StoredText};
    let f = fixture("verbatim");
    let body = "Får vi spara dina uppgifter?\n\nGamla ord som kunden fick läsa.\n";
    let old = StoredText {
        hash: token::hex(&token::text_hash(body)),
        language: consent_extension::Language::Sv,
        body: body.to_owned(),
        inputs: None,
    };
    requests::record_text(&f.conn, &old, NOW - 86_400).expect("the old text");
    let request = sql::int(
        &f.conn,
        "SELECT id FROM consent_request WHERE customer_id = 1",
    );
    assert!(
        requests::assign_page_id(&f.conn, request, "AbCdEfGhIjKlMnOpQrStUv", &old.hash)
            .expect("page id")
    );
    let summary = f.render();
    assert!(summary.skipped.is_empty(), "{summary:?}");
    let html = f.page_of(1);
    assert!(
        html.contains("Gamla ord som kunden fick läsa."),
        "the stored words are not on the page:\n{html}"
    );
    let claims = f
        .verifier
        .verify(&token_of(&html, "approve"), NOW)
        .expect("a genuine token");
    assert_eq!(token::hex(&claims.text_hash), old.hash);
    // The other customers' pages show today's text as usual.
    assert!(!f.page_of(4).contains("Gamla ord"));
}
