#!/usr/bin/env bash
# The mixed workload for a long run at the report's peak rate times ten (derivation in
# docs/benchmarks.md): Poisson calls of the report's mix worked through their whole
# lifecycle, manager screens polling the backlog and figures and watching the queue,
# with the server's resident memory sampled every 5 s. Fails on any error and when the
# memory of the last minute is more than 20% above that of the second minute.
# Usage: scripts/soak.sh [backend] [seconds] [rate]   (defaults: postgres, 600, 0.5)
# PostgreSQL from HOTLINE_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${1:-postgres}
SECONDS_RUN=${2:-600}
RATE=${3:-0.5}
PG_ADMIN=${HOTLINE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
OUT=${BENCH_OUT:-target/bench}
PORT=${SOAK_PORT:-50778}
mkdir -p "$OUT"
cargo build --release -q -p hotline-server -p hotline-loadgen
HOTLINE=${CARGO_TARGET_DIR:-target}/release/hotline
LOADGEN=${CARGO_TARGET_DIR:-target}/release/hotline-loadgen

if [ "$BACKEND" = sqlite ]; then
  dir=$(mktemp -d); url="sqlite://$dir/soak.db"
else
  psql -q "$PG_ADMIN" -c "drop database if exists hotline_soak with (force)" -c "create database hotline_soak" >/dev/null
  url="${PG_ADMIN%/*}/hotline_soak"
fi
keydir=$(mktemp -d)
MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_-1048576} \
HOTLINE_KEYS__SIGNING_KEY_FILE="$keydir/key" HOTLINE_KEYS__CALLER_KEY_FILE="$keydir/caller.key" HOTLINE_LOG__LEVEL=warn \
  "$HOTLINE" serve --demo --database-url "$url" --listen "127.0.0.1:$PORT" 2>"$OUT/soak-server.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
sleep 1

rss="$OUT/soak-rss.csv"
echo "seconds,rss_kib" > "$rss"
( t=0; while kill -0 $pid 2>/dev/null; do echo "$t,$(ps -o rss= -p $pid | tr -d ' ')" >> "$rss"; sleep 5; t=$((t + 5)); done ) &
sampler=$!

"$LOADGEN" --target "http://127.0.0.1:$PORT" --mode open --scenario mixed --rate "$RATE" --clients 200 \
  --duration "$SECONDS_RUN" --managers 2 --report "$OUT/soak.json"
kill $sampler 2>/dev/null || true

python3 - "$OUT/soak.json" "$rss" <<'PY'
import csv, json, sys
report = json.load(open(sys.argv[1]))
rows = [(int(r["seconds"]), int(r["rss_kib"])) for r in csv.DictReader(open(sys.argv[2])) if r["rss_kib"]]
def mean(a, b):
    xs = [k for s, k in rows if a <= s < b]
    return sum(xs) / len(xs) / 1024 if xs else float("nan")
end = rows[-1][0]
first, last = mean(60, 120), mean(end - 60, end + 1)
print(f"RSS: start {rows[0][1]/1024:.1f} MiB, second minute {first:.1f} MiB, last minute {last:.1f} MiB, "
      f"max {max(k for _, k in rows)/1024:.1f} MiB; samples in {sys.argv[2]}")
errors = report["errors"]
print(f"calls finished {report['calls_finished']}, errors {errors}, dropped {report['dropped']}")
ok = errors == 0 and report["dropped"] == 0 and not last > first * 1.2
print("soak: " + ("passed" if ok else "FAILED"))
sys.exit(0 if ok else 1)
PY
