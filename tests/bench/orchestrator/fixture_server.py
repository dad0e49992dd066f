#!/usr/bin/env python3
"""The orchestrator benchmark's fixture web site: listing pages behind latency.

    fixture_server.py [--port 0] [--latency-ms 100] [--sources 1000] [--port-file FILE]
                      [--manifest FILE] [--stats-file FILE]

Listens on 127.0.0.1 only (never another address). GET /s/N answers, after
--latency-ms, with source N's listing page: 25-35 product cards (20-50 KB in
all), different for every source and changing a little at every request (two
cards' prices and stock move, so silver sees changes). /robots.txt and every
other path answer 404. HTTP/1.1 with keep-alive, stdlib asyncio only, so it
holds thousands of concurrent connections on one thread.

--manifest FILE gets the number of sources and of cards (the records a
parser should store). SIGINT/SIGTERM end it; on the way out it prints one
JSON line of counters (requests by status, bytes, the most connections open
at once, CPU seconds) to stdout, and, with --stats-file, writes the same line
there.
"""
import argparse
import asyncio
import json
import os
import random
import resource
import signal
import sys

WORDS = ("amber anchor arctic atlas autumn balsam beacon birch blossom breeze cactus canyon cedar "
         "cinder cobalt copper coral cotton crystal delta dune ember falcon fern fjord flint "
         "garnet glacier granite harbor hazel heron indigo iris ivory jasper juniper kestrel "
         "lagoon lantern laurel linen lotus lunar maple marble meadow mesa mint moss nectar "
         "oasis ochre olive onyx orchid pebble pepper pine plume prairie quartz quill raven reed "
         "ridge river saffron sage sierra silver slate spruce summit tango thistle timber topaz "
         "tundra velvet violet willow winter yarrow zephyr").split()
CATEGORIES = ("Kitchen", "Garden", "Outdoor", "Lighting", "Textiles", "Tools", "Stationery",
              "Audio", "Travel", "Toys")
RATINGS = ("One", "Two", "Three", "Four", "Five")


def sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


class Source:
    """One source's page: fixed chrome and cards, plus what moves per request."""

    def __init__(self, n):
        rng = random.Random(n * 7919 + 17)
        self.n = n
        self.requests = 0
        self.category = rng.choice(CATEGORIES)
        self.title = f"{self.category} — {rng.choice(WORDS).title()} {rng.choice(WORDS).title()} shop {n}"
        self.cards = []
        for i in range(rng.randint(25, 35)):
            sku = f"S{n:05d}-{i:03d}"
            self.cards.append({
                "sku": sku,
                "title": f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} {rng.choice(WORDS)} #{i + 1}",
                "price": round(rng.uniform(2, 400), 2),
                "rating": rng.choice(RATINGS),
                "stock": rng.randint(0, 40),
                # Descriptions make the page size vary between sources (20-50 KB).
                "desc": " ".join(sentence(rng, rng.randint(8, 18)) for _ in range(rng.randint(2, 9))),
                "tags": [rng.choice(WORDS) for _ in range(rng.randint(1, 4))],
            })
        self.head = (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{self.title}</title>"
            "<link rel=\"stylesheet\" href=\"/static/site.css\">"
            "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}</script>"
            "</head><body>\n<header class=\"site\"><a class=\"logo\" href=\"/\">Fixture Market</a>"
            "<nav><ul>" + "".join(f"<li><a href=\"/c/{c.lower()}\">{c}</a></li>" for c in CATEGORIES)
            + "</ul></nav><form action=\"/search\"><input name=\"q\" placeholder=\"Search\"></form></header>\n"
            f"<div class=\"crumbs\"><a href=\"/\">Home</a> / <a href=\"/c/{self.category.lower()}\">"
            f"{self.category}</a> / <span>shop {n}</span></div>\n"
            "<aside class=\"filters\"><h4>Price</h4><ul>"
            + "".join(f"<li><a href=\"?max={p}\">under {p}</a></li>" for p in (10, 25, 50, 100, 250))
            + "</ul></aside>\n<main><h1>" + self.title + "</h1>\n<section class=\"results\">\n")
        self.tail = (
            "</section>\n<nav class=\"pager\"><a href=\"?page=2\" rel=\"next\">next</a></nav></main>\n"
            "<section class=\"recommended\"><h2>You may also like</h2>"
            "<article class=\"product-card\" data-sku=\"DECOY\"><h3><a href=\"/p/decoy\">Decoy</a></h3>"
            "<p class=\"price\">$1.00</p></article></section>\n"
            "<footer><p>&copy; Fixture Market</p><p>" + sentence(rng, 30) + "</p></footer>\n"
            "</body></html>\n")

    @staticmethod
    def card_html(c, price, stock):
        avail = f"In stock ({stock} available)" if stock > 0 else "Out of stock"
        return (
            f"<article class=\"product-card\" data-sku=\"{c['sku']}\">"
            f"<div class=\"thumb\"><img src=\"/img/{c['sku']}.jpg\" alt=\"{c['title']}\" loading=\"lazy\"></div>"
            f"<h3><a href=\"/p/{c['sku'].lower()}.html\" title=\"{c['title']}\">{c['title']}</a></h3>"
            f"<p class=\"star-rating {c['rating']}\"><span>{c['rating']} stars</span></p>"
            f"<p class=\"price\">${price:,.2f}</p>"
            f"<p class=\"availability\">{avail}</p>"
            f"<p class=\"desc\">{c['desc']}</p>"
            "<ul class=\"tags\">" + "".join(f"<li>{t}</li>" for t in c["tags"]) + "</ul>"
            "<button class=\"add\">Add to basket</button></article>\n")

    def page(self):
        """The page for the next request: two cards change price and stock."""
        self.requests += 1
        r = self.requests
        k = len(self.cards)
        moved = {(r * 7) % k, (r * 13 + 5) % k}
        parts = [self.head]
        for i, c in enumerate(self.cards):
            if i in moved:
                parts.append(self.card_html(c, c["price"] + (r % 17) * 0.25, (c["stock"] + r) % 41))
            else:
                parts.append(self.card_html(c, c["price"], c["stock"]))
        parts.append(f"<p class=\"updated\">Updated: request {r}</p>\n")
        parts.append(self.tail)
        return "".join(parts).encode()


