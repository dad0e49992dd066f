// host add | stage | validate | promote | rollback | versions | diff.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "store/store.h"
#include "tests/host/run_host.h"

namespace host::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kSource = SDP_SOURCE_DIR;
const std::string kBooks = kSource + "/scripts/examples/books/books.lua";

class Lifecycle : public HostCommandTest {
 protected:
  void SetUp() override {
    HostCommandTest::SetUp();
    // The books parser's example page, beside the variants written below.
    fs::create_directories(dir_ + "/pages");
    fs::copy_file(kSource + "/scripts/examples/books/pages/index.html", dir_ + "/pages/index.html");
  }
  std::string write(const std::string& name, const std::string& content) {
    const std::string p = dir_ + "/" + name;
    std::ofstream(p) << content;
    return p;
  }
  // The books script with `from` replaced by `to`.
  std::string books_variant(const std::string& name, const std::string& from,
                            const std::string& to) {
    std::string s = slurp(kBooks);
    const auto pos = s.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    s.replace(pos, from.size(), to);
    return write(name, s);
  }
  // Adds "books" and stores its catalogue page as a fetched snapshot.
  void add_books_with_page() {
    must({"add", "http://books.toscrape.com/index.html", "--name", "books", "--parser", kBooks});
    auto st = store::Store::open(data_);
    ASSERT_TRUE(st) << st.error().message;
    auto r = st->update([&](store::WriteTxn& txn) {
      store::FetchedPage fp;
      fp.source = "books";
      fp.url = "http://books.toscrape.com/index.html";
      fp.fetched_at = store::now();
      fp.status = 200;
      fp.content_type = "text/html";
      fp.headers = {{"Content-Type", "text/html"}};
      fp.body = slurp(kSource + "/scripts/examples/books/pages/index.html");
      return st->bronze().put(txn, fp);
    });
    ASSERT_TRUE(r) << r.error().message;
  }
  json versions() { return json::parse(host({"versions", "books", "--json"}).out); }
};

TEST_F(Lifecycle, AddRefusesNonHttpUrls) {
  for (const char* url : {"file:///etc/passwd", "/etc/passwd", "ftp://x.test/a", "javascript:1",
                          "data:text/html,hi", "books.toscrape.com"}) {
    const CommandResult r = host({"add", url, "--name", "b", "--parser", kBooks});
    EXPECT_EQ(r.exit_code, 2) << url;
    EXPECT_NE(r.err.find("http:// or https://"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::exists(data_ + "/data.mdb"));
}

TEST_F(Lifecycle, AddMakesTheFirstVersionActive) {
  must({"add", "http://books.toscrape.com/", "--name", "books", "--parser", kBooks, "--interval",
        "6h"});
  const json v = versions();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["state"], "active");
  EXPECT_EQ(v[0]["author"], "human");
  EXPECT_EQ(host({"config", "get", "source.interval", "--source", "books"}).out, "21600\n");
  const CommandResult again =
      host({"add", "http://books.toscrape.com/", "--name", "books", "--parser", kBooks});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already exists"), std::string::npos);
}

TEST_F(Lifecycle, AddRefusesABrokenParserAndStoresNothing) {
  const std::string broken = write("broken.lua", "local x = = 1");
  const CommandResult r =
      host({"add", "http://books.toscrape.com/", "--name", "books", "--parser", broken});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("syntax"), std::string::npos) << r.err;
  EXPECT_EQ(host({"versions", "books"}).exit_code, 1);
}

