#!/usr/bin/env bash
# Builds the release artifacts, in release mode, into one folder with their
# checksums:
#
#   libconsent.so    the SQLite extension for Linux (x86_64)
#   consent.dll      the same extension for 64-bit Windows 10 or newer
#   consent-portal   the companion program, for Linux (x86_64)
#   SHA256SUMS       their SHA-256 checksums: `sha256sum -c SHA256SUMS`
#
# Usage: scripts/release.sh [--out DIR] [--without-windows] [--check]
#
#   --out DIR          where the artifacts go (default: dist/)
#   --without-windows  build without consent.dll when the Rust target for
#                      Windows cannot be installed on this machine
#   --check            build nothing: check that everything a release needs
#                      is here (tools, the Windows target, the lock files)
#                      and say what would be built
#
# Three cargo commands, never one: the extension turns on rusqlite's
# `loadable_extension` and the portal its `bundled` SQLite, and cargo would
# unify the two features into broken builds (docs/architecture.md). Both
# builds of the extension are of its own workspace (extension/loadable),
# with its own lock file; every build is --locked, so a release is built
# from exactly the committed dependencies.
#
# Without the Rust target x86_64-pc-windows-gnu (`rustup target add`, a
# download from rustup's own server) it stops with a loud message and a
# non-zero status (3), unless --without-windows says a release without
# consent.dll is wanted.
set -euo pipefail

cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null && [ -f "$HOME/.cargo/env" ]; then
    . "$HOME/.cargo/env"
fi

WINDOWS_TARGET=x86_64-pc-windows-gnu
MINGW_GCC=x86_64-w64-mingw32-gcc
out=dist
windows=yes
check=no

# The comment at the top of this file.
usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}
say() { printf 'release: %s\n' "$*" >&2; }
die() {
    say "$*"
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
        --out)
            [ $# -ge 2 ] || { usage >&2; exit 2; }
            out=$2
            shift 2
            ;;
        --out=*)
            out=${1#--out=}
            shift
            ;;
        --without-windows)
            windows=no
            shift
            ;;
        --check)
            check=yes
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            say "unknown argument: $1"
            usage >&2
            exit 2
            ;;
    esac
done
[ -n "$out" ] || die "--out needs a folder"

# --- what this machine has

problems=()
for tool in cargo sha256sum; do
    command -v "$tool" >/dev/null || problems+=("$tool is not installed")
done

# The Rust standard library for Windows, where the rustc cargo runs looks
# for it (what `rustup target add` installs; works without rustup too).
windows_target_missing() {
    local libdir
    libdir=$(rustc --print target-libdir --target "$WINDOWS_TARGET" 2>/dev/null) || {
        echo "rustc cannot tell where the $WINDOWS_TARGET target would be"
        return 0
    }
    if ! compgen -G "$libdir/libstd-*.rlib" >/dev/null; then
        echo "the Rust target $WINDOWS_TARGET is not installed (no standard library in $libdir)"
    fi
}

if [ "$windows" = yes ]; then
    missing_target=$(windows_target_missing)
    if [ -n "$missing_target" ]; then
        say "!!! ================================================================"
        say "!!! NO WINDOWS BUILD: $missing_target."
        say "!!! Install it:  rustup target add $WINDOWS_TARGET"
        say "!!! or release without consent.dll:  $0 --without-windows"
        say "!!! ================================================================"
        exit 3
    fi
    command -v "$MINGW_GCC" >/dev/null ||
        problems+=("$MINGW_GCC (Debian: apt-get install gcc-mingw-w64-x86-64), which links consent.dll")
fi

if [ ${#problems[@]} -gt 0 ]; then
    for problem in "${problems[@]}"; do say "missing: $problem"; done
    exit 1
fi

# The lock files must already say what gets built (--locked fails otherwise).
for manifest in Cargo.toml extension/loadable/Cargo.toml; do
    cargo metadata --locked --format-version 1 --manifest-path "$manifest" >/dev/null ||
        die "$manifest: its Cargo.lock is not up to date (cargo metadata --locked failed)"
done

artifacts=(libconsent.so)
[ "$windows" = yes ] && artifacts+=(consent.dll)
artifacts+=(consent-portal)

if [ "$check" = yes ]; then
    say "check: everything a release needs is here; it would build into $out/:"
    for name in "${artifacts[@]}"; do say "  $name"; done
    say "  SHA256SUMS"
    [ "$windows" = yes ] || say "(without consent.dll: --without-windows)"
    exit 0
fi

# --- the builds, each its own cargo command

started=$SECONDS
step() {
    say "$1"
    shift
    local began=$SECONDS
    "$@"
    say "  ... $((SECONDS - began)) s"
}

step "building libconsent.so (extension/loadable)" \
    cargo build --release --locked --manifest-path extension/loadable/Cargo.toml --target-dir target
if [ "$windows" = yes ]; then
    step "building consent.dll (extension/loadable, --target $WINDOWS_TARGET)" \
        env "CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=${CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER:-$MINGW_GCC}" \
        cargo build --release --locked --manifest-path extension/loadable/Cargo.toml \
        --target "$WINDOWS_TARGET" --target-dir target
fi
step "building consent-portal" \
    cargo build --release --locked -p consent-portal

# --- into the output folder, with checksums

built_path() {
    case "$1" in
        libconsent.so) echo target/release/libconsent.so ;;
        consent.dll) echo "target/$WINDOWS_TARGET/release/consent.dll" ;;
        consent-portal) echo target/release/consent-portal ;;
    esac
}

mkdir -p "$out"
# Only the names this script writes: an earlier release's consent.dll must
# not stay beside a release built --without-windows.
rm -f "$out/libconsent.so" "$out/consent.dll" "$out/consent-portal" "$out/SHA256SUMS"
for name in "${artifacts[@]}"; do
    source=$(built_path "$name")
    [ -f "$source" ] || die "cargo finished but $source is not there"
    cp "$source" "$out/$name"
done
(cd "$out" && sha256sum "${artifacts[@]}" >SHA256SUMS && sha256sum --check --quiet SHA256SUMS) ||
    die "the checksums in $out/SHA256SUMS do not verify"

say "built in $((SECONDS - started)) s, into $out/ (verify: cd $out && sha256sum -c SHA256SUMS):"
for name in "${artifacts[@]}"; do
    bytes=$(stat -c %s "$out/$name")
    printf '  %-16s %10s bytes  %s\n' "$name" "$bytes" "$(grep " $name\$" "$out/SHA256SUMS" | cut -c1-16)..."
done
if [ "$windows" = no ]; then
    say "!!! without consent.dll (--without-windows): this release has no Windows build"
fi
