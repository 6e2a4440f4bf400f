#!/usr/bin/env bash
# The server at about twice its capacity, on this machine, each backend: its intake
# throughput in closed loop (its capacity), then the open loop at twice that rate with
# the default admission control, connection cap and timeouts (the abuse rate limits are
# lifted, as for every benchmark). Prints, per RPC and for whole intakes from their
# intended start, what was admitted (throughput, p50/p99) and what was refused
# (RESOURCE_EXHAUSTED: count, p99 of the time to the refusal), and the server's own
# count of refusals from /metrics. Reports: target/bench/<backend>-capacity.json and
# <backend>-overload.json.
# Usage: scripts/overload.sh [clients] [seconds]    (defaults: 8 clients, 30 s)
# PostgreSQL from HOTLINE_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test);
# BENCH_BACKENDS="sqlite postgres" to choose backends.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${1:-8}
SECONDS_RUN=${2:-30}
PG_ADMIN=${HOTLINE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
OUT=${BENCH_OUT:-target/bench}
mkdir -p "$OUT"
SCRATCH=$(mktemp -d)

cargo build --release -q -p hotline-server -p hotline-loadgen
HOTLINE=${CARGO_TARGET_DIR:-target}/release/hotline
LOADGEN=${CARGO_TARGET_DIR:-target}/release/hotline-loadgen
PORT=50778
METRICS=50779
. scripts/lib.sh

trap 'if [ -n "${pid:-}" ]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$SCRATCH"' EXIT

for backend in ${BENCH_BACKENDS:-sqlite postgres}; do
  start_server "$(fresh_db "$backend" hotline_bench_overload)" HOTLINE_LISTEN__METRICS_ADDRESS="127.0.0.1:$METRICS"
  echo "== $backend: capacity, closed loop, $CLIENTS clients, ${SECONDS_RUN}s"
  "$LOADGEN" --target "http://127.0.0.1:$PORT" --mode closed --scenario intake --clients "$CLIENTS" \
    --duration "$SECONDS_RUN" --managers 0 --report "$OUT/$backend-capacity.json" | tail -1
  capacity=$(field "$OUT/$backend-capacity.json" calls_per_second)
  rate=$(python3 -c "print(round($capacity * 2, 1))")
  echo "== $backend: open loop at twice that ($rate intakes per s), ${SECONDS_RUN}s"
  # --clients bounds the generator's own calls in flight: far above what the server admits.
  "$LOADGEN" --target "http://127.0.0.1:$PORT" --mode open --scenario intake --rate "$rate" \
    --clients 100000 --duration "$SECONDS_RUN" --managers 0 --report "$OUT/$backend-overload.json" \
    | grep -E "^rpc|CreateWorkOrder|RecordCall|intended|finished"
  echo "refused in all (loadgen): $(field "$OUT/$backend-overload.json" refused); errors: $(field "$OUT/$backend-overload.json" errors)"
  echo "server: $(curl -s "http://127.0.0.1:$METRICS/metrics" | grep -E '^hotline_admission_refused_total' | tr '\n' ' ')"
  kill -TERM $pid; wait $pid || true
  pid=
done
