//! The page templates: built into the binary, each replaceable by a file of
//! the same name in the configured templates folder. minijinja escapes every
//! value in `.html` templates, and undefined variables are errors.
//!
//! The consent pages' templates make the site's fingerprint (a change
//! renders every page again); the report's (`report.html`, `report.css`)
//! live in the same environment but outside the fingerprint.

use std::path::Path;

use base64::Engine;
use minijinja::{Environment, UndefinedBehavior, Value};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::sync::render::RenderError;

/// (name, built-in source). `style.css` is inlined into every page.
const BUILT_IN: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("consent.html", include_str!("../templates/consent.html")),
    ("thanks.html", include_str!("../templates/thanks.html")),
    ("withdraw.html", include_str!("../templates/withdraw.html")),
    (
        "withdrawn.html",
        include_str!("../templates/withdrawn.html"),
    ),
    ("expired.html", include_str!("../templates/expired.html")),
    (
        "not_found.html",
        include_str!("../templates/not_found.html"),
    ),
    ("style.css", include_str!("../templates/style.css")),
];

/// (name, built-in source) of the owner's report (`consent-portal
/// report`). `report.css` is inlined into the report.
const REPORT: &[(&str, &str)] = &[
    ("report.html", include_str!("../templates/report.html")),
    ("report.css", include_str!("../templates/report.css")),
];

pub struct Templates {
    env: Environment<'static>,
    css: String,
    report_css: String,
    fingerprint: [u8; 32],
}

/// A template's source: the file of that name in `overrides` if there is
/// one, else the built-in one.
fn source(overrides: Option<&Path>, name: &str, built_in: &str) -> Result<String, RenderError> {
    match overrides.map(|dir| dir.join(name)) {
        Some(path) if path.exists() => std::fs::read_to_string(&path).map_err(|e| {
            RenderError::Setup(format!("cannot read the template {}: {e}", path.display()))
        }),
        _ => Ok(built_in.to_owned()),
    }
}

/// The CSP source that lets exactly this inline style apply.
fn style_source(css: &str) -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(css.as_bytes()));
    format!("'sha256-{hash}'")
}

impl Templates {
    /// The built-in templates, with files from `overrides` in their place.
    pub fn load(overrides: Option<&Path>) -> Result<Templates, RenderError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let mut css = String::new();
        let mut hash = Sha256::new();
        for (name, built_in) in BUILT_IN {
            let source = source(overrides, name, built_in)?;
            hash.update(name.as_bytes());
            hash.update((source.len() as u64).to_be_bytes());
            hash.update(source.as_bytes());
            if *name == "style.css" {
                css = source;
            } else {
                env.add_template_owned(*name, source)
                    .map_err(|source| RenderError::Template {
                        name: (*name).to_owned(),
                        source,
                    })?;
            }
        }
        let mut report_css = String::new();
        for (name, built_in) in REPORT {
            let source = source(overrides, name, built_in)?;
            if *name == "report.css" {
                report_css = source;
            } else {
                env.add_template_owned(*name, source)
                    .map_err(|source| RenderError::Template {
                        name: (*name).to_owned(),
                        source,
                    })?;
            }
        }
        Ok(Templates {
            env,
            css,
            report_css,
            fingerprint: hash.finalize().into(),
        })
    }

    pub fn css(&self) -> &str {
        &self.css
    }

    /// Changes whenever any template or the style does.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    /// The page's Content-Security-Policy: nothing may load, only our own
    /// inline style (by its hash) applies, and forms may post only to the
    /// collector. `form-action` names the site's origin too: browsers apply
    /// it to every redirect of the post, and the collector answers with a
    /// 303 to the thank-you page on the site, which they would block
    /// (after the decision was stored) when the two are on different origins.
    pub fn content_security_policy(&self, collector_origin: &str, site_origin: &str) -> String {
        let form_action = if collector_origin == site_origin {
            collector_origin.to_owned()
        } else {
            format!("{collector_origin} {site_origin}")
        };
        format!(
            "default-src 'none'; style-src {}; form-action {form_action}; base-uri 'none'",
            style_source(&self.css)
        )
    }

    /// The style inlined into the owner's report.
    pub fn report_css(&self) -> &str {
        &self.report_css
    }

    /// The report's Content-Security-Policy: as strict as a page's, and it
    /// posts nowhere (its charts are inline SVG, so nothing loads).
    pub fn report_content_security_policy(&self) -> String {
        format!(
            "default-src 'none'; style-src {}; form-action 'none'; base-uri 'none'",
            style_source(&self.report_css)
        )
    }

    pub fn render(&self, name: &str, context: &impl Serialize) -> Result<String, RenderError> {
        let wrap = |source| RenderError::Template {
            name: name.to_owned(),
            source,
        };
        self.env
            .get_template(name)
            .map_err(wrap)?
            .render(Value::from(minijinja::value::Serde(context)))
            .map_err(wrap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_action_names_the_collector_and_the_site_once_each() {
        let templates = Templates::load(None).expect("the built-in templates");
        let two = templates.content_security_policy("https://c.example.se", "https://s.example.se");
        assert!(
            two.contains("; form-action https://c.example.se https://s.example.se; "),
            "{two}"
        );
        let one = templates.content_security_policy("https://s.example.se", "https://s.example.se");
        assert!(
            one.contains("; form-action https://s.example.se; "),
            "{one}"
        );
    }
}
