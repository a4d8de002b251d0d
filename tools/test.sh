#!/usr/bin/env bash
# Runs the whole test suite. Installs the reference Redis 7.0.15 (Debian's
# redis-server, redis-tools) first when it is missing; under CI=true a missing
# reference that cannot be installed is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

have_reference() {
    command -v redis-server >/dev/null 2>&1 &&
        redis-server --version | grep -q 'v=7\.0\.' &&
        command -v redis-cli >/dev/null 2>&1 &&
        command -v redis-benchmark >/dev/null 2>&1
}

if ! have_reference; then
    echo "test.sh: reference Redis 7.0 not found; installing redis-server and redis-tools" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server redis-tools >/dev/null || true
    if ! have_reference; then
        echo "test.sh: could not install the reference Redis 7.0 (redis-server, redis-tools)." >&2
        echo "test.sh: the differential tests need it; install it and run again." >&2
        exit 1
    fi
fi
echo "test.sh: reference: $(redis-server --version)"

cargo test --release --all-targets "$@"
