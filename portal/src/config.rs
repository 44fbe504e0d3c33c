//! `consent.toml`: where the database, the site and the keys are, and how to
//! reach customers. Written by `consent-portal init`, read by every other
//! subcommand. Relative paths are relative to the file itself.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The file name `init` writes next to the database.
pub const FILE_NAME: &str = "consent.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The billing database.
    pub database: PathBuf,
    pub site: Site,
    pub keys: Keys,
    #[serde(default)]
    pub collector: Collector,
    pub email: Option<Email>,
    pub sms: Option<Sms>,
    /// The folder the file was read from; relative paths are resolved
    /// against it.
    #[serde(skip)]
    pub dir: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Where the static pages are written.
    pub dir: PathBuf,
    /// The public address of `dir`: links are `<url>/c/<page id>.html`.
    pub url: String,
    /// Where the pages' buttons post decisions to (`consent-portal serve`).
    pub collector_url: String,
    /// A folder whose templates replace the built-in ones, file by file.
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    /// The Ed25519 key that signs decision tokens. Secret.
    pub signing_key: PathBuf,
    /// The public keys that verify them: the current one first, then any
    /// older ones still honoured after a key rotation.
    pub verifying_keys: Vec<PathBuf>,
}

/// `consent-portal serve` (the collector), and where `sync` collects from.
/// The bearer token that guards `GET /decisions` comes from the environment
/// variable CONSENT_COLLECTOR_TOKEN, never from this file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Collector {
    /// The address `serve` listens on.
    pub listen: String,
    /// The collector's own SQLite inbox of decisions (WAL).
    pub inbox: PathBuf,
    /// Where `sync` collects decisions from: collector base URLs (it fetches
    /// `<url>/decisions`) or paths of local inbox files. Empty: the `inbox`
    /// above.
    pub sources: Vec<String>,
    /// Decisions accepted per minute from one address.
    pub per_address_per_minute: u32,
    /// How far a collector's clock may be off from sync's, in seconds:
    /// `sync` refuses a decision received before its request was sent, or
    /// after sync's own clock, by more than this.
    pub clock_skew_seconds: u32,
}

impl Default for Collector {
    fn default() -> Collector {
        Collector {
            listen: "127.0.0.1:8080".to_owned(),
            inbox: PathBuf::from("consent-inbox.db"),
            sources: Vec::new(),
            per_address_per_minute: 60,
            clock_skew_seconds: 300,
        }
    }
}

/// How e-mail goes out. SMTP credentials come from CONSENT_SMTP_USERNAME and
/// CONSENT_SMTP_PASSWORD in the environment, never from this file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Email {
    /// The sender, e.g. `Dahls Rör AB <samtycke@example.se>`.
    pub from: String,
    pub reply_to: Option<String>,
    #[serde(default)]
    pub transport: EmailTransport,
    /// With `transport = "file"`: the folder the messages are written to.
    pub file_dir: Option<PathBuf>,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    #[serde(default)]
    pub tls: Tls,
    /// SMTP connections used at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailTransport {
    #[default]
    Smtp,
    /// `.eml` files in `file_dir`, for the demo and tests.
    File,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    /// Plain connection upgraded with STARTTLS (port 587); required.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a local test server.
    None,
}

/// How SMS goes out: a 46elks-style HTTP gateway (form POST of from, to,
/// message with basic auth). Credentials come from CONSENT_SMS_USERNAME and
/// CONSENT_SMS_PASSWORD in the environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sms {
    /// The sender name or number shown to the customer (at most 11
    /// letters and digits, or a number).
    pub from: String,
    #[serde(default)]
    pub transport: SmsTransport,
    /// With `transport = "http"`: where the form is posted.
    pub gateway_url: Option<String>,
    /// With `transport = "file"`: the folder the messages are written to.
    pub file_dir: Option<PathBuf>,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsTransport {
    #[default]
    Http,
    /// One JSON file per message in `file_dir`, for the demo and tests.
    File,
}

