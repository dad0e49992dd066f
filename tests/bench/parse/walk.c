/* The benchmark's native baseline: libxml2's HTML parser plus a hand-written
 * tree walk (no XPath, no CSS engine) that extracts the six fields of every
 * `section.results article.product-card` and prints them as JSON Lines.
 *
 *   walk [--parse-only] --manifest MANIFEST.tsv PAGE...
 *
 * MANIFEST.tsv maps a page's file name to its URL ("page-1.html<TAB>https://...").
 * --parse-only parses each page and frees the tree, printing nothing: the cost
 * of libxml2 alone.
 *
 * The parse options are the ones the host uses (sandbox/html/document.cc), and
 * pages are decoded as UTF-8 as the host's charset sniffing decides for them.
 *
 * Build: gcc -O2 -o walk walk.c $(pkg-config --cflags --libs libxml-2.0)
 */
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARSE_OPTIONS                                                              \
  (HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET | \
   HTML_PARSE_COMPACT)

/* ---- small growable buffer -------------------------------------------- */

typedef struct {
  char *p;
  size_t n, cap;
} buf_t;

static void buf_reserve(buf_t *b, size_t extra) {
  if (b->n + extra + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->n + extra + 1) cap *= 2;
  b->p = realloc(b->p, cap);
  if (!b->p) {
    perror("realloc");
    exit(2);
  }
  b->cap = cap;
}

static void buf_add(buf_t *b, const char *s, size_t len) {
  buf_reserve(b, len);
  memcpy(b->p + b->n, s, len);
  b->n += len;
  b->p[b->n] = '\0';
}

static void buf_adds(buf_t *b, const char *s) { buf_add(b, s, strlen(s)); }

/* ---- the manifest --------------------------------------------------------- */

typedef struct {
  char *name, *url;
} entry_t;

static entry_t *manifest;
static size_t manifest_n;

static int entry_cmp(const void *a, const void *b) {
  return strcmp(((const entry_t *)a)->name, ((const entry_t *)b)->name);
}

static void load_manifest(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "walk: %s: %s\n", path, strerror(errno));
    exit(2);
  }
  size_t cap = 0;
  char *line = NULL;
  size_t linecap = 0;
  ssize_t len;
  while ((len = getline(&line, &linecap, f)) > 0) {
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
    char *tab = strchr(line, '\t');
    if (!tab) continue;
    *tab = '\0';
    if (manifest_n == cap) {
      cap = cap ? cap * 2 : 1024;
      manifest = realloc(manifest, cap * sizeof *manifest);
    }
    manifest[manifest_n].name = strdup(line);
    manifest[manifest_n].url = strdup(tab + 1);
    manifest_n++;
  }
  free(line);
  fclose(f);
  qsort(manifest, manifest_n, sizeof *manifest, entry_cmp);
}

static const char *url_for(const char *name) {
  entry_t key = {(char *)name, NULL};
  entry_t *e = bsearch(&key, manifest, manifest_n, sizeof *manifest, entry_cmp);
  return e ? e->url : NULL;
}

/* ---- tree helpers ------------------------------------------------------------ */

static int is_elem(const xmlNode *n, const char *tag) {
  return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, tag) == 0;
}

/* True when the whitespace-separated class list of `n` contains `cls`. */
static int has_class(const xmlNode *n, const char *cls) {
  if (n->type != XML_ELEMENT_NODE) return 0;
  for (const xmlAttr *a = n->properties; a; a = a->next) {
    if (strcmp((const char *)a->name, "class") != 0) continue;
    const xmlNode *t = a->children;
    if (!t || !t->content) return 0;
    const char *s = (const char *)t->content;
    size_t cl = strlen(cls);
    while (*s) {
      while (*s && isspace((unsigned char)*s)) s++;
      const char *start = s;
      while (*s && !isspace((unsigned char)*s)) s++;
      if ((size_t)(s - start) == cl && memcmp(start, cls, cl) == 0) return 1;
    }
    return 0;
  }
  return 0;
}

/* The value of attribute `name` (its first text child), or NULL. Attribute
 * values in libxml2's HTML trees are a single text node with entities
 * already replaced. */
static const char *attr(const xmlNode *n, const char *name) {
  for (const xmlAttr *a = n->properties; a; a = a->next)
    if (strcmp((const char *)a->name, name) == 0)
      return a->children && a->children->content ? (const char *)a->children->content : "";
  return NULL;
}

/* Next node in document order below `root`, descending into children. */
static xmlNode *next_in(xmlNode *n, const xmlNode *root) {
  if (n->type == XML_ELEMENT_NODE && n->children) return n->children;
  while (n != root) {
    if (n->next) return n->next;
    n = n->parent;
  }
  return NULL;
}

