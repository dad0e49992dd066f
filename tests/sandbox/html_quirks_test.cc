// Selectors against the trees libxml2's HTML parser (2.9.x) actually builds,
// which differ from a browser's in places a parser author will trip over.
// Each test pins what the tree looks like, so a libxml2 upgrade that changes
// it fails here first.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "sandbox/html/document.h"
#include "sandbox/html/selector.h"

namespace sandbox::html {
namespace {

std::string text_of(const xmlNode* n) {
  xmlChar* t = xmlNodeGetContent(n);
  std::string out = t ? reinterpret_cast<const char*>(t) : "";
  xmlFree(t);
  return out;
}

class Page {
 public:
  explicit Page(std::string_view html) : doc_(parse_html(html, "text/html", "")) {}

  std::vector<xmlNode*> select(std::string_view selector) const {
    std::vector<xmlNode*> out;
    auto compiled = Selector::compile(selector);
    EXPECT_TRUE(compiled.has_value()) << selector;
    if (compiled) (*compiled)->select(reinterpret_cast<const xmlNode*>(doc_.get()), out);
    return out;
  }

  std::size_t count(std::string_view selector) const { return select(selector).size(); }

  // Text of each match, joined with '|'.
  std::string texts(std::string_view selector) const {
    std::string out;
    for (const xmlNode* n : select(selector)) out += (out.empty() ? "" : "|") + text_of(n);
    return out;
  }

