#!/usr/bin/env bash
# The parse benchmark: `host parse` against a C tree walk on libxml2 and
# against Python lxml + cssselect, on one core and on two. See README.md.
#
#   bash tests/bench/parse/run.sh [--pages N] [--repeat N] [--seed S] [--out DIR]
#                                 [--host PATH] [--url URL] [--rebuild] [--wait-idle SECONDS]
#
# Exit status: 0 when every output matches the truth and every target is met;
# 1 when an output is wrong, a run fails or a target is missed; 2 when `host parse` is
# unavailable (the other extractors are still run and reported).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
PY=/usr/bin/python3            # Debian's python: has python3-lxml and python3-cssselect

PAGES=1000
REPEAT=3
SEED=20240601
OUT=$ROOT/tests/bench/out/parse
HOST=$ROOT/build/bin/host
# All pages live in /catalogue/ and no href is query- or fragment-only, so any
# page URL there resolves every card's href to its true URL.
HOST_URL=https://shop.example.test/catalogue/page-1.html
REBUILD=0
SANDBOX_PAGES=2000

WAIT_IDLE=0

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case $1 in
    --pages) PAGES=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --host) HOST=$2; shift 2 ;;
    --url) HOST_URL=$2; shift 2 ;;
    --rebuild) REBUILD=1; shift ;;
    --wait-idle) WAIT_IDLE=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage 2 ;;
  esac
done
[[ $PAGES =~ ^[0-9]+$ && $PAGES -ge 2 ]] || { echo "run.sh: --pages must be >= 2" >&2; exit 2; }
[[ $REPEAT =~ ^[0-9]+$ && $REPEAT -ge 1 ]] || { echo "run.sh: --repeat must be >= 1" >&2; exit 2; }

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
LOG=$OUT/logs
mkdir -p "$LOG"
RESULTS=$OUT/results.tsv
: > "$RESULTS"
say() { printf '%s\n' "$*" >&2; }

# busy: percent of all CPU time spent outside idle/iowait over the next second
# (someone else's build running beside the benchmark skews every figure).
busy() {
  local a b
  read -r -a a < <(head -n 1 /proc/stat)
  sleep 1
  read -r -a b < <(head -n 1 /proc/stat)
  local total=0 idle i
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  idle=$(( b[4] - a[4] + b[5] - a[5] ))
  echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}

# ---- tools -------------------------------------------------------------------
need_pkgs=()
[ -x /usr/bin/time ] || need_pkgs+=(time)
command -v taskset >/dev/null || need_pkgs+=(util-linux)
command -v gcc >/dev/null || need_pkgs+=(gcc)
pkg-config --exists libxml-2.0 2>/dev/null || need_pkgs+=(pkg-config libxml2-dev)
"$PY" -c 'import lxml.html, lxml.cssselect, cssselect' 2>/dev/null || need_pkgs+=(python3-lxml python3-cssselect)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  say "run.sh: installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"; } \
    > "$LOG/apt.log" 2>&1 || { say "run.sh: apt-get failed, see $LOG/apt.log"; exit 2; }
fi
CPUS=$(nproc)
if [ "$CPUS" -lt 2 ]; then
  say "run.sh: needs two cores for the two-core runs (nproc says $CPUS)"
  exit 2
fi

# ---- the project (Release) -----------------------------------------------------
host_note=""
if [ "$HOST" = "$ROOT/build/bin/host" ]; then
  if [ ! -f "$ROOT/build/CMakeCache.txt" ]; then
    say "run.sh: configuring $ROOT/build (Release)"
    cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=Release > "$LOG/cmake.log" 2>&1 ||
      host_note="cmake configure failed (see $LOG/cmake.log)"
  fi
  if [ -z "$host_note" ] && { [ ! -x "$HOST" ] || [ $REBUILD = 1 ]; }; then
    say "run.sh: building the project"
    cmake --build "$ROOT/build" -j2 > "$LOG/build.log" 2>&1 ||
      host_note="build failed (see $LOG/build.log)"
  fi
  build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$ROOT/build/CMakeCache.txt" 2>/dev/null)
  if [ -n "$build_type" ] && [ "$build_type" != Release ]; then
    say "run.sh: warning: $ROOT/build is a '$build_type' build, not Release; host figures may be off"
  fi
