// What scripts see: the page object, documents and nodes, the sdk helpers,
// and error messages that point at the script's own lines.
#include <gtest/gtest.h>

#include "tests/sandbox/sandbox_fixture.h"

namespace sandbox::testing {
namespace {

constexpr const char* kShop = R"(<!DOCTYPE html>
<html><head><title>Shop</title>
<script type="application/ld+json">{"@type": "ItemList"}</script></head>
<body>
  <ul id="items">
    <li class="item first" data-sku="A1"><a href="/p/1">  Widget
      one </a><span class="price">&pound;1,234.50</span></li>
    <li class="item" data-sku="B2"><a href="p/2?x=1">Gadget&nbsp;two</a><span class="price">$5</span></li>
    <li class="ad">sponsored</li>
  </ul>
</body></html>)";

// Runs `body` and returns the field `a` of its single record.
std::string eval(const std::string& expr, const std::string& html = kShop) {
  const RunOutcome o = run_body("return { { a = " + expr + " } }", html);
  if (!o.ok()) return "ERROR " + std::string(to_string(o.error->kind)) + ": " + o.error->message;
  return o.records.at(0).at("a").get<std::string>();
}

TEST(SdkDom, CssReturnsNodesInDocumentOrder) {
  EXPECT_EQ(eval("tostring(#page:html():css('li.item'))"), "2");
  EXPECT_EQ(eval("page:html():css('li.item')[2]:attr('data-sku')"), "B2");
}

TEST(SdkDom, CssOneReturnsNilWhenAbsent) {
  EXPECT_EQ(eval("tostring(page:html():css_one('table'))"), "nil");
  EXPECT_EQ(eval("page:html():css_one('#items > li'):attr('data-sku')"), "A1");
}

TEST(SdkDom, TextIsWhitespaceNormalised) {
  EXPECT_EQ(eval("page:html():css_one('li.first a'):text()"), "Widget one");
  EXPECT_EQ(eval("page:html():css('li.item a')[2]:text()"), "Gadget two");
}

TEST(SdkDom, TextSkipsScriptsBelowButReadsAScriptItself) {
  EXPECT_EQ(eval("page:html():css_one('head'):text()"), "Shop");
  EXPECT_EQ(eval("page:html():css_one('script'):text()"), R"({"@type": "ItemList"})");
}

TEST(SdkDom, AttrIsNilWhenMissing) {
  EXPECT_EQ(eval("tostring(page:html():css_one('li'):attr('nope'))"), "nil");
  EXPECT_EQ(eval("page:html():css_one('li'):attr('DATA-SKU')"), "A1");
}

TEST(SdkDom, EntitiesAreDecoded) {
  EXPECT_EQ(eval("page:html():css_one('.price'):text()"),
            "\xC2\xA3"
            "1,234.50");
}

TEST(SdkDom, TagParentChildrenAndSiblings) {
  EXPECT_EQ(eval("page:html():css_one('a'):parent():tag()"), "li");
  EXPECT_EQ(eval("tostring(#page:html():css_one('ul'):children())"), "3");
  EXPECT_EQ(eval("page:html():css_one('li'):next():attr('data-sku')"), "B2");
  EXPECT_EQ(eval("page:html():tag()"), "#document");
  EXPECT_EQ(eval("tostring(page:html():css_one('li'):prev())"), "nil");
}

TEST(SdkDom, HtmlSerialisesTheNode) {
  EXPECT_EQ(eval("page:html():css_one('.price'):html()"),
            "<span class=\"price\">\xC2\xA3"
            "1,234.50</span>");
}

TEST(SdkDom, NodesCompareEqualByIdentity) {
  EXPECT_EQ(eval("tostring(page:html():css_one('li') == page:html():css('li')[1])"), "true");
}

TEST(SdkDom, XpathReturnsNodesStringsAndNumbers) {
  EXPECT_EQ(eval("page:html():xpath('//li[@class=\"ad\"]')[1]:text()"), "sponsored");
  EXPECT_EQ(eval("page:html():xpath('//li/@data-sku')[2]"), "B2");
  EXPECT_EQ(eval("tostring(page:html():xpath('count(//li)'))"), "3");
  EXPECT_EQ(eval("page:html():css_one('ul'):xpath('string(li[2]/a)')"), "Gadget\xC2\xA0two");
}

TEST(SdkDom, BadXpathNamesTheExpression) {
  const std::string r = eval("page:html():xpath('//li[')");
  EXPECT_EQ(r.rfind("ERROR runtime", 0), 0u) << r;
  EXPECT_NE(r.find("//li["), std::string::npos) << r;
}

TEST(SdkDom, BadSelectorNamesSelectorAndPosition) {
  const std::string r = eval("page:html():css('li[data-sku')");
  EXPECT_EQ(r.rfind("ERROR runtime", 0), 0u) << r;
  EXPECT_NE(r.find("li[data-sku"), std::string::npos) << r;
  EXPECT_NE(r.find("position"), std::string::npos) << r;
}

TEST(SdkDom, PageFields) {
  EXPECT_EQ(eval("page.url"), "http://example.test/page");
  EXPECT_EQ(eval("tostring(page.status)"), "200");
  EXPECT_EQ(eval("page.headers['content-type']"), "text/html");
  EXPECT_EQ(eval("tostring(#page.body > 100)"), "true");
}

TEST(SdkDom, PageJsonDecodesTheBody) {
  EXPECT_EQ(eval("page:json().items[2].name", R"({"items":[{"name":"a"},{"name":"b"}]})"), "b");
  EXPECT_EQ(eval("tostring(page:json().n)", R"({"n": 1.5, "z": null})"), "1.5");
}

TEST(SdkDom, PageJsonErrorSaysWhere) {
  const std::string r = eval("page:json().x", "{\"a\": [1, 2");
  EXPECT_EQ(r.rfind("ERROR runtime", 0), 0u) << r;
  EXPECT_NE(r.find("not valid JSON"), std::string::npos) << r;
}

TEST(SdkDom, SdkTextAndUrlHelpers) {
  EXPECT_EQ(eval("tostring(require('sdk').text.price('1.234,50 \xE2\x82\xAC'))"), "1234.5");
  EXPECT_EQ(eval("tostring(require('sdk').text.price(page:html():css_one('.price'):text()))"),
            "1234.5");
  EXPECT_EQ(eval("require('sdk').url.join(page.url, 'p/2?x=1')"), "http://example.test/p/2?x=1");
  EXPECT_EQ(eval("require('sdk').url.parse('https://A.example/x?q=1').host"), "a.example");
  EXPECT_EQ(eval("require('sdk').text.clean('  a \\n\\t b ')"), "a b");
  EXPECT_EQ(eval("tostring(require('sdk').text.price(nil))"), "nil");
}

TEST(SdkDom, CharsetFromHeaderMetaOrSniffing) {
  // "caf\xE9" is windows-1252 for "café"; no declaration at all.
  EXPECT_EQ(eval("page:html():css_one('p'):text()", "<p>caf\xE9</p>"), "caf\xC3\xA9");
  // Declared in a meta tag.
  EXPECT_EQ(eval("page:html():css_one('p'):text()",
                 "<head><meta charset=\"iso-8859-15\"></head><p>\xA4</p>"),
            "\xE2\x82\xAC");
  // UTF-8 stays UTF-8.
  EXPECT_EQ(eval("page:html():css_one('p'):text()", "<p>caf\xC3\xA9</p>"), "caf\xC3\xA9");
}

TEST(SdkDom, SyntaxErrorCarriesScriptLine) {
  const RunOutcome o = run_script("local sdk = require('sdk')\nlocal x = = 1\n");
  ASSERT_EQ(kind_of(o), "syntax");
  EXPECT_EQ(o.error->message.rfind("t.lua:2:", 0), 0u) << o.error->message;
}

TEST(SdkDom, RuntimeErrorCarriesScriptLine) {
  const RunOutcome o = run_body("local x = nil\nreturn x.field");
  ASSERT_EQ(kind_of(o), "runtime");
  // parse's body starts on line 4 of the generated script.
  EXPECT_NE(o.error->message.find("t.lua:5:"), std::string::npos) << o.error->message;
}

TEST(SdkDom, ErrorFromBindingPointsAtCaller) {
  const RunOutcome o = run_body("\nreturn { { a = page:html():css(42) } }");
  ASSERT_EQ(kind_of(o), "runtime");
  EXPECT_NE(o.error->message.find("t.lua:5:"), std::string::npos) << o.error->message;
  EXPECT_NE(o.error->message.find("must be a string"), std::string::npos) << o.error->message;
}

TEST(SdkDom, ScriptMustReturnAParser) {
  EXPECT_EQ(kind_of(run_script("return 42")), "runtime");
  EXPECT_EQ(kind_of(run_script("local sdk = require('sdk'); return sdk.BaseParser:extend{}")),
            "runtime");
}

TEST(SdkDom, MessagesDoNotRevealHostInternals) {
  const RunOutcome o = run_body("error('boom')");
  ASSERT_EQ(kind_of(o), "runtime");
  EXPECT_EQ(o.error->message, "t.lua:4: boom");
}

TEST(SdkDom, PrintOutputIsKeptForTheAuthor) {
  const RunOutcome o = run_body("print('hello', 1, nil, true); return {}");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.log, "hello\t1\tnil\ttrue\n");
}

TEST(SdkDom, ParserDescriptionIsReturned) {
  const RunOutcome o = run_body("return {}");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.parser["name"], "t");
  EXPECT_EQ(o.parser["schema"]["a"], "string");
}

}  // namespace
}  // namespace sandbox::testing
