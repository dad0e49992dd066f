#!/usr/bin/env bash
# The orchestrator benchmark: `host run` over 1,000 sources on a local fixture
# site that adds latency (pages/s, time to drain, peak RSS), then a soak whose
# RSS must grow less than 5%. See README.md.
#
#   bash tests/bench/orchestrator/run.sh [--sources N] [--latency-ms MS] [--in-flight "64 256"]
#        [--workers N] [--soak-minutes M] [--soak-age-minutes M] [--soak-interval DURATION]
#        [--soak-in-flight N] [--out DIR] [--wait-idle SECONDS]
#
# The judged soak runs a new host process on a store that an earlier `host run` has already
# filled for --soak-age-minutes (default 10; 0 soaks a store with nothing in it yet). See
# README.md, "Why the soak starts on an aged store". SOAK_MINUTES (default 10; 0 skips the soak),
# SOAK_AGE_MINUTES and BUILD_DIR (default build-bench) may also be set in the environment.
# Exit status: 0 when every target is met, 1 when one is missed, 2 when the benchmark could not
# run (build, fixture server, store set-up).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
PY=${PYTHON:-python3}
BUILD=${BUILD_DIR:-$ROOT/build-bench}

SOURCES=1000
LATENCY_MS=100
IN_FLIGHT="64 256"
WORKERS=2
SOAK_MINUTES=${SOAK_MINUTES:-10}
SOAK_AGE_MINUTES=${SOAK_AGE_MINUTES:-10}
SOAK_INTERVAL=1s
SOAK_IN_FLIGHT=64
OUT=$ROOT/tests/bench/out/orchestrator
WAIT_IDLE=0

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case $1 in
    --sources) SOURCES=$2; shift 2 ;;
    --latency-ms) LATENCY_MS=$2; shift 2 ;;
    --in-flight) IN_FLIGHT=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --soak-minutes) SOAK_MINUTES=$2; shift 2 ;;
    --soak-age-minutes) SOAK_AGE_MINUTES=$2; shift 2 ;;
    --soak-interval) SOAK_INTERVAL=$2; shift 2 ;;
    --soak-in-flight) SOAK_IN_FLIGHT=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --wait-idle) WAIT_IDLE=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage 2 ;;
  esac
done
[[ $SOURCES =~ ^[0-9]+$ && $SOURCES -ge 1 ]] || { echo "run.sh: --sources must be >= 1" >&2; exit 2; }
for m in "$SOAK_MINUTES" "$SOAK_AGE_MINUTES"; do
  [[ $m =~ ^[0-9]+([.][0-9]+)?$ ]] ||
    { echo "run.sh: '$m' is not a number of minutes (--soak-minutes, --soak-age-minutes)" >&2; exit 2; }
done
[[ $SOAK_MINUTES =~ ^0+([.]0+)?$ ]] && SOAK_MINUTES=0
[[ $SOAK_AGE_MINUTES =~ ^0+([.]0+)?$ ]] && SOAK_AGE_MINUTES=0

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
LOG=$OUT/logs
rm -rf "$LOG"
mkdir -p "$LOG"
say() { printf '%s\n' "$*" >&2; }
now_s() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.3f", b - a }'; }

# busy: percent of all CPU time spent outside idle/iowait over the next second.
busy() {
  local a b total=0 idle i
  read -r -a a < <(head -n 1 /proc/stat)
  sleep 1
  read -r -a b < <(head -n 1 /proc/stat)
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  idle=$(( b[4] - a[4] + b[5] - a[5] ))
  echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}

# ---- build ---------------------------------------------------------------------
say "run.sh: building host and sdp-worker (Release) in $BUILD"
if ! { cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release &&
       cmake --build "$BUILD" --target host sdp-worker -j"$(nproc)"; } > "$LOG/build.log" 2>&1; then
  say "run.sh: the build failed:"; tail -n 30 "$LOG/build.log" >&2; exit 2