/* Next node in document order below `root`, skipping n's subtree. */
static xmlNode *skip_in(xmlNode *n, const xmlNode *root) {
  while (n != root) {
    if (n->next) return n->next;
    n = n->parent;
  }
  return NULL;
}

/* First descendant element of `root` with class `cls`, in document order. */
static xmlNode *find_class(xmlNode *root, const char *cls) {
  for (xmlNode *n = root->children ? root->children : NULL; n; n = next_in(n, root))
    if (has_class(n, cls)) return n;
  return NULL;
}

/* First `a` that has an `h3` ancestor below `root` (CSS "h3 a"). */
static xmlNode *find_h3_a(xmlNode *root) {
  for (xmlNode *n = root->children; n; n = next_in(n, root)) {
    if (!is_elem(n, "h3")) continue;
    for (xmlNode *m = n->children; m; m = next_in(m, n))
      if (is_elem(m, "a")) return m;
  }
  return NULL;
}

static void text_content(const xmlNode *n, buf_t *out) {
  for (const xmlNode *c = n->children; c; c = c->next) {
    if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
      if (c->content) buf_adds(out, (const char *)c->content);
    } else if (c->type == XML_ELEMENT_NODE) {
      text_content(c, out);
    }
  }
}

/* Collapses runs of whitespace (ASCII and U+00A0) into one space and trims,
 * in place. */
static void normalize_ws(buf_t *b) {
  size_t w = 0;
  int pending = 0;
  for (size_t r = 0; r < b->n;) {
    unsigned char c = (unsigned char)b->p[r];
    size_t len = 1;
    int ws = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    if (c == 0xC2 && r + 1 < b->n && (unsigned char)b->p[r + 1] == 0xA0) ws = 1, len = 2;
    if (ws) {
      pending = w > 0;
    } else {
      if (pending) b->p[w++] = ' ';
      pending = 0;
      memmove(b->p + w, b->p + r, len);
      w += len;
    }
    r += len;
  }
  b->n = w;
  if (b->p) b->p[w] = '\0';
}

/* ---- fields ---------------------------------------------------------------- */

/* The first number in `s` as sdk.text.price reads it: digits with ',' or '.'
 * separators between them; when both appear the last one is the decimal
 * point; a lone one followed by exactly three digits is a thousands
 * separator; otherwise it is the decimal point. */
static int parse_price(const char *s, double *out) {
  const char *p = s;
  while (*p && !isdigit((unsigned char)*p)) p++;
  if (!*p) return 0;
  const char *start = p, *end = p;
  while (*end && (isdigit((unsigned char)*end) ||
                  ((*end == ',' || *end == '.') && isdigit((unsigned char)end[1]))))
    end++;
  int commas = 0, dots = 0;
  const char *last_sep = NULL;
  for (const char *q = start; q < end; q++)
    if (*q == ',' || *q == '.') {
      if (*q == ',') commas++; else dots++;
      last_sep = q;
    }
  char dec = 0;
  if (commas && dots) {
    dec = *last_sep;
  } else if (commas + dots == 1) {
    size_t after = (size_t)(end - last_sep - 1);
    dec = after == 3 ? 0 : *last_sep;
  }
  char num[64];
  size_t k = 0;
  for (const char *q = start; q < end && k < sizeof num - 1; q++) {
    if (isdigit((unsigned char)*q)) num[k++] = *q;
    else if (*q == dec) num[k++] = '.';
  }
  num[k] = '\0';
  *out = strtod(num, NULL);
  return 1;
}

static int rating_word(const char *w, size_t len) {
  static const char *words[] = {"one", "two", "three", "four", "five"};
  for (int i = 0; i < 5; i++)
    if (strlen(words[i]) == len && strncasecmp(words[i], w, len) == 0) return i + 1;
  return 0;
}

/* The rating named by one of the classes ("star-rating Four"), or 0. */
static int parse_rating(const xmlNode *n) {
  const char *s = attr(n, "class");
  if (!s) return 0;
  while (*s) {
    while (*s && isspace((unsigned char)*s)) s++;
    const char *start = s;
    while (*s && !isspace((unsigned char)*s)) s++;
    int r = rating_word(start, (size_t)(s - start));
    if (r) return r;
  }
  return 0;
}

/* 1 in stock, 0 not, -1 unknown. */
static int parse_stock(const char *text) {
  char low[512];
  size_t k = 0;
  for (; text[k] && k < sizeof low - 1; k++) low[k] = (char)tolower((unsigned char)text[k]);
  low[k] = '\0';
  if (strstr(low, "out of stock") || strstr(low, "sold out") || strstr(low, "unavailable")) return 0;
  if (strstr(low, "in stock") || strstr(low, "available") || strstr(low, " left")) return 1;
  return -1;
}