fi

# ---- walk.c --------------------------------------------------------------------
WALK=$OUT/walk
if [ ! -x "$WALK" ] || [ "$HERE/walk.c" -nt "$WALK" ]; then
  # shellcheck disable=SC2046
  gcc -O2 -Wall -o "$WALK" "$HERE/walk.c" $(pkg-config --cflags --libs libxml-2.0) \
    > "$LOG/walk-build.log" 2>&1 || { say "run.sh: walk.c does not build:"; cat "$LOG/walk-build.log" >&2; exit 2; }
fi

# ---- corpora -------------------------------------------------------------------
CORPUS=$OUT/corpus-$PAGES-$SEED
if ! "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d["pages"]!=int(sys.argv[2]))' \
     "$CORPUS/corpus.json" "$PAGES" 2>/dev/null; then
  rm -rf "$CORPUS"
  "$PY" "$HERE/gen_corpus.py" --pages "$PAGES" --seed "$SEED" --out "$CORPUS.tmp" || exit 2
  mv "$CORPUS.tmp" "$CORPUS"
fi
TRUTH=$CORPUS/truth.jsonl
MANIFEST=$CORPUS/manifest.tsv
mapfile -t ALL < <(for ((i = 1; i <= PAGES; i++)); do echo "$CORPUS/page-$i.html"; done)
mapfile -t ODD < <(for ((i = 1; i <= PAGES; i += 2)); do echo "$CORPUS/page-$i.html"; done)
mapfile -t EVEN < <(for ((i = 2; i <= PAGES; i += 2)); do echo "$CORPUS/page-$i.html"; done)
printf '%s\n' "${ODD[@]}" > "$OUT/half1.list"
printf '%s\n' "${EVEN[@]}" > "$OUT/half2.list"
BYTES=$(cat "${ALL[@]}" | wc -c)       # also warms the page cache
RECORDS=$(wc -l < "$TRUTH")

TINY=$OUT/tiny-$SANDBOX_PAGES
if [ ! -f "$TINY/page-$SANDBOX_PAGES.html" ]; then
  mkdir -p "$TINY"
  "$PY" - "$TINY" "$SANDBOX_PAGES" <<'EOF'
import sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(1, n + 1):
    with open(f"{d}/page-{i}.html", "w") as f:
        f.write(f"<!DOCTYPE html><html><head><title>t{i}</title></head><body><p>page {i}</p></body></html>\n")
EOF
fi
mapfile -t TINY_ALL < <(for ((i = 1; i <= SANDBOX_PAGES; i++)); do echo "$TINY/page-$i.html"; done)
cat "${TINY_ALL[@]}" > /dev/null

if [ "$WAIT_IDLE" -gt 0 ]; then
  deadline=$(( $(date +%s) + WAIT_IDLE ))
  while b=$(busy) && [ "$b" -gt 10 ] && [ "$(date +%s)" -lt $deadline ]; do
    say "run.sh: machine ${b}% busy, waiting for it to be idle"
    sleep 9
  done
fi
BUSY_BEFORE=$(busy)
[ "$BUSY_BEFORE" -gt 10 ] &&
  say "run.sh: warning: the machine is ${BUSY_BEFORE}% busy with other work; figures will be skewed"
say "run.sh: corpus $CORPUS: $PAGES pages, $BYTES bytes, $RECORDS records; best of $REPEAT runs each"

# ---- measuring -------------------------------------------------------------------
# The runs go in rounds (every extractor once per round, REPEAT rounds) and
# each extractor's best round counts, so a burst of other work on the machine
# spoils one round of everything rather than all the runs of one extractor.
CLK_TCK=$(getconf CLK_TCK)

