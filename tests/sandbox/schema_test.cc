// Records are checked against the parser's schema: a bad record is rejected
// with a reason (field, expected, got) and good records still count.
#include <gtest/gtest.h>

#include "sandbox/schema.h"
#include "tests/sandbox/sandbox_fixture.h"

namespace sandbox::testing {
namespace {

using nlohmann::json;

Schema schema_of(const json& schema, const json& key = nullptr) {
  auto s = Schema::from_description(json{{"name", "t"}, {"schema", schema}, {"key", key}});
  EXPECT_TRUE(s) << (s ? "" : s.error().message);
  return s ? *s : Schema{};
}

struct Case {
  const char* type;
  json good;
  json bad;
};

TEST(SchemaCheck, EachTypeAcceptsItsValuesAndRejectsOthers) {
  const Case cases[] = {
      {"string", "x", 5},
      {"number", 51.77, "51.77"},
      {"integer", 3, 3.5},
      {"boolean", true, "true"},
      {"url", "https://example.test/a", "/relative/path"},
      {"url", "http://example.test", "ftp://example.test/file"},
      {"datetime", "2024-03-05T10:20:30Z", "March 5"},
      {"datetime", "2024-03-05", "2024-13-05"},
      {"list", json::array({"a", "b"}), json::array({"a", 1})},
  };
  for (const Case& c : cases) {
    const Schema s = schema_of({{"f", {{"type", c.type}}}});
    EXPECT_FALSE(s.check({{"f", c.good}}, 0)) << c.type << " " << c.good;
    auto r = s.check({{"f", c.bad}}, 0);
    ASSERT_TRUE(r) << c.type << " accepted " << c.bad;
    EXPECT_EQ(r->field, "f");
    EXPECT_FALSE(r->expected.empty());
    EXPECT_FALSE(r->got.empty());
  }
}

TEST(SchemaCheck, RequiredFieldMustBePresent) {
  const Schema s =
      schema_of({{"title", {{"type", "string"}, {"required", true}}}, {"x", "number"}});
  auto r = s.check({{"x", 1}}, 2);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->field, "title");
  EXPECT_EQ(r->index, 2u);
  EXPECT_EQ(r->to_string(), "record 3: field 'title': expected a string (required), got nothing");
  EXPECT_FALSE(s.check({{"title", "t"}}, 0));  // optional x may be missing
}

TEST(SchemaCheck, UndeclaredFieldIsRejected) {
  const Schema s = schema_of({{"title", "string"}});
  auto r = s.check({{"title", "t"}, {"titel", "typo"}}, 0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->field, "titel");
}

TEST(SchemaCheck, InvalidSchemasAreSchemaErrors) {
  for (const json& bad :
       {json(nullptr), json::object(), json{{"f", "decimal"}}, json{{"f", {{"required", true}}}},
        json{{"f", {{"type", "string"}, {"required", "yes"}}}}}) {
    auto s = Schema::from_description(json{{"schema", bad}});
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().kind, ErrorKind::kSchema);
  }
  auto s = Schema::from_description(json{{"schema", {{"a", "string"}}}, {"key", {"b"}}});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("'b'"), std::string::npos);
}

TEST(SchemaCheck, RecordKeyJoinsKeyFields) {
  const Schema s = schema_of({{"a", "string"}, {"b", "integer"}}, {"a", "b"});
  EXPECT_EQ(s.record_key({{"a", "x"}, {"b", 2}}),
            "x\x1f"
            "2");
}

TEST(SchemaInSandbox, BadRecordsAreRejectedGoodOnesCount) {
  const RunOutcome o =
      run_body("return { { a = 'ok', n = 1 }, { a = 'bad', n = 'one' }, { a = 'ok2' } }");
  ASSERT_TRUE(o.ok()) << o.error->message;
  ASSERT_EQ(o.records.size(), 2u);
  ASSERT_EQ(o.rejects.size(), 1u);
  EXPECT_EQ(o.rejects[0].index, 1u);
  EXPECT_EQ(o.rejects[0].field, "n");
  EXPECT_EQ(o.rejects[0].expected, "number");
  EXPECT_EQ(o.rejects[0].got, "string \"one\"");
}

TEST(SchemaInSandbox, AllRecordsRejectedIsASchemaFailure) {
  const RunOutcome o = run_body("return { { n = 'x' }, { n = 'y' } }");
  ASSERT_EQ(kind_of(o), "schema");
  EXPECT_EQ(o.rejects.size(), 2u);
}

TEST(SchemaInSandbox, NoRecordsIsNotASchemaFailure) { EXPECT_TRUE(run_body("return {}").ok()); }

TEST(SchemaInSandbox, InvalidSchemaFailsTheRun) {
  const RunOutcome o = run_script(
      "local sdk = require('sdk')\n"
      "local P = sdk.BaseParser:extend{ name = 't', schema = { a = 'decimal' } }\n"
      "function P:parse(page) return {} end\nreturn P\n");
  ASSERT_EQ(kind_of(o), "schema");
  EXPECT_NE(o.error->message.find("decimal"), std::string::npos);
}

}  // namespace
}  // namespace sandbox::testing
