#!/usr/bin/python3
"""Deterministic generator of the parse benchmark's corpus.

Writes N e-commerce listing pages (60-120 KB each) with about 50 product cards
inside <section class="results">, decoy cards outside it (a "recommended"
carousel, "recently viewed" in the sidebar, "customers also bought", a
"results-summary" top pick, commented-out cards, a card template in a
<script>), and realistic noise around them. Also writes:

  truth.jsonl    one line per expected record: {"page": "page-N.html", title,
                 price, url, sku, rating, in_stock}; a missing optional field
                 (rating, in_stock) is null
  manifest.tsv   "page-N.html<TAB>https://shop.example.test/catalogue/page-N.html"
  corpus.json    summary: pages, bytes, records, seed

Every page N is generated from its own RNG seeded with "<seed>:<N>", so the
output does not depend on --jobs or on the order pages are written in.

All relative hrefs resolve to the same absolute URL against any page URL in
/catalogue/ (no query-only or fragment-only references), so a host that takes
one --url for all pages still gets the true URLs.

Run with Debian's python: /usr/bin/python3 gen_corpus.py --pages 1000 --out DIR
"""

import argparse
import html
import json
import multiprocessing
import os
import random
import sys
from urllib.parse import urljoin

BASE = "https://shop.example.test/catalogue/"
MIN_BYTES = 60 * 1024
MAX_BYTES = 120 * 1024

# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------

BRANDS = [
    "Acme", "Northwind", "Marks & Sons", "Café Noir", "Ångström Labs", "Smith & Wesley",
    "Hartley’s", "Blue Fox", "Oakridge", "Zenith", "Müller & Co", "Crown", "Pinewood",
    "Élan", "Kestrel", "Lumière", "Tiger & Bear", "Harbour", "Vantage", "Nordic Home",
]
ADJECTIVES = [
    "Classic", "Deluxe", "Compact", "Premium", "Vintage", "Ultra-Light", "Ergonomic",
    "Stainless", "Organic", "Wireless", "Handmade", "Foldable", "Heavy-Duty", "Smart",
    "Rustic", "Modern", "Portable", "Insulated", "Waterproof", "Crème", "Naïve", "Extra-Large",
]
MATERIALS = [
    "Oak", "Walnut", "Bamboo", "Leather", "Cotton", "Linen", "Steel", "Copper", "Ceramic",
    "Glass", "Wool", "Cast Iron", "Marble", "Brass", "Silk", "Rattan",
]
NOUNS = [
    "Coffee Grinder", "Desk Lamp", "Chef's Knife", "Throw Blanket", "Bookshelf",
    "Kettle", "Backpack", "Wall Clock", "Chopping Board", "Armchair", "Teapot",
    "Headphones", "Water Bottle", "Picnic Set", "Wine Rack", "Tool Kit", "Plant Pot",
    "Rug", "Mirror", "Saucepan", "Notebook", "Umbrella", "Candle Holder", "Speaker",
]
SUFFIXES = [
    "", "", "", "", " – Set of 2", " (Pack of 4)", " \"Limited Edition\"", " 2.0",
    " – Save €5", " XL", " for Kids & Adults", " 50cl", " – 10% off",
]
CATEGORIES = ["home", "kitchen", "garden", "outdoor", "office", "audio", "decor", "tools"]
CAT_PREFIX = {"home": "HM", "kitchen": "KT", "garden": "GD", "outdoor": "OD",
              "office": "OF", "audio": "AU", "decor": "DC", "tools": "TL"}
RATING_WORDS = ["One", "Two", "Three", "Four", "Five"]
LOREM = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua ut enim ad minim veniam quis nostrud "
    "exercitation ullamco laboris nisi aliquip ex ea commodo consequat duis aute irure "
    "reprehenderit voluptate velit esse cillum fugiat nulla pariatur excepteur sint "
    "occaecat cupidatat non proident sunt culpa qui officia deserunt mollit anim id est"
).split()
NAV_SECTIONS = ["Home & Living", "Kitchen", "Garden", "Outdoor", "Office", "Audio", "Decor",
                "Tools", "Gifts", "Sale", "New in", "Brands"]

