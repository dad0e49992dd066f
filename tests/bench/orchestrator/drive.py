#!/usr/bin/env python3
"""Runs one `host run` for the orchestrator benchmark and measures it.

    drive.py once --host H --data DIR --scripts DIR --workers W --in-flight N --log FILE --json FILE
    drive.py soak --host H --data DIR --scripts DIR --workers W --in-flight N --minutes M
                  [--sample-every 2] [--warmup 60] [--stop-timeout 30] --log FILE --json FILE

once: `host run --once`; measures the wall time until it exits, the host's
peak RSS (VmHWM polled every 0.2 s, and getrusage's ru_maxrss of the process
tree as a cross-check) and the sdp-worker processes' peak RSS.

soak: `host run` for M minutes, sampling the host's VmRSS / RssAnon /
RssFile every --sample-every seconds, then SIGINT; measures how long the host
takes to exit and its exit code (SIGKILL after --stop-timeout).

The host runs in --scripts DIR (an empty directory: its drop-in watcher
runs as in production, with its own one-worker sandbox, but finds nothing).
Both count the host's log lines ("extract S: N records ..." and
"extract S: FAILED (...)") and write everything to --json; the host's
stdout and stderr go to --log.
"""
import argparse
import glob
import json
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time

EXTRACT_OK = re.compile(r"^\S+ extract (\S+): (\d+) records \((\d+) new, (\d+) changed\)")
EXTRACT_FAILED = re.compile(r"^\S+ extract (\S+): FAILED \((\S+)\) (.*)$")
SUMMARY = re.compile(r"host run: done: (\d+) task\(s\) succeeded, (\d+) failed, (\d+) put back; "
                     r"(\d+) page\(s\), (\d+) record\(s\)")


def status_kb(pid):
    """VmRSS, VmHWM, RssAnon, RssFile (kB) and the name of a process, or None."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                    out[k] = int(v.split()[0])
                elif k == "Name":
                    out["Name"] = v.strip()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return out


def cpu_s(pid):
    """User + system CPU seconds of a live process (its own threads)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def children(pid):
    kids = set()
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(path) as f:
                kids.update(int(x) for x in f.read().split())
        except (FileNotFoundError, ProcessLookupError):
            pass
    return kids


