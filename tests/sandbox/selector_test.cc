// The CSS selector engine: syntax, matching semantics, errors, limits and
// the compiled-selector cache. Pages are parsed with libxml2's HTML parser,
// as in production; html_quirks_test.cc covers that parser's own habits.
#include "sandbox/html/selector.h"

#include <gtest/gtest.h>
#include <libxml/parser.h>

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sandbox/html/document.h"

namespace sandbox::html {
namespace {

const xmlNode* as_node(const xmlDoc* doc) { return reinterpret_cast<const xmlNode*>(doc); }

std::string attribute(const xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  std::string out = v ? reinterpret_cast<const char*>(v) : "";
  xmlFree(v);
  return out;
}

// An element as tests name it: its id, else its tag.
std::string label(const xmlNode* n) {
  std::string id = attribute(n, "id");
  return id.empty() ? reinterpret_cast<const char*>(n->name) : id;
}

std::string join(const std::vector<xmlNode*>& nodes) {
  std::string out;
  for (const xmlNode* n : nodes) out += (out.empty() ? "" : " ") + label(n);
  return out;
}

std::shared_ptr<const Selector> must_compile(std::string_view text) {
  auto compiled = Selector::compile(text);
  EXPECT_TRUE(compiled.has_value()) << (compiled ? "" : compiled.error().to_string());
  return compiled.value_or(nullptr);
}

class Page {
 public:
  explicit Page(std::string_view html) : doc_(parse_html(html, "text/html", "")) {}

  const xmlNode* document() const { return as_node(doc_.get()); }

  // The element with this id.
  const xmlNode* at(std::string_view id) const {
    for (const xmlNode* n = document(); n != nullptr;) {
      if (n->type == XML_ELEMENT_NODE && attribute(n, "id") == id) return n;
      if (n->children != nullptr && (n->type == XML_ELEMENT_NODE || n == document())) {
        n = n->children;
        continue;
      }
      while (n != nullptr && n->next == nullptr) n = n->parent;
      if (n != nullptr) n = n->next;
    }
    ADD_FAILURE() << "no element with id " << id;
    return nullptr;
  }

  // Labels of what `selector` selects below `scope` (the document by default),
  // or "error: <message>".
  std::string select(std::string_view selector, const xmlNode* scope = nullptr) const {
    auto compiled = Selector::compile(selector);
    if (!compiled) return "error: " + compiled.error().message;
    std::vector<xmlNode*> out;
    (*compiled)->select(scope ? scope : document(), out);
    return join(out);
  }

  bool matches(std::string_view selector, std::string_view id) const {
    auto compiled = must_compile(selector);
    return compiled && compiled->matches(at(id));
  }