# How a non-ASCII character or markup character may be written in HTML.
ENTITY_FORMS = {
    "&": ["&amp;", "&amp;", "&#38;"],
    "é": ["é", "&eacute;", "&#233;"],
    "É": ["É", "&Eacute;", "&#201;"],
    "è": ["è", "&egrave;"],
    "ü": ["ü", "&uuml;", "&#252;"],
    "Å": ["Å", "&Aring;", "&#197;"],
    "ï": ["ï", "&iuml;"],
    "’": ["’", "&rsquo;", "&#x2019;", "&#8217;"],
    "–": ["–", "&ndash;", "&#8211;"],
    "€": ["€", "&euro;", "&#8364;"],
    "£": ["£", "&pound;", "&#163;"],
    '"': ["&quot;", "&#34;"],
    "'": ["'", "&#39;"],
    "<": ["&lt;"],
    ">": ["&gt;"],
}


def encode(rng, s, attr=False, quote='"'):
    """HTML-encodes `s`, picking a random spelling for each special character."""
    out = []
    for ch in s:
        forms = ENTITY_FORMS.get(ch)
        if forms is None:
            out.append(ch)
            continue
        if not attr and ch == '"':
            out.append('"')
        elif attr and ch == "'" and quote == "'":
            out.append("&#39;")
        else:
            out.append(rng.choice(forms))
    return "".join(out)


def lorem(rng, lo, hi):
    return " ".join(rng.choice(LOREM) for _ in range(rng.randint(lo, hi)))


def slugify(s):
    keep = []
    for ch in s.lower():
        if ch.isascii() and ch.isalnum():
            keep.append(ch)
        elif keep and keep[-1] != "-":
            keep.append("-")
    return "".join(keep).strip("-")


def attr_value(rng, value, allow_bare=True):
    """Quotes an attribute value in one of the ways real pages do."""
    bare_ok = allow_bare and value and all(c.isalnum() or c in "-_./:" for c in value)
    r = rng.random()
    if bare_ok and r < 0.12:
        return value
    if r < 0.30:
        return "'" + encode(rng, value, attr=True, quote="'") + "'"
    return '"' + encode(rng, value, attr=True) + '"'


def attrs(rng, pairs, shuffle=True, allow_bare=True):
    pairs = list(pairs)
    if shuffle:
        rng.shuffle(pairs)
    parts = []
    for k, v in pairs:
        if v is None:
            parts.append(k)
        else:
            parts.append(f"{k}={attr_value(rng, v, allow_bare)}")
    sep = rng.choice([" ", " ", " ", "\n    "])
    return " " + sep.join(parts) if parts else ""


# ---------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------

def product_title(rng):
    t = f"{rng.choice(BRANDS)} {rng.choice(ADJECTIVES)} {rng.choice(MATERIALS)} {rng.choice(NOUNS)}"
    return t + rng.choice(SUFFIXES)


def format_price(rng, value, integer):
    """Returns (html, value) with the price written in one of many formats."""
    whole = int(round(value)) if integer else int(value)
    cents = 0 if integer else int(round((value - whole) * 100))
    if cents == 100:
        whole, cents = whole + 1, 0
    uk_th = f"{whole:,}"                      # 1,234
    eu_th = uk_th.replace(",", ".")           # 1.234
    uk = uk_th if integer else f"{uk_th}.{cents:02d}"
    uk_plain = f"{whole}" if integer else f"{whole}.{cents:02d}"
    eu = eu_th if integer else f"{eu_th},{cents:02d}"
    pound = rng.choice(["£", "&pound;", "&#163;"])
    euro = rng.choice(["€", "&euro;", "&#8364;"])
    forms = [
        f"{pound}{uk}", f"{pound}{uk}", f"{pound}{uk}",
        f"{pound} {uk_plain}", f"{pound}&nbsp;{uk}", f"{uk} GBP", f"GBP {uk}",
        f"{euro}{eu}", f"{eu}&nbsp;{euro}", f"{eu} EUR", f"${uk}", f"USD {uk}",
        f'<span class="currency">{pound}</span><span class="amount">{uk}</span>',
        f'<span class="currency">{pound}</span>\n        <span class="amount">{uk_plain}</span>',
    ]
    body = rng.choice(forms)
    ws = rng.choice(["", "", "\n        ", " ", "\n\t\t  "])
    ws2 = rng.choice(["", "", "\n      ", " "])
    return ws + body + ws2, float(whole) + cents / 100.0


