#!/usr/bin/env bash
# Runs every test. First installs the tools the tests use
# (scripts/setup-test-tools.sh; the Debian packages need root), then
# `cargo test --workspace` (arguments are passed on), then lists every test
# that skipped for a missing tool, with the one command that fixes it.
#
# A test that cannot find its tool says so on stderr as it runs and writes
# a line to the skip list; with CI=true it fails instead, so CI can never
# pass by skipping.
set -uo pipefail

cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null && [ -f "$HOME/.cargo/env" ]; then
    . "$HOME/.cargo/env"
fi

scripts/setup-test-tools.sh
setup=$?

# The test kit appends one line per skipped test here (see testkit/).
skips="${CARGO_TARGET_DIR:-target}/test-skips.txt"
mkdir -p "$(dirname "$skips")"
rm -f "$skips"

# The whole workspace, unless the arguments pick packages themselves.
scope=(--workspace)
for arg in "$@"; do
    case "$arg" in
        -p | --package | --package=* | --manifest-path | --manifest-path=*) scope=() ;;
    esac
done
cargo test "${scope[@]}" "$@"
status=$?

echo
if [ -s "$skips" ]; then
    echo "SKIPPED for a missing tool ($(sort -u "$skips" | wc -l) tests): these did NOT run"
    sort -u "$skips" | sed 's/^/  - /'
    if [ "$(id -u)" -eq 0 ]; then
        echo "To run them: scripts/setup-test-tools.sh, then scripts/test.sh again"
    else
        echo "To run them: sudo scripts/setup-test-tools.sh, then scripts/test.sh again"
    fi
    [ "$status" -eq 0 ] && status=3
elif [ "$status" -eq 0 ]; then
    echo "Nothing was skipped: every selected test ran."
fi
[ "$setup" -ne 0 ] && echo "(scripts/setup-test-tools.sh could not install everything: see its messages above)"
exit "$status"
