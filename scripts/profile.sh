#!/usr/bin/env bash
# Where the server's CPU time goes during intake: the release server on one backend under
# the closed-loop intake of `hotline-loadgen`, sampled by `perf record` (DWARF call
# graphs), summarised as the heaviest functions, self and inclusive.
# Usage: scripts/profile.sh [postgres|sqlite] [clients] [seconds]   (defaults: postgres 8 20)
# Needs `perf` (Debian's linux-perf). Output in target/profile/.
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${1:-postgres}
CLIENTS=${2:-8}
SECONDS_RUN=${3:-20}
PG_ADMIN=${HOTLINE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
OUT=target/profile
mkdir -p "$OUT"
SCRATCH=$(mktemp -d)
PORT=50778
cargo build --release -q -p hotline-server -p hotline-loadgen
HOTLINE=${CARGO_TARGET_DIR:-target}/release/hotline
LOADGEN=${CARGO_TARGET_DIR:-target}/release/hotline-loadgen
. scripts/lib.sh
trap 'if [ -n "${pid:-}" ]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$SCRATCH"' EXIT
start_server "$(fresh_db "$BACKEND" hotline_profile)" HOTLINE_DATABASE__MAX_CONNECTIONS="$CLIENTS"
# A short warm-up, then the sampled run.
"$LOADGEN" --target "http://127.0.0.1:$PORT" --mode closed --scenario intake --clients "$CLIENTS" \
  --duration 3 --managers 0 >/dev/null
perf record -q -F 499 --call-graph dwarf,16384 -p "$pid" -o "$OUT/perf.data" -- sleep "$SECONDS_RUN" &
perf_pid=$!
"$LOADGEN" --target "http://127.0.0.1:$PORT" --mode closed --scenario intake --clients "$CLIENTS" \
  --duration "$SECONDS_RUN" --managers 0 | tail -1
wait $perf_pid
kill -TERM $pid; wait $pid || true
pid=
perf report -i "$OUT/perf.data" --no-children --sort dso,symbol --percent-limit 0.7 --stdio 2>/dev/null \
  | grep -v '^$' | grep -E '^ +[0-9]' > "$OUT/self.txt" || true
perf report -i "$OUT/perf.data" --children --sort symbol --percent-limit 3 --stdio -g none 2>/dev/null \
  | grep -E '^ +[0-9]' > "$OUT/inclusive.txt" || true
echo "== self time (top):"; head -40 "$OUT/self.txt"
echo "== inclusive time (top):"; head -60 "$OUT/inclusive.txt"