class LogCounter:
    """Reads the host's log as it grows and counts extractions."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.partial = ""
        self.ok = 0
        self.records = 0
        self.changed = 0
        self.failed = 0
        self.failures = []        # the first few failure lines, verbatim
        self.failure_kinds = {}
        self.other_failed = 0     # tasks that failed outside an extraction's outcome
        self.notable = []         # lines that are neither extractions nor health changes
        self.summary = None
        self.per_source = {}      # source -> successful extractions

    def poll(self):
        with open(self.path, errors="replace") as f:
            f.seek(self.offset)
            data = f.read()
            self.offset = f.tell()
        lines = (self.partial + data).split("\n")
        self.partial = lines.pop()
        for line in lines:
            self.line(line)

    def line(self, line):
        if m := EXTRACT_OK.match(line):
            self.ok += 1
            self.per_source[m.group(1)] = self.per_source.get(m.group(1), 0) + 1
            self.records += int(m.group(2))
            self.changed += int(m.group(4))
        elif m := EXTRACT_FAILED.match(line):
            self.failed += 1
            self.failure_kinds[m.group(2)] = self.failure_kinds.get(m.group(2), 0) + 1
            if len(self.failures) < 20:
                self.failures.append(line)
        elif m := SUMMARY.match(line.split(" ", 1)[1] if " " in line else line):
            self.summary = dict(zip(("succeeded", "failed", "put_back", "pages", "records"),
                                    map(int, m.groups())))
        elif " progress: " in line or " -> ACTIVE (" in line:
            pass
        elif line.strip():
            if " failed" in line or "FAILED" in line:
                self.other_failed += 1
            if len(self.notable) < 50:
                self.notable.append(line)


class Sampler(threading.Thread):
    """Polls the host and its worker processes every `every` seconds."""

    def __init__(self, pid, every):
        super().__init__(daemon=True)
        self.pid = pid
        self.every = every
        self.stop = threading.Event()
        self.host_peak = {}        # max of each field seen
        self.last = None
        self.last_cpu = None
        self.workers = {}          # pid -> {"peak_hwm": kB, "last_rss": kB}

    def sample(self):
        s = status_kb(self.pid)
        if s is None:
            return None
        self.last = s
        for k, v in s.items():
            if k != "Name":
                self.host_peak[k] = max(self.host_peak.get(k, 0), v)
        c = cpu_s(self.pid)
        if c is not None:
            self.last_cpu = c
        for kid in children(self.pid):
            ks = status_kb(kid)
            if ks is None or ks.get("Name") != "sdp-worker":
                continue
            w = self.workers.setdefault(kid, {"peak_hwm": 0, "last_rss": 0})
            w["peak_hwm"] = max(w["peak_hwm"], ks.get("VmHWM", 0))
            w["last_rss"] = ks.get("VmRSS", 0)
        return s

    def run(self):
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.every)

    def worker_summary(self):
        return {
            "processes_seen": len(self.workers),
            "peak_rss_kb_each": sorted((w["peak_hwm"] for w in self.workers.values()), reverse=True),
            "last_rss_kb_each": sorted((w["last_rss"] for w in self.workers.values()), reverse=True),
        }


def start_host(a, extra):
    cmd = [a.host, "--data", a.data, "run", "--workers", str(a.workers), "--in-flight",
           str(a.in_flight), "--scripts", a.scripts] + extra
    log = open(a.log, "w")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            cwd=a.scripts)
    return proc, t0, cmd


def once(a):
    proc, t0, cmd = start_host(a, ["--once"])
    sampler = Sampler(proc.pid, 0.2)
    sampler.start()
    rc = proc.wait()
    wall = time.monotonic() - t0
    sampler.stop.set()
    sampler.join()
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    counter = LogCounter(a.log)
    counter.poll()
    counter.line(counter.partial)
    return {
        "mode": "once", "command": cmd, "exit_code": rc, "wall_s": wall,
        "host_peak_kb": sampler.host_peak, "host_cpu_s": sampler.last_cpu,
        "tree_maxrss_kb": ru.ru_maxrss, "tree_cpu_s": ru.ru_utime + ru.ru_stime,
        "workers": sampler.worker_summary(),
        "log": {"ok": counter.ok, "failed": counter.failed, "records": counter.records,
                "sources_extracted": len(counter.per_source),
                "failure_kinds": counter.failure_kinds, "failures": counter.failures,
                "other_failed": counter.other_failed, "notable": counter.notable,
                "summary": counter.summary},
    }


def soak(a):
    proc, t0, cmd = start_host(a, [])
    sampler = Sampler(proc.pid, 1.0)   # workers and peaks: every second
    sampler.start()
    counter = LogCounter(a.log)
    samples = []
    duration = a.minutes * 60
    warmup = min(a.warmup, duration / 2)
    next_sample = 0.0
    print_every = max(1, round(10 / a.sample_every))
    data_mdb = os.path.join(a.data, "data.mdb")
    while True:
        now = time.monotonic() - t0
        if proc.poll() is not None:
            break
        if now >= next_sample:
            s = status_kb(proc.pid)
            counter.poll()
            if s is not None:
                samples.append({
                    "t": round(now, 1), "rss_kb": s.get("VmRSS", 0), "anon_kb": s.get("RssAnon", 0),
                    "file_kb": s.get("RssFile", 0), "hwm_kb": s.get("VmHWM", 0),
                    "extracted": counter.ok, "failed": counter.failed,
                    "store_bytes": os.path.getsize(data_mdb) if os.path.exists(data_mdb) else 0,
                    "cpu_s": cpu_s(proc.pid),
                    "workers_rss_kb": sorted((w["last_rss"] for w in sampler.workers.values()),
                                             reverse=True)})
                if (len(samples) - 1) % print_every == 0:  # a line every 10 s
                    print(f"drive.py: soak {now:6.0f} s: RSS {s.get('VmRSS', 0) / 1024:7.1f} MiB "
                          f"(anon {s.get('RssAnon', 0) / 1024:6.1f}, file {s.get('RssFile', 0) / 1024:6.1f}), "
                          f"{counter.ok} extracted, {counter.failed} failed; workers "
                          + " ".join(f"{w['last_rss'] / 1024:.0f}" for w in sampler.workers.values())
                          + " MiB", file=sys.stderr, flush=True)
            next_sample += a.sample_every
        if now >= duration:
            break
        time.sleep(min(0.5, max(0.0, next_sample - now)))
    crashed = proc.poll() is not None
    run_s = time.monotonic() - t0
    extracted_at_stop = counter.ok
    t_stop = time.monotonic()
    stop_s, rc, killed = None, proc.poll(), False
    if not crashed:
        proc.send_signal(signal.SIGINT)
        try:
            rc = proc.wait(timeout=a.stop_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
            killed = True
        stop_s = time.monotonic() - t_stop
    sampler.stop.set()
    sampler.join()
    counter.poll()
    counter.line(counter.partial)
    return {
        "mode": "soak", "command": cmd, "minutes": a.minutes, "warmup_s": warmup, "run_s": run_s,
        "exited_by_itself": crashed, "exit_code": rc, "stop_s": stop_s, "killed": killed,
        "samples": samples, "host_peak_kb": sampler.host_peak, "workers": sampler.worker_summary(),
        "extracted_at_stop": extracted_at_stop,
        "log": {"ok": counter.ok, "failed": counter.failed, "records": counter.records,
                "changed": counter.changed, "sources_extracted": len(counter.per_source),
                "min_per_source": min(counter.per_source.values(), default=0),
                "max_per_source": max(counter.per_source.values(), default=0),
                "failure_kinds": counter.failure_kinds,
                "failures": counter.failures, "other_failed": counter.other_failed,
                "notable": counter.notable, "summary": counter.summary},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("once", "soak"))
    ap.add_argument("--host", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--in-flight", type=int, default=64)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--sample-every", type=float, default=2)
    ap.add_argument("--warmup", type=float, default=60)
    ap.add_argument("--stop-timeout", type=float, default=30)
    ap.add_argument("--scripts", required=True, help="the drop-in directory host run watches")
    ap.add_argument("--log", required=True)
    ap.add_argument("--json", required=True)
    a = ap.parse_args()
    result = once(a) if a.mode == "once" else soak(a)
    with open(a.json, "w") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