 private:
  XmlDocPtr doc_;
};

SelectorError error_of(std::string_view selector) {
  auto compiled = Selector::compile(selector);
  EXPECT_FALSE(compiled.has_value()) << "'" << selector << "' compiled";
  return compiled ? SelectorError{} : compiled.error();
}

// --- Simple selectors ---------------------------------------------------------

TEST(Selector, TypeSelectorIgnoresCase) {
  Page page(R"(<div id="d"><span id="s"></span></div>)");
  EXPECT_EQ(page.select("span"), "s");
  EXPECT_EQ(page.select("SPAN"), "s");
  EXPECT_EQ(page.select("Div"), "d");
}

TEST(Selector, UniversalSelectorMatchesEveryElement) {
  Page page(R"(<div id="d"><span id="s"></span>text</div>)");
  EXPECT_EQ(page.select("div *"), "s");
  EXPECT_EQ(page.select("body *"), "d s");
  EXPECT_EQ(page.select("*"), "html body d s");
}

TEST(Selector, ClassMatchesAnyWhitespaceSeparatedName) {
  Page page(
      "<p id=a class='x y'></p><p id=b class=\"\tx\n\"></p><p id=c class='xy'></p>"
      "<p id=d class='y\fx'></p>");
  EXPECT_EQ(page.select(".x"), "a b d");
  EXPECT_EQ(page.select(".y"), "a d");
  EXPECT_EQ(page.select("p.x.y"), "a d");
  EXPECT_EQ(page.select(".xy"), "c");
}

TEST(Selector, ClassAndIdAreCaseSensitive) {
  Page page("<p id=Main class=Big></p>");
  EXPECT_EQ(page.select(".Big"), "Main");
  EXPECT_EQ(page.select(".big"), "");
  EXPECT_EQ(page.select("#Main"), "Main");
  EXPECT_EQ(page.select("#main"), "");
}

TEST(Selector, ClassAndIdMayStartWithDigits) {
  // Not valid CSS, but common on real pages; accepted on purpose.
  Page page("<p id=123 class='2col'></p>");
  EXPECT_EQ(page.select("#123"), "123");
  EXPECT_EQ(page.select(".2col"), "123");
  EXPECT_EQ(page.select("#\\31 23"), "123");
}

TEST(Selector, IdentifiersTakeEscapesAndNonAscii) {
  Page page(R"(<p id="a:b" class="café x.y"></p><p id="c" class="-_-"></p>)");
  EXPECT_EQ(page.select("#a\\:b"), "a:b");
  EXPECT_EQ(page.select(".café"), "a:b");
  EXPECT_EQ(page.select(".caf\\e9"), "a:b");
  EXPECT_EQ(page.select(".x\\.y"), "a:b");
  EXPECT_EQ(page.select(".-_-"), "c");
  EXPECT_EQ(page.select("\\70"), "a:b c");  // \70 is 'p'
}

TEST(Selector, AttributeExists) {
  Page page(R"(<a id=a href="/x"></a><a id=b></a><input id=c disabled>)");
  EXPECT_EQ(page.select("[href]"), "a");
  EXPECT_EQ(page.select("a:not([href])"), "b");
  EXPECT_EQ(page.select("[disabled]"), "c");
}

TEST(Selector, AttributeNameIgnoresCase) {
  Page page(R"(<a id=a data-Foo="1"></a>)");
  EXPECT_EQ(page.select("[DATA-foo]"), "a");
  EXPECT_EQ(page.select("[data-foo='1']"), "a");
}

TEST(Selector, AttributeExactMatch) {
  Page page(R"(<a id=a title="x"></a><a id=b title="x y"></a><a id=c title=""></a>)");
  EXPECT_EQ(page.select("[title=x]"), "a");
  EXPECT_EQ(page.select("[title='x y']"), "b");
  EXPECT_EQ(page.select("[title=\"\"]"), "c");
  EXPECT_EQ(page.select("[title=X]"), "");
}

TEST(Selector, AttributeWordMatch) {
  Page page(R"(<a id=a rel="nofollow  noopener"></a><a id=b rel="nofollower"></a>)");
  EXPECT_EQ(page.select("[rel~=noopener]"), "a");
  EXPECT_EQ(page.select("[rel~=nofollow]"), "a");
  EXPECT_EQ(page.select("[rel~='nofollow noopener']"), "");  // a word never holds a space
  EXPECT_EQ(page.select("[rel~='']"), "");
}

TEST(Selector, AttributeDashMatch) {
  Page page(R"(<p id=a lang="en"></p><p id=b lang="en-GB"></p><p id=c lang="english"></p>)");
  EXPECT_EQ(page.select("[lang|=en]"), "a b");
}

TEST(Selector, AttributePrefixMatch) {
  Page page(R"(<a id=a href="https://x"></a><a id=b href="http://x"></a><a id=c href=""></a>)");
  EXPECT_EQ(page.select("[href^='https:']"), "a");
  EXPECT_EQ(page.select("[href^=http]"), "a b");
  EXPECT_EQ(page.select("[href^='']"), "");  // CSS: an empty prefix matches nothing
}

TEST(Selector, AttributeSuffixMatch) {
  Page page(R"(<img id=a src="x.png"><img id=b src="x.PNG"><img id=c src="png">)");
  EXPECT_EQ(page.select("[src$='.png']"), "a");
  EXPECT_EQ(page.select("[src$=png]"), "a c");
  EXPECT_EQ(page.select("[src$=\"\"]"), "");
}

TEST(Selector, AttributeSubstringMatch) {
  Page page(R"(<a id=a href="/catalogue/page-2.html"></a><a id=b href="/about"></a>)");
  EXPECT_EQ(page.select("a[href*=page-]"), "a");
  EXPECT_EQ(page.select("a[href*='/']"), "a b");
  EXPECT_EQ(page.select("a[href*='']"), "");
}

TEST(Selector, AttributeCaseInsensitiveFlag) {
  Page page(R"(<input id=a type="Email"><input id=b type="TEXT" class="Foo Bar">)");
  EXPECT_EQ(page.select("[type=email]"), "");
  EXPECT_EQ(page.select("[type=email i]"), "a");
  EXPECT_EQ(page.select("[type='EMAIL' I]"), "a");
  EXPECT_EQ(page.select("[type^=e i]"), "a");
  EXPECT_EQ(page.select("[type$=XT i]"), "b");
  EXPECT_EQ(page.select("[type*=MaI i]"), "a");
  EXPECT_EQ(page.select("[class~=bar i]"), "b");
  EXPECT_EQ(page.select("[type=Email s]"), "a");
  EXPECT_EQ(page.select("[type=email s]"), "");
}

TEST(Selector, AttributeValueEscapes) {
  Page page(R"(<p id=a title='say "hi"'></p><p id=b title="back\slash"></p>)"
            R"(<p id=c title="AB"></p><p id=d title="it's"></p>)");
  EXPECT_EQ(page.select(R"([title="say \"hi\""])"), "a");
  EXPECT_EQ(page.select(R"([title='say "hi"'])"), "a");
  EXPECT_EQ(page.select(R"([title="back\\slash"])"), "b");
  EXPECT_EQ(page.select(R"([title="\41 B"])"), "c");
  EXPECT_EQ(page.select(R"([title="\000041\42"])"), "c");
  EXPECT_EQ(page.select(R"([title='it\'s'])"), "d");
  EXPECT_EQ(page.select(R"([title=AB])"), "c");
}

TEST(Selector, AttributeBareValueMayStartWithDigit) {
  Page page(R"(<tr id=a data-id="123"></tr><td id=b colspan=2></td>)");
  EXPECT_EQ(page.select("[data-id=123]"), "a");
  EXPECT_EQ(page.select("[colspan=2]"), "b");
}

TEST(Selector, AttributeWhitespaceInsideBrackets) {
  Page page(R"(<a id=a href="x"></a>)");
  EXPECT_EQ(page.select("[ href = 'x' ]"), "a");
  EXPECT_EQ(page.select("[\thref\n^=\fx i ]"), "a");
}

// --- Combinators --------------------------------------------------------------

TEST(Selector, DescendantCombinator) {
  Page page(R"(<div id=d><p id=p><span id=s></span></p></div><span id=t></span>)");
  EXPECT_EQ(page.select("div span"), "s");
  EXPECT_EQ(page.select("body span"), "s t");
  EXPECT_EQ(page.select("div   \n p span"), "s");
}

TEST(Selector, ChildCombinator) {
  Page page(R"(<div id=d><p id=p><span id=s></span></p><span id=t></span></div>)");
  EXPECT_EQ(page.select("div > span"), "t");
  EXPECT_EQ(page.select("div>p>span"), "s");
  EXPECT_EQ(page.select("div > * > span"), "s");
}

TEST(Selector, NextSiblingCombinatorSkipsTextAndComments) {
  Page page("<h2 id=h>t</h2> text <!-- c --> <p id=a></p><p id=b></p>");
  EXPECT_EQ(page.select("h2 + p"), "a");
  EXPECT_EQ(page.select("h2+p"), "a");
  EXPECT_EQ(page.select("p + p"), "b");
}

TEST(Selector, LaterSiblingCombinator) {
  Page page("<p id=a></p><h2 id=h></h2><p id=b></p>x<div id=c></div><p id=d></p>");
  EXPECT_EQ(page.select("h2 ~ p"), "b d");
  EXPECT_EQ(page.select("h2~*"), "b c d");
  EXPECT_EQ(page.select("p ~ p"), "b d");
}

TEST(Selector, RightToLeftMatchingRetriesFartherAncestors) {
  // The span's nearest .y has no .x parent, but the outer .y does.
  Page page(R"(<div class=x><div class=y><div class=y><span id=s></span></div></div></div>)");
  EXPECT_EQ(page.select(".x > .y span"), "s");
  EXPECT_EQ(page.select(".x > .y > span"), "");
  EXPECT_EQ(page.select(".x > .y > .y > span"), "s");
}

TEST(Selector, RightToLeftMatchingRetriesEarlierSiblings) {
  Page page(R"(<div class=a><p id=p1></p></div><div class=b><p id=p2></p></div>)"
            R"(<div class=c></div><span id=s></span>)");
  EXPECT_EQ(page.select(".a ~ div + span"), "s");
  EXPECT_EQ(page.select(".a + div ~ span"), "s");
  EXPECT_EQ(page.select(".b + span"), "");
  EXPECT_EQ(page.select("body > .a ~ .c + span"), "s");
}

TEST(Selector, MixedCombinatorsAcrossLevels) {
  Page page(R"(<ul id=u><li id=l1><a id=a1></a></li><li id=l2 class=on><a id=a2></a></li>)"
            R"(<li id=l3><a id=a3></a></li></ul>)");
  EXPECT_EQ(page.select("li.on ~ li > a"), "a3");
  EXPECT_EQ(page.select("li.on + li a"), "a3");
  EXPECT_EQ(page.select("ul > li:not(.on) a"), "a1 a3");
  EXPECT_EQ(page.select("ul li + li ~ li a"), "a3");
}

// --- Pseudo-classes -----------------------------------------------------------

constexpr std::string_view kList =
    "<ul><li id=1></li> <li id=2></li><!-- x --><li id=3></li>text<li id=4></li>"
    "<li id=5></li><li id=6></li><li id=7></li></ul>";

TEST(Selector, FirstLastAndOnlyChild) {
  Page page("<div><p id=a></p><span id=b></span><p id=c></p></div><div><i id=d></i></div>");
  EXPECT_EQ(page.select("div > :first-child"), "a d");
  EXPECT_EQ(page.select("div > :last-child"), "c d");
  // <html> has no element siblings and <body> is its only child.
  EXPECT_EQ(page.select(":only-child"), "html body d");
}

TEST(Selector, OfTypePseudoClassesCountSameNameSiblings) {
  Page page("<div><h2 id=h></h2><p id=a></p><span id=s></span><p id=b></p><p id=c></p></div>");
  EXPECT_EQ(page.select("div > p:first-of-type"), "a");
  EXPECT_EQ(page.select("div > p:last-of-type"), "c");
  EXPECT_EQ(page.select("div > :only-of-type"), "h s");
  EXPECT_EQ(page.select("p:nth-of-type(2)"), "b");
  EXPECT_EQ(page.select("p:nth-last-of-type(1)"), "c");
  EXPECT_EQ(page.select("div > :nth-of-type(1)"), "h a s");
}

struct NthCase {
  std::string_view argument;
  std::string_view expected;
};

TEST(Selector, NthChildGrammar) {
  Page page(kList);
  const NthCase cases[] = {
      {"odd", "1 3 5 7"},
      {"even", "2 4 6"},
      {"ODD", "1 3 5 7"},
      {"3", "3"},
      {"n", "1 2 3 4 5 6 7"},
      {"-n+3", "1 2 3"},
      {"2n+1", "1 3 5 7"},
      {"+5", "5"},
      {"-2n-1", ""},
      {" 2n + 1 ", "1 3 5 7"},
      {"2n+ 1", "1 3 5 7"},
      {"2n -1", "1 3 5 7"},
      {"2N+1", "1 3 5 7"},
      {"3n", "3 6"},
      {"+n", "1 2 3 4 5 6 7"},
      {"-n", ""},
      {"0n+2", "2"},
      {"0", ""},
      {"-3", ""},
      {"n+5", "5 6 7"},
      {"-2n+5", "1 3 5"},
      {"3n-1", "2 5"},
      {"+3n+0", "3 6"},
      {"1000000000", ""},
      {"-1000000000n+7", "7"},
      {"10n-3", "7"},
  };
  for (const NthCase& c : cases) {
    EXPECT_EQ(page.select("li:nth-child(" + std::string(c.argument) + ")"), c.expected)
        << c.argument;
  }
}

TEST(Selector, NthChildRejectsMalformedArguments) {
  for (std::string_view bad :
       {"", " ", "2 n", "n+", "+ 2", "- n", "2n+-1", "2n1", "foo", "1.5", "n-", "2n+", "2n 1",
        "odd 1", "n n", "--n", "1000000001", "2n+1 of p", "++1"}) {
    auto compiled = Selector::compile("li:nth-child(" + std::string(bad) + ")");
    EXPECT_FALSE(compiled.has_value()) << "'" << bad << "'";
  }
}

TEST(Selector, NthLastChildCountsFromTheEnd) {
  Page page(kList);
  EXPECT_EQ(page.select("li:nth-last-child(1)"), "7");
  EXPECT_EQ(page.select("li:nth-last-child(-n+2)"), "6 7");
  EXPECT_EQ(page.select("li:nth-last-child(odd)"), "1 3 5 7");
}

TEST(Selector, NotTakesCompoundSelectorLists) {
  Page page("<p id=a class=x></p><p id=b class=y></p><p id=c></p><span id=d class=x></span>");
  EXPECT_EQ(page.select("body > :not(.x)"), "b c");
  EXPECT_EQ(page.select("body > :not(.x, .y)"), "c");
  EXPECT_EQ(page.select("body > :not(p.x, span)"), "b c");
  EXPECT_EQ(page.select("body > :not(:not(.x))"), "a d");
  EXPECT_EQ(page.select("body > p:not( .x ):not(#c)"), "b");
}

TEST(Selector, NotAcceptsComplexSelectors) {
  Page page("<div class=skip><p id=a></p></div><div><p id=b></p></div>");
  EXPECT_EQ(page.select("p:not(.skip p)"), "b");
  EXPECT_EQ(page.select("p:not(.skip > *)"), "b");
  EXPECT_EQ(page.select("p:not(div + div p)"), "a");
}

TEST(Selector, NotNestingIsLimitedTo32) {
  std::string ok = "p";
  std::string too_deep = "p";
  for (int i = 0; i < 32; ++i) ok += ":not(";
  ok += "div";
  for (int i = 0; i < 32; ++i) ok += ")";
  for (int i = 0; i < 33; ++i) too_deep += ":not(";
  too_deep += "div";
  for (int i = 0; i < 33; ++i) too_deep += ")";

  Page page("<p id=a></p>");
  EXPECT_EQ(page.select(ok), "");  // an even number of :not()s: p that is a div
  auto error = error_of(too_deep);
  EXPECT_EQ(error.position, 1u + 32 * 5);
  EXPECT_NE(error.message.find("32"), std::string::npos) << error.message;
}

TEST(Selector, ContainsSearchesAllDescendantText) {
  Page page("<div id=a>Price: <b>£5<i>1</i></b>.77</div><div id=b>price</div><p id=c>x</p>");
  EXPECT_EQ(page.select("div:contains('£51.77')"), "a");
  EXPECT_EQ(page.select("div:contains(\"Price\")"), "a");
  EXPECT_EQ(page.select("div:contains(price)"), "b");  // a bare identifier is fine too
  EXPECT_EQ(page.select("b:contains('51')"), "b");
  EXPECT_EQ(page.select("*:contains('51')"), "html body a b");
  EXPECT_EQ(page.select("div:contains('')"), "a b");
  EXPECT_EQ(page.select("div:contains('Price: £51.77!')"), "");
}

TEST(Selector, ContainsFindsMatchesThatNeedBacktracking) {
  // Streaming substring search must not lose a match that starts inside a
  // failed partial match, nor one that spans text nodes.
  Page page("<p id=a>aab<b>aa</b>ab</p><p id=b>abab<i>ab</i>c</p>");
  EXPECT_EQ(page.select("p:contains('aaab')"), "a");
  EXPECT_EQ(page.select("p:contains('ababc')"), "b");
  EXPECT_EQ(page.select("p:contains('baaa')"), "a");
  EXPECT_EQ(page.select("p:contains('aaaa')"), "");
}

TEST(Selector, EmptyIgnoresCommentsButNotWhitespace) {
  Page page("<p id=a></p><p id=b><!-- c --></p><p id=c> </p><p id=d><br></p>");
  EXPECT_EQ(page.select("p:empty"), "a b");
}

TEST(Selector, RootIsTheDocumentElement) {
  Page page("<div id=d></div>");
  EXPECT_EQ(page.select(":root"), "html");
  EXPECT_EQ(page.select(":root > body > div"), "d");
  EXPECT_EQ(page.select("div:root"), "");
}

TEST(Selector, PseudoClassNamesIgnoreCase) {
  Page page("<p id=a></p><p id=b></p>");
  EXPECT_EQ(page.select("p:FIRST-CHILD"), "a");
  EXPECT_EQ(page.select("p:Nth-Child(2)"), "b");
  EXPECT_EQ(page.select("p:NOT(#a)"), "b");
}

// --- Scope --------------------------------------------------------------------

constexpr std::string_view kNested =
    "<div id=outer><ul id=list><li id=a><ul id=inner><li id=b></li></ul></li>"
    "<li id=c></li></ul><p id=after1></p><p id=after2><span id=sp></span></p></div>";

TEST(Selector, SelectNeverReturnsTheScope) {
  Page page(kNested);
  EXPECT_EQ(page.select("ul", page.at("list")), "inner");
  EXPECT_EQ(page.select(":scope", page.at("list")), "");
  EXPECT_EQ(page.select("*", page.at("b")), "");
}

TEST(Selector, ScopePseudoClassMatchesTheScopeNode) {
  Page page(kNested);
  EXPECT_EQ(page.select(":scope > li", page.at("list")), "a c");
  EXPECT_EQ(page.select(":scope li", page.at("list")), "a b c");
  EXPECT_EQ(page.select(":scope > li", page.at("inner")), "b");
}

TEST(Selector, LeadingChildCombinatorIsRelativeToScope) {
  Page page(kNested);
  EXPECT_EQ(page.select("> li", page.at("list")), "a c");
  EXPECT_EQ(page.select(">li>ul>li", page.at("list")), "b");
  EXPECT_EQ(page.select("> li, #b", page.at("list")), "a b c");
}

TEST(Selector, LeadingSiblingCombinatorsLookAfterTheScope) {
  // `+ p` / `~ p` would never find anything below the scope, so select()
  // also searches the scope's later siblings (and their subtrees) for them.
  Page page(kNested);
  EXPECT_EQ(page.select("+ p", page.at("list")), "after1");
  EXPECT_EQ(page.select("~ p", page.at("list")), "after1 after2");
  EXPECT_EQ(page.select("~ p span", page.at("list")), "sp");
  EXPECT_EQ(page.select("+ p", page.at("after2")), "");
  // Groups without a leading combinator still search only below the scope.
  EXPECT_EQ(page.select("~ p, span", page.at("list")), "after1 after2");
  EXPECT_EQ(page.select("span", page.at("list")), "");
}

TEST(Selector, AncestorsMayLieOutsideTheScope) {
  // As querySelectorAll does: only the subject must be below the scope.
  Page page(kNested);
  EXPECT_EQ(page.select("div li", page.at("list")), "a b c");
  EXPECT_EQ(page.select("#outer > ul > li", page.at("list")), "a c");
}

TEST(Selector, DocumentAsScope) {
  Page page(kNested);
  EXPECT_EQ(page.select("> html"), "html");
  EXPECT_EQ(page.select("> body"), "");
  EXPECT_EQ(page.select(":scope > html > body > div"), "outer");
}

TEST(Selector, MatchesWithAndWithoutScope) {
  Page page(kNested);
  auto child = must_compile("> li");
  ASSERT_TRUE(child);
  EXPECT_TRUE(child->matches(page.at("a"), page.at("list")));
  EXPECT_FALSE(child->matches(page.at("b"), page.at("list")));
  EXPECT_FALSE(child->matches(page.at("a")));  // no scope: :scope is :root
  auto scope = must_compile(":scope");
  ASSERT_TRUE(scope);
  EXPECT_TRUE(scope->matches(page.at("list"), page.at("list")));
  EXPECT_TRUE(scope->matches(xmlDocGetRootElement(page.at("a")->doc)));
  EXPECT_FALSE(scope->matches(nullptr));
  EXPECT_FALSE(scope->matches(page.document()));  // not an element
}

// --- Results ------------------------------------------------------------------

TEST(Selector, CommaGroupsYieldDocumentOrderWithoutDuplicates) {
  Page page("<p id=a class=x></p><div id=b></div><p id=c></p><span id=d class=x></span>");
  EXPECT_EQ(page.select("span, p, .x, #b"), "a b c d");
  EXPECT_EQ(page.select("p,p,p"), "a c");
}

TEST(Selector, SelectHonoursLimitAndAppends) {
  Page page(kList);
  auto li = must_compile("li");
  ASSERT_TRUE(li);
  std::vector<xmlNode*> out;
  li->select(page.document(), out, 3);
  EXPECT_EQ(join(out), "1 2 3");
  li->select(page.document(), out, 2);
  EXPECT_EQ(join(out), "1 2 3 1 2");
  li->select(page.document(), out, 0);
  EXPECT_EQ(out.size(), 5u);
  li->select(nullptr, out);
  EXPECT_EQ(out.size(), 5u);
}

TEST(Selector, SelectFirstReturnsFirstInDocumentOrder) {
  Page page(kNested);
  auto any = must_compile("p, li");
  ASSERT_TRUE(any);
  EXPECT_EQ(label(any->select_first(page.document())), "a");
  EXPECT_EQ(label(any->select_first(page.at("inner"))), "b");
  EXPECT_EQ(any->select_first(page.at("after2")), nullptr);
}

TEST(Selector, SelectFirstReturnsNullWhenNothingMatches) {
  Page page(kNested);
  auto table = must_compile("table");
  ASSERT_TRUE(table);
  EXPECT_EQ(table->select_first(page.document()), nullptr);
  EXPECT_EQ(table->select_first(nullptr), nullptr);
}

TEST(Selector, TextIsTheSource) {
  auto s = must_compile(" div > p ");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->text(), " div > p ");
}

TEST(Selector, XmlTreesMatchNamesIgnoringCaseAndJoinEntityValues) {
  // Not what parse_html produces, but the engine must not assume lower case
  // or single-text-node attribute values.
  constexpr std::string_view kXml =
      "<!DOCTYPE r [<!ENTITY e 'mid'>]><Root><Item Kind='a&e;z'>x</Item><item/></Root>";
  xmlDoc* doc = xmlReadMemory(kXml.data(), static_cast<int>(kXml.size()), "", nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  ASSERT_NE(doc, nullptr);
  XmlDocPtr owner(doc);
  auto item = must_compile("root > ITEM");
  auto kind = must_compile("[kind='amidz']");
  ASSERT_TRUE(item && kind);
  std::vector<xmlNode*> out;
  item->select(as_node(doc), out);
  EXPECT_EQ(out.size(), 2u);
  out.clear();
  kind->select(as_node(doc), out);
  EXPECT_EQ(join(out), "Item");
}

// --- Errors -------------------------------------------------------------------

struct ErrorCase {
  std::string_view selector;
  std::size_t position;
  std::string_view says;  // a fragment the message must contain
};

TEST(Selector, ErrorsNamePositionAndWhatWasExpected) {
  const ErrorCase cases[] = {
      {"", 0, "empty selector"},
      {"   ", 3, "empty selector"},
      {"a,", 1, "unexpected ',' at the end"},
      {"a, b ,  ", 5, "unexpected ',' at the end"},
      {",a", 0, "before ','"},
      {"a,,b", 2, "before ','"},
      {"div[", 4, "expected an attribute name after '['"},
      {"a[href", 6, "expected ']' to close the attribute selector"},
      {"a[href='x'", 10, "expected ']' to close the attribute selector"},
      {"a[href='x' i", 12, "expected ']'"},
      {"a[href='x' q]", 11, "unknown attribute flag"},
      {"a[href!=x]", 6, "expected an operator"},
      {"a[href=]", 7, "expected a value"},
      {"a:hover", 1, "unknown pseudo-class ':hover'"},
      {"a:HOVER", 1, "unknown pseudo-class ':hover'"},
      {"a:has(b)", 1, "unknown pseudo-class ':has()'"},
      {"p::before", 1, "unknown pseudo-element '::before'"},
      {"::selection", 0, "pseudo-element"},
      {"p:first-child()", 13, "does not take arguments"},
      {"p:not", 5, "expected '(' after ':not'"},
      {"p:not(", 6, "expected a selector inside ':not()'"},
      {"p:not()", 6, "expected a selector inside ':not()'"},
      {"p:not(a", 7, "expected ')' to close ':not('"},
      {"p:not(a,)", 7, "unexpected ','"},
      {"p:not(> a)", 6, "combinator"},
      {"p:contains(", 11, "expected a quoted string"},
      {"p:contains('x'", 14, "expected ')' to close ':contains('"},
      {"p:contains('x", 13, "to close the string"},
      {"p:nth-child(2n+)", 15, "expected an+b"},
      {"a >", 3, "expected a selector after '>'"},
      {"a > > b", 4, "expected a selector after '>'"},
      {"a + ~ b", 4, "expected a selector after '+'"},
      {">", 1, "expected a selector after '>'"},
      {"svg|a", 3, "namespaces"},
      {"[x]div", 3, "type selector must come first"},
      {".a*", 2, "type selector must come first"},
      {"a)", 1, "unexpected ')'"},
      {"a!", 1, "unexpected '!'"},
      {"a !", 2, "unexpected '!'"},
      {"#", 1, "expected a name after '#'"},
      {". a", 1, "expected a name after '.'"},
      {"[title='a\nb']", 9, "newline"},
      {"a\\", 1, "unexpected '\\'"},
      {std::string_view("a\0b", 3), 1, "byte 0x00"},
      {":", 1, "expected a pseudo-class name"},
  };
  for (const ErrorCase& c : cases) {
    auto error = error_of(c.selector);
    EXPECT_EQ(error.position, c.position) << "'" << c.selector << "': " << error.message;
    EXPECT_NE(error.message.find(c.says), std::string::npos)
        << "'" << c.selector << "': " << error.message;
    EXPECT_EQ(error.selector, c.selector);
  }
}

TEST(Selector, ErrorToStringQuotesSelectorMessageAndPosition) {
  auto error = error_of("div[");
  EXPECT_EQ(error.to_string(),
            "invalid CSS selector 'div[': expected an attribute name after '[', found the end at "
            "position 4");
}

TEST(Selector, SelectorsLongerThan4096BytesAreRejected) {
  std::string longest = "a";
  while (longest.size() < 4096) longest += " a";
  longest.resize(4096);
  if (longest.back() == ' ') longest.back() = 'b';
  EXPECT_TRUE(Selector::compile(longest).has_value());
  auto error = error_of(longest + "b");
  EXPECT_EQ(error.position, 4096u);
  EXPECT_NE(error.message.find("4096"), std::string::npos);
}

// --- Robustness ---------------------------------------------------------------

TEST(Selector, HostileInputNeitherCrashesNorHangs) {
  Page page(kNested);
  // Each is a plausible way to confuse a hand-written parser.
  const std::string_view inputs[] = {
      "\\",
      "[",
      ":",
      ":not(",
      "a\\",
      "#\\",
      "\"",
      "'",
      "\\0",
      "\xff",
      "\xc3",
      "[a='\\",
      "[a=\"\\\n",
      "\\\n",
      "-",
      "--",
      "-1",
      "*|*",
      ":nth-child(",
      "::",
      "a::b(",
      "[a~=b i i]",
      "((((",
      "))))",
      "]",
      "a,b,",
      ":contains(\\)",
      "\\ffffff",
      "\\d800",
      "\\110000",
      "p:not(:not(:not(",
      ".\\",
      "[\\]",
      "[a=\\",
      ":scope:scope",
      "+",
  };
  for (std::string_view input : inputs) {
    auto compiled = Selector::compile(input);
    if (compiled) {
      std::vector<xmlNode*> out;
      (*compiled)->select(page.document(), out);
    } else {
      EXPECT_LE(compiled.error().position, input.size()) << input;
      EXPECT_FALSE(compiled.error().message.empty()) << input;
    }
  }
}

TEST(Selector, EscapesOutsideUnicodeBecomeReplacementCharacter) {
  Page page("<p id=a class='\xEF\xBF\xBD'></p>");
  EXPECT_EQ(page.select(".\\0"), "a");
  EXPECT_EQ(page.select(".\\d800"), "a");
  EXPECT_EQ(page.select(".\\110000"), "a");
}

TEST(Selector, LongCompoundChainsOnDeepTreesStayFast) {
  // Right-to-left matching with restart hints keeps this linear-ish; naive
  // backtracking would try every subset of the 200 ancestors.
  std::string html;
  for (int i = 0; i < 200; ++i) html += "<div>";
  html += "<span id=s></span>";
  Page page(html);
  std::string selector;
  for (int i = 0; i < 30; ++i) selector += "div ";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(page.select(selector + "span"), "s");
  EXPECT_EQ(page.select(selector + "p span"), "");
  EXPECT_EQ(page.select("p " + selector + "span"), "");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(Selector, MaximumLengthSelectorDoesNotExhaustTheStack) {
  std::string html;
  for (int i = 0; i < 300; ++i) html += "<div>";
  Page page(html);
  std::string selector = "div";
  while (selector.size() + 4 <= 4096) selector += " div";
  EXPECT_EQ(page.select(selector), "");
  std::string siblings = "div";
  while (siblings.size() + 4 <= 4096) siblings += " ~ *";
  EXPECT_EQ(page.select(siblings.substr(0, 4096)), "");
}

// --- Cache --------------------------------------------------------------------

TEST(SelectorCache, ReturnsTheSameCompiledSelector) {
  SelectorCache cache(8);
  auto a = cache.get("div > p");
  auto b = cache.get("div > p");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->get(), b->get());
}

TEST(SelectorCache, CachesErrors) {
  SelectorCache cache(8);
  auto a = cache.get("a[");
  auto b = cache.get("a[");
  ASSERT_FALSE(a.has_value());
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(a.error().position, b.error().position);
  EXPECT_EQ(a.error().message, b.error().message);
}

TEST(SelectorCache, EvictsLeastRecentlyUsed) {
  SelectorCache cache(2);
  auto a = cache.get("a");
  auto b = cache.get("b");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(cache.get("a")->get(), a->get());  // "a" is now the most recent
  ASSERT_TRUE(cache.get("c"));                 // evicts "b"
  EXPECT_EQ(cache.get("a")->get(), a->get());
  EXPECT_NE(cache.get("b")->get(), b->get());  // compiled afresh
}

TEST(SelectorCache, ZeroCapacityStillCompiles) {
  SelectorCache cache(0);
  auto a = cache.get("p");
  auto b = cache.get("p");
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->get(), b->get());
}

TEST(SelectorCache, IsThreadSafe) {
  SelectorCache cache(16);
  Page page(kList);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string text = "li:nth-child(" + std::to_string((i + t) % 40) + ")";
        auto s = cache.get(text);
        if (!s) {
          ++failures;
          continue;
        }
        // Compiled selectors are shared between threads as they match.
        std::vector<xmlNode*> out;
        (*s)->select(page.document(), out);
        const int n = (i + t) % 40;
        if (out.size() != (n >= 1 && n <= 7 ? 1u : 0u)) ++failures;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace sandbox::html