fi
HOST=$BUILD/bin/host

if [ "$WAIT_IDLE" -gt 0 ]; then
  deadline=$(( $(date +%s) + WAIT_IDLE ))
  while pct=$(busy) && [ "$pct" -gt 10 ] && [ "$(date +%s)" -lt $deadline ]; do
    say "run.sh: machine ${pct}% busy, waiting for it to be idle"
    sleep 9
  done
fi
BUSY_BEFORE=$(busy)
[ "$BUSY_BEFORE" -gt 10 ] &&
  say "run.sh: warning: the machine is ${BUSY_BEFORE}% busy with other work; figures will be skewed"

# ---- the fixture site ------------------------------------------------------------
rm -f "$OUT/port" "$OUT/expected.json"
"$PY" "$HERE/fixture_server.py" --port 0 --latency-ms "$LATENCY_MS" --sources "$SOURCES" \
  --port-file "$OUT/port" --manifest "$OUT/expected.json" --stats-file "$LOG/server-stats.json" \
  > "$LOG/server.out" 2> "$LOG/server.err" &
SERVER=$!
cleanup() {
  if kill -0 "$SERVER" 2>/dev/null; then
    kill -INT "$SERVER" 2>/dev/null
    wait "$SERVER" 2>/dev/null
  fi
}
trap cleanup EXIT
for _ in $(seq 1 600); do
  [ -s "$OUT/port" ] && break
  kill -0 "$SERVER" 2>/dev/null || break
  sleep 0.1
done
[ -s "$OUT/port" ] || { say "run.sh: the fixture server did not start:"; cat "$LOG/server.err" >&2; exit 2; }
PORT=$(cat "$OUT/port")
BASE=http://127.0.0.1:$PORT
say "run.sh: fixture site $BASE/s/1 .. /s/$SOURCES, ${LATENCY_MS} ms latency per response"

# ---- the store: SOURCES real sources, each with an active parser version ------------
TEMPLATE=$OUT/store-template
rm -rf "$TEMPLATE"
H=("$HOST" --data "$TEMPLATE")
for kv in fetch.allow_private=true fetch.min_delay=0 fetch.max_per_host=64 fetch.retries=0; do
  "${H[@]}" config set "${kv%%=*}" "${kv#*=}" >> "$LOG/setup.log" 2>&1 ||
    { say "run.sh: host config set $kv failed:"; tail -n 5 "$LOG/setup.log" >&2; exit 2; }
done
# One `host add` per source (it checks that the parser loads, in a sandbox), two at a time.
t0=$(now_s)
# shellcheck disable=SC2016  # $0..$4 are sh -c's arguments
for ((i = 1; i <= SOURCES; i++)); do printf 's%04d %s/s/%d\n' "$i" "$BASE" "$i"; done |
  xargs -P 2 -n 2 sh -c '"$0" --data "$1" add "$4" --name "$3" --parser "$2" > /dev/null' \
    "$HOST" "$TEMPLATE" "$HERE/listing.lua" 2>> "$LOG/setup.log"
SETUP_S=$(since "$t0")
ADDED=$("${H[@]}" status --json 2> /dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["totals"]["sources"])')
[ "$ADDED" = "$SOURCES" ] ||
  { say "run.sh: only ${ADDED:-0} of $SOURCES sources were added:"; tail -n 5 "$LOG/setup.log" >&2; exit 2; }
say "run.sh: $SOURCES sources added with 'host add' in $(printf '%.1f' "$SETUP_S") s"

# verify_status NAME DIR: host verify and host status on a store, timed, into NAME.*.
verify_status() {
  local name=$1 dir=$2 t0 rc
  t0=$(now_s); "$HOST" --data "$dir" verify > "$LOG/$name.verify" 2>&1; rc=$?
  printf '{"rc": %d, "s": %s}\n' "$rc" "$(since "$t0")" > "$LOG/$name.verify.json"
  t0=$(now_s); "$HOST" --data "$dir" status --json > "$LOG/$name.status.json" 2> "$LOG/$name.status.err"; rc=$?
  printf '{"rc": %d, "s": %s}\n' "$rc" "$(since "$t0")" > "$LOG/$name.status.rc.json"
}

