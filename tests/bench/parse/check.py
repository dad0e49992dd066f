#!/usr/bin/python3
"""Checks an extractor's JSON Lines output against the corpus's truth.jsonl.

  check.py TRUTH.jsonl OUTPUT.jsonl [--manifest MANIFEST.tsv] [--label NAME] [--quiet]

Records are matched per page, order-insensitively, by sku. A record counts as
correct when all six fields equal the truth's: strings exactly, price within
0.005, rating as a number, in_stock as a JSON boolean; a missing key and null
are the same. Precision = correct / records output, recall = correct / records
expected. Exits 0 only when both are 100%.

Which page a record came from is read from a "page" field (or "_page",
"file", "path", "source": a path's file name is used), or from a URL field
("page_url", "_url", "source_url", "base_url") through the manifest. Records
may be wrapped as {"record": {...}} or {"data": {...}}. Output that names no
page is matched by sku across the whole corpus (real products' SKUs are
unique in a corpus), so a host that prints bare records can still be checked.
"""

import argparse
import json
import math
import os
import sys
from collections import Counter, defaultdict

FIELDS = ("title", "price", "url", "sku", "rating", "in_stock")
PAGE_KEYS = ("page", "_page", "file", "path", "source")
URL_KEYS = ("page_url", "_url", "source_url", "base_url", "_source_url")


def load_jsonl(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise SystemExit(f"check: {path}:{n}: not JSON: {e}")
    return out


def page_of(rec, url_to_page):
    for k in PAGE_KEYS:
        v = rec.get(k)
        if isinstance(v, str) and v:
            return os.path.basename(v)
    for k in URL_KEYS:
        v = rec.get(k)
        if isinstance(v, str) and v in url_to_page:
            return url_to_page[v]
    meta = rec.get("_meta") or rec.get("meta")
    if isinstance(meta, dict):
        return page_of(meta, url_to_page)
    return None


def unwrap(rec):
    for k in ("record", "data", "item"):
        v = rec.get(k)
        if isinstance(v, dict) and "sku" in v:
            merged = {kk: vv for kk, vv in rec.items() if kk != k}
            merged.update(v)
            return merged
    return rec


def same(field, want, got):
    if want is None:
        return got is None
    if got is None:
        return False
    if field == "price":
        return (isinstance(got, (int, float)) and not isinstance(got, bool)
                and math.isfinite(got) and abs(got - want) <= 0.005)
    if field == "rating":
        return isinstance(got, (int, float)) and not isinstance(got, bool) and got == want
    if field == "in_stock":
        return isinstance(got, bool) and got == want
    return isinstance(got, str) and got == want


def main():
    ap = argparse.ArgumentParser(description="Compare extractor output with the truth.")
    ap.add_argument("truth")
    ap.add_argument("output")
    ap.add_argument("--manifest")
    ap.add_argument("--label", default=None)
    ap.add_argument("--quiet", action="store_true", help="one summary line only")
    ap.add_argument("--examples", type=int, default=5, help="mismatches to show")
    args = ap.parse_args()
    label = args.label or os.path.basename(args.output)

    truth = load_jsonl(args.truth)
    url_to_page = {}
    manifest = args.manifest or os.path.join(os.path.dirname(args.truth), "manifest.tsv")
    if os.path.exists(manifest):
        with open(manifest, encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 2:
                    url_to_page[parts[1]] = parts[0]
    output = [unwrap(r) for r in load_jsonl(args.output) if isinstance(r, dict)]

    by_page = any(page_of(r, url_to_page) for r in output[:50])
    key = (lambda r, p: (p, r.get("sku"))) if by_page else (lambda r, p: r.get("sku"))
    expected = {}
    for t in truth:
        k = key(t, t["page"])
        if k in expected:
            raise SystemExit(f"check: truth has two records keyed {k}")
        expected[k] = t

    used = set()
    correct = 0
    field_errors = Counter()
    problems = defaultdict(int)
    examples = []
    for r in output:
        p = page_of(r, url_to_page) if by_page else None
        k = key(r, p)
        t = expected.get(k)
        if t is None:
            problems["unexpected record (decoy or unknown sku)"] += 1
            if len(examples) < args.examples:
                examples.append(f"unexpected: {json.dumps(r, ensure_ascii=False)[:300]}")
            continue
        if k in used:
            problems["duplicate record"] += 1
            if len(examples) < args.examples:
                examples.append(f"duplicate: {json.dumps(r, ensure_ascii=False)[:300]}")
            continue
        used.add(k)
        bad = [f for f in FIELDS if not same(f, t.get(f), r.get(f))]
        if bad:
            problems["wrong field values"] += 1
            field_errors.update(bad)
            if len(examples) < args.examples:
                diff = ", ".join(f"{f}: want {t.get(f)!r} got {r.get(f)!r}" for f in bad)
                examples.append(f"{t['page']} sku {t['sku']}: {diff}")
        else:
            correct += 1

    precision = correct / len(output) if output else 0.0
    recall = correct / len(truth) if truth else 0.0
    ok = correct == len(truth) == len(output)
    line = (f"{label}: {len(output)} records, {correct}/{len(truth)} correct, "
            f"precision {precision:.2%}, recall {recall:.2%} -> {'OK' if ok else 'MISMATCH'}"
            + ("" if by_page else " (matched by sku: output names no page)"))
    print(line)
    if not ok and not args.quiet:
        missing = len(truth) - len(used)
        if missing:
            problems["missing record"] += missing
        for what, n in sorted(problems.items()):
            print(f"  {what}: {n}")
        if field_errors:
            print("  fields wrong: " + ", ".join(f"{f} {n}" for f, n in field_errors.most_common()))
        for e in examples:
            print("  " + e)
        if missing and len(examples) < args.examples:
            for k, t in expected.items():
                if k not in used:
                    print(f"  missing: {json.dumps(t, ensure_ascii=False)[:300]}")
                    break
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