class Server:
    def __init__(self, args):
        self.latency = args.latency_ms / 1000.0
        self.sources = {}
        self.max_sources = args.sources
        self.stats = {"requests": 0, "status_200": 0, "status_404": 0, "bytes": 0,
                      "open": 0, "max_open": 0, "connections": 0}

    def source(self, n):
        s = self.sources.get(n)
        if s is None:
            s = self.sources[n] = Source(n)
        return s

    async def handle(self, reader, writer):
        st = self.stats
        st["connections"] += 1
        st["open"] += 1
        st["max_open"] = max(st["max_open"], st["open"])
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                parts = lines[0].split(" ")
                if len(parts) != 3:
                    return
                method, path, version = parts
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length", "0") or 0)
                if length:
                    await reader.readexactly(length)
                keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
                status, ctype, body = 404, "text/plain", b"not found\n"
                path = path.split("?", 1)[0]
                if path.startswith("/s/") and path[3:].isdigit():
                    n = int(path[3:])
                    if 1 <= n <= self.max_sources:
                        status, ctype, body = 200, "text/html; charset=utf-8", self.source(n).page()
                if self.latency > 0:
                    await asyncio.sleep(self.latency)
                st["requests"] += 1
                st[f"status_{status}"] = st.get(f"status_{status}", 0) + 1
                st["bytes"] += len(body)
                reason = "OK" if status == 200 else "Not Found"
                writer.write(
                    f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\n"
                    f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n"
                    f"Connection: {'keep-alive' if keep else 'close'}\r\n\r\n".encode("latin-1"))
                if method != "HEAD":
                    writer.write(body)
                await writer.drain()
                if not keep:
                    return
        except ConnectionError:
            return
        finally:
            st["open"] -= 1
            writer.close()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency-ms", type=float, default=100)
    ap.add_argument("--sources", type=int, default=1000)
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--stats-file", help="write the final counters here (JSON)")
    ap.add_argument("--manifest", help="write how many sources and cards the site has here (JSON)")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    srv = Server(args)
    # Every page is built before the port is published, so the first requests
    # cost no more than the later ones.
    cards = sum(len(srv.source(n).cards) for n in range(1, args.sources + 1))
    if args.manifest:
        with open(args.manifest, "w") as f:
            json.dump({"sources": args.sources, "records": cards}, f)
    server = await asyncio.start_server(srv.handle, host="127.0.0.1", port=args.port,
                                        backlog=4096, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"fixture_server: http://127.0.0.1:{port}/s/1 .. /s/{args.sources}, "
          f"latency {args.latency_ms:g} ms", file=sys.stderr, flush=True)

    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, done.set)
    async with server:
        await done.wait()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    srv.stats.pop("open", None)
    srv.stats["cpu_s"] = round(ru.ru_utime + ru.ru_stime, 2)
    srv.stats["max_rss_kb"] = ru.ru_maxrss
    line = json.dumps(srv.stats)
    print(line, flush=True)
    if args.stats_file:
        with open(args.stats_file, "w") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    asyncio.run(main())