def product_href(rng, slug, num):
    """Returns (href as written in HTML, href's attribute value, the reference
    as a browser resolves it: entities decoded, surrounding whitespace trimmed)."""
    forms = [
        f"../products/{slug}_{num}/index.html",
        f"../products/{slug}_{num}/index.html",
        f"products/{slug}-{num}.html",
        f"./item/{num}/{slug}",
        f"/catalogue/products/{slug}_{num}.html",
        f"/p/{num}?ref=listing&amp;pos={rng.randint(1, 60)}",
        f"../../shop/{slug}/{num}.html",
        f"https://shop.example.test/product/{num}",
        f"//cdn.shop.example.test/p/{num}/{slug}",
        f"products/{slug}-{num}.html?colour=blue&amp;size=m#reviews",
    ]
    href = rng.choice(forms)
    if rng.random() < 0.05:
        href = rng.choice([" ", "\n  ", "\t"]) + href + rng.choice([" ", "\n", ""])
    value = html.unescape(href)
    return href, value, value.strip(" \t\n\r\f")


def availability(rng):
    """Returns (html or None, truth in_stock)."""
    r = rng.random()
    if r < 0.07:
        return None, None
    choices = [
        ("instock availability", '<i class="icon-ok"></i>\n    In stock\n', True),
        ("availability instock", "In stock", True),
        ("availability", "\n      In stock (%d available)\n    " % rng.randint(2, 40), True),
        ("availability low-stock", "Only %d left in stock" % rng.randint(1, 5), True),
        ("availability", "Available for delivery", True),
        ("outofstock availability", '<i class="icon-remove"></i> Out of stock', False),
        ("availability sold-out", "\n   Sold out\n", False),
        ("availability", "Currently unavailable", False),
    ]
    weights = [30, 15, 10, 8, 5, 14, 9, 9]
    cls, text, val = rng.choices(choices, weights)[0]
    tag = rng.choice(["p", "p", "span", "div"])
    return f'<{tag} class="{cls}">{text}</{tag}>', val


def rating_html(rng, lean=False):
    if rng.random() < 0.10:
        return '<p class="no-reviews">No reviews yet</p>', None
    n = rng.randint(1, 5)
    word = RATING_WORDS[n - 1]
    if rng.random() < 0.15:
        word = word.lower()
    classes = rng.choice([["star-rating", word], ["star-rating", word], [word, "star-rating"],
                          ["rating", "star-rating", word]])
    tag = rng.choice(["p", "p", "div", "span"])
    stars = "" if lean else "".join('<i class="icon-star"></i>' for _ in range(5))
    extra = rng.choice(["", f' title="{n} out of 5"', f' aria-label="Rated {n} out of 5"'])
    count = rng.choice(["", f' <span class="review-count">({rng.randint(1, 900)})</span>'])
    return f'<{tag} class="{" ".join(classes)}"{extra}>\n      {stars}{count}\n    </{tag}>', n


