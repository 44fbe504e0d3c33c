//! What `Config::load` refuses beyond the file's form: settings that would
//! publish a secret or send one in clear. Every subcommand loads the file,
//! so every one refuses.

use std::path::{Path, PathBuf};

use super::{is_collector_url, origin, origin_host, Config};

impl Config {
    /// Refuses a site folder that would publish a file that must stay
    /// private: everything under `site.dir` goes to the public web host
    /// (and `serve` hands it out), so `dir = "."` would publish the
    /// register, the signing key and the inbox's tokens.
    pub(super) fn check_site_dir(&self, config_file: &Path) -> Result<(), String> {
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
}

/// A source over plain http is refused unless it is this machine: `sync`
/// sends the collector's bearer token with every request, and the
/// decisions come back unauthenticated.
pub(super) fn check_source(source: &str) -> Result<(), String> {
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

#[cfg(test)]
mod tests {
    use super::super::{template, ConfigError, FILE_NAME};
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