fn default_concurrency() -> usize {
    4
}

fn default_timeout() -> u64 {
    30
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "cannot read {path}: {source}; run `consent-portal init` to create it, or pass --config"
    )]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid configuration: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        let mut config: Config = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        config.dir = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        origin(&config.site.collector_url)
            .map_err(|m| invalid(format!("site.collector_url: {m}")))?;
        origin(&config.site.url).map_err(|m| invalid(format!("site.url: {m}")))?;
        if config.keys.verifying_keys.is_empty() {
            return Err(invalid("keys.verifying_keys lists no key".to_owned()));
        }
        for source in &config.collector.sources {
            check_source(source).map_err(|m| invalid(format!("collector.sources: {m}")))?;
        }
        config
            .check_site_dir(path)
            .map_err(|m| invalid(format!("site.dir: {m}")))?;
        Ok(config)
    }

    /// Refuses a site folder that would publish a file that must stay
    /// private: everything under `site.dir` goes to the public web host
    /// (and `serve` hands it out), so `dir = "."` would publish the
    /// register, the signing key and the inbox's tokens.
    fn check_site_dir(&self, config_file: &Path) -> Result<(), String> {
        let site = self.site_dir();
        let mut private: Vec<(&str, PathBuf)> = vec![
            ("the billing database", self.database_path()),
            ("the signing key", self.resolve(&self.keys.signing_key)),
            ("the collector inbox", self.resolve(&self.collector.inbox)),
            ("this configuration file", config_file.to_owned()),
        ];
        private.extend(
            self.verifying_key_paths()
                .into_iter()
                .map(|p| ("a verifying key", p)),
        );
        private.extend(
            self.collector
                .sources
                .iter()
                .filter(|s| !is_collector_url(s))
                .map(|s| ("an inbox in collector.sources", self.resolve(Path::new(s)))),
        );
        // The outboxes of the file transports hold contact data and links.
        for (what, dir) in [
            (
                "the e-mail outbox",
                self.email.as_ref().and_then(|e| e.file_dir.as_ref()),
            ),
            (
                "the SMS outbox",
                self.sms.as_ref().and_then(|s| s.file_dir.as_ref()),
            ),
        ] {
            if let Some(dir) = dir {
                private.push((what, self.resolve(dir)));
            }
        }
        let site_plain = absolute(&site);
        let site_real = site.canonicalize().ok();
        for (what, file) in private {
            let plain = absolute(&file);
            // Lexically, and through symbolic links where the paths exist
            // (a link named "site" pointing at the folder of the keys).
            let inside = plain.starts_with(&site_plain)
                || site_real
                    .as_ref()
                    .zip(real_path(&file))
                    .is_some_and(|(site, file)| file.starts_with(site));
            if inside {
                return Err(format!(
                    "\"{}\" holds {what} ({}), and everything in that folder is published on \
                     the web; give the site a folder of its own, such as dir = \"site\"",
                    self.site.dir.display(),
                    file.display()
                ));
            }
        }
        Ok(())
    }

    /// A path from the file, resolved against the file's folder.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_owned()
        } else {
            self.dir.join(path)
        }
    }

    pub fn database_path(&self) -> PathBuf {
        self.resolve(&self.database)
    }

    /// The verifying (public) key files, resolved.
    pub fn verifying_key_paths(&self) -> Vec<PathBuf> {
        self.keys
            .verifying_keys
            .iter()
            .map(|p| self.resolve(p))
            .collect()
    }

    pub fn site_dir(&self) -> PathBuf {
        self.resolve(&self.site.dir)
    }

    /// The public link to a page.
    pub fn page_url(&self, page_id: &str) -> String {
        format!("{}/c/{page_id}.html", self.site.url.trim_end_matches('/'))
    }

    /// The withdrawal page of a receipt: `<site url>/w/<page id>.html`.
    pub fn withdrawal_url(&self, page_id: &str) -> String {
        format!("{}/w/{page_id}.html", self.site.url.trim_end_matches('/'))
    }
}

