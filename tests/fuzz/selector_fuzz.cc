// libFuzzer target: compiles the input as a CSS selector and, when it
// compiles, runs it over a small fixed page, checking that select(),
// select_first() and matches() agree with each other.
//
// Crashes, sanitizer reports, hangs (-timeout) and broken invariants
// (__builtin_trap) are all findings.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sandbox/html/document.h"
#include "sandbox/html/selector.h"

namespace {

using sandbox::html::Selector;

// Something of everything the engine looks at: nesting, sibling runs with
// text and comments between them, classes, ids, attributes with odd values,
// entities, CDATA (script), empty elements, unclosed tags, a deep chain and
// a long run of siblings.
constexpr std::string_view kPage = R"(<!DOCTYPE html>
<html lang="en-GB"><head><title>T &amp; t</title><style>p{}</style></head>
<body class="page home">
<div id="main" class="a b" data-x="1">
  <ul id="list"><li class="item first">one</li> <!-- c --> <li class="item">two
  <li class="item last" title='say "hi"'>three<ul><li id="deep">four</li></ul></li></ul>
  <p>para <b>bold <i>it</i></b> tail</p><p></p><p> </p>
  <table><tr><td>1<td>2<tr><td>3</table>
  <article class="product_pod"><h3><a href="/x?a=1&amp;b=2" title="A Book">A Book</a></h3>
    <p class="price_color">&pound;51.77</p><p class="instock availability">In stock</p>
  </article>
</div>
<section><nav><a href="#">n</a></nav></section>
<div class="deep"><div><div class="deep"><div><span><b><i><div class="x"><p>d</p></div></i></b></span></div></div></div></div>
<ol><li>1<li>2<li class="x">3<li>4<li>5<li>6<li class="x">7<li>8<li>9<li>10<li>11</ol>
<form><input type="TEXT" name="q" disabled><select><option>x<option selected>y</select></form>
<script>if (a < b && c > d) {}</script>
</body></html>)";

struct Fixture {
  sandbox::html::XmlDocPtr doc;
  std::vector<const xmlNode*> elements;  // document order
  std::unordered_map<const xmlNode*, std::size_t> order;
};

void collect(const xmlNode* n, Fixture& f) {
  for (; n != nullptr; n = n->next) {
    if (n->type != XML_ELEMENT_NODE) continue;
    f.order.emplace(n, f.elements.size());
    f.elements.push_back(n);
    collect(n->children, f);
  }
}

const Fixture& fixture() {
  static const Fixture* f = [] {
    auto* made = new Fixture;
    made->doc = sandbox::html::parse_html(kPage, "text/html; charset=utf-8", "");
    collect(made->doc->children, *made);
    return made;
  }();
  return *f;
}

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool is_below(const xmlNode* n, const xmlNode* scope) {
  for (const xmlNode* p = n->parent; p != nullptr; p = p->parent) {
    if (p == scope) return true;
  }
  return false;
}

// select() below `scope` returns matches in document order, once each, and
// never the scope itself.
void check_scoped(const Selector& s, const xmlNode* scope) {
  const Fixture& f = fixture();
  std::vector<xmlNode*> out;
  s.select(scope, out);
  std::size_t last = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    check(out[i] != scope);
    check(s.matches(out[i], scope));
    const auto it = f.order.find(out[i]);
    check(it != f.order.end());
    check(i == 0 || it->second > last);
    last = it->second;
  }
  check(s.select_first(scope) == (out.empty() ? nullptr : out.front()));
  std::vector<xmlNode*> limited;
  s.select(scope, limited, 2);
  check(limited.size() == std::min<std::size_t>(2, out.size()));
  // Below the scope, select() finds exactly what matches() accepts.
  std::size_t below = 0;
  for (const xmlNode* n : f.elements) {
    if (is_below(n, scope) && s.matches(n, scope)) ++below;
  }
  std::size_t selected_below = 0;
  for (const xmlNode* n : out) selected_below += is_below(n, scope) ? 1 : 0;
  check(below == selected_below);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto compiled = Selector::compile(text);
  if (!compiled) {
    const sandbox::html::SelectorError& error = compiled.error();
    check(error.position <= size);
    check(!error.message.empty());
    check(error.selector == text);
    (void)error.to_string();
    return 0;
  }
  const Selector& selector = **compiled;
  check(selector.text() == text);
  const Fixture& f = fixture();
  check_scoped(selector, reinterpret_cast<const xmlNode*>(f.doc.get()));
  // A few element scopes: the body, a list with nesting, a leaf.
  for (std::size_t i : {std::size_t{1}, f.elements.size() / 3, f.elements.size() - 1}) {
    check_scoped(selector, f.elements[i]);
  }
  return 0;
}
