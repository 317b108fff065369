#!/usr/bin/env bash
# Install the Debian packages the test suite needs beyond Python:
#   postgresql  - server binaries for the throwaway test server (tests/infra/postgres.py)
#   chromium    - the browser Playwright drives (tests/infra/browser.py); `playwright install`
#                 is never used
#   fonts-liberation - metric-compatible fonts, so screenshots look the same on every machine
#
# Idempotent and quiet: does nothing when everything is installed, runs `apt-get update` only
# when something is missing, and prints apt's output only if it fails. Needs root (or sudo).
# Works unattended (CI=true, no stdin).
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

have_postgres_server() {
    local bindir
    if command -v pg_config >/dev/null 2>&1; then
        bindir="$(pg_config --bindir 2>/dev/null || true)"
        if [[ -n "$bindir" && -x "$bindir/initdb" && -x "$bindir/pg_ctl" && -x "$bindir/postgres" ]]; then
            return 0
        fi
    fi
    for bindir in /usr/lib/postgresql/*/bin; do
        if [[ -x "$bindir/initdb" && -x "$bindir/pg_ctl" && -x "$bindir/postgres" ]]; then
            return 0
        fi
    done
    return 1
}

have_package() {
    dpkg-query --show --showformat='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed
}

missing=()
# The package also creates the `postgres` OS user that the server runs as when tests run as root.
if ! have_postgres_server || ! id -u postgres >/dev/null 2>&1; then
    missing+=(postgresql)
fi
if ! command -v chromium >/dev/null 2>&1; then
    missing+=(chromium)
fi
if ! have_package fonts-liberation; then
    missing+=(fonts-liberation)
fi

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

sudo=()
if [[ "$(id -u)" -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install-system-deps: need root to install: ${missing[*]} (run as root or install sudo)" >&2
        exit 1
    fi
    sudo=(sudo --non-interactive env DEBIAN_FRONTEND=noninteractive)
fi

log="$(mktemp -t install-system-deps.XXXXXX.log)"
trap 'rm -f "$log"' EXIT

run() {
    if ! "${sudo[@]}" "$@" </dev/null >>"$log" 2>&1; then
        echo "install-system-deps: failed: $*" >&2
        cat "$log" >&2
        exit 1
    fi
}

run apt-get update -qq
run apt-get install -y -qq --no-install-recommends "${missing[@]}"

if ! have_postgres_server; then
    echo "install-system-deps: postgresql installed, but no initdb/pg_ctl/postgres found" \
        "under \`pg_config --bindir\` or /usr/lib/postgresql/*/bin" >&2
    exit 1
fi
if ! command -v chromium >/dev/null 2>&1; then
    echo "install-system-deps: chromium installed, but \`chromium\` is not on PATH" >&2
    exit 1
fi