TEST_F(Lifecycle, AddRefusesAParserWhoseOwnExamplesFail) {
  const std::string wrong =
      books_variant("wrong.lua", "title = \"A Light in the Attic\"", "title = \"Another Book\"");
  const CommandResult r =
      host({"add", "http://books.toscrape.com/", "--name", "books", "--parser", wrong});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("its example pages/index.html fails"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was added"), std::string::npos) << r.err;
  EXPECT_EQ(host({"versions", "books"}).exit_code, 1);
}

TEST_F(Lifecycle, ValidatePassesAnEquivalentVersionAndPromoteThenWorks) {
  add_books_with_page();
  const std::string v2 = books_variant("v2.lua", "name = \"books\"", "name = \"books2\"");
  must({"stage", "books", v2});
  const CommandResult promote_early = host({"promote", "books"});
  EXPECT_EQ(promote_early.exit_code, 1);
  EXPECT_NE(promote_early.err.find("has not been validated"), std::string::npos);
  const CommandResult r = host({"validate", "books", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json report = json::parse(r.out);
  EXPECT_TRUE(report["passed"]);
  EXPECT_EQ(report["records"], 20);
  EXPECT_EQ(report["compared_with"], 1);
  EXPECT_EQ(report["diff"]["changed"], 0);
  must({"promote", "books"});
  EXPECT_EQ(versions()[1]["state"], "active");
  EXPECT_EQ(versions()[0]["state"], "retired");
}

TEST_F(Lifecycle, ValidateFailsWhenRecordCountDrops) {
  add_books_with_page();
  const std::string fewer = books_variant("fewer.lua", "out[#out + 1] = {",
                                          "if #out >= 10 then break end\n    out[#out + 1] = {");
  must({"stage", "books", fewer});
  const CommandResult r = host({"validate", "books"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("record_count: 10 records; the active version 1 returns 20"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("10 removed"), std::string::npos) << r.out;
}

TEST_F(Lifecycle, ValidateFailsWhenRecordsBreakTheSchema) {
  add_books_with_page();
  const std::string bad =
      books_variant("bad.lua", "price = sdk.text.price(card:css_one(\".price_color\"):text()),",
                    "price = card:css_one(\".price_color\"):text(),");
  must({"stage", "books", bad});
  const CommandResult r = host({"validate", "books"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("schema_ratio: 0.0% of 20 records pass the schema"), std::string::npos)
      << r.err;
}

TEST_F(Lifecycle, ValidateFailsWhenRequiredFieldsAreMissing) {
  add_books_with_page();
  must({"stage", "books",
        books_variant("notitle.lua", "title = link and link:attr(\"title\"),", "")});
  const CommandResult r = host({"validate", "books"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("required_fields: 20 record(s) miss a required field"), std::string::npos)
      << r.err;
}

TEST_F(Lifecycle, ValidateFailsWhenPagesDoNotParseOrScriptDoesNotLoad) {
  add_books_with_page();
  must({"stage", "books", write("err.lua", R"(
local sdk = require("sdk")
local P = sdk.BaseParser:extend { name = "x", schema = { t = "string" } }
function P:parse(page) error("site changed") end
return P)")});
  const CommandResult r = host({"validate", "books"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("pages_parse: 0 of 1 pages parsed"), std::string::npos) << r.err;
  must({"stage", "books", write("syntax.lua", "return = 1")});
  const CommandResult s = host({"validate", "books"});
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_NE(s.err.find("loads: the script does not load"), std::string::npos) << s.err;
}

TEST_F(Lifecycle, ValidateWithoutStoredPagesOrExamplesSaysWhatToDo) {
  must({"add", "http://books.toscrape.com/", "--name", "books", "--parser", kBooks});
  must({"stage", "books", write("plain.lua", R"(
local sdk = require("sdk")
local P = sdk.BaseParser:extend { name = "x", schema = { t = "string" } }
function P:parse(page) return { { t = "a" } } end
return P)")});
  const CommandResult r = host({"validate", "books"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no stored pages"), std::string::npos) << r.err;
}

TEST_F(Lifecycle, ValidateWithoutStoredPagesRunsTheDeclaredExamples) {
  must({"add", "http://books.toscrape.com/", "--name", "books", "--parser", kBooks});
  must({"stage", "books", books_variant("v2.lua", "name = \"books\"", "name = \"b2\"")});
  const CommandResult r = host({"validate", "books", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json report = json::parse(r.out);
  EXPECT_EQ(report["pages"], 0);
  EXPECT_EQ(report["examples"], 1);
  ASSERT_EQ(report["checks"].size(), 2u);
  EXPECT_EQ(report["checks"][1]["name"], "examples");
  EXPECT_TRUE(report["checks"][1]["passed"]);
}

TEST_F(Lifecycle, ValidateFailsWhenAnExampleFails) {
  add_books_with_page();
  must({"stage", "books", books_variant("v2.lua", "count = 20,", "count = 19,")});
  const CommandResult r = host({"validate", "books"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("examples: 1 of 1 declared example(s) failed: pages/index.html: "
                       "expected 19 records, got 20"),
            std::string::npos)
      << r.err;
}

TEST_F(Lifecycle, ValidateFailsWhenTheStagedFromDirectoryIsGone) {
  add_books_with_page();
  fs::create_directories(dir_ + "/work");
  const std::string v2 = dir_ + "/work/v2.lua";
  fs::copy_file(books_variant("v2.lua", "name = \"books\"", "name = \"b2\""), v2);
  must({"stage", "books", v2});
  fs::remove_all(dir_ + "/work");
  const CommandResult r = host({"validate", "books"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("examples: the directory " + dir_ + "/work"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stage it again"), std::string::npos) << r.err;
  // The page checks still ran and passed.
  EXPECT_EQ(r.err.find("pages_parse"), std::string::npos) << r.err;
  // Staging the same script from a folder with its pages moves the origin.
  const CommandResult again = host({"stage", "books", dir_ + "/v2.lua"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("identical to version 2"), std::string::npos) << again.out;
  EXPECT_EQ(versions()[1]["origin"], dir_ + "/v2.lua");
  must({"validate", "books", "2"});
}

TEST_F(Lifecycle, VersionsShowTheOriginAndWhyAStagedVersionFailed) {
  add_books_with_page();
  const std::string syntax = write("syntax.lua", "return = 1");
  must({"stage", "books", syntax});
  EXPECT_EQ(host({"validate", "books"}).exit_code, 1);
  const json v = versions();
  EXPECT_EQ(v[0]["origin"], kBooks);
  EXPECT_EQ(v[1]["origin"], syntax);
  EXPECT_TRUE(v[0]["reason"].is_null());
  EXPECT_TRUE(v[1]["reason"].get<std::string>().starts_with("loads: ")) << v[1];
  const CommandResult table = host({"versions", "books"});
  EXPECT_NE(table.out.find("why: loads: the script does not load"), std::string::npos) << table.out;
}

TEST_F(Lifecycle, ForcedPromotionIsRecordedAndRollbackRestores) {
  add_books_with_page();
  must({"stage", "books", books_variant("v2.lua", "name = \"books\"", "name = \"b2\"")});
  must({"promote", "books", "2", "--force"});
  json v = versions();
  EXPECT_EQ(v[1]["state"], "active");
  EXPECT_TRUE(v[1]["validation"].contains("forced"));
  must({"rollback", "books"});
  v = versions();
  EXPECT_EQ(v[0]["state"], "active");
  EXPECT_EQ(v[1]["state"], "retired");
  must({"rollback", "books", "--to", "2"});
  EXPECT_EQ(versions()[1]["state"], "active");
}

TEST_F(Lifecycle, RollbackWithNothingEarlierFails) {
  must({"add", "http://books.toscrape.com/", "--name", "books", "--parser", kBooks});
  EXPECT_EQ(host({"rollback", "books"}).exit_code, 1);
  must({"stage", "books", books_variant("v2.lua", "name = \"books\"", "name = \"b2\"")});
  const CommandResult never = host({"rollback", "books", "--to", "2"});
  EXPECT_EQ(never.exit_code, 1);
  EXPECT_NE(never.err.find("never active"), std::string::npos);
}

TEST_F(Lifecycle, StageOfAnIdenticalScriptStagesNothing) {
  must({"add", "http://books.toscrape.com/", "--name", "books", "--parser", kBooks});
  const CommandResult r = host({"stage", "books", kBooks});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("identical to version 1"), std::string::npos);
  EXPECT_EQ(versions().size(), 1u);
}

TEST_F(Lifecycle, DiffPrintsAUnifiedDiff) {
  must({"add", "http://books.toscrape.com/", "--name", "books", "--parser", kBooks});
  must({"stage", "books", books_variant("v2.lua", "name = \"books\"", "name = \"b2\"")});
  const CommandResult r = host({"diff", "books", "1", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("--- books version 1\n+++ books version 2\n@@ -"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\n-  name = \"books\",\n+  name = \"b2\",\n"), std::string::npos) << r.out;
  EXPECT_EQ(host({"diff", "books", "1", "7"}).exit_code, 1);
}

}  // namespace
}  // namespace host::testing
