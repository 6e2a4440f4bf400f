#!/usr/bin/env bash
# The console's benchmark: a fresh `hotline serve --demo` (SQLite by default, the embedded
# default; `postgres` for a fresh PostgreSQL database), then console/bench/wall.mjs:
# bundle size, time to the first screen, and the manager wall in headless Chromium with
# AGENTS seat agents signed in and calls offered at RATE a second for SECONDS, each rung,
# answered, talked and wrapped up. The report goes to target/bench/console.json.
# Usage: scripts/console_bench.sh [sqlite|postgres] [agents] [calls/s] [seconds]
#        (defaults: sqlite 200 0.5 120; 0.5 calls/s is ten times the report's peak hour)
# Needs node, console/node_modules (npm ci --prefix console) and /usr/bin/chromium.
# PROFILE=debug uses the debug build instead of the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${1:-sqlite}
AGENTS=${2:-200}
RATE=${3:-0.5}
SECONDS_=${4:-120}
PROFILE=${PROFILE:-release}
PORT=50791
SCRATCH=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$SCRATCH"' EXIT

if [ "$PROFILE" = release ]; then
  cargo build --release -q -p hotline-server
else
  cargo build -q -p hotline-server
fi
HOTLINE=${CARGO_TARGET_DIR:-target}/$PROFILE/hotline

case "$BACKEND" in
  sqlite) export HOTLINE_DATABASE_URL="sqlite://$SCRATCH/hotline.db" ;;
  postgres)
    PG_ADMIN=${HOTLINE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
    DB=hotline_console_bench
    psql -q "$PG_ADMIN" -c "drop database if exists $DB with (force)" -c "create database $DB" >/dev/null
    export HOTLINE_DATABASE_URL="${PG_ADMIN%/*}/$DB"
    ;;
  *) echo "usage: $0 [sqlite|postgres] [agents] [calls/s] [seconds]" >&2; exit 2 ;;
esac
export HOTLINE_KEYS__SIGNING_KEY_FILE="$SCRATCH/signing.key" HOTLINE_KEYS__CALLER_KEY_FILE="$SCRATCH/caller.key"
# One machine plays 200 agents from one address: the per-address limits are lifted.
export HOTLINE_LIMITS__USER_REQUESTS_PER_SECOND=0 HOTLINE_LIMITS__ADDRESS_REQUESTS_PER_SECOND=0
export HOTLINE_LIMITS__ADDRESS_SIGN_INS_PER_MINUTE=0 HOTLINE_LIMITS__USERNAME_SIGN_INS_PER_MINUTE=0
export HOTLINE_LOG__LEVEL=warn
"$HOTLINE" generate-key "$SCRATCH/signing.key"
"$HOTLINE" serve --demo --listen "127.0.0.1:$PORT" 2>>"$SCRATCH/server.log" &
pids+=($!)
for _ in $(seq 1 600); do
  (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done
sleep 1
mkdir -p target/bench
HOTLINE_CONSOLE_URL="http://127.0.0.1:$PORT" node console/bench/wall.mjs "$AGENTS" "$RATE" "$SECONDS_" | tee target/bench/console.json