def card(rng, sku, num, cat, decoy=False, lean=False):
    """Returns (html, truth record without 'page'). A lean card is the compact
    markup of a smaller site template (~0.8 KB instead of ~1.3 KB)."""
    title = product_title(rng)
    slug = slugify(title)
    integer = rng.random() < 0.08
    raw = round(rng.uniform(2, 400) if rng.random() < 0.8 else rng.uniform(400, 9999), 2)
    price_html, price = format_price(rng, raw, integer)
    href, href_value, ref = product_href(rng, slug, num)
    url = urljoin(BASE + "page-1.html", ref)
    avail_html, in_stock = availability(rng)
    rate_html, rating = rating_html(rng, lean)

    cls = rng.choice(["product-card", "product-card", "product-card", "product-card featured",
                      "product-card product-card--sale", "col product-card", "product-card  js-track",
                      "product_pod product-card"])
    pairs = [("class", cls), ("data-sku", sku), ("data-position", str(num % 97)),
             ("data-category", cat)]
    if not lean and rng.random() < 0.3:
        pairs.append(("itemscope", None))
        pairs.append(("itemtype", "https://schema.org/Product"))
    if rng.random() < 0.3:
        pairs.append(("id", f"prod-{num}"))
    if not lean and rng.random() < 0.2:
        pairs.append(("data-track", json.dumps({"list": "decoy" if decoy else "results", "id": num})))

    if lean:
        img = f'<img src="/m/{num % 97:02x}/{num}.jpg" alt="">'
    else:
        img = (f'<div class="image_container">\n    <a href="{href}" tabindex="-1"><img src="../media/cache/'
               f'{num % 97:02x}/{num % 89:02x}/{slug[:24]}.jpg" alt="{encode(rng, title, attr=True)}" '
               f'class="thumbnail" loading="lazy" width="240" height="240"></a>\n  </div>')

    # Title: in the link's title attribute (text truncated), or only as link text.
    r = rng.random()
    if r < 0.65:
        shown = title if len(title) < 30 else title[:27] + "..."
        a = (f'<a{attrs(rng, [("href", href_value), ("title", title)], allow_bare=False)}>'
             f'{encode(rng, shown)}</a>')
    elif r < 0.85:
        words = encode(rng, title).split(" ")
        text = "".join(w + rng.choice([" ", " ", "\n          ", "  ", "\t"]) for w in words)
        a = f'<a href="{href}">\n          {text}\n        </a>'
    else:
        brand = next(b for b in BRANDS if title.startswith(b + " "))
        rest = title[len(brand) + 1:]
        a = (f'<a href="{href}"><span class="brand">{encode(rng, brand)}</span>'
             f'{rng.choice([" ", chr(10) + "          "])}{encode(rng, rest)}</a>')
    h3 = f"<h3>{a}</h3>" if rng.random() < 0.8 else f'<h3 class="title">\n        {a}\n      </h3>'

    was = ""
    if rng.random() < 0.2:
        was_html, _ = format_price(rng, raw * 1.25, integer)
        was = f'<span class="price-was">Was {was_html}</span>\n      '
    unit = ""
    if rng.random() < 0.1:
        unit = f'\n      <span class="price-per-unit">£{rng.randint(1, 9)}.{rng.randint(10, 99)}/kg</span>'
    price_tag = rng.choice(["p", "p", "div", "span"])
    if lean:
        form = '<button class="add" data-sku="%s">Add</button>' % sku
    else:
        form = ('<form method="post" action="/basket/add/"><input type="hidden" name="csrf" value="'
                + "".join(rng.choice("abcdef0123456789") for _ in range(24))
                + '"><button type="submit" class="btn btn-primary btn-block" '
                'data-loading-text="Adding...">Add to basket</button></form>')
    price_cls = rng.choice(["price_color price", "price", "price", "price sale-price", "price_color price notranslate"])
    blocks = [
        img,
        rate_html,
        h3,
        f'<div class="product_price">\n      {was}<{price_tag} class="{price_cls}">{price_html}</{price_tag}>{unit}\n'
        + (f"      {avail_html}\n" if avail_html else "")
        + f"      {form}\n    </div>",
    ]
    if not lean and rng.random() < 0.3:
        blocks.insert(2, f'<span class="badge badge-{rng.choice(["new", "sale", "eco"])}">{rng.choice(["New", "Sale", "Eco"])}</span>')
    if not lean and rng.random() < 0.25:
        blocks.append(f'<p class="desc">{lorem(rng, 8, 22)}</p>')
    nl = rng.choice(["\n  ", "\n    ", "\n"])
    body = nl + nl.join(blocks) + "\n"
    html_ = f"<article{attrs(rng, pairs)}>{body}</article>"
    rec = {"title": title, "price": price, "url": url, "sku": sku, "rating": rating,
           "in_stock": in_stock}
    return html_, rec


def sku_for(rng, n, cat):
    # (n * 7919) mod 10^7 is a bijection, so real SKUs never collide in a corpus.
    return f"{CAT_PREFIX[cat]}-{(n * 7919) % 10_000_000:07d}"


# ---------------------------------------------------------------------------
# Noise
# ---------------------------------------------------------------------------

