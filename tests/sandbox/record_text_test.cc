// Records handed back as text (sandbox/record_text.h, RecordForm::kText):
// the split finds each record, the check as written never passes a record
// that Schema::check would reject, and the worker writes records exactly as
// nlohmann's dump() does, so that passing the text on changes nothing.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "sandbox/record_text.h"
#include "sandbox/schema.h"
#include "tests/sandbox/sandbox_fixture.h"

namespace sandbox::testing {
namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

TEST(SplitJsonArray, FindsEachElementWhateverItsStringsHold) {
  const auto parts = split_json_array(R"([{"a":"x,]}"},{"b":[1,{"c":"\"]"}]}, "s" ,3,[],{}])");
  ASSERT_TRUE(parts.has_value());
  const std::vector<std::string_view> expected = {
      R"({"a":"x,]}"})", R"({"b":[1,{"c":"\"]"}]})", R"("s")", "3", "[]", "{}"};
  EXPECT_EQ(*parts, expected);
  ASSERT_TRUE(split_json_array(" [ ] ").has_value());
  EXPECT_TRUE(split_json_array("[]")->empty());
}

TEST(SplitJsonArray, RefusesWhatIsNotAWholeArray) {
  for (const char* bad : {"", "{}", "[", "[1,", "[1,]", "[,1]", "[1]x", "[{]}", "[{\"a\":[}]]",
                          "[\"open]", "[1}", "[[1]", "[1]]"}) {
    EXPECT_FALSE(split_json_array(bad).has_value()) << bad;
  }
}

Schema schema_of(const json& fields) {
  auto s = Schema::from_description(json{{"name", "t"}, {"schema", fields}});
  EXPECT_TRUE(s) << (s ? "" : s.error().message);
  return s ? *s : Schema{};
}

TEST(PassesAsWritten, TakesACanonicalGoodRecord) {
  const Schema schema = schema_of({{"title", {{"type", "string"}, {"required", true}}},
                                   {"price", "number"},
                                   {"n", "integer"},
                                   {"ok", "boolean"},
                                   {"url", "url"},
                                   {"when", "datetime"},
                                   {"tags", "list"}});
  const json record = {{"title", "Caf\xc3\xa9 \"noir\"\n"},
                       {"price", 51.77},
                       {"n", 3},
                       {"ok", false},
                       {"url", "https://example.test/a?b=1"},
                       {"when", "2024-03-05T10:20:30Z"},
                       {"tags", {"a", "b"}}};
  ASSERT_FALSE(schema.check(record, 0).has_value());
  EXPECT_TRUE(passes_as_written(schema, dump(record)));
  EXPECT_TRUE(passes_as_written(schema, R"({"title":"x"})"));  // optional fields left out
  EXPECT_TRUE(passes_as_written(schema, R"({"price":null,"title":"x"})"));
}

TEST(PassesAsWritten, SendsAnythingNotWrittenAsDumpWouldWriteItTheSlowWay) {
  const Schema schema = schema_of({{"a", "string"}, {"n", "number"}});
  for (const char* text : {
           R"({ "a":"x"})",                  // a space
           R"({"n":1,"a":"x"})",             // keys out of order
           R"({"a":"x","a":"y"})",           // a key twice
           R"({"n":1.50})",                  // not the shortest form
           R"({"n":1E5})",                   // upper-case exponent
           R"({"n":1e5})",                   // exponent without a sign
           R"({"n":-0})",                    // read back as 0
           R"({"n":01})",                    // leading zero
           R"({"n":12345678901234567890})",  // too big to read back as an integer
           R"({"a":"\u00e9"})",              // an escape dump() does not make
           R"({"a":"\u000A"})",              // upper-case hex, and \n has a short form
           R"({"a":"\/"})",                  // an escape dump() does not make
           "{\"a\":\"\x01\"}",               // a raw control character
           "{\"a\":\"\xff\"}",               // not UTF-8
           R"({"a":"x"} )",                  // trailing space
           R"({"a":"x")",                    // unterminated
       }) {
    EXPECT_FALSE(passes_as_written(schema, text)) << text;
  }
}