 private:
  XmlDocPtr doc_;
};

TEST(HtmlQuirks, TableWithoutTbodyKeepsRowsUnderTable) {
  // Browsers insert <tbody>, so there `table > tr` matches nothing and
  // `tbody > tr` matches every row. libxml2 inserts no <tbody>: the rows stay
  // children of <table>. `table tr` works with both trees; prefer it.
  Page page("<table><tr><td>1</td></tr><tr><td>2</td></tr></table>");
  EXPECT_EQ(page.count("tbody"), 0u);
  EXPECT_EQ(page.texts("table > tr"), "1|2");
  EXPECT_EQ(page.count("tbody > tr"), 0u);
  EXPECT_EQ(page.texts("table tr"), "1|2");
  EXPECT_EQ(page.texts("table tr:nth-child(2) > td"), "2");
}

TEST(HtmlQuirks, TableWithExplicitTbodyKeepsIt) {
  Page page("<table><tbody><tr><td>1</td></tr><tr><td>2</td></tr></tbody></table>");
  EXPECT_EQ(page.count("table > tr"), 0u);
  EXPECT_EQ(page.texts("tbody > tr"), "1|2");
  EXPECT_EQ(page.texts("table > tbody > tr"), "1|2");
  EXPECT_EQ(page.texts("table tr"), "1|2");
}

TEST(HtmlQuirks, TableMixingTheadAndBareRows) {
  // The <thead> is kept; the rows after it are not wrapped in a <tbody>.
  Page page("<table><thead><tr><th>h</th></tr></thead><tr><td>1</td></tr></table>");
  EXPECT_EQ(page.texts("thead > tr"), "h");
  EXPECT_EQ(page.texts("table > tr"), "1");
  EXPECT_EQ(page.texts("table tr"), "h|1");
}

TEST(HtmlQuirks, UnclosedTableCellsAndRows) {
  Page page("<TABLE><TR><TD>x<TD>y<TR><TD>z</TABLE>");
  EXPECT_EQ(page.texts("tr"), "xy|z");
  EXPECT_EQ(page.texts("tr:first-child > td:last-child"), "y");
  EXPECT_EQ(page.count("td td"), 0u);
}

TEST(HtmlQuirks, UnclosedParagraphsBecomeSiblings) {
  Page page("<div><p>a<p>b</div><p>c");
  EXPECT_EQ(page.texts("p"), "a|b|c");
  EXPECT_EQ(page.count("p p"), 0u);
  EXPECT_EQ(page.texts("p + p"), "b");
  EXPECT_EQ(page.texts("div > p:last-child"), "b");
  EXPECT_EQ(page.texts("div + p"), "c");
}

TEST(HtmlQuirks, BlockElementClosesOpenParagraph) {
  // Text after the </div> lands in <body>, not in a new <p>.
  Page page("<p>a<div>b</div>c");
  EXPECT_EQ(page.texts("p"), "a");
  EXPECT_EQ(page.texts("p + div"), "b");
  EXPECT_EQ(page.count("p div"), 0u);
  EXPECT_EQ(page.count("body:contains('c')"), 1u);
}

TEST(HtmlQuirks, UnclosedListItemsBecomeSiblings) {
  Page page("<ul><li>a<li>b<li>c</ul><ol><li>1<li>2</ol>");
  EXPECT_EQ(page.texts("ul > li"), "a|b|c");
  EXPECT_EQ(page.count("li li"), 0u);
  EXPECT_EQ(page.texts("li:last-child"), "c|2");
  EXPECT_EQ(page.texts("ul li:nth-child(2)"), "b");
  EXPECT_EQ(page.texts("ol > li:first-of-type"), "1");
}

TEST(HtmlQuirks, UnclosedDefinitionListAndOptions) {
  Page page("<dl><dt>a<dd>b<dt>c<dd>d</dl><select><option>x<option>y</select>");
  EXPECT_EQ(page.texts("dt + dd"), "b|d");
  EXPECT_EQ(page.texts("option:nth-of-type(2)"), "y");
  EXPECT_EQ(page.count("option option"), 0u);
}

TEST(HtmlQuirks, WhitespaceAndCommentsBetweenItemsAreNotSiblings) {
  Page page("<ul>\n  <li>a</li>\n  <!-- gap -->\n  <li>b</li>\n</ul>");
  EXPECT_EQ(page.texts("li:first-child"), "a");
  EXPECT_EQ(page.texts("li + li"), "b");
  EXPECT_EQ(page.texts("li:nth-child(2)"), "b");
  EXPECT_EQ(page.texts("li:only-of-type"), "");
}

TEST(HtmlQuirks, UppercaseTagsAndAttributeNamesAreLowerCased) {
  Page page(R"(<DIV CLASS="Big" ID="Main" DATA-X="1"><SPAN>t</SPAN></DIV>)");
  EXPECT_EQ(page.count("div"), 1u);
  EXPECT_EQ(page.count("DIV > SPAN"), 1u);
  EXPECT_EQ(page.count("[data-x='1']"), 1u);
  EXPECT_EQ(page.count("[DATA-X]"), 1u);
  // Values keep their case, and classes and ids compare case-sensitively.
  EXPECT_EQ(page.count("div.Big#Main"), 1u);
  EXPECT_EQ(page.count(".big"), 0u);
  EXPECT_EQ(page.count("#main"), 0u);
  EXPECT_EQ(page.count("[class=big i]"), 1u);
}

TEST(HtmlQuirks, EntitiesAreDecodedInTextAndAttributes) {
  Page page(
      "<p id=x>a &amp; b&nbsp;c &#65;&#x42; &copy; &pound;5 &bogus;</p>"
      "<a href=\"?q=1&amp;p=2\" title=\"&quot;hi&quot;\">l</a>");
  EXPECT_EQ(page.count("p:contains('a & b')"), 1u);
  EXPECT_EQ(page.count("p:contains('b\xC2\xA0"
                       "c')"),
            1u);  // &nbsp; is U+00A0, not a space
  EXPECT_EQ(page.count("p:contains('b c')"), 0u);
  EXPECT_EQ(page.count("p:contains('AB')"), 1u);
  EXPECT_EQ(page.count("p:contains('\xC2\xA9')"), 1u);
  EXPECT_EQ(page.count("p:contains('\\a3 5')"), 1u);   // £ written as a CSS escape
  EXPECT_EQ(page.count("p:contains('&bogus;')"), 1u);  // unknown entities stay literal
  EXPECT_EQ(page.count("p:contains('&amp;')"), 0u);
  EXPECT_EQ(page.count("a[href='?q=1&p=2']"), 1u);
  EXPECT_EQ(page.count("a[href*='&amp;']"), 0u);
  EXPECT_EQ(page.count("a[title='\"hi\"']"), 1u);
}

TEST(HtmlQuirks, MisnestedInlineTagsCloseAtTheOuterEnd) {
  // `<b><i>x</b>y</i>z`: the </b> closes both; "y" and "z" land in <body>,
  // not in an <i> (browsers would reopen the <i> around "y").
  Page page("<div><b><i>x</b>y</i>z</div>");
  EXPECT_EQ(page.texts("b > i"), "x");
  EXPECT_EQ(page.count("i:contains('y')"), 0u);
  EXPECT_EQ(page.count("i"), 1u);
  EXPECT_EQ(page.texts("div"), "xyz");
}

TEST(HtmlQuirks, Html5ElementsAreOrdinaryElements) {
  // libxml2 2.9 predates HTML5 and does not know these tags, yet keeps them
  // as elements in place, which is all selectors need.
  Page page(
      "<main><article class=product_pod><header><h3><a href=x>T</a></h3></header>"
      "<section><nav>n</nav><figure><img src=i></figure></section>"
      "<footer><p class=price_color>1</p></footer></article></main>");
  EXPECT_EQ(page.count("article.product_pod"), 1u);
  EXPECT_EQ(page.texts("main > article > section > nav"), "n");
  EXPECT_EQ(page.texts("article h3 a"), "T");
  EXPECT_EQ(page.count("section > figure > img[src=i]"), 1u);
  EXPECT_EQ(page.texts("article > footer > .price_color"), "1");
  EXPECT_EQ(page.texts("header + section > nav"), "n");
}

TEST(HtmlQuirks, ImpliedHtmlAndBody) {
  Page page("<div>x</div>");
  EXPECT_EQ(page.count(":root"), 1u);
  EXPECT_EQ(page.count("html > body > div"), 1u);
  EXPECT_EQ(page.count("head"), 0u);  // no <head> is implied for a bare fragment
}

TEST(HtmlQuirks, BareTextIsWrappedInParagraph) {
  Page page("hello");
  EXPECT_EQ(page.texts("body > p"), "hello");
}

TEST(HtmlQuirks, VoidElementsHaveNoChildren) {
  Page page("<p><br>a<img src=x>b<input disabled></p>");
  EXPECT_EQ(page.count("br:empty"), 1u);
  EXPECT_EQ(page.count("img:empty"), 1u);
  EXPECT_EQ(page.count("p > input[disabled]"), 1u);
  EXPECT_EQ(page.count("br + img"), 1u);
}

TEST(HtmlQuirks, DuplicateAttributesKeepTheFirst) {
  Page page("<a class=x class=y>t</a>");
  EXPECT_EQ(page.count("a.x"), 1u);
  EXPECT_EQ(page.count("a.y"), 0u);
}

TEST(HtmlQuirks, ScriptTextCountsForContains) {
  // Script and style bodies are CDATA nodes; like textContent, :contains()
  // sees them, so `p:contains('<')` matches because of the script.
  Page page("<p>x<script>if (a < b) {}</script></p><style>p{}</style>");
  EXPECT_EQ(page.count("p:contains('a < b')"), 1u);
  EXPECT_EQ(page.count("script:contains('if')"), 1u);
  EXPECT_EQ(page.count("p:empty"), 0u);
}

}  // namespace
}  // namespace sandbox::html
