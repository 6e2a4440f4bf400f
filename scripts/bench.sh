#!/usr/bin/env bash
# One benchmark run, both backends, on this machine: the database's raw intake limit
# (pgbench with scripts/pgbench/intake.sql on PostgreSQL, `hotline-loadgen --raw` on
# both), then the server's intake throughput at the same concurrency (closed loop), their
# ratio, the server in open loop at 70% of that throughput, and its memory at rest, after
# each load and at the end. With BENCH_HISTORY=N (e.g. 1000000), then for each backend:
# the generated city and N historical orders loaded, the server's memory with them, and
# every list and statistics RPC timed (`hotline-loadgen --figures`). With BENCH_LEDGER=1,
# for each backend: the generated city and its year of the duty ledger (`hotline demo
# generate --import`), and the compliance boards, the year's report and its exports timed
# (`hotline-loadgen --ledger-figures`). BENCH_INTAKE=0 leaves out the intake steps.
# Usage: scripts/bench.sh [clients] [seconds]    (defaults: 8 clients, 30 s)
# PostgreSQL from HOTLINE_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test);
# BENCH_BACKENDS="sqlite postgres" to choose backends; BENCH_ROUNDS (default 50) rounds
# of --figures.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${1:-8}
SECONDS_RUN=${2:-30}
PG_ADMIN=${HOTLINE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
OUT=${BENCH_OUT:-target/bench}
mkdir -p "$OUT"
# SQLite databases (2 GB with a million orders) and key files, removed at the end.
SCRATCH=$(mktemp -d)

cargo build --release -q -p hotline-server -p hotline-loadgen
HOTLINE=${CARGO_TARGET_DIR:-target}/release/hotline
LOADGEN=${CARGO_TARGET_DIR:-target}/release/hotline-loadgen
PORT=50777
. scripts/lib.sh
# The pool as large as the clients; glibc's allocator returning large blocks to the system.
SERVER_SETTINGS=(HOTLINE_DATABASE__MAX_CONNECTIONS="$CLIENTS" MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_-1048576}")

rss_kb() { ps -o rss= -p "$1" | tr -d ' '; }
# The process's CPU time (user + system) in clock ticks, from /proc.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# A server left running by a failed step would hold the port for the next run.
trap 'if [ -n "${pid:-}" ]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$SCRATCH"' EXIT
# Before each measured PostgreSQL step: a checkpoint, so that one forced by the WAL of the
# step before (max_wal_size) does not fall inside this one.
settle() { if [ "$1" = postgres ]; then psql -q "$PG_ADMIN" -c checkpoint >/dev/null; fi; }
mib() { awk "BEGIN { printf \"%.1f\", $1 / 1024 }"; }

for backend in ${BENCH_BACKENDS:-sqlite postgres}; do
  [ "${BENCH_INTAKE:-1}" = 1 ] || break
  echo "== $backend: raw intake limit (hotline-loadgen --raw), $CLIENTS clients, ${SECONDS_RUN}s"
  rawdb=$(fresh_db $backend hotline_bench_raw)
  settle $backend
  "$LOADGEN" --raw "$rawdb" --clients "$CLIENTS" --duration "$SECONDS_RUN" \
    --report "$OUT/$backend-raw.json" | tail -1
  raw_rate=$(field "$OUT/$backend-raw.json" intakes_per_second)
  raw_name="hotline-loadgen --raw"
  if [ "$backend" = postgres ]; then
    echo "== postgres: raw intake limit (pgbench, scripts/pgbench/intake.sql), $CLIENTS clients, ${SECONDS_RUN}s"
    rawurl=$(fresh_db postgres hotline_bench_pgbench)
    "$HOTLINE" demo seed --database-url "$rawurl" >/dev/null # the schema, migrated
    settle postgres
    pgbench -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T "$SECONDS_RUN" -f scripts/pgbench/intake.sql "$rawurl" \
      > "$OUT/postgres-pgbench.txt" 2>&1
    grep -E "latency average|tps =" "$OUT/postgres-pgbench.txt"
    sqlx_rate=$raw_rate
    raw_rate=$(grep -oP 'tps = \K[0-9.]+' "$OUT/postgres-pgbench.txt")
    raw_name="pgbench (sqlx raw: $sqlx_rate/s)"
  fi
  start_server "$(fresh_db $backend hotline_bench_server)" "${SERVER_SETTINGS[@]}"
  rest=$(rss_kb $pid)
  settle $backend
  echo "== $backend: server intake, closed loop, $CLIENTS clients"
  cpu_before=$(cpu_ticks $pid)
  "$LOADGEN" --target "http://127.0.0.1:$PORT" --mode closed --scenario intake --clients "$CLIENTS" \
    --duration "$SECONDS_RUN" --managers 0 --report "$OUT/$backend-closed.json" | tail -1
  cpu_after=$(cpu_ticks $pid)
  loaded=$(rss_kb $pid)
  server_rate=$(field "$OUT/$backend-closed.json" calls_per_second)
  # An intake (a call of the closed loop) is a RecordCall and a CreateWorkOrder.
  cpu_ms=$(python3 -c "print(round(($cpu_after - $cpu_before) * 1000 / $(getconf CLK_TCK) / max(1, $(field "$OUT/$backend-closed.json" calls_finished)), 3))")
  rate70=$(python3 -c "print(round($server_rate*0.7, 1))")
  settle $backend
  echo "== $backend: server intake, open loop at 70% ($rate70 per s)"
  "$LOADGEN" --target "http://127.0.0.1:$PORT" --mode open --scenario intake --rate "$rate70" \
    --clients 1000 --duration "$SECONDS_RUN" --managers 0 --report "$OUT/$backend-open70.json" | grep -E "CreateWorkOrder|RecordCall|intended"
  end=$(rss_kb $pid)
  kill -TERM $pid; wait $pid || true
  python3 - "$backend" "$raw_rate" "$server_rate" "$rest" "$loaded" "$end" "$raw_name" "$cpu_ms" <<'PY'
import sys
b, raw, srv, rest, loaded, end, name, cpu = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7], sys.argv[8]
print(f"== {b}: raw limit {raw:.1f}/s [{name}], server {srv:.1f}/s, ratio {srv/raw:.0%}; "
      f"server CPU {cpu} ms per intake (closed loop); "
      f"RSS at rest {rest/1024:.1f} MiB, after closed loop {loaded/1024:.1f} MiB, at the end {end/1024:.1f} MiB")