def css_block(rng):
    sel = rng.choice([".product_pod", ".header", ".sidebar", ".footer", ".btn", ".nav",
                      ".breadcrumb", ".carousel", ".badge", "#default", ".price_color"])
    props = "".join(
        f"{rng.choice(['margin', 'padding', 'color', 'font-size', 'line-height', 'border', 'display'])}:"
        f"{rng.choice(['0', '4px 8px', '#3c3c3c', '1.2em', 'none', 'block', '1px solid #ddd'])};"
        for _ in range(rng.randint(2, 7)))
    return f"{sel} {rng.choice(['a', 'li', 'p', 'span', 'div'])}{rng.choice(['', ':hover', '>img'])}{{{props}}}\n"


def js_block(rng):
    n = rng.randint(1000, 9999)
    return rng.choice([
        f"  window.dataLayer.push({{'event':'impression','list':'listing','id':{n},'v':'{lorem(rng, 2, 5)}'}});\n",
        f"  var tpl{n} = '<article class=\"product-card\" data-sku=\"JS-{n}\"><h3><a href=\"/x\">x<\\/a><\\/h3><\\/article>';\n",
        f"  if (document.querySelector('.results')) {{ track('view', {n}); }} // {lorem(rng, 3, 8)}\n",
        f"  function f{n}(a, b) {{ return a < b ? a : b && '{lorem(rng, 1, 3)}'; }}\n",
    ])


def nav(rng, sections=True):
    parts = ['<nav class="navbar navbar-default primary" role="navigation">\n<ul class="nav navbar-nav">']
    for s in NAV_SECTIONS:
        close = "</li>" if rng.random() < 0.7 else ""   # unclosed <li>, as in real pages
        parts.append(f'<li class="dropdown"><a href="/catalogue/category/{slugify(s)}/">{encode(rng, s)}</a>')
        if sections:
            parts.append('<ul class="dropdown-menu">')
            for _ in range(rng.randint(3, 8)):
                w = lorem(rng, 1, 3).title()
                parts.append(f'<LI><a href="/catalogue/category/{slugify(s)}/{slugify(w)}/">{w}</a>')
            parts.append("</ul>")
        parts.append(close)
    parts.append("</ul>\n</nav>")
    return "\n".join(parts)


def filter_block(rng):
    name = rng.choice(["Brand", "Colour", "Material", "Size", "Price", "Customer rating", "Delivery"])
    items = []
    for _ in range(rng.randint(4, 10)):
        label = rng.choice(BRANDS + MATERIALS + ["Red", "Blue", "Green", "Under £20", "£20 – £50", "4 stars & up"])
        items.append(
            f'  <li><label><input type="checkbox" name="{slugify(name)}" value="{slugify(label)}"> '
            f'{encode(rng, label)} <span class="count">({rng.randint(1, 500)})</span></label></li>')
    return (f'<div class="filter" data-filter="{slugify(name)}">\n<h4>{name}</h4>\n<ul>\n'
            + "\n".join(items) + "\n</ul>\n</div>\n")


def footer_block(rng):
    title = rng.choice(["Help", "About us", "Services", "Stores", "Legal", "Inspiration"])
    links = "\n".join(
        f'  <li><a href="/{slugify(title)}/{slugify(w)}/">{w}</a>'
        + ("</li>" if rng.random() < 0.8 else "")
        for w in (lorem(rng, 1, 3).capitalize() for _ in range(rng.randint(4, 9))))
    return f'<div class="footer-col">\n<h5>{title}</h5>\n<ul>\n{links}\n</ul>\n<p>{lorem(rng, 6, 20)}\n</div>\n'


def comment_block(rng):
    return rng.choice([
        f"<!-- {lorem(rng, 3, 12)} -->\n",
        f"<!-- cache: hit {rng.randint(1, 999)}ms node=web-{rng.randint(1, 40)} -->\n",
        f'<!--\n<div class="promo">{lorem(rng, 5, 10)}</div>\n-->\n',
    ])


