// host check (a parser's declared examples) and host new-parser.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/host/run_host.h"

namespace host::testing {
namespace {

namespace fs = std::filesystem;
const std::string kSource = SDP_SOURCE_DIR;

class CheckCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sdp-check-XXXXXX";
    dir_ = mkdtemp(tmpl);
    fs::create_directories(dir_ + "/pages");
    std::ofstream(dir_ + "/pages/p.html") << "<ul><li>a</li><li>b</li><li>c</li></ul>";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string script(const std::string& expect) {
    const std::string p = dir_ + "/p.lua";
    std::ofstream(p) << R"(
local sdk = require("sdk")
local P = sdk.BaseParser:extend {
  name = "p", schema = { t = { type = "string", required = true } },
  examples = { { page = "pages/p.html", url = "https://x.test/", expect = )" +
                            expect + R"( } },
}
function P:parse(page)
  local out = {}
  for _, li in ipairs(page:html():css("li")) do out[#out + 1] = { t = li:text() } end
  return out
end
return P)";
    return p;
  }
  std::string dir_;
};

TEST_F(CheckCommand, ExamplesOfTheBundledParsersPass) {
  for (const char* p :
       {"/scripts/examples/books/books.lua", "/scripts/examples/quotes/quotes.lua"}) {
    const CommandResult r = run_host({"check", kSource + p});
    EXPECT_EQ(r.exit_code, 0) << p << "\n" << r.out << r.err;
  }
}

TEST_F(CheckCommand, MatchingExpectationsPass) {
  const CommandResult r =
      run_host({"check", script("{ count = 3, records = { [2] = { t = 'b' } } }")});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("PASS  pages/p.html (3 records)"), std::string::npos) << r.out;
}

TEST_F(CheckCommand, WrongCountFails) {
  const CommandResult r = run_host({"check", script("{ count = 4 }")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("expected 4 records, got 3"), std::string::npos) << r.out;
}

TEST_F(CheckCommand, WrongValueFailsNamingRecordAndField) {
  const CommandResult r = run_host({"check", script("{ records = { [3] = { t = 'z' } } }")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("record 3: field 't' is \"c\", expected \"z\""), std::string::npos) << r.out;
}

TEST_F(CheckCommand, ParserWithoutExamplesSaysHowToDeclareThem) {
  const std::string p = dir_ + "/none.lua";
  std::ofstream(p) << "local sdk = require('sdk')\nlocal P = sdk.BaseParser:extend{ name = 'n', "
                      "schema = { t = 'string' } }\nfunction P:parse(page) return {} end\nreturn P";
  const CommandResult r = run_host({"check", p});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("declares no examples"), std::string::npos) << r.err;
}

TEST_F(CheckCommand, NewParserWritesAParserWhoseExamplePasses) {
  const CommandResult r = run_host(
      {"new-parser", "shop", "--page", kSource + "/scripts/examples/books/pages/index.html",
       "--url", "http://books.toscrape.com/index.html", "--out", dir_ + "/shop"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("20 items"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir_ + "/shop/pages/index.html"));
  const CommandResult check = run_host({"check", dir_ + "/shop/shop.lua"});
  EXPECT_EQ(check.exit_code, 0) << check.out;
  const CommandResult again =
      run_host({"new-parser", "shop", "--page",
                kSource + "/scripts/examples/books/pages/index.html", "--out", dir_ + "/shop"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("--force"), std::string::npos);
}

TEST_F(CheckCommand, NewParserRefusesBadNamesAndMissingPages) {
  EXPECT_EQ(run_host({"new-parser", "../evil", "--page", dir_ + "/pages/p.html"}).exit_code, 2);
  EXPECT_EQ(
      run_host({"new-parser", "ok", "--page", dir_ + "/nope.html", "--out", dir_ + "/o"}).exit_code,
      1);
}

}  // namespace
}  // namespace host::testing