nonidle_ticks() {   # CPU ticks spent outside idle and iowait, all CPUs
  local c
  read -r -a c < /proc/stat
  echo $(( c[1] + c[2] + c[3] + c[6] + c[7] + c[8] ))
}

# measure_once NAME ROUND CPUS OUTFILE CMD...: runs CMD pinned to CPUS with its
# stdout to OUTFILE (round 1) or a scratch file (later rounds), and appends
# "run NAME ROUND CPUS wall_us peak_rss_kb cpu_s others_cpu_s exit" to
# results.tsv. peak_rss_kb is the largest single process in the tree (what
# getrusage reports); others_cpu_s is the CPU time the rest of the machine used
# meanwhile. A failing run's stderr is kept as logs/NAME.failed-roundN.stderr.
measure_once() {
  local name=$1 round=$2 cpus=$3 outfile=$4; shift 4
  local dest=$outfile
  [ "$round" -gt 1 ] && dest=$LOG/$name.rerun
  local k0 k1 t0 t1 rc m u s
  k0=$(nonidle_ticks)
  t0=$(date +%s%N)
  /usr/bin/time -f '%M %U %S' -o "$LOG/$name.time" taskset -c "$cpus" "$@" > "$dest" 2> "$LOG/$name.stderr"
  rc=$?
  t1=$(date +%s%N)
  k1=$(nonidle_ticks)
  [ $rc -ne 0 ] && cp "$LOG/$name.stderr" "$LOG/$name.failed-round$round.stderr"
  read -r m u s < <(tail -n 1 "$LOG/$name.time")
  [[ $m =~ ^[0-9]+$ ]] || m=0
  rm -f "$LOG/$name.rerun"
  awk -v n="$name" -v r="$round" -v c="$cpus" -v w=$(( (t1 - t0) / 1000 )) -v m="$m" -v u="${u:-0}" \
      -v s="${s:-0}" -v k=$(( k1 - k0 )) -v hz="$CLK_TCK" -v rc=$rc 'BEGIN {
    o = k / hz - (u + s); if (o < 0) o = 0
    printf "run\t%s\t%s\t%s\t%d\t%d\t%.2f\t%.2f\t%d\n", n, r, c, w, m, u + s, o, rc }' >> "$RESULTS"
  return $rc
}

# check NAME OUTFILE: compares with the truth; records OK/MISMATCH.
check() {
  local name=$1 file=$2
  if "$PY" "$HERE/check.py" "$TRUTH" "$file" --manifest "$MANIFEST" --label "$name" > "$LOG/$name.check" 2>&1; then
    printf 'check\t%s\tOK\n' "$name" >> "$RESULTS"
  else
    printf 'check\t%s\tMISMATCH\n' "$name" >> "$RESULTS"
  fi
  sed 's/^/  /' "$LOG/$name.check" >&2
}

two_walks() {   # the C walk as two processes over the two halves
  local o=$1
  mapfile -t a < "$OUT/half1.list"
  mapfile -t b < "$OUT/half2.list"
  "$WALK" --manifest "$MANIFEST" "${a[@]}" > "$o.1" & local p1=$!
  "$WALK" --manifest "$MANIFEST" "${b[@]}" > "$o.2" & local p2=$!
  local rc=0
  wait $p1 || rc=1
  wait $p2 || rc=1
  return $rc
}
export -f two_walks
export WALK MANIFEST OUT

# ---- is host parse there? ---------------------------------------------------------------
host_ok=0
if [ -z "$host_note" ]; then
  if [ ! -x "$HOST" ]; then
    host_note="$HOST is not built"
  elif ! help=$("$HOST" parse --help 2>&1) || ! grep -qi parse <<< "$help"; then
    host_note="'host parse --help' does not work yet"
  elif ! taskset -c 0 "$HOST" parse "$HERE/parser.lua" "${ALL[@]:0:3}" --url "$HOST_URL" --jobs 1 \
         > "$LOG/host_smoke.jsonl" 2> "$LOG/host_smoke.stderr"; then
    host_note="'host parse' failed on 3 pages: $(head -c 300 "$LOG/host_smoke.stderr")"
  elif [ ! -s "$LOG/host_smoke.jsonl" ]; then
    host_note="'host parse' printed no records for 3 pages (see $LOG/host_smoke.stderr)"
  else
    host_ok=1
  fi
