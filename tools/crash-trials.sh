#!/usr/bin/env bash
# The long kill -9 run of tests/aof_crash.rs: TRIALS trials with
# `appendfsync always` (default 1000), a tenth as many (at least 3) with
# `everysec` and with a BGREWRITEAOF during the load, from SEED (default: the
# current time, printed so the run can be replayed). Prints the totals:
# trials, acknowledged writes checked, writes lost; exits non-zero if any
# trial lost or invented a write.
#
# Usage: tools/crash-trials.sh [TRIALS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."

trials="${1:-1000}"
seed="${2:-$(date +%s)}"
extra="${AOF_CRASH_EXTRA_TRIALS:-$(( trials / 10 ))}"
[ "$extra" -lt 3 ] && extra=3

out="$(mktemp)"
trap 'rm -f "$out"' EXIT

echo "crash-trials: $trials always trials, $extra everysec and $extra rewrite trials, seed $seed"
cargo build --release
set +e
AOF_CRASH_TRIALS="$trials" AOF_CRASH_EXTRA_TRIALS="$extra" AOF_CRASH_SEED="$seed" \
    cargo test --release --test aof_crash -- --nocapture 2>&1 |
    tee "$out" | grep --line-buffered -E '^aof_crash (progress|totals)'
status="${PIPESTATUS[0]}"
set -e

# One "aof_crash totals: test=... trials=N acknowledged=N lost=N failed=N" line per series.
awk '
    /^aof_crash totals:/ {
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        trials += v["trials"]; acked += v["acknowledged"]; lost += v["lost"]; failed += v["failed"]; series++
    }
    END {
        printf "crash-trials: trials: %d, acknowledged writes checked: %d, lost: %d, failed trials: %d (%d series)\n",
            trials, acked, lost, failed, series
    }' "$out"

if [ "$status" -ne 0 ]; then
    echo "crash-trials: the test failed (exit $status); its failure messages:" >&2
    grep -E -A12 "panicked at|^seed [0-9]+:" "$out" | head -80 >&2
    echo "crash-trials: replay a trial with AOF_CRASH_SEED=<seed> AOF_CRASH_TRIALS=1 AOF_CRASH_EXTRA_TRIALS=1" >&2
fi
exit "$status"
