# What the benchmark scripts share; sourced by them. Each sets, before calling these:
# OUT (reports and the server's log), SCRATCH (removed at the end), HOTLINE (the
# server's binary), PORT, and PG_ADMIN for PostgreSQL.

# The abuse limits lifted: a load generator is a few users on one address.
LIFTED_LIMITS=(
  HOTLINE_LIMITS__USER_REQUESTS_PER_SECOND=0 HOTLINE_LIMITS__ADDRESS_REQUESTS_PER_SECOND=0
  HOTLINE_LIMITS__ADDRESS_SIGN_INS_PER_MINUTE=0 HOTLINE_LIMITS__USERNAME_SIGN_INS_PER_MINUTE=0
)

fresh_db() { # backend name -> URL of an empty database
  if [ "$1" = sqlite ]; then
    local dir; dir=$(mktemp -d -p "$SCRATCH"); echo "sqlite://$dir/$2.db"
  else
    psql -q "$PG_ADMIN" -c "drop database if exists $2 with (force)" -c "create database $2" \
      -c "alter database $2 set wal_compression = ${BENCH_WAL_COMPRESSION:-lz4}" >/dev/null
    echo "${PG_ADMIN%/*}/$2"
  fi
}

# URL [NAME=value ...] -> starts `hotline serve --demo` on URL in the background with
# keys of its own, the limits lifted and those settings besides; sets $pid.
start_server() {
  local url=$1; shift
  local keydir; keydir=$(mktemp -d -p "$SCRATCH")
  env "${LIFTED_LIMITS[@]}" HOTLINE_LOG__LEVEL=warn \
    HOTLINE_KEYS__CALLER_KEY_FILE="$keydir/caller.key" HOTLINE_KEYS__SIGNING_KEY_FILE="$keydir/key" "$@" \
    "$HOTLINE" serve --demo --database-url "$url" --listen "127.0.0.1:$PORT" 2>>"$OUT/server.log" &
  pid=$!
  # The first start on a loaded history seals its caller data before it listens
  # (minutes for a million orders): wait for the port as long as the server runs.
  for _ in $(seq 1 18000); do
    (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { echo "the server exited; see $OUT/server.log" >&2; exit 1; }
    sleep 0.1
  done
  sleep 1
}

field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
