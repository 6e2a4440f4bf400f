#!/usr/bin/env bash
# One benchmark run, both backends, on this machine: the database's raw intake limit,
# then the server's intake throughput at the same concurrency (closed loop), their
# ratio, the server in open loop at 70% of that throughput, and its memory at rest and
# under load. Usage: scripts/bench.sh [clients] [seconds]    (defaults: 8 clients, 30 s)
# PostgreSQL from HOTLINE_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${1:-8}
SECONDS_RUN=${2:-30}
PG_ADMIN=${HOTLINE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
PG_BASE=${PG_ADMIN%/*}
OUT=${BENCH_OUT:-target/bench}
mkdir -p "$OUT"

cargo build --release -q -p hotline-server -p hotline-loadgen
HOTLINE=target/release/hotline
LOADGEN=target/release/hotline-loadgen
PORT=50777

fresh_db() { # backend name -> URL of an empty database
  if [ "$1" = sqlite ]; then
    local dir; dir=$(mktemp -d); echo "sqlite://$dir/$2.db"
  else
    psql -q "$PG_ADMIN" -c "drop database if exists $2 with (force)" -c "create database $2" >/dev/null
    echo "$PG_BASE/$2"
  fi
}
rss_kb() { ps -o rss= -p "$1" | tr -d ' '; }
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

for backend in sqlite postgres; do
  echo "== $backend: raw intake limit, $CLIENTS clients, ${SECONDS_RUN}s"
  "$LOADGEN" --raw "$(fresh_db $backend hotline_bench_raw)" --clients "$CLIENTS" --duration "$SECONDS_RUN" \
    --report "$OUT/$backend-raw.json" | tail -1
  url=$(fresh_db $backend hotline_bench_server)
  keydir=$(mktemp -d)
  # The load generator is one user on one address: the abuse limits are lifted.
  HOTLINE_RATE_LIMIT_PER_USER=0 HOTLINE_RATE_LIMIT_PER_ADDRESS=0 HOTLINE_SIGN_IN_LIMIT_PER_ADDRESS_PER_MINUTE=0 \
  HOTLINE_SIGN_IN_LIMIT_PER_USERNAME_PER_MINUTE=0 \
  HOTLINE_SIGNING_KEY_FILE="$keydir/key" HOTLINE_LOG_LEVEL=warn HOTLINE_MAX_CONNECTIONS="$CLIENTS" \
    "$HOTLINE" serve --demo --database-url "$url" --listen "127.0.0.1:$PORT" 2>"$OUT/$backend-server.log" &
  pid=$!
  for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
  sleep 1
  rest=$(rss_kb $pid)
  echo "== $backend: server intake, closed loop, $CLIENTS clients"
  "$LOADGEN" --target "http://127.0.0.1:$PORT" --mode closed --scenario intake --clients "$CLIENTS" \
    --duration "$SECONDS_RUN" --managers 0 --report "$OUT/$backend-closed.json" | tail -1
  loaded=$(rss_kb $pid)
  server_rate=$(field "$OUT/$backend-closed.json" calls_per_second)
  raw_rate=$(field "$OUT/$backend-raw.json" intakes_per_second)
  rate70=$(python3 -c "print(round($server_rate*0.7, 1))")
  echo "== $backend: server intake, open loop at 70% ($rate70 per s)"
  "$LOADGEN" --target "http://127.0.0.1:$PORT" --mode open --scenario intake --rate "$rate70" \
    --clients 1000 --duration "$SECONDS_RUN" --managers 0 --report "$OUT/$backend-open70.json" | grep -E "CreateWorkOrder|RecordCall|intended"
  kill -TERM $pid; wait $pid || true
  python3 - "$backend" "$raw_rate" "$server_rate" "$rest" "$loaded" <<'PY'
import sys
b, raw, srv, rest, loaded = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
print(f"== {b}: raw {raw:.1f}/s, server {srv:.1f}/s, ratio {srv/raw:.0%}; RSS at rest {rest/1024:.1f} MiB, after load {loaded/1024:.1f} MiB")
PY
done
