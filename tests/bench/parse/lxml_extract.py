#!/usr/bin/python3
"""The benchmark's Python baseline: lxml.html + cssselect.

  lxml_extract.py [--per-call] --manifest MANIFEST.tsv PAGE... > out.jsonl

Extracts the same six fields as walk.c and parser.lua from every
`section.results article.product-card`, one JSON line per record. Selectors
are compiled once (lxml.cssselect.CSSSelector turns them into XPath), which is
how lxml is used when speed matters. With --per-call, every lookup calls
`el.cssselect("...")` instead, the common idiom, which translates the selector
to XPath and compiles it again on each call. Run with Debian's
/usr/bin/python3 (python3-lxml, python3-cssselect).
"""

import argparse
import json
import os
import re
import sys
from urllib.parse import urljoin

import lxml.html
from lxml.cssselect import CSSSelector

CARDS = CSSSelector("section.results article.product-card")
TITLE_A = CSSSelector("h3 a")
PRICE = CSSSelector(".price")
STARS = CSSSelector(".star-rating")
AVAIL = CSSSelector(".availability")

NUMBER = re.compile(r"\d(?:[\d]|[.,](?=\d))*")
RATINGS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


def clean(s):
    return " ".join(s.split())


def price(s):
    """The first number as sdk.text.price reads it (see walk.c parse_price)."""
    m = NUMBER.search(s)
    if not m:
        return None
    num = m.group(0)
    seps = [c for c in num if c in ",."]
    if "," in seps and "." in seps:
        dec = seps[-1]
    elif len(seps) == 1:
        dec = None if len(num) - num.rfind(seps[0]) - 1 == 3 else seps[0]
    else:
        dec = None
    return float("".join("." if c == dec else c for c in num if c.isdigit() or c == dec))


def rating(el):
    for c in (el.get("class") or "").split():
        r = RATINGS.get(c.lower())
        if r:
            return r
    return None


def in_stock(text):
    t = text.lower()
    if "out of stock" in t or "sold out" in t or "unavailable" in t:
        return False
    if "in stock" in t or "available" in t or " left" in t:
        return True
    return None


def first(sel, el):
    found = sel(el)
    return found[0] if found else None


def extract(doc, name, page_url):
    out = []
    for card in CARDS(doc):
        a = first(TITLE_A, card)
        p = first(PRICE, card)
        if a is None or p is None:
            continue
        value = price(p.text_content())
        if value is None:
            continue
        title = a.get("title")
        href = a.get("href")
        stars = first(STARS, card)
        avail = first(AVAIL, card)
        out.append({
            "page": name,
            "title": clean(title if title is not None else a.text_content()),
            "price": value,
            "url": urljoin(page_url, href.strip(" \t\n\r\f")) if href is not None else None,
            "sku": card.get("data-sku"),
            "rating": rating(stars) if stars is not None else None,
            "in_stock": in_stock(clean(avail.text_content())) if avail is not None else None,
        })
    return out


class PerCall:
    """A selector looked up the way `el.cssselect(text)` does, on every call."""

    def __init__(self, text):
        self.text = text

    def __call__(self, el):
        return el.cssselect(self.text)


def main():
    global CARDS, TITLE_A, PRICE, STARS, AVAIL
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-call", action="store_true",
                    help="call el.cssselect() for each lookup instead of compiled selectors")
    ap.add_argument("--manifest", required=True)
    ap.add_argument("pages", nargs="+")
    args = ap.parse_args()
    if args.per_call:
        CARDS, TITLE_A, PRICE, STARS, AVAIL = (PerCall(s.css) for s in (CARDS, TITLE_A, PRICE, STARS, AVAIL))
    urls = {}
    with open(args.manifest, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 2:
                urls[parts[0]] = parts[1]
    parser = lxml.html.HTMLParser(encoding="utf-8")
    write = sys.stdout.write
    failures = 0
    for path in args.pages:
        name = os.path.basename(path)
        page_url = urls.get(name)
        if page_url is None:
            print(f"lxml_extract: {name}: not in the manifest", file=sys.stderr)
            failures += 1
            continue
        with open(path, "rb") as f:
            data = f.read()
        doc = lxml.html.document_fromstring(data, parser=parser, base_url=page_url)
        for rec in extract(doc, name, page_url):
            write(json.dumps(rec, ensure_ascii=False) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