def ad_slot(rng):
    n = rng.randint(100, 999)
    return rng.choice([
        f'<li class="col-xs-12 ad-slot"><div class="ad" data-ad-unit="listing-{n}">'
        f'<iframe src="about:blank" width="728" height="90" title="Advertisement"></iframe>'
        f'<p class="ad-label">Advertisement</p></div></li>',
        f'<li class="col-xs-12 ad-slot"><aside class="sponsored-product" data-sku="AD-{n}">'
        f'<h3><a href="/ads/click?id={n}" title="Sponsored: {rng.choice(NOUNS)}">Sponsored</a></h3>'
        f'<p class="price">£{rng.randint(5, 99)}.99</p><p class="availability">In stock</p></aside></li>',
        f'<li class="col-xs-6 promo"><article class="promo-banner"><h3><a href="/sale/">Sale – up to '
        f'{rng.randint(2, 7)}0% off</a></h3><p class="price">from £1</p></article></li>',
        f'<li class="col-xs-6"><div class="product-card-skeleton" aria-hidden="true">'
        f'<h3><a href="#" title="Loading">&nbsp;</a></h3><p class="price">£0.00</p></div></li>',
    ])


# ---------------------------------------------------------------------------
# A page
# ---------------------------------------------------------------------------

def decoy_cards(rng, k, page, real_skus, pool, lean):
    out = []
    for j in range(k):
        cat = rng.choice(CATEGORIES)
        if real_skus and rng.random() < 0.4:
            sku = rng.choice(real_skus)          # a listed product recommended again
        else:
            sku = f"REC-{page:05d}{pool}{j:02d}"
        h, _ = card(rng, sku, 900000 + page * 100 + j, cat, decoy=True, lean=lean)
        out.append(h)
    return out


def make_page(args):
    """Returns (page, html bytes, truth records, error or None)."""
    seed, page, total = args
    for attempt in range(20):
        # A page whose required parts alone overflow 120 KB is drawn again from
        # the next sub-seed; deterministic all the same.
        got = build_page(random.Random(f"{seed}:{page}" + (f":{attempt}" if attempt else "")),
                         page, total)
        if got is not None:
            return (page, got[0], got[1], None)
    return (page, None, None, f"page {page}: could not fit {MIN_BYTES}..{MAX_BYTES} bytes")


