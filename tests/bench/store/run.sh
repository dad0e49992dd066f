#!/bin/sh
# Builds store_bench in Release and runs it: the LMDB store against SQLite
# (WAL, synchronous=FULL) on the host's workload, printed side by side with
# the ratios and the targets.
#
#   tests/bench/store/run.sh [--wait-idle SECONDS] [--scale F] [--dir DIR]
#                            [--pages-only] [--preextend]
#
# --wait-idle waits (at most SECONDS) for the machine to be idle first: a
#   build or another benchmark running beside it skews every figure, and
#   any other process writing to the same disk skews the figures with one
#   commit per item (idle: under 15% CPU and under 20 disk writes a second).
# --scale F shrinks the workload (0.1 for a quick run); --dir DIR is where
#   the data goes (default: the temporary directory; about 2.7 GB per store
#   at full scale, deleted afterwards). --pages-only runs only the figure of
#   one transaction per page, on fresh stores; --preextend is an experiment
#   (see store_bench.cc). BUILD_DIR overrides the build tree.
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}

wait_idle=0
if [ "${1:-}" = "--wait-idle" ]; then
  wait_idle=$2
  shift 2
fi

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target store_bench -j"$(nproc)"

# The disk that will hold the data: its counters, field 5 = writes completed.
dir=$(fs=${TMPDIR:-/tmp}; while [ $# -gt 0 ]; do [ "$1" = --dir ] && fs=$2; shift; done; echo "$fs")
disk=/sys/dev/block/$(stat -c '%Hd:%Ld' "$dir" 2>/dev/null)/stat
[ -r "$disk" ] || disk=/dev/null

# Percent of CPU time not idle and disk writes completed over the next second.
busy() {
  set -- $(head -n 1 /proc/stat)
  t1=$(($2 + $3 + $4 + $5 + $6 + $7 + $8)); i1=$(($5 + $6))
  w1=$(awk 'END { print $5 + 0 }' "$disk")
  sleep 1
  set -- $(head -n 1 /proc/stat)
  t2=$(($2 + $3 + $4 + $5 + $6 + $7 + $8)); i2=$(($5 + $6))
  w2=$(awk 'END { print $5 + 0 }' "$disk")
  echo $((100 * ((t2 - t1) - (i2 - i1)) / (t2 - t1 + 1))) $((w2 - w1))
}
idle() { set -- $(busy); [ "$1" -le 15 ] && [ "$2" -lt 20 ]; }
waited=0
while [ "$waited" -lt "$wait_idle" ] && ! idle; do
  waited=$((waited + 1))
done
if [ "$wait_idle" -gt 0 ]; then
  load=$(busy)
  echo "machine busy: ${load% *}% of CPU, ${load#* } disk writes/s before the run" \
    "(waited ${waited}s)"
fi

exec "$build/bin/store_bench" "$@"