PY
done

if [ -n "${BENCH_HISTORY:-}" ]; then
  for backend in ${BENCH_BACKENDS:-sqlite postgres}; do
    echo "== $backend: the generated city and $BENCH_HISTORY historical orders"
    url=$(fresh_db $backend hotline_bench_history)
    "$LOADGEN" --load-history "$url" --orders "$BENCH_HISTORY"
    start_server "$url" "${SERVER_SETTINGS[@]}"
    rest=$(rss_kb $pid)
    settle $backend
    echo "== $backend: every list and statistics RPC, ${BENCH_ROUNDS:-50} rounds"
    "$LOADGEN" --target "http://127.0.0.1:$PORT" --figures --rounds "${BENCH_ROUNDS:-50}" \
      --report "$OUT/$backend-figures.json"
    after=$(rss_kb $pid)
    kill -TERM $pid; wait $pid || true
    echo "== $backend: RSS with $BENCH_HISTORY orders: at rest $(mib $rest) MiB, after the figures $(mib $after) MiB"
  done
fi

if [ -n "${BENCH_LEDGER:-}" ]; then
  for backend in ${BENCH_BACKENDS:-sqlite postgres}; do
    echo "== $backend: the generated city and its year of the duty ledger"
    url=$(fresh_db $backend hotline_bench_ledger)
    keydir=$(mktemp -d -p "$SCRATCH")
    HOTLINE_KEYS__CALLER_KEY_FILE="$keydir/caller.key" HOTLINE_LOG__LEVEL=warn \
      "$HOTLINE" demo generate --import --out "$keydir/city.json" --database-url "$url"
    # What autovacuum does within a minute of a bulk load: the statistics, and the
    # visibility map that lets the education count read its covering index alone.
    if [ $backend = postgres ]; then psql -q "$url" -c "vacuum analyze"; fi
    start_server "$url" "${SERVER_SETTINGS[@]}"
    settle $backend
    echo "== $backend: the ledger's boards and the year's report, ${BENCH_ROUNDS:-50} rounds"
    "$LOADGEN" --target "http://127.0.0.1:$PORT" --ledger-figures --rounds "${BENCH_ROUNDS:-50}" \
      --report "$OUT/$backend-ledger.json"
    kill -TERM $pid; wait $pid || true
  done
fi