fi
[ $host_ok = 1 ] || say "run.sh: host parse is UNAVAILABLE: $host_note"

# run_job NAME ROUND: one timed run of one extractor.
run_job() {
  local name=$1 r=$2
  case $name in
    parse_only) measure_once "$name" "$r" 0 /dev/null "$WALK" --parse-only "${ALL[@]}" ;;
    walk_1) measure_once "$name" "$r" 0 "$OUT/walk.jsonl" "$WALK" --manifest "$MANIFEST" "${ALL[@]}" ;;
    lxml_1) measure_once "$name" "$r" 0 "$OUT/lxml.jsonl" \
              "$PY" "$HERE/lxml_extract.py" --manifest "$MANIFEST" "${ALL[@]}" ;;
    lxml_percall_1) measure_once "$name" "$r" 0 "$OUT/lxml_percall.jsonl" \
              "$PY" "$HERE/lxml_extract.py" --per-call --manifest "$MANIFEST" "${ALL[@]}" ;;
    walk_2) measure_once "$name" "$r" 0,1 /dev/null bash -c 'two_walks "$OUT/walk2.jsonl"' &&
              { [ "$r" -gt 1 ] || cat "$OUT/walk2.jsonl.1" "$OUT/walk2.jsonl.2" > "$OUT/walk2.jsonl"; } ;;
    host_1) measure_once "$name" "$r" 0 "$OUT/host.jsonl" \
              "$HOST" parse "$HERE/parser.lua" "${ALL[@]}" --url "$HOST_URL" --jobs 1 ;;
    host_2) measure_once "$name" "$r" 0,1 "$OUT/host2.jsonl" \
              "$HOST" parse "$HERE/parser.lua" "${ALL[@]}" --url "$HOST_URL" --jobs 2 ;;
    sandbox_n) measure_once "$name" "$r" 0 "$LOG/sandbox_n.jsonl" \
              "$HOST" parse "$HERE/trivial.lua" "${TINY_ALL[@]}" --url "$HOST_URL" --jobs 1 ;;
    sandbox_1) measure_once "$name" "$r" 0 "$LOG/sandbox_1.jsonl" \
              "$HOST" parse "$HERE/trivial.lua" "${TINY_ALL[0]}" --url "$HOST_URL" --jobs 1 ;;
  esac
}