// Random records against random schemas: whenever the check as written
// passes a record, Schema::check passes it too; and whenever Schema::check
// passes a record whose text holds no escape, so does the check as written.
TEST(PassesAsWritten, AgreesWithSchemaCheckOnRandomRecords) {
  std::mt19937 rng(20261123);
  auto roll = [&rng](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  const std::vector<std::string> types = {"string", "number",   "integer", "boolean",
                                          "url",    "datetime", "list"};
  const std::vector<json> values = {"",
                                    "x",
                                    "caf\xc3\xa9",
                                    "line\nbreak",
                                    "tab\there",
                                    "ctl\x01",
                                    "quote\"",
                                    "https://example.test/p?q=1",
                                    "http://x.test",
                                    "ftp://x.test/",
                                    "example.test/p",
                                    "2024-03-05",
                                    "2024-03-05T10:20:30Z",
                                    "2024-13-45",
                                    "yesterday",
                                    0,
                                    7,
                                    -3,
                                    3.0,
                                    3.5,
                                    -0.0,
                                    1e300,
                                    1e-7,
                                    0.1,
                                    123456789.125,
                                    9007199254740993.0,
                                    true,
                                    false,
                                    nullptr,
                                    json::array(),
                                    json{"a", "b"},
                                    json{"a", 1},
                                    json{{"k", "v"}},
                                    json::object()};
  int fast = 0;
  int passed = 0;
  for (int round = 0; round < 20000; ++round) {
    json fields = json::object();
    const int nfields = 1 + roll(5);
    for (int f = 0; f < nfields; ++f) {
      fields["f" + std::to_string(roll(6))] =
          json{{"type", types[static_cast<std::size_t>(roll(7))]}, {"required", roll(3) == 0}};
    }
    const Schema schema = schema_of(fields);
    json record = json::object();
    const int nvalues = roll(6);
    for (int v = 0; v < nvalues; ++v) {
      record["f" + std::to_string(roll(7))] =
          values[static_cast<std::size_t>(roll(static_cast<int>(values.size())))];
    }
    const std::string text = dump(record);
    const bool as_written = passes_as_written(schema, text);
    const bool checked = !schema.check(record, 0).has_value();
    ASSERT_TRUE(!as_written || checked) << "passed as written but not by Schema::check: " << text;
    if (checked && text.find('\\') == std::string::npos) {
      ASSERT_TRUE(as_written) << "Schema::check passes it, the check as written does not: " << text;
    }
    fast += as_written;
    passed += checked;
  }
  EXPECT_GT(fast, 1000);  // the comparison means something only if many pass
  EXPECT_GE(passed, fast);
}

// The worker writes what nlohmann's dump() writes, and a run asked for text
// hands back the same records as one asked for values.
TEST(RecordForm, TextIsWhatDumpWritesOfTheParsedRecords) {
  const std::string parser =
      "local sdk = require('sdk')\n"
      "local P = sdk.BaseParser:extend{ name = 't', schema = { s = 'string', n = 'number',\n"
      "  i = 'integer', b = 'boolean', l = 'list' } }\n"
      "function P:parse(page)\n"
      "  return {\n"
      "    { s = 'plain', n = 51.77, i = 3, b = true, l = { 'a', 'b' } },\n"
      "    { s = 'ctl \\b\\f\\n\\r\\t\\1\\31 del \\127 quote \" back \\\\ slash /', n = 0.0001 },\n"
      "    { s = 'caf\\195\\169 \\226\\130\\172 bad \\255 end', n = 1e300, i = 1e16 },\n"
      "    { s = '', n = -0.0, i = -42, l = {} },\n"
      "    { n = 0.1 + 0.2, i = 2^53 },\n"
      "    { s = 5 },\n"  // rejected: not a string
      "  }\n"
      "end\n"
      "return P\n";
  Page page;
  page.url = "http://example.test/";
  page.body = "<p>x</p>";
  const RunOutcome parsed = shared_sandbox().run(Script{"t.lua", parser}, page, test_limits());
  const RunOutcome text =
      shared_sandbox().run(Script{"t.lua", parser}, page, test_limits(), RecordForm::kText);
  ASSERT_TRUE(parsed.ok()) << parsed.error->message;
  ASSERT_TRUE(text.ok()) << text.error->message;
  EXPECT_TRUE(text.records.empty());
  ASSERT_EQ(parsed.records.size(), 5u);
  ASSERT_EQ(text.record_texts.size(), 5u);
  ASSERT_EQ(parsed.rejects.size(), 1u);
  ASSERT_EQ(text.rejects.size(), 1u);
  EXPECT_EQ(text.rejects[0].to_string(), parsed.rejects[0].to_string());
  Schema schema = *Schema::from_description(parsed.parser);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(text.record_texts[i], dump(parsed.records[i])) << "record " << i + 1;
    EXPECT_TRUE(passes_as_written(schema, text.record_texts[i]))
        << "record " << i + 1 << " took the slow way: " << text.record_texts[i];
  }
}

}  // namespace
}  // namespace sandbox::testing
