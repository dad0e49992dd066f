#!/usr/bin/env python3
"""Prints the orchestrator benchmark's table from what run.sh left in logs/.

Writes OUT/results.json too. Exit status 0 when every target is met, else 1.
"""
import argparse
import json
import os
import re
import statistics
import sys


def load(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return default


def mib(kb):
    return f"{kb / 1024:.1f} MiB" if kb else "-"


def windows(s):
    """The minute after warm-up and the last minute of a soak's samples (None when too few).

    The host's own memory (RssAnon) is judged by each window's median: a single
    sample lands anywhere between bursts (64 pages in flight, results waiting
    for a commit), a swing of +-1 MiB, and the largest of a window measures the
    biggest burst it caught, not growth. Growth moves the median; a burst does
    not.
    """
    samples = s["samples"]
    warm = next((x for x in samples if x["t"] >= s["warmup_s"]), None)
    if warm is None:
        return None
    end = samples[-1]
    first = [x for x in samples if warm["t"] <= x["t"] < warm["t"] + 60] or [warm]
    last = [x for x in samples if x["t"] >= end["t"] - 60] or [end]
    return warm, end, first, last


def trend(s, key):
    """The least-squares line through every sample after warm-up: its values at
    the first and the last of them (None with fewer than 3). Unlike two windows,
    it does not depend on which minute happens to start or end the run."""
    xs = [x for x in s["samples"] if x["t"] >= s["warmup_s"]]
    if len(xs) < 3:
        return None
    slope, intercept = statistics.linear_regression([x["t"] for x in xs], [x[key] for x in xs])
    return intercept + slope * xs[0]["t"], intercept + slope * xs[-1]["t"]


def median(window, key):
    return statistics.median(x[key] for x in window)


def growth(a, b):
    return (b - a) / max(1, a) * 100


def pct(a, b):
    return f"{growth(a, b):+.1f}%"


def verify_figures(log, name):
    """(passed, silver records checked, first lines of a failure) of `host verify`."""
    rc = load(f"{log}/{name}.verify.json", {}).get("rc")
    try:
        text = open(f"{log}/{name}.verify").read()
    except FileNotFoundError:
        return False, None, "not run"
    m = re.search(r"checked (\d+) silver records", text)
    ok = rc == 0 and "the store is intact" in text
    return ok, int(m.group(1)) if m else None, "" if ok else " / ".join(text.strip().splitlines()[-3:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--sources", type=int, required=True)
    ap.add_argument("--latency-ms", type=float, required=True)
    ap.add_argument("--workers", type=int, required=True)
    ap.add_argument("--in-flight", required=True)
    ap.add_argument("--soak-minutes", type=float, required=True)
    ap.add_argument("--soak-age-minutes", type=float, default=0)
    ap.add_argument("--soak-interval", required=True)
    ap.add_argument("--soak-in-flight", type=int, required=True)
    ap.add_argument("--setup-s", type=float, required=True)
    ap.add_argument("--busy", type=int, nargs=2, required=True)
    a = ap.parse_args()
    log = a.log
    expected = load(f"{a.out}/expected.json", {})
    server = load(f"{log}/server-stats.json", {})
    rows = []          # (figure, measured, target, verdict or "")
    notes = []
    failed = []

    def row(figure, measured, target="", verdict=None):
        v = "" if verdict is None else ("PASS" if verdict else "FAIL")
        if verdict is False:
            failed.append(figure)
        rows.append((figure, measured, target, v))

    ceiling = 64 / (a.latency_ms / 1000) if a.latency_ms > 0 else float("inf")
    results = {"sources": a.sources, "latency_ms": a.latency_ms, "workers": a.workers,
               "setup_s": a.setup_s, "expected": expected, "server": server, "once": {}, "soak": None,
               "busy_percent_before_after": a.busy}

    for n in a.in_flight.split():
        r = load(f"{log}/once-{n}.json")
        p = f"drain, in-flight {n}:"
        if r is None:
            row(f"{p} run", "did not run", "", False)
            continue
        lg = r["log"]
        summary = lg.get("summary") or {}
        status = load(f"{log}/once-{n}.status.json", {})
        totals = status.get("totals", {})
        tasks = totals.get("tasks", {})
        v_ok, v_records, v_msg = verify_figures(log, f"once-{n}")
        pages = summary.get("pages", lg["ok"])
        failures = max(summary.get("failed", 0), lg["failed"], tasks.get("FAILED", 0))
        row(f"{p} exit code", str(r["exit_code"]), "0", r["exit_code"] == 0)
        row(f"{p} time to drain {a.sources} sources", f"{r['wall_s']:.1f} s", "(reported)")
        row(f"{p} pages/s", f"{pages / r['wall_s']:.0f}", f"(fetch ceiling {ceiling:.0f})")
        row(f"{p} sources extracted", str(lg["sources_extracted"]), f"= {a.sources}",
            lg["sources_extracted"] == a.sources)
        row(f"{p} failures", str(failures), "0", failures == 0)
        if expected.get("records") is not None:
            row(f"{p} records stored (silver)", str(v_records), f"= {expected['records']}",
                v_records == expected["records"])
        row(f"{p} host peak RSS", f"{mib(r['host_peak_kb'].get('VmHWM', 0))} "
            f"(anon {mib(r['host_peak_kb'].get('RssAnon', 0))})", "(reported)")
        w = r["workers"]
        row(f"{p} sdp-worker peak RSS", ", ".join(mib(x) for x in w["peak_rss_kb_each"]) +
            f" ({w['processes_seen']} processes)", f"{a.workers} + 1 drop-in processes",
            w["processes_seen"] == a.workers + 1)
        row(f"{p} CPU (host + workers)", f"{r['tree_cpu_s']:.1f} s, "
            f"{r['tree_cpu_s'] / r['wall_s'] * 100:.0f}% of one core", "(reported)")
        row(f"{p} host verify", "intact" if v_ok else f"FAILED: {v_msg}", "passes", v_ok)
        results["once"][n] = {"run": r, "status_totals": totals, "verify_ok": v_ok,
                              "records_stored": v_records, "pages_per_s": pages / r["wall_s"],
                              "failures": failures}

    age = load(f"{log}/age.json") if a.soak_minutes and a.soak_age_minutes else None
    if a.soak_minutes and a.soak_age_minutes and age is None:
        row("ageing the store: run", "did not run", "", False)
    if age is not None:
        # Not judged for memory: a store with nothing in it grows its B-trees,
        # free list and LMDB's write buffers in its first minutes, and the host's
        # heap with them (README.md). Judged for what every run must do.
        p = "ageing the store:"
        lg = age["log"]
        age_failures = max(lg["failed"], (lg.get("summary") or {}).get("failed", 0))
        row(f"{p} host run", f"{age['run_s'] / 60:.1f} min, {age['extracted_at_stop']} extractions "
            f"({age['extracted_at_stop'] / age['run_s']:.0f} pages/s)", f"{a.soak_age_minutes:g} min",
            not age["exited_by_itself"])
        row(f"{p} failures", str(age_failures), "0", age_failures == 0)
        w = windows(age)
        if w:
            _, _, first, last = w
            a0, a1 = median(first, "anon_kb"), median(last, "anon_kb")
            row(f"{p} host's own memory (RssAnon) from an empty store, "
                "median of the minute after warm-up -> last minute",
                f"{mib(a0)} -> {mib(a1)} ({pct(a0, a1)})", "(reported)")
        line = trend(age, "anon_kb")
        if line:
            row(f"{p}   RssAnon, least-squares line through every sample after warm-up",
                f"{mib(line[0])} -> {mib(line[1])} ({pct(*line)})", "(reported)")
        row(f"{p} SIGINT -> exit", f"exit {age['exit_code']}" + (" (killed)" if age["killed"] else ""),
            "exit 0", age["exit_code"] == 0 and not age["killed"])
        results["ageing"] = {"run": age, "failures": age_failures}

    s = load(f"{log}/soak.json") if a.soak_minutes else None
    if a.soak_minutes and s is None:
        row("soak: run", "did not run", "", False)
    if s is not None:
        p = "soak:"
        lg = s["log"]
        w = windows(s)
        warm, end = (w[0], w[1]) if w else (None, None)
        status = load(f"{log}/soak.status.json", {})
        status_rc = load(f"{log}/soak.status.rc.json", {})
        tasks = status.get("totals", {}).get("tasks", {})
        v_ok, v_records, v_msg = verify_figures(log, "soak")
        failures = max(lg["failed"], tasks.get("FAILED", 0), (lg.get("summary") or {}).get("failed", 0))
        row(f"{p} duration", f"{s['run_s'] / 60:.1f} min", f"{a.soak_minutes:g} min",
            not s["exited_by_itself"])
        if s["exited_by_itself"]:
            row(f"{p} host exited by itself (crash?)", f"exit {s['exit_code']}", "keeps running", False)
        row(f"{p} extractions", f"{s['extracted_at_stop']} "
            f"({lg['min_per_source']}-{lg['max_per_source']} per source)", "every source >= 2",
            lg["sources_extracted"] == a.sources and lg["min_per_source"] >= 2)
        row(f"{p} pages/s", f"{s['extracted_at_stop'] / s['run_s']:.0f}",
            f"(source.interval {a.soak_interval})")
        row(f"{p} failures", str(failures), "0", failures == 0)
        if warm and end:
            # Two windows, the minute after warm-up and the last minute
            # (windows()). RssAnon is judged by their medians, the largest
            # samples reported beside. The file-backed part is a saw-tooth
            # (the host unmaps the store every 10 s), so VmRSS and RssFile are
            # compared by their largest samples.
            first, last = w[2], w[3]

            def peak(window, key):
                return max(x[key] for x in window)

            def workers(x):
                return sum(x.get("workers_rss_kb", []))

            row(f"{p} host RSS after warm-up ({warm['t']:.0f} s)",
                f"{mib(warm['rss_kb'])} (anon {mib(warm['anon_kb'])}, file {mib(warm['file_kb'])})",
                "(reported)")
            row(f"{p} host RSS at the end ({end['t']:.0f} s)",
                f"{mib(end['rss_kb'])} (anon {mib(end['anon_kb'])}, file {mib(end['file_kb'])})",
                "(reported)")
            a0, a1 = median(first, "anon_kb"), median(last, "anon_kb")
            row(f"{p} host's own memory (RssAnon), median of the minute after warm-up -> last minute"
                + (f" (store aged {a.soak_age_minutes:g} min)" if a.soak_age_minutes else ""),
                f"{mib(a0)} -> {mib(a1)} ({pct(a0, a1)}; {len(first)} and {len(last)} samples)",
                "< 5%", growth(a0, a1) < 5)
            m0, m1 = peak(first, "anon_kb"), peak(last, "anon_kb")
            row(f"{p}   RssAnon, largest sample of the same windows", f"{mib(m0)} -> {mib(m1)} ({pct(m0, m1)})",
                "(reported)")
            line = trend(s, "anon_kb")
            if line:
                row(f"{p}   RssAnon, least-squares line through every sample after warm-up",
                    f"{mib(line[0])} -> {mib(line[1])} ({pct(*line)})", "(reported)")
            if workers(warm) and workers(end):
                w0 = statistics.median(workers(x) for x in first)
                w1 = statistics.median(workers(x) for x in last)
                row(f"{p} sdp-worker RSS in all, median of the same windows", f"{mib(w0)} -> {mib(w1)} ({pct(w0, w1)})",
                    "< 5%", growth(w0, w1) < 5)
            r0, r1 = peak(first, "rss_kb"), peak(last, "rss_kb")
            f0, f1 = peak(first, "file_kb"), peak(last, "file_kb")
            row(f"{p} host VmRSS, the same windows", f"{mib(r0)} -> {mib(r1)} ({pct(r0, r1)})",
                "(reported, see below)")
            row(f"{p}   of which file-backed (RssFile: the LMDB map)", f"{mib(f0)} -> {mib(f1)} ({pct(f0, f1)})",
                "(reported)")
            row(f"{p} store file (data.mdb)", f"{warm['store_bytes'] / 2**20:.0f} -> "
                f"{end['store_bytes'] / 2**20:.0f} MiB ({pct(warm['store_bytes'], end['store_bytes'])})",
                "(reported)")
            if f1 > r1 / 2:
                notes.append(
                    f"{f1 / r1:.0%} of the host's largest VmRSS in the last minute is file-backed: pages of "
                    f"the LMDB map, i.e. the kernel's page cache, which the host unmaps every 10 s and "
                    f"the kernel maps back 64 KiB around every page read (fault-around). "
                    f"It follows what the store's writes touch, not the host's memory; RssAnon and the "
                    f"workers' RSS are the host's own memory (README.md, 'Reading the memory figures').")
        else:
            row(f"{p} host RSS growth", "too few samples", "< 5%", False)
        row(f"{p} host peak RSS", f"{mib(s['host_peak_kb'].get('VmHWM', 0))}", "(reported)")
        w = s["workers"]
        row(f"{p} sdp-worker RSS at the end", ", ".join(mib(x) for x in w["last_rss_kb_each"]) +
            f" (peak {', '.join(mib(x) for x in w['peak_rss_kb_each'])}; "
            f"{w['processes_seen']} processes)", f"{a.workers} + 1 drop-in processes",
            w["processes_seen"] == a.workers + 1)
        stop_ok = s["stop_s"] is not None and s["stop_s"] <= 10 and s["exit_code"] == 0 and not s["killed"]
        row(f"{p} SIGINT -> exit", "killed after 30 s" if s["killed"] else
            (f"exit {s['exit_code']} in {s['stop_s']:.1f} s" if s["stop_s"] is not None else "n/a"),
            "exit 0 within 10 s", stop_ok)
        if expected.get("records") is not None:
            row(f"{p} records stored (silver)", str(v_records), f"= {expected['records']}",
                v_records == expected["records"])
        row(f"{p} host verify", (f"intact ({load(f'{log}/soak.verify.json', {}).get('s', 0):.1f} s)"
                                 if v_ok else f"FAILED: {v_msg}"), "passes", v_ok)
        st_ok = status_rc.get("rc") == 0 and status.get("totals", {}).get("sources") == a.sources
        row(f"{p} host status", f"answers in {status_rc.get('s', 0):.2f} s" if st_ok else
            f"exit {status_rc.get('rc')}", f"lists {a.sources} sources", st_ok)
        results["soak"] = {"run": s, "status_totals": status.get("totals"), "verify_ok": v_ok,
                           "records_stored": v_records, "failures": failures}

    print()
    print(f"Orchestrator benchmark: {a.sources} sources on 127.0.0.1, {a.latency_ms:g} ms latency per "
          f"response, {a.workers} workers; soak {a.soak_minutes:g} min, in-flight {a.soak_in_flight}"
          + (f", on a store aged {a.soak_age_minutes:g} min by an earlier host run"
             if a.soak_age_minutes else ""))
    print(f"store set-up: {a.sources} x 'host add' in {a.setup_s:.1f} s; fetch.max_per_host 64 "
          f"(the setting's maximum; every source is on one host)")
    if server:
        print(f"fixture server: {server.get('requests', 0)} requests, {server.get('bytes', 0) / 1e6:.0f} MB, "
              f"at most {server.get('max_open', 0)} connections open, {server.get('cpu_s', 0):.0f} s CPU "
              f"(on the same cores as the host)")
    if max(a.busy) > 10:
        print(f"WARNING: the machine was {a.busy[0]}% / {a.busy[1]}% busy before / after with other "
              f"work; rates are skewed (rerun with --wait-idle 600)")
    print()
    w1 = max(len(r[0]) for r in rows)
    w2 = max(len(r[1]) for r in rows)
    w3 = max(len(r[2]) for r in rows)
    print(f"{'figure':<{w1}}  {'measured':<{w2}}  {'target':<{w3}}  result")
    for fig, measured, target, verdict in rows:
        print(f"{fig:<{w1}}  {measured:<{w2}}  {target:<{w3}}  {verdict}")
    for n in notes:
        print(f"note: {n}")
    results["rows"] = [dict(zip(("figure", "measured", "target", "result"), r)) for r in rows]
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    code = 1 if failed else 0
    print(f"\nresults: {a.out}/results.json; logs: {log}; exit {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