JOBS=(parse_only walk_1 lxml_1 lxml_percall_1 walk_2)
[ $host_ok = 1 ] && JOBS+=(host_1 host_2 sandbox_n sandbox_1 sandbox_1 sandbox_1)
rm -f "$LOG"/*.failed-round*.stderr
for ((r = 1; r <= REPEAT; r++)); do
  say "run.sh: round $r of $REPEAT: ${JOBS[*]}"
  for job in "${JOBS[@]}"; do
    run_job "$job" "$r" || say "  $job exited non-zero: $(head -c 300 "$LOG/$job.stderr")"
  done
  if [ "$r" = 1 ]; then
    check walk_1 "$OUT/walk.jsonl"
    check lxml_1 "$OUT/lxml.jsonl"
    check lxml_percall_1 "$OUT/lxml_percall.jsonl"
    check walk_2 "$OUT/walk2.jsonl"
    if [ $host_ok = 1 ]; then
      check host_1 "$OUT/host.jsonl"
      check host_2 "$OUT/host2.jsonl"
    fi
  fi
done
[ $host_ok = 1 ] || printf 'host_unavailable\t%s\n' "${host_note:-unknown}" >> "$RESULTS"
printf 'busy\t%s\t%s\n' "$BUSY_BEFORE" "$(busy)" >> "$RESULTS"

# ---- report ---------------------------------------------------------------------------
"$PY" - "$RESULTS" "$PAGES" "$BYTES" "$RECORDS" "$REPEAT" "$SANDBOX_PAGES" "$OUT" <<'EOF'
import json, sys
results, pages, nbytes, records, repeat, sandbox_pages, out = sys.argv[1:8]
pages, nbytes, records, sandbox_pages = int(pages), int(nbytes), int(records), int(sandbox_pages)
runs, checks, unavailable, busy = {}, {}, None, None
for line in open(results):
    f = line.rstrip("\n").split("\t")
    if f[0] == "check":
        checks[f[1]] = f[2]
    elif f[0] == "host_unavailable":
        unavailable = f[1]
    elif f[0] == "busy":
        busy = (int(f[1]), int(f[2]))
    elif f[0] == "run":
        name, rnd, cpus, wall, rss, cpu, others, rc = f[1], int(f[2]), f[3], int(f[4]) / 1e6, \
            int(f[5]), float(f[6]), float(f[7]), int(f[8])
        r = runs.setdefault(name, {"cpus": cpus, "wall": None, "rss_kb": 0, "rc": 0, "rounds": []})
        r["rounds"].append({"round": rnd, "wall": wall, "cpu": cpu, "others_cpu": others, "rc": rc})
        r["rss_kb"] = max(r["rss_kb"], rss)
        if rc:
            r["rc"] = rc
        if r["wall"] is None or wall < r["wall"]:
            r.update(wall=wall, cpu=cpu, others_cpu=others)

def ok(name):
    """Timed: it ran, even if some run exited non-zero (shown as FAILED)."""
    r = runs.get(name)
    return r is not None and bool(r["wall"])

rows = [("parse_only", "libxml2 parse only (walk.c)", 1), ("walk_1", "C tree walk (walk.c)", 1),
        ("lxml_1", "Python lxml + cssselect", 1), ("lxml_percall_1", "  same, el.cssselect() per call", 1),
        ("host_1", "host parse --jobs 1", 1),
        ("walk_2", "C walk, 2 processes", 2), ("host_2", "host parse --jobs 2", 2)]
print()
print(f"Parse benchmark: {pages} pages, {nbytes / 1e6:.1f} MB, {records} records; best of {repeat} rounds;")
print("one core = taskset -c 0, two cores = taskset -c 0,1; RSS MB = peak of the largest single process;")
print("other = CPU the rest of the machine used during that run, in cores (should be ~0%)")
print()
print(f"{'extractor':<32} {'cores':>5} {'wall s':>7} {'cpu s':>6} {'other':>6} {'pages/s':>8} {'MB/s':>6} {'RSS MB':>7}  check")
noisy = []
for key, label, cores in rows:
    r = runs.get(key)
    if r is None:
        print(f"{label:<32} {cores:>5} {'-':>7} {'-':>6} {'-':>6} {'-':>8} {'-':>6} {'-':>7}  unavailable")
        continue
    if not ok(key):
        print(f"{label:<32} {cores:>5} {'-':>7} {'-':>6} {'-':>6} {'-':>8} {'-':>6} {'-':>7}  FAILED (exit {r['rc']})")
        continue
    w = r["wall"]
    status = checks.get(key, "-") + (f", FAILED (exit {r['rc']})" if r["rc"] else "")
    other = r["others_cpu"] / w
    noisy.extend([label] if other > 0.10 else [])
    print(f"{label:<32} {cores:>5} {w:>7.2f} {r['cpu']:>6.2f} {other:>6.0%} {pages / w:>8.1f} "
          f"{nbytes / 1e6 / w:>6.1f} {r['rss_kb'] / 1024:>7.1f}  {status}")

if noisy or (busy and max(busy) > 10):
    print(f"WARNING: other work ran beside the benchmark (machine {busy[0]}% busy before, {busy[1]}% after"
          + (f"; more than 10% of a core during: {', '.join(s.strip() for s in noisy)}" if noisy else "")
          + "); those figures are skewed: rerun on an idle machine (--wait-idle 600)")
print()
targets = []
def target(name, value, goal, passed, fmt):
    targets.append((name, value, goal, passed, fmt))

if ok("parse_only") and ok("walk_1"):
    print(f"libxml2 parsing is {runs['parse_only']['wall'] / runs['walk_1']['wall']:.0%} of the C walk's time")
if ok("walk_1") and ok("lxml_1"):
    print(f"C walk / lxml throughput, one core: {runs['lxml_1']['wall'] / runs['walk_1']['wall']:.2f}x"
          + (f" ({runs['lxml_percall_1']['wall'] / runs['walk_1']['wall']:.2f}x with el.cssselect() per call)"
             if ok("lxml_percall_1") else ""))
if ok("parse_only") and ok("lxml_1"):
    print(f"lxml / libxml2 parse alone, one core: {runs['lxml_1']['wall'] / runs['parse_only']['wall']:.2f}x"
          " (the most an extractor can reach that builds the tree with libxml2's own builder, as lxml does)")
walk_speedup = runs["walk_1"]["wall"] / runs["walk_2"]["wall"] if ok("walk_1") and ok("walk_2") else None
if walk_speedup:
    print(f"C walk two-core speed-up (2 processes): {walk_speedup:.2f}x")
print()
if unavailable:
    print(f"host parse UNAVAILABLE: {unavailable}")
summary = {"busy_percent_before_after": busy, "pages": pages, "bytes": nbytes, "records": records, "repeat": int(repeat),
           "runs": runs, "checks": checks, "host_unavailable": unavailable, "targets": {}}
if ok("host_1"):
    h1 = runs["host_1"]["wall"]
    if ok("walk_1"):
        v = runs["walk_1"]["wall"] / h1
        target("host / C walk throughput, one core", v, ">= 0.70", v >= 0.7, "{:.2f}x")
    if ok("lxml_1"):
        v = runs["lxml_1"]["wall"] / h1
        target("host / lxml throughput, one core", v, ">= 3.00", v >= 3.0, "{:.2f}x")
    if ok("lxml_percall_1"):
        v = runs["lxml_percall_1"]["wall"] / h1
        print(f"(for reference: host / lxml with el.cssselect() per call, one core: {v:.2f}x)")
    if ok("host_2") and walk_speedup:
        v = h1 / runs["host_2"]["wall"]
        target(f"host two-core speed-up (C walk {walk_speedup:.2f}x)", v, f">= {walk_speedup:.2f}x",
               v >= walk_speedup, "{:.2f}x")
    if ok("sandbox_n") and ok("sandbox_1"):
        print(f"(sandbox: {sandbox_pages} tiny pages in {runs['sandbox_n']['wall']:.3f} s, "
              f"one page in {runs['sandbox_1']['wall'] * 1e3:.1f} ms)")
        v = (runs["sandbox_n"]["wall"] - runs["sandbox_1"]["wall"]) / (sandbox_pages - 1) * 1e6
        target(f"fresh sandbox, per run ({sandbox_pages} tiny pages)", v, "< 1000 us", v < 1000,
               "{:.0f} us")
if targets:
    print(f"{'target':<48} {'value':>10} {'goal':>12}  result")
    for name, value, goal, passed, fmt in targets:
        print(f"{name:<48} {fmt.format(value):>10} {goal:>12}  {'PASS' if passed else 'FAIL'}")
        summary["targets"][name] = {"value": value, "goal": goal, "pass": passed}
bad_checks = [k for k, v in checks.items() if v != "OK"]
if bad_checks:
    print("outputs that do not match the truth: " + ", ".join(bad_checks))
with open(f"{out}/results.json", "w") as f:
    json.dump(summary, f, indent=2)
failed = bad_checks or any(not t[3] for t in targets) or any(
    not ok(k) or runs[k]["rc"] for k in runs)
code = 2 if unavailable else (1 if failed else 0)
print(f"\nresults: {out}/results.json; logs: {out}/logs; exit {code}")
sys.exit(code)
EOF
