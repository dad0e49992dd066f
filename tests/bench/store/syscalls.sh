#!/bin/sh
# Runs store_bench under strace and counts, for the per-page figure only
# (one durable transaction per 100 KiB page), each engine's write and sync
# calls per commit and the time spent in them:
#
#   tests/bench/store/syscalls.sh [store_bench arguments]
#
# e.g. `--pages-only --dir /var/tmp` (fresh stores, seconds) or
# `--scale 0.2` (the figure on an aged store, a minute or two). Calls are
# grouped by file and descriptor: LMDB writes its meta page through a
# second, O_DSYNC descriptor on data.mdb, so each such write is a device
# flush although it is no sync call. strace slows every call down: read the
# counts, and the times only against each other. BUILD_DIR as for run.sh.
set -eu
command -v strace >/dev/null || { echo "syscalls.sh: strace is not installed" >&2; exit 1; }
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target store_bench -j"$(nproc)" >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
strace -f --seccomp-bpf -T -y -o "$work/trace" \
  -e trace=write,pwrite64,writev,pwritev,pwritev2,fsync,fdatasync,msync,sync_file_range \
  "$build/bin/store_bench" "$@" | tee "$work/bench"

commits=$(sed -n 's/^one transaction per page: \([0-9]*\) pages.*/\1/p' "$work/bench")
echo
echo "system calls per commit while the per-page figure ran ($commits commits per engine)"
# The phase starts when the bench prints its progress line and ends at its
# next write to stdout (the figure's table).
awk -v commits="$commits" '
  /^[0-9]+ +write\(1</ { if (on) exit; if (/one page per transaction/) on = 1; next }
  !on || !/ = [0-9]+ <[0-9.]+>$/ { next }
  {
    line = $0; sub(/^[0-9]+ +/, "", line)
    name = line; sub(/\(.*/, "", name)
    fd = line; sub(/^[^(]*\(/, "", fd); sub(/<.*/, "", fd)
    file = line; sub(/^[^<]*</, "", file); sub(/>.*/, "", file)
    n = split(file, parts, "/")
    file = parts[n - 1] ~ /^store-bench-/ ? parts[n] : parts[n - 1] "/" parts[n]
    t = line; sub(/.*</, "", t); sub(/>$/, "", t)
    key = sprintf("%-10s %-28s", name, file " (fd " fd ")")
    calls[key]++; secs[key] += t
  }
  END {
    printf "%-10s %-28s %12s %12s %10s\n", "call", "file", "calls/commit", "ms/commit", "ms/call"
    for (k in calls) {
      printf "%s %12.2f %12.3f %10.3f\n", k, calls[k] / commits, secs[k] * 1000 / commits,
             secs[k] * 1000 / calls[k]
    }
  }' "$work/trace" | sort -k2,2 -k1,1
