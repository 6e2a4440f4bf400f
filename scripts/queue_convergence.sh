#!/usr/bin/env bash
# Queue convergence across instances: two `hotline serve` processes on one fresh
# PostgreSQL database, call events reported through the first, a `WatchQueue` stream on
# the second; `hotline-loadgen --queue-convergence` times each event from its
# acknowledgement to the second instance's first snapshot showing it (median and max in
# the row "queue event->instance B").
# Usage: scripts/queue_convergence.sh [events]    (default 100)
# PostgreSQL from HOTLINE_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test);
# PROFILE=debug uses the debug build instead of the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-100}
PROFILE=${PROFILE:-release}
PG_ADMIN=${HOTLINE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
PG_BASE=${PG_ADMIN%/*}
DB=hotline_queue_convergence
SCRATCH=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$SCRATCH"' EXIT

if [ "$PROFILE" = release ]; then
  cargo build --release -q -p hotline-server -p hotline-loadgen
else
  cargo build -q -p hotline-server -p hotline-loadgen
fi
HOTLINE=${CARGO_TARGET_DIR:-target}/$PROFILE/hotline
LOADGEN=${CARGO_TARGET_DIR:-target}/$PROFILE/hotline-loadgen

psql -q "$PG_ADMIN" -c "drop database if exists $DB with (force)" -c "create database $DB" >/dev/null
export HOTLINE_DATABASE_URL="$PG_BASE/$DB"
export HOTLINE_KEYS__SIGNING_KEY_FILE="$SCRATCH/signing.key" HOTLINE_KEYS__CALLER_KEY_FILE="$SCRATCH/caller.key"
export HOTLINE_LIMITS__USER_REQUESTS_PER_SECOND=0 HOTLINE_LIMITS__ADDRESS_REQUESTS_PER_SECOND=0
export HOTLINE_LIMITS__ADDRESS_SIGN_INS_PER_MINUTE=0 HOTLINE_LIMITS__USERNAME_SIGN_INS_PER_MINUTE=0
export HOTLINE_LOG__LEVEL=warn
"$HOTLINE" generate-key "$SCRATCH/signing.key"
"$HOTLINE" demo seed >/dev/null
for port in 50781 50782; do
  "$HOTLINE" serve --listen "127.0.0.1:$port" 2>>"$SCRATCH/server-$port.log" &
  pids+=($!)
done
for port in 50781 50782; do
  for _ in $(seq 1 600); do
    (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
done
sleep 1
"$LOADGEN" --target http://127.0.0.1:50781 --queue-convergence http://127.0.0.1:50782 --queue-events "$EVENTS"
psql -q "$PG_ADMIN" -c "drop database if exists $DB with (force)" >/dev/null