# host run watches a drop-in directory (and starts a one-worker sandbox for it); an empty one
# keeps the repository's scripts/ out of the benchmark.
SCRIPTS=$OUT/scripts-empty
rm -rf "$SCRIPTS"
mkdir -p "$SCRIPTS"

# ---- drain: host run --once, for each in-flight value ------------------------------------
for n in $IN_FLIGHT; do
  dir=$OUT/store-once-$n
  rm -rf "$dir"
  cp -a "$TEMPLATE" "$dir"
  say "run.sh: host run --once --workers $WORKERS --in-flight $n over $SOURCES sources"
  "$PY" "$HERE/drive.py" once --host "$HOST" --data "$dir" --scripts "$SCRIPTS" \
    --workers "$WORKERS" --in-flight "$n" --log "$LOG/once-$n.log" --json "$LOG/once-$n.json" ||
    { say "run.sh: drive.py failed"; exit 2; }
  verify_status "once-$n" "$dir"
done

# ---- soak ------------------------------------------------------------------------
if [ "$SOAK_MINUTES" != 0 ]; then
  dir=$OUT/store-soak
  rm -rf "$dir"
  cp -a "$TEMPLATE" "$dir"
  "$HOST" --data "$dir" config set source.interval "$SOAK_INTERVAL" >> "$LOG/setup.log" 2>&1 ||
    { say "run.sh: host config set source.interval $SOAK_INTERVAL failed"; exit 2; }
  if [ "$SOAK_AGE_MINUTES" != 0 ]; then
    # An unjudged run that fills the store as use does: runs, history, metrics and superseded
    # records, and B-trees of their working depth. 10 minutes are about 300,000 extractions,
    # two weeks of 1,000 sources extracted hourly.
    say "run.sh: ageing the soak's store: host run --workers $WORKERS --in-flight $SOAK_IN_FLIGHT" \
        "for $SOAK_AGE_MINUTES min, then a new host process for the soak"
    "$PY" "$HERE/drive.py" soak --host "$HOST" --data "$dir" --scripts "$SCRIPTS" \
      --workers "$WORKERS" --in-flight "$SOAK_IN_FLIGHT" --minutes "$SOAK_AGE_MINUTES" \
      --log "$LOG/age.log" --json "$LOG/age.json" || { say "run.sh: drive.py failed"; exit 2; }
  fi
  say "run.sh: soak: host run --workers $WORKERS --in-flight $SOAK_IN_FLIGHT for $SOAK_MINUTES min" \
      "(source.interval $SOAK_INTERVAL), RSS sampled every 2 s"
  "$PY" "$HERE/drive.py" soak --host "$HOST" --data "$dir" --scripts "$SCRIPTS" \
    --workers "$WORKERS" --in-flight "$SOAK_IN_FLIGHT" --minutes "$SOAK_MINUTES" --log "$LOG/soak.log" \
    --json "$LOG/soak.json" || { say "run.sh: drive.py failed"; exit 2; }
  verify_status soak "$dir"
fi
BUSY_AFTER=$(busy)
cleanup
trap - EXIT

# ---- report ---------------------------------------------------------------------
"$PY" "$HERE/report.py" --log "$LOG" --out "$OUT" --sources "$SOURCES" --latency-ms "$LATENCY_MS" \
  --workers "$WORKERS" --in-flight "$IN_FLIGHT" --soak-minutes "$SOAK_MINUTES" --soak-age-minutes "$SOAK_AGE_MINUTES" \
  --soak-interval "$SOAK_INTERVAL" --soak-in-flight "$SOAK_IN_FLIGHT" --setup-s "$SETUP_S" \
  --busy "$BUSY_BEFORE" "$BUSY_AFTER"
