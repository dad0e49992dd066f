#!/usr/bin/env bash
# Times the operator commands over a large fleet: builds host and
# status_bench_store (Release), makes a store with 10,000 sources (health
# rows in mixed states, an active version each) and 100,000 tasks, then runs
# each command 5 times and prints the best wall time against its target:
# host status under 50 ms, the queue commands under 1 s.
#
#   tests/bench/status/run.sh [--wait-idle SECONDS] [--sources N] [--tasks N] [--dir DIR]
#
# The times include starting the process: 'host --version' is printed first
# as that floor, and the last column is each time minus it.
# --wait-idle waits (at most SECONDS) for the machine to be idle first.
# --dir DIR is where the store goes (default: a temporary directory, deleted
# afterwards). BUILD_DIR overrides the build tree (default build-bench).
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}

wait_idle=0
sources=10000
tasks=100000
dir=
while [ $# -gt 0 ]; do
  case $1 in
    --wait-idle) wait_idle=$2; shift 2 ;;
    --sources) sources=$2; shift 2 ;;
    --tasks) tasks=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    *) echo "usage: $0 [--wait-idle SECONDS] [--sources N] [--tasks N] [--dir DIR]" >&2; exit 2 ;;
  esac
done

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target host status_bench_store -j"$(nproc)" >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
data=${dir:-$tmp}/status-bench-store
rm -rf "$data"
"$build/bin/status_bench_store" "$data" --sources "$sources" --tasks "$tasks"
host="$build/bin/host"

# Percent of CPU time not idle over the next second.
busy() {
  set -- $(head -n 1 /proc/stat)
  t1=$(($2 + $3 + $4 + $5 + $6 + $7 + $8)); i1=$(($5 + $6))
  sleep 1
  set -- $(head -n 1 /proc/stat)
  t2=$(($2 + $3 + $4 + $5 + $6 + $7 + $8)); i2=$(($5 + $6))
  echo $((100 * ((t2 - t1) - (i2 - i1)) / (t2 - t1 + 1)))
}
waited=0
while [ "$waited" -lt "$wait_idle" ] && [ "$(busy)" -gt 15 ]; do
  waited=$((waited + 1))
done
echo "machine busy: $(busy)% of CPU before the run (waited ${waited}s; $(nproc) CPUs)"

# ms MICROSECONDS: "12.3"
ms() {
  if [ "$1" -lt 0 ]; then
    printf -- '-%s' "$(ms $((-$1)))"
  else
    printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100))
  fi
}

# bench TARGET_MS ARGS...: runs host ARGS 5 times; prints the best time.
floor=0
bench() {
  target=$1
  shift
  best=
  for _ in 1 2 3 4 5; do
    # bash's clock, not $(date): starting date would add its own few ms.
    # Digits only: the separator is the locale's (a comma in some).
    t0=${EPOCHREALTIME//[!0-9]/}
    "$host" --data "$data" "$@" >"$tmp/out" 2>"$tmp/err" || {
      echo "host $*: failed:" >&2
      cat "$tmp/err" >&2
      exit 1
    }
    t1=${EPOCHREALTIME//[!0-9]/}
    us=$((t1 - t0))
    if [ -z "$best" ] || [ "$us" -lt "$best" ]; then best=$us; fi
  done
  if [ "$target" -eq 0 ]; then
    floor=$best
    printf '%-44s %8s ms  %-10s %-4s %10s bytes\n' "host $*" "$(ms "$best")" "" "" \
      "$(wc -c <"$tmp/out")"
    return
  fi
  verdict=ok
  [ "$best" -ge $((target * 1000)) ] && verdict=SLOW
  printf '%-44s %8s ms  %-10s %-4s %10s bytes  %8s ms\n' "host $*" "$(ms "$best")" \
    "< $target ms" "$verdict" "$(wc -c <"$tmp/out")" "$(ms $((best - floor)))"
}

src=$(printf 'source-%05d' 42)
printf '\n%-44s %11s  %-10s %-4s %16s  %11s\n' "command (best of 5, wall)" "time" "target" "" \
  "output" "- floor"
bench 0 --version
bench 50 status
bench 50 status --json
bench 1000 tasks
bench 1000 tasks --json
bench 1000 tasks --json --limit 0
bench 1000 tasks --state all --limit 0
bench 1000 tasks --state FAILED
bench 1000 tasks --type repair
bench 1000 tasks --type repair --json --limit 0
bench 1000 tasks --source "$src" --state all
bench 1000 history "$src"