def build_page(rng, page, total):
    url = BASE + f"page-{page}.html"
    lean = rng.random() < 0.4        # a compact site template: smaller cards, less noise
    ncards = rng.randint(45, 55)
    cats = [rng.choice(CATEGORIES) for _ in range(ncards)]
    cards, truth = [], []
    for i in range(ncards):
        n = page * 64 + i
        sku = sku_for(rng, n, cats[i])
        h, rec = card(rng, sku, n, cats[i], lean=lean)
        cards.append(h)
        truth.append(rec)
    real_skus = [r["sku"] for r in truth]

    # Results list: cards in <li>s, ads and traps between them.
    items = []
    for i, h in enumerate(cards):
        if i and i % rng.randint(10, 14) == 0:
            items.append(ad_slot(rng))
        if rng.random() < 0.04:
            items.append(f'<!-- <article class="product-card" data-sku="OLD-{page}-{i}"><h3><a href="/old" '
                         f'title="Discontinued">x</a></h3><p class="price">£1.00</p></article> -->')
        items.append(f'<li class="col-xs-6 col-sm-4 col-md-3 col-lg-3">\n{h}\n</li>')
    template = (
        '<script type="text/x-template" id="card-template">\n'
        '<article class="product-card" data-sku="{{ sku }}"><h3><a href="{{ url }}" title="{{ title }}">'
        '{{ title }}</a></h3><p class="price">{{ price }}</p><p class="availability">{{ stock }}</p>'
        '</article>\n</script>')
    results = (
        '<section class="results" aria-label="Products">\n'
        '<div class="alert alert-warning" role="alert"><strong>Note:</strong> prices include VAT.</div>\n'
        + template + "\n"
        + '<ol class="row product-grid">\n' + "\n".join(items) + "\n</ol>\n"
        + f'<div class="pager"><ul class="pager"><li class="current">Page {page} of {total}</li>'
        + (f'<li class="previous"><a href="page-{page - 1}.html">previous</a></li>' if page > 1 else "")
        + (f'<li class="next"><a href="page-{page + 1}.html">next</a></li>' if page < total else "")
        + "</ul></div>\n</section>")

    ld = {"@context": "https://schema.org", "@type": "ItemList", "itemListElement": [
        {"@type": "ListItem", "position": i + 1, "name": t["title"], "sku": t["sku"],
         "offers": {"price": f"{t['price']:.2f}", "priceCurrency": "GBP"}}
        for i, t in enumerate(truth[: rng.randint(8, 24)])]}
    ld_json = json.dumps(ld, ensure_ascii=rng.random() < 0.5).replace("</", "<\\/")

    recommended = decoy_cards(rng, rng.randint(3, 6), page, real_skus, "R", lean)
    recent = decoy_cards(rng, rng.randint(1, 3), page, real_skus, "V", lean)
    related = decoy_cards(rng, rng.randint(3, 6), page, real_skus, "A", lean)
    top_pick = decoy_cards(rng, 1, page, real_skus, "T", lean)

    head = f"""<!DOCTYPE html>
<!--[if lt IE 7]>      <html lang="en-gb" class="no-js lt-ie9 lt-ie8 lt-ie7"> <![endif]-->
<!--[if IE 7]>         <html lang="en-gb" class="no-js lt-ie9 lt-ie8"> <![endif]-->
<html lang="en-gb" class="no-js">
<head>
<title>
    All products | Page {page} of {total} | Example Shop
</title>
<meta http-equiv="content-type" content="text/html; charset=UTF-8" />
<meta name="created" content="2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 1{rng.randint(0, 9)}:0{rng.randint(0, 9)}:00" />
<meta name="description" content="{lorem(rng, 10, 25)}" />
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:type" content="website"><meta property="og:url" content="{url}">
<meta property="og:title" content="All products &ndash; page {page}">
<meta name="robots" content="NOARCHIVE,NOCACHE" />
<link rel="canonical" href="{url}">
<link rel="shortcut icon" href="/static/favicon.ico" />
<link rel="stylesheet" type="text/css" href="/static/css/styles.{rng.randint(10000, 99999)}.css" />
<link rel="stylesheet" href="/static/css/carousel.css">
<link rel="preload" as="font" href="/static/fonts/inter.woff2" crossorigin>
<style type="text/css">
{"".join(css_block(rng) for _ in range(rng.randint(8, 20)))}@@PAD_STYLE@@</style>
<script>
  window.dataLayer = window.dataLayer || [];
{"".join(js_block(rng) for _ in range(rng.randint(4, 10)))}@@PAD_SCRIPT@@</script>
<script type="application/ld+json">{ld_json}</script>
<script src="/static/js/vendor.{rng.randint(1000, 9999)}.js" defer></script>
</head>
"""
    body = f"""<body id="default" class="default listing">
<div id="cookie-banner" class="cookie-banner" role="dialog"><p>We use cookies to improve your experience. {lorem(rng, 8, 16)}</p>
<button class="btn accept">Accept all</button> <button class="btn">Settings</button></div>
<header class="header container-fluid">
<div class="page_inner"><div class="row">
<div class="col-sm-8 h1"><a href="/index.html"><img src="/static/logo.svg" alt="Example Shop"></a></div>
<form class="navbar-form search" method="get" action="/search/"><input type="search" name="q" placeholder="Search products&hellip;"><button type="submit">Search</button></form>
<div class="basket-mini"><a href="/basket/">Basket total: £0.00</a> <span class="count">0</span></div>
</div></div>
{nav(rng, sections=not lean)}
</header>
<div class="container-fluid page">
<div class="page_inner">
<ul class="breadcrumb">
    <li><a href="/index.html">Home</a></li>
    <li><a href="/catalogue/">Catalogue</a></li>
    <li class="active">All products</li>
</ul>
<section class="recommended carousel" data-widget="recs">
<h2>Recommended for you</h2>
<div class="carousel-track">
{chr(10).join(recommended)}
</div>
</section>
<div class="row">
<aside class="sidebar col-sm-4 col-md-3">
<div id="promotions_left"></div>
<form class="filters" method="get" action="">
{"".join(filter_block(rng) for _ in range(rng.randint(2, 4)))}@@PAD_SIDE@@<button type="submit" class="btn">Apply</button>
</form>
<div class="recently-viewed"><h4>Recently viewed</h4>
{chr(10).join(recent)}
</div>
</aside>
<div class="col-sm-8 col-md-9">
<div class="page-header action"><h1>All products</h1></div>
<section class="results-summary"><p>Top pick this week</p>
{top_pick[0]}
</section>
<form method="get" class="form-horizontal sort">
    <strong>{total * 50}</strong> results - showing <strong>{(page - 1) * 50 + 1}</strong> to <strong>{page * 50}</strong>.
    <select name="sort_by"><option value="relevancy" selected>Relevancy</option><option value="price-asc">Price (low to high)</option><option value="price-desc">Price (high to low)</option><option value="rating">Customer rating</option></select>
</form>
{comment_block(rng)}{results}
</div>
</div>
<section class="related" data-widget="also-bought">
<h2>Customers also bought</h2>
{chr(10).join(related)}
</section>
</div>
</div>
<footer class="footer container-fluid">
<div class="row">
{"".join(footer_block(rng) for _ in range(rng.randint(3, 6)))}@@PAD_FOOT@@</div>
<div class="newsletter"><form action="/newsletter/" method="post"><label>Email <input type="email" name="email"></label><button>Subscribe</button></form></div>
<p class="legal">&copy; 2024 Example Shop Ltd. {lorem(rng, 10, 20)}
<p class="payments"><img src="/static/visa.svg" alt="Visa"> <img src="/static/mc.svg" alt="Mastercard"> <img src="/static/pp.svg" alt="PayPal">
</footer>
</div>
<noscript><img src="/pixel.gif?p={page}" alt="" width="1" height="1"></noscript>
<script src="/static/js/app.{rng.randint(1000, 9999)}.js"></script>
<script>
  document.querySelectorAll('.product-card').forEach(function (el) {{ el.addEventListener('click', function () {{ track('click', el.dataset.sku); }}); }});
</script>
</body>
</html>
"""
    doc = head + body
    base_size = len(doc.encode("utf-8"))
    if base_size > MAX_BYTES - 4096:
        return None
    target = max(base_size, rng.randint(MIN_BYTES + 1024, MAX_BYTES - 4096))
    need = target - base_size
    pads = {}
    shares = [("@@PAD_STYLE@@", 0.2, css_block), ("@@PAD_SCRIPT@@", 0.15, js_block),
              ("@@PAD_SIDE@@", 0.3, filter_block), ("@@PAD_FOOT@@", 0.35, footer_block)]
    for key, share, fn in shares:
        goal, parts, size = need * share, [], 0
        while size < goal:
            p = fn(rng)
            if fn in (filter_block, footer_block) and rng.random() < 0.2:
                p = comment_block(rng) + p
            parts.append(p)
            size += len(p.encode("utf-8"))
        pads[key] = "".join(parts)
    for key, value in pads.items():
        doc = doc.replace(key, value)
    data = doc.encode("utf-8")
    if not MIN_BYTES <= len(data) <= MAX_BYTES:
        return None
    return data, truth


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--out", default="corpus")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    if args.pages < 1:
        ap.error("--pages must be at least 1")
    os.makedirs(args.out, exist_ok=True)
    tasks = [(args.seed, p, args.pages) for p in range(1, args.pages + 1)]
    total_bytes = records = 0
    truth_path = os.path.join(args.out, "truth.jsonl")
    with open(truth_path, "w", encoding="utf-8") as tf, \
         open(os.path.join(args.out, "manifest.tsv"), "w", encoding="utf-8") as mf, \
         multiprocessing.Pool(max(1, args.jobs)) as pool:
        for page, data, truth, err in pool.imap(make_page, tasks, chunksize=8):
            if err:
                raise SystemExit("gen_corpus: " + err)
            name = f"page-{page}.html"
            with open(os.path.join(args.out, name), "wb") as f:
                f.write(data)
            mf.write(f"{name}\t{BASE}{name}\n")
            for rec in truth:
                tf.write(json.dumps({"page": name, **rec}, ensure_ascii=False) + "\n")
            total_bytes += len(data)
            records += len(truth)
    summary = {"pages": args.pages, "bytes": total_bytes, "records": records, "seed": args.seed,
               "base_url": BASE}
    with open(os.path.join(args.out, "corpus.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    print(f"gen_corpus: {args.pages} pages, {total_bytes / 1e6:.1f} MB "
          f"({total_bytes / args.pages / 1024:.1f} KiB/page), {records} records -> {args.out}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