/* ---- URL joining (RFC 3986 5.2 for the reference forms the corpus uses) ---- */

static void remove_dot_segments(const char *in, size_t len, buf_t *out) {
  /* Segments are kept on a stack of offsets into `out`. */
  size_t base = out->n;
  size_t i = 0;
  while (i < len) {
    if (len - i >= 3 && memcmp(in + i, "../", 3) == 0) { i += 3; continue; }
    if (len - i >= 2 && memcmp(in + i, "./", 2) == 0) { i += 2; continue; }
    if (len - i >= 3 && memcmp(in + i, "/./", 3) == 0) { i += 2; continue; }
    if (len - i == 2 && memcmp(in + i, "/.", 2) == 0) { buf_add(out, "/", 1); break; }
    if ((len - i >= 4 && memcmp(in + i, "/../", 4) == 0) || (len - i == 3 && memcmp(in + i, "/..", 3) == 0)) {
      /* drop the last output segment */
      while (out->n > base && out->p[out->n - 1] != '/') out->n--;
      if (out->n > base) out->n--;
      out->p[out->n] = '\0';
      if (len - i == 3) { buf_add(out, "/", 1); break; }
      i += 3;
      continue;
    }
    if ((len - i == 1 && in[i] == '.') || (len - i == 2 && memcmp(in + i, "..", 2) == 0)) break;
    /* move the first segment (with its leading '/') to the output */
    size_t j = i + (in[i] == '/');
    while (j < len && in[j] != '/') j++;
    buf_add(out, in + i, j - i);
    i = j;
  }
}

/* Resolves `ref` (already trimmed) against the absolute `base`. */
static void join_url(const char *base, const char *ref, buf_t *out) {
  out->n = 0;
  buf_reserve(out, 0);
  out->p[0] = '\0';
  const char *colon = strchr(ref, ':');
  const char *delim = strpbrk(ref, "/?#");
  if (colon && (!delim || colon < delim) && colon > ref) {  /* has a scheme */
    buf_adds(out, ref);
    return;
  }
  const char *bscheme_end = strstr(base, "://");
  size_t scheme_len = (size_t)(bscheme_end - base);            /* "https" */
  const char *bauth = bscheme_end + 3;
  const char *bpath = bauth + strcspn(bauth, "/?#");
  if (ref[0] == '/' && ref[1] == '/') {                         /* network-path */
    buf_add(out, base, scheme_len + 1);
    buf_adds(out, ref);
    return;
  }
  buf_add(out, base, (size_t)(bpath - base));                  /* scheme://authority */
  size_t rpath_len = strcspn(ref, "?#");
  if (ref[0] == '/') {
    remove_dot_segments(ref, rpath_len, out);
  } else {
    /* merge: base path up to its last '/', then the reference path */
    size_t bpath_len = strcspn(bpath, "?#");
    const char *slash = NULL;
    for (const char *q = bpath; q < bpath + bpath_len; q++)
      if (*q == '/') slash = q;
    buf_t merged = {0};
    if (slash) buf_add(&merged, bpath, (size_t)(slash - bpath + 1));
    else buf_add(&merged, "/", 1);
    buf_add(&merged, ref, rpath_len);
    remove_dot_segments(merged.p, merged.n, out);
    free(merged.p);
  }
  buf_adds(out, ref + rpath_len); /* query and fragment as given */
}

/* ---- JSON output ------------------------------------------------------------- */

static void json_string(buf_t *o, const char *s) {
  buf_add(o, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
      case '"': buf_add(o, "\\\"", 2); break;
      case '\\': buf_add(o, "\\\\", 2); break;
      case '\n': buf_add(o, "\\n", 2); break;
      case '\t': buf_add(o, "\\t", 2); break;
      case '\r': buf_add(o, "\\r", 2); break;
      default:
        if (*p < 0x20) {
          char esc[8];
          snprintf(esc, sizeof esc, "\\u%04x", *p);
          buf_adds(o, esc);
        } else {
          buf_add(o, (const char *)p, 1);
        }
    }
  }
  buf_add(o, "\"", 1);
}

/* ---- one page ------------------------------------------------------------------ */

static buf_t text, url, out;

