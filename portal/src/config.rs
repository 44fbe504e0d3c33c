//! `consent.toml`: where the database, the site and the keys are, and how to
//! reach customers. Written by `consent-portal init`, read by every other
//! subcommand. Relative paths are relative to the file itself.

use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Deserialize;

mod refuse;

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
    /// The reverse proxies in front of the collector (addresses or
    /// networks, IPv4 or IPv6). Only a request whose peer is one of them
    /// is keyed on the client its `X-Forwarded-For` names; every other
    /// request on its peer. Empty: nobody is trusted.
    pub trusted_proxies: Vec<String>,
    /// `trusted_proxies`, parsed by [`Config::load`].
    #[serde(skip)]
    pub trusted_networks: Vec<IpNet>,
    /// Seconds a client has for a request's headers, from its first byte
    /// (an idle keep-alive connection: from the end of the last answer).
    pub header_timeout_seconds: u32,
    /// Connections open at once; at the cap the collector stops accepting
    /// and new connections wait in the system's listen queue.
    pub max_connections: u32,
}

impl Default for Collector {
    fn default() -> Collector {
        Collector {
            listen: "127.0.0.1:8080".to_owned(),
            inbox: PathBuf::from("consent-inbox.db"),
            sources: Vec::new(),
            per_address_per_minute: 60,
            clock_skew_seconds: 300,
            trusted_proxies: Vec::new(),
            trusted_networks: Vec::new(),
            header_timeout_seconds: crate::collector::HEADER_TIMEOUT_SECONDS,
            max_connections: crate::collector::MAX_CONNECTIONS,
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
            refuse::check_source(source).map_err(|m| invalid(format!("collector.sources: {m}")))?;
        }
        config
            .check_site_dir(path)
            .map_err(|m| invalid(format!("site.dir: {m}")))?;
        config.collector.trusted_networks =
            trusted_networks(&config.collector.trusted_proxies).map_err(invalid)?;
        Ok(config)
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

/// `collector.trusted_proxies` as networks: an address is a network of
/// one. The message names the entry that is neither, with an example.
pub fn trusted_networks(entries: &[String]) -> Result<Vec<IpNet>, String> {
    entries
        .iter()
        .map(|entry| {
            let text = entry.trim();
            text.parse::<IpNet>()
                .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!(
                        "collector.trusted_proxies: '{entry}' is not an IP address or network; \
                         write e.g. trusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"::1\", \
                         \"2001:db8::/48\"]"
                    )
                })
        })
        .collect()
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

/// The host of an origin (`http://127.0.0.1:8080` -> `127.0.0.1`,
/// `http://[::1]:80` -> `::1`).
pub fn origin_host(origin: &str) -> &str {
    let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    }
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
# The reverse proxies in front of the collector (e.g. nginx on this
# machine: ["127.0.0.1", "::1"]); addresses or networks ("10.0.0.0/8").
# Only for a request from one of them does the rate limit believe the
# client that X-Forwarded-For names; anyone else can write that header.
# Empty: the rate limit keys on the connecting address.
trusted_proxies = []
# A client has this many seconds for a request's headers, however slowly
# it sends them; then the connection is closed.
header_timeout_seconds = 10
# Connections open at once. At the cap the collector stops accepting; new
# connections wait in the system's queue until one closes.
max_connections = 1024

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

    /// `template`'s file with `[collector]` lines added, loaded.
    fn load_with(name: &str, collector_lines: &str) -> Result<Config, ConfigError> {
        let dir =
            std::env::temp_dir().join(format!("consent-config-test-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = template(
            "billing.db",
            "https://s.example.se",
            "https://s.example.se/decision",
        )
        .replace(
            "[collector]\n",
            &format!("[collector]\n{collector_lines}\n"),
        )
        .replace("trusted_proxies = []\n", "");
        let path = dir.join(FILE_NAME);
        std::fs::write(&path, text).unwrap();
        let loaded = Config::load(&path);
        std::fs::remove_dir_all(&dir).unwrap();
        loaded
    }

    #[test]
    fn trusted_proxies_are_parsed_and_a_bad_entry_is_named() {
        let config = load_with(
            "proxies-ok",
            r#"trusted_proxies = ["127.0.0.1", "::1", "10.0.0.0/8"]"#,
        )
        .unwrap();
        assert_eq!(config.collector.trusted_networks.len(), 3);
        assert!(config.collector.trusted_networks[2]
            .contains(&"10.9.8.7".parse::<std::net::IpAddr>().unwrap()));
        let error =
            load_with("proxies-bad", r#"trusted_proxies = ["127.0.0.1", "nginx"]"#).unwrap_err();
        let ConfigError::Invalid { message, .. } = &error else {
            panic!("{error}");
        };
        assert!(message.contains("'nginx'"), "{message}");
        assert!(message.contains("10.0.0.0/8"), "{message}");
    }

    #[test]
    fn the_template_has_the_collector_defaults() {
        let config = load_with("defaults", "").unwrap();
        assert!(config.collector.trusted_networks.is_empty());
        assert_eq!(
            config.collector.header_timeout_seconds,
            crate::collector::HEADER_TIMEOUT_SECONDS
        );
        assert_eq!(
            config.collector.max_connections,
            crate::collector::MAX_CONNECTIONS
        );
    }
}
