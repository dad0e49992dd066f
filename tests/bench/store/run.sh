#!/bin/sh
# Builds store_bench in Release and runs it: the LMDB store against SQLite
# (WAL, synchronous=FULL) on the host's workload, printed side by side with
# the ratios and the targets.
#
#   tests/bench/store/run.sh [--wait-idle SECONDS] [--scale F] [--dir DIR]
#
# --wait-idle waits (at most SECONDS) for the machine to be idle first: a
#   build or another benchmark running beside it skews every figure.
# --scale F shrinks the workload (0.1 for a quick run); --dir DIR is where
#   the data goes (default: the temporary directory; about 2.7 GB per store
#   at full scale, deleted afterwards). BUILD_DIR overrides the build tree.
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
[ "$wait_idle" -gt 0 ] && echo "machine busy: $(busy)% of CPU before the run (waited ${waited}s)"

exec "$build/bin/store_bench" "$@"