static void extract_card(xmlNode *card, const char *page, const char *page_url) {
  xmlNode *a = find_h3_a(card);
  xmlNode *price = find_class(card, "price");
  double price_v = 0;
  text.n = 0;
  if (price) text_content(price, &text);
  buf_add(&text, "", 0);
  if (!a || !price || !parse_price(text.p, &price_v)) return; /* required fields */

  buf_adds(&out, "{\"page\":");
  json_string(&out, page);

  buf_adds(&out, ",\"title\":");
  const char *t = attr(a, "title");
  text.n = 0;
  if (t) buf_adds(&text, t); else text_content(a, &text);
  buf_add(&text, "", 0);
  normalize_ws(&text);
  json_string(&out, text.p);

  char num[64];
  snprintf(num, sizeof num, ",\"price\":%.15g", price_v);
  buf_adds(&out, num);

  const char *href = attr(a, "href");
  buf_adds(&out, ",\"url\":");
  if (href) {
    while (*href && isspace((unsigned char)*href)) href++;
    text.n = 0;
    buf_adds(&text, href);
    while (text.n && isspace((unsigned char)text.p[text.n - 1])) text.p[--text.n] = '\0';
    join_url(page_url, text.p, &url);
    json_string(&out, url.p);
  } else {
    buf_adds(&out, "null");
  }

  const char *sku = attr(card, "data-sku");
  buf_adds(&out, ",\"sku\":");
  if (sku) json_string(&out, sku); else buf_adds(&out, "null");

  xmlNode *stars = find_class(card, "star-rating");
  int r = stars ? parse_rating(stars) : 0;
  buf_adds(&out, ",\"rating\":");
  if (r) {
    snprintf(num, sizeof num, "%d", r);
    buf_adds(&out, num);
  } else {
    buf_adds(&out, "null");
  }

  xmlNode *avail = find_class(card, "availability");
  int st = -1;
  if (avail) {
    text.n = 0;
    text_content(avail, &text);
    buf_add(&text, "", 0);
    normalize_ws(&text);
    st = parse_stock(text.p);
  }
  buf_adds(&out, st < 0 ? ",\"in_stock\":null}\n" : st ? ",\"in_stock\":true}\n" : ",\"in_stock\":false}\n");
}

/* Walks the document: every article.product-card below a section.results. */
static void extract(xmlDoc *doc, const char *page, const char *page_url) {
  xmlNode *root = (xmlNode *)doc;
  for (xmlNode *n = root->children; n;) {
    if (is_elem(n, "section") && has_class(n, "results")) {
      for (xmlNode *m = n->children; m;) {
        if (is_elem(m, "article") && has_class(m, "product-card")) {
          extract_card(m, page, page_url);
          m = skip_in(m, n);
        } else {
          m = next_in(m, n);
        }
      }
      n = skip_in(n, root);
    } else {
      n = next_in(n, root);
    }
  }
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *data = malloc((size_t)size + 1);
  if (data && fread(data, 1, (size_t)size, f) != (size_t)size) {
    free(data);
    data = NULL;
  }
  fclose(f);
  *len = (size_t)size;
  return data;
}

int main(int argc, char **argv) {
  int parse_only = 0, first = 0;
  const char *manifest_path = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--parse-only") == 0) {
      parse_only = 1;
    } else if (strcmp(argv[i], "--manifest") == 0 && i + 1 < argc) {
      manifest_path = argv[++i];
    } else if (strcmp(argv[i], "--") == 0) {
      first = i + 1;
      break;
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "usage: walk [--parse-only] --manifest MANIFEST.tsv PAGE...\n");
      return 2;
    } else {
      first = i;
      break;
    }
  }
  if (!first || first >= argc || (!parse_only && !manifest_path)) {
    fprintf(stderr, "usage: walk [--parse-only] --manifest MANIFEST.tsv PAGE...\n");
    return 2;
  }
  if (manifest_path) load_manifest(manifest_path);
  xmlInitParser();
  int failures = 0;
  for (int i = first; i < argc; i++) {
    const char *path = argv[i];
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    const char *page_url = parse_only ? "" : url_for(name);
    if (!page_url) {
      fprintf(stderr, "walk: %s: not in the manifest\n", name);
      failures++;
      continue;
    }
    size_t len;
    char *data = read_file(path, &len);
    if (!data) {
      fprintf(stderr, "walk: %s: %s\n", path, strerror(errno));
      failures++;
      continue;
    }
    htmlDocPtr doc = htmlReadMemory(data, (int)len, page_url, "UTF-8", PARSE_OPTIONS);
    if (!doc) {
      fprintf(stderr, "walk: %s: libxml2 returned no document\n", path);
      failures++;
    } else {
      if (!parse_only) {
        extract(doc, name, page_url);
        if (out.n > (1 << 16)) {
          fwrite(out.p, 1, out.n, stdout);
          out.n = 0;
        }
      }
      xmlFreeDoc(doc);
    }
    free(data);
  }
  if (out.n) fwrite(out.p, 1, out.n, stdout);
  fflush(stdout);
  xmlCleanupParser();
  return failures ? 1 : 0;
}
