//! The pages the collector answers with itself. The site's own
//! `expired.html` and `404.html` (written by `render` in the business's
//! language and style) are read when needed, so a render while the
//! collector runs is picked up; when the site has none yet (a collector on
//! its own host, or before the first render), a short Swedish and English
//! text stands in.

use std::path::Path;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The link is expired, altered or not ours.
pub async fn expired(site_dir: &Path, status: StatusCode) -> Response {
    let body = site_page(site_dir, "expired.html")
        .await
        .unwrap_or_else(|| {
            fallback(
                "Länken gäller inte längre",
                "Den här länken har gått ut eller är inte giltig. Kontakta företaget som skickade \
             den om du vill lämna eller ändra ditt samtycke.",
                "This link is no longer valid",
                "This link has expired or is not valid. Contact the business that sent it to give \
             or change your consent.",
            )
        });
    html(status, body)
}

/// No such page.
pub async fn not_found(site_dir: &Path) -> Response {
    let body = site_page(site_dir, "404.html").await.unwrap_or_else(|| {
        fallback(
            "Sidan finns inte",
            "Kontrollera att adressen är rätt, eller använd länken i det senaste meddelandet du \
             fick.",
            "Page not found",
            "Check that the address is right, or use the link in the latest message you \
             received.",
        )
    });
    html(StatusCode::NOT_FOUND, body)
}

/// The answer could not be stored; the customer may press again.
pub fn not_stored() -> Response {
    html(
        StatusCode::SERVICE_UNAVAILABLE,
        fallback(
            "Ditt svar kunde inte sparas",
            "Något gick fel hos oss. Gå tillbaka och försök igen om en stund.",
            "Your answer could not be saved",
            "Something went wrong on our side. Go back and try again in a moment.",
        ),
    )
}

/// Too many decisions from one address.
pub fn too_many() -> Response {
    html(
        StatusCode::TOO_MANY_REQUESTS,
        fallback(
            "För många försök",
            "Vänta en stund och försök sedan igen.",
            "Too many attempts",
            "Wait a moment, then try again.",
        ),
    )
}

async fn site_page(site_dir: &Path, name: &str) -> Option<String> {
    tokio::fs::read_to_string(site_dir.join(name)).await.ok()
}

fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// A plain page in both languages; the texts are our own constants.
fn fallback(sv_title: &str, sv_text: &str, en_title: &str, en_text: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"sv\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{sv_title} – {en_title}</title>\n</head>\n\
         <body>\n<main>\n<h1>{sv_title}</h1>\n<p>{sv_text}</p>\n\
         <h2 lang=\"en\">{en_title}</h2>\n<p lang=\"en\">{en_text}</p>\n</main>\n</body>\n</html>\n"
    )
}
