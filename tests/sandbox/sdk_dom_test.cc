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

// The worker decodes with ICU, which needs no files: every charset works
// behind the system-call filter, not only a preloaded few.
TEST(SdkDom, CharsetsDecodeBehindTheSyscallFilter) {
  struct Case {
    const char* charset;
    std::string bytes;
    std::string utf8;
  };
  const Case cases[] = {
      {"shift_jis", "\x93\xFA\x96\x7B", "\xE6\x97\xA5\xE6\x9C\xAC"},     // 日本
      {"euc-jp", "\xC6\xFC\xCB\xDC", "\xE6\x97\xA5\xE6\x9C\xAC"},        // 日本
      {"iso-2022-jp", "\x1B$BF|K\\\x1B(B", "\xE6\x97\xA5\xE6\x9C\xAC"},  // 日本
      {"gb2312", "\xD6\xD0\xCE\xC4", "\xE4\xB8\xAD\xE6\x96\x87"},        // 中文
      {"gbk", "\xD6\xD0\xCE\xC4", "\xE4\xB8\xAD\xE6\x96\x87"},           // 中文
      {"gb18030", "\x81\x30\x81\x30", "\xC2\x80"},                       // U+0080
      {"big5", "\xA4\xA4\xA4\xE5", "\xE4\xB8\xAD\xE6\x96\x87"},          // 中文
      {"euc-kr", "\xC7\xD1\xB1\xB9", "\xED\x95\x9C\xEA\xB5\xAD"},        // 한국
      {"koi8-r", "\xED\xC9\xD2", "\xD0\x9C\xD0\xB8\xD1\x80"},            // Мир
      {"windows-1251", "\xCC\xE8\xF0", "\xD0\x9C\xD0\xB8\xD1\x80"},      // Мир
      {"iso-8859-7", "\xE1", "\xCE\xB1"},                                // α
      {"windows-874", "\xA1", "\xE0\xB8\x81"},                           // ก
      {"macintosh", "\xA5", "\xE2\x80\xA2"},                             // •
      {"windows-1252", "\x80", "\xE2\x82\xAC"},                          // €
      {"iso-8859-3", "\xA1", "\xC4\xA6"},  // Ħ, a charset never preloaded
  };
  for (const Case& c : cases) {
    const std::string html =
        std::string("<head><meta charset=\"") + c.charset + "\"></head><p>" + c.bytes + "</p>";
    EXPECT_EQ(eval("page:html():css_one('p'):text()", html), c.utf8) << c.charset;
  }
  // UTF-16 found by its byte-order mark.
  std::string utf16 = "\xFF\xFE";
  for (char ch : std::string("<p>\xE9t\xE9</p>")) utf16 += std::string{ch, '\0'};
  EXPECT_EQ(eval("page:html():css_one('p'):text()", utf16), "\xC3\xA9t\xC3\xA9");
}

TEST(SdkDom, BytesInvalidInTheCharsetBecomeReplacementCharacters) {
  // A Shift_JIS lead byte with no trail byte, and an unmapped windows-1252
  // byte; the text around them survives.
  EXPECT_EQ(eval("page:html():css_one('p'):text()",
                 "<head><meta charset=\"shift_jis\"></head><p>a\x93</p><i>b</i>"),
            "a\xEF\xBF\xBD");
  EXPECT_EQ(eval("page:html():css_one('i'):text()",
                 "<head><meta charset=\"shift_jis\"></head><p>a\x93</p><i>b</i>"),
            "b");
  EXPECT_EQ(eval("page:html():css_one('p'):text()",
                 "<head><meta charset=\"euc-kr\"></head><p>x\xFFy</p>"),
            "x\xEF\xBF\xBDy");
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
