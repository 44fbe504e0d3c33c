//! The page templates: built into the binary, each replaceable by a file of
//! the same name in the configured templates folder. minijinja escapes every
//! value in `.html` templates, and undefined variables are errors.

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

pub struct Templates {
    env: Environment<'static>,
    css: String,
    fingerprint: [u8; 32],
}

impl Templates {
    /// The built-in templates, with files from `overrides` in their place.
    pub fn load(overrides: Option<&Path>) -> Result<Templates, RenderError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let mut css = String::new();
        let mut hash = Sha256::new();
        for (name, built_in) in BUILT_IN {
            let source = match overrides.map(|dir| dir.join(name)) {
                Some(path) if path.exists() => std::fs::read_to_string(&path).map_err(|e| {
                    RenderError::Setup(format!("cannot read the template {}: {e}", path.display()))
                })?,
                _ => (*built_in).to_owned(),
            };
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
        Ok(Templates {
            env,
            css,
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
    /// collector.
    pub fn content_security_policy(&self, collector_origin: &str) -> String {
        let style_hash =
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(self.css.as_bytes()));
        format!(
            "default-src 'none'; style-src 'sha256-{style_hash}'; form-action {collector_origin}; base-uri 'none'"
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