/// The origin (`https://host[:port]`) of an http(s) URL, as a
/// Content-Security-Policy `form-action` names it.
pub fn origin(url: &str) -> Result<String, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("'{url}' is not a URL; write it as https://host/path"))?;
    if scheme != "https" && scheme != "http" {
        return Err(format!(
            "'{url}' must start with https:// (or http:// for a local test)"
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let valid = !authority.is_empty()
        && !authority.contains('@')
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if !valid {
        return Err(format!("'{url}' has no valid host"));
    }
    Ok(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

/// Whether a `collector.sources` entry is a collector's URL; anything else
/// is the path of an inbox file. `sync` and the checks here agree on it.
pub fn is_collector_url(source: &str) -> bool {
    source.contains("://")
}

/// A source over plain http is refused unless it is this machine: `sync`
/// sends the collector's bearer token with every request, and the
/// decisions come back unauthenticated.
fn check_source(source: &str) -> Result<(), String> {
    if !is_collector_url(source) {
        return Ok(());
    }
    let origin = origin(source)?;
    if origin.starts_with("http://") && !crate::send::is_loopback(origin_host(&origin)) {
        return Err(format!(
            "'{source}' is plain http to another machine: the bearer token would go in clear \
             and the decisions would come back unprotected; use https://, or http:// only to \
             localhost or 127.0.0.1"
        ));
    }
    Ok(())
}

/// The host of an origin (`http://127.0.0.1:8080` -> `127.0.0.1`,
/// `http://[::1]:80` -> `::1`).
pub fn origin_host(origin: &str) -> &str {
    let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    }
}

/// `path` made absolute against the working folder, with `.` and `..`
/// taken out by reading alone (the file need not exist).
fn absolute(path: &Path) -> PathBuf {
    use std::path::Component;
    let joined = if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut clean = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    clean
}

/// `path` with every symbolic link resolved: the file itself when it
/// exists, else its folder (a database or inbox not made yet).
fn real_path(path: &Path) -> Option<PathBuf> {
    path.canonicalize().ok().or_else(|| {
        let name = path.file_name()?;
        Some(path.parent()?.canonicalize().ok()?.join(name))
    })
}

/// The commented file `init` writes. Paths are relative to the file.
pub fn template(database: &str, site_url: &str, collector_url: &str) -> String {
    // TOML string literals, quoted and escaped by the toml crate.
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let (database, site_url, collector_url) =
        (quote(database), quote(site_url), quote(collector_url));
    format!(
        r#"# consent-portal configuration, written by `consent-portal init`.
# Relative paths are relative to this file.

# The billing database whose customers are asked for consent.
database = {database}

[site]
# The folder the static consent pages are written to. Publish it on any
# static web host; it holds no personal data and no secret. It must not hold
# the database, the keys, the inbox or this file: they would be published.
dir = "site"
# The public address of that folder: links sent to customers are
# <url>/c/<page id>.html, so keep it short for SMS.
url = {site_url}
# Where the pages' approve and decline buttons post to: the collector
# (`consent-portal serve`), which may run on another host than the pages.
collector_url = {collector_url}
# A folder of templates that replace the built-in ones file by file
# (base.html, consent.html, thanks.html, expired.html, not_found.html,
# style.css; and report.html, report.css for `consent-portal report`).
# templates = "templates"

[keys]
# Signs the decision tokens on the pages. Keep it secret: mode 0600, never
# on the web host or the collector, never in a backup others can read.
signing_key = "consent-signing.key"
# Verify decisions; only these go to the collector. When you rotate keys,
# put the new key first and keep the old ones until their pages expire.
verifying_keys = ["consent-verifying.key"]

# The collector: `consent-portal serve` takes the customers' decisions and
# keeps them in its own inbox until `sync` collects them. `sync` needs the
# bearer token from CONSENT_COLLECTOR_TOKEN to fetch them over HTTP.
[collector]
listen = "127.0.0.1:8080"
inbox = "consent-inbox.db"
# Where sync collects from: collector base URLs (https://; http:// only on
# this machine), or local inbox files.
# Empty: the inbox above, on this machine.
sources = []
per_address_per_minute = 60
# sync refuses a decision received before its request was sent, or after
# sync's own clock, by more than this many seconds.
clock_skew_seconds = 300

# E-mail (SMTP). Credentials come from the environment, never from this file:
# CONSENT_SMTP_USERNAME and CONSENT_SMTP_PASSWORD.
# [email]
# from = "Dahls Rör AB <samtycke@example.se>"
# reply_to = "kundtjanst@example.se"
# transport = "smtp"          # or "file": .eml files in file_dir (tests, demo)
# smtp_host = "smtp.example.se"
# smtp_port = 587
# tls = "starttls"            # "starttls", "tls" or "none" (local tests only)
# concurrency = 4             # SMTP connections at once

# SMS through an HTTP gateway (46elks-style form POST), used only for
# customers without e-mail, and only when consent_setting('sms_enabled') is 1.
# Credentials from CONSENT_SMS_USERNAME and CONSENT_SMS_PASSWORD.
# [sms]
# from = "DahlsRor"
# transport = "http"          # or "file": one JSON file per message in file_dir
# gateway_url = "https://api.46elks.com/a1/sms"
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder with `consent.toml` from the template, changed by `edit`.
    fn write_config(name: &str, edit: impl FnOnce(&mut toml::Table, &Path)) -> (PathBuf, PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("consent-config-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let text = template(
            "billing.db",
            "https://samtycke.example.se",
            "https://insamling.example.se/decision",
        );
        let mut table: toml::Table = toml::from_str(&text).expect("the template is TOML");
        edit(&mut table, &dir);
        let path = dir.join(FILE_NAME);
        std::fs::write(&path, toml::to_string(&table).expect("TOML")).expect("write");
        (dir, path)
    }

    fn set(table: &mut toml::Table, section: &str, key: &str, value: toml::Value) {
        let section = match section {
            "" => table,
            name => table
                .get_mut(name)
                .and_then(toml::Value::as_table_mut)
                .expect("the section"),
        };
        section.insert(key.to_owned(), value);
    }

    fn load_message(name: &str, edit: impl FnOnce(&mut toml::Table, &Path)) -> Option<String> {
        let (dir, path) = write_config(name, edit);
        let result = Config::load(&path);
        let _ = std::fs::remove_dir_all(dir);
        match result {
            Ok(_) => None,
            Err(ConfigError::Invalid { message, .. }) => Some(message),
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn the_ordinary_layout_loads() {
        assert_eq!(load_message("ordinary", |_, _| {}), None);
        // The site beside the files, named in any spelling of the same place.
        assert_eq!(
            load_message("ordinary-dots", |t, _| set(
                t,
                "site",
                "dir",
                "./public/../site".into()
            )),
            None
        );
        // A folder whose name only begins like the database's.
        assert_eq!(
            load_message("prefix", |t, _| {
                set(t, "", "database", "site-data/billing.db".into());
                set(t, "site", "dir", "site".into());
            }),
            None
        );
    }

    #[test]
    fn a_site_folder_over_the_private_files_is_refused() {
        /// A case's name, what the message must name, and the change.
        type Case = (&'static str, &'static str, fn(&mut toml::Table));
        let cases: [Case; 7] = [
            ("dot", "the billing database", |t| {
                set(t, "site", "dir", ".".into())
            }),
            ("dotdot", "the billing database", |t| {
                set(t, "site", "dir", "site/..".into())
            }),
            ("parent", "the billing database", |t| {
                set(t, "", "database", "data/billing.db".into());
                set(t, "site", "dir", "data".into());
            }),
            ("signing", "the signing key", |t| {
                set(t, "keys", "signing_key", "site/consent-signing.key".into())
            }),
            ("verifying", "a verifying key", |t| {
                set(
                    t,
                    "keys",
                    "verifying_keys",
                    vec!["consent-verifying.key", "site/old.key"].into(),
                )
            }),
            ("inbox", "the collector inbox", |t| {
                set(t, "collector", "inbox", "site/../site/inbox.db".into())
            }),
            ("source", "an inbox in collector.sources", |t| {
                set(
                    t,
                    "collector",
                    "sources",
                    vec!["site/other-inbox.db"].into(),
                )
            }),
        ];
        for (name, what, edit) in cases {
            let message = load_message(name, |t, _| edit(t))
                .unwrap_or_else(|| panic!("{name}: the configuration loaded"));
            assert!(message.starts_with("site.dir: "), "{name}: {message}");
            assert!(message.contains(what), "{name}: {message}");
            assert!(message.contains("dir = \"site\""), "{name}: {message}");
        }
    }

    #[test]
    fn a_site_folder_over_the_configuration_file_is_refused() {
        let message = load_message("config-file", |t, _| {
            // Everything else lives elsewhere; only this file is in ".".
            let elsewhere = std::env::temp_dir().join("consent-config-elsewhere");
            for (section, key, file) in [
                ("", "database", "billing.db"),
                ("keys", "signing_key", "signing.key"),
                ("collector", "inbox", "inbox.db"),
            ] {
                let path = elsewhere.join(file).to_string_lossy().into_owned();
                set(t, section, key, path.into());
            }
            let verifying = elsewhere
                .join("verifying.key")
                .to_string_lossy()
                .into_owned();
            set(t, "keys", "verifying_keys", vec![verifying].into());
            set(t, "site", "dir", ".".into());
        })
        .expect("refused");
        assert!(message.contains("this configuration file"), "{message}");
    }

    #[test]
    fn a_site_folder_that_links_to_the_keys_is_refused() {
        let message = load_message("symlink", |t, dir| {
            std::fs::create_dir_all(dir.join("private")).expect("folder");
            std::fs::write(dir.join("private/consent-signing.key"), "").expect("key");
            std::os::unix::fs::symlink(dir.join("private"), dir.join("public")).expect("link");
            set(
                t,
                "keys",
                "signing_key",
                "private/consent-signing.key".into(),
            );
            set(t, "site", "dir", "public".into());
        })
        .expect("refused");
        assert!(message.contains("the signing key"), "{message}");
    }

    #[test]
    fn plain_http_sources_must_be_this_machine() {
        let sources = |list: Vec<&'static str>| {
            move |t: &mut toml::Table, _: &Path| set(t, "collector", "sources", list.into())
        };
        for fine in [
            "https://insamling.example.se",
            "http://localhost:8080",
            "http://127.0.0.1:8080",
            "http://127.0.0.2:8080",
            "http://[::1]:8080",
            "consent-inbox.db",
            "/var/lib/consent/inbox.db",
        ] {
            assert_eq!(
                load_message("source-ok", sources(vec![fine])),
                None,
                "{fine}"
            );
        }
        for (refused, says) in [
            (
                "http://insamling.example.se",
                "the bearer token would go in clear",
            ),
            ("http://10.0.0.5:8080/", "use https://"),
            ("http://localhost.example.se", "in clear"),
            ("ftp://insamling.example.se", "must start with https://"),
            ("HTTP://insamling.example.se", "must start with https://"),
        ] {
            let message = load_message("source-refused", sources(vec![refused]))
                .unwrap_or_else(|| panic!("{refused} was accepted"));
            assert!(message.starts_with("collector.sources: "), "{message}");
            assert!(message.contains(refused), "{message}");
            assert!(message.contains(says), "{refused}: {message}");
        }
    }
}
