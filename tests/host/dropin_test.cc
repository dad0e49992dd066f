// Drop-in scripts: a SOURCE.lua placed in the scripts directory is staged,
// validated and promoted only if it passes; a broken one never replaces the
// working version, and `host versions` says why.
#include "host/lifecycle/dropin.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "store/store.h"
#include "tests/host/run_host.h"

namespace host::testing {
namespace {

namespace fs = std::filesystem;
using lifecycle::DropinAction;
using nlohmann::json;

const std::string kSource = SDP_SOURCE_DIR;
const std::string kBooks = kSource + "/scripts/examples/books/books.lua";
const std::string kBooksPage = kSource + "/scripts/examples/books/pages/index.html";

class Dropin : public HostCommandTest {
 protected:
  void SetUp() override {
    HostCommandTest::SetUp();
    scripts_ = dir_ + "/scripts";
    // The books parser's example page, where a drop-in's examples look.
    fs::create_directories(scripts_ + "/pages");
    fs::copy_file(kBooksPage, scripts_ + "/pages/index.html");
  }
  // Adds `name` with the working books parser (version 1, active) and, if
  // asked, stores the catalogue page as a fetched snapshot.
  void add_source(const std::string& name, bool with_page = true) {
    must({"add", "http://books.toscrape.com/index.html", "--name", name, "--parser", kBooks});
    if (!with_page) return;
    auto st = store::Store::open(data_);
    ASSERT_TRUE(st) << st.error().message;
    auto r = st->update([&](store::WriteTxn& txn) {
      store::FetchedPage fp;
      fp.source = name;
      fp.url = "http://books.toscrape.com/index.html";
      fp.fetched_at = store::now();
      fp.status = 200;
      fp.content_type = "text/html";
      fp.headers = {{"Content-Type", "text/html"}};
      fp.body = slurp(kBooksPage);
      return st->bronze().put(txn, fp);
    });
    ASSERT_TRUE(r) << r.error().message;
  }
  // The books script with `from` replaced by `to`.
  static std::string books_with(const std::string& from, const std::string& to) {
    std::string s = slurp(kBooks);
    const auto pos = s.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    if (pos != std::string::npos) s.replace(pos, from.size(), to);
    return s;
  }
  // A working parser that differs from version 1.
  static std::string good_script() {
    return books_with("description = \"Books listed on a books.toscrape.com catalogue page\"",
                      "description = \"dropped in\"");
  }
  std::string drop(const std::string& file, const std::string& content) {
    const std::string path = scripts_ + "/" + file;
    std::ofstream(path) << content;
    return path;
  }
  // `host dropin --json`, by file name.
  std::map<std::string, json> scan() {
    const CommandResult r = host({"dropin", "--scripts", scripts_, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    std::map<std::string, json> out;
    for (const json& f : json::parse(r.out)) {
      out[fs::path(f["file"].get<std::string>()).filename().string()] = f;
    }
    return out;
  }
  json versions(const std::string& source) {
    const CommandResult r = host({"versions", source, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);
  }
  static std::set<std::string> failing_checks(const json& version) {
    std::set<std::string> out;
    for (const json& c : version["validation"]["checks"]) {
      if (!c["passed"].get<bool>()) out.insert(c["name"].get<std::string>());
    }
    return out;
  }
  static std::string check_detail(const json& version, const std::string& name) {
    for (const json& c : version["validation"]["checks"]) {
      if (c["name"] == name) return c["detail"];
    }
    return "";
  }

  std::string scripts_;
};

TEST_F(Dropin, OnlyTheGoodOfFourDropInsBecomesActive) {
  for (const char* source : {"good", "broken", "empty", "escape"}) add_source(source);
  drop("good.lua", good_script());
  // Does not compile.
  drop("broken.lua", books_with("local RATINGS = {", "local RATINGS = = {"));
  // Loads and runs, but finds nothing.
  drop("empty.lua", books_with("  return out\nend", "  return {}\nend"));
  // Reads a file and runs a command from inside parse().
  drop("escape.lua", books_with("function Books:parse(page)\n",
                                "function Books:parse(page)\n"
                                "  local secret = io.open(\"/etc/passwd\"):read(\"*a\")\n"
                                "  os.execute(\"touch " +
                                    dir_ + "/escaped\")\n"));
  auto files = scan();
  EXPECT_EQ(files["good.lua"]["action"], "promoted");
  for (const char* f : {"broken.lua", "empty.lua", "escape.lua"}) {
    EXPECT_EQ(files[f]["action"], "failed") << f;
    EXPECT_EQ(files[f]["version"], 2) << f;
  }

  json good = versions("good");
  ASSERT_EQ(good.size(), 2u);
  EXPECT_EQ(good[0]["state"], "retired");
  EXPECT_EQ(good[1]["state"], "active");
  EXPECT_TRUE(good[1]["validation"]["passed"]);
  EXPECT_EQ(good[1]["origin"], fs::path(scripts_ + "/good.lua").lexically_normal().string());

  for (const char* source : {"broken", "empty", "escape"}) {
    const json v = versions(source);
    ASSERT_EQ(v.size(), 2u) << source;
    EXPECT_EQ(v[0]["state"], "active") << source;
    EXPECT_EQ(v[1]["state"], "staged") << source;
    EXPECT_FALSE(v[1]["validation"]["passed"]) << source;
  }
  const json broken = versions("broken")[1];
  EXPECT_TRUE(failing_checks(broken).contains("loads"));
  EXPECT_NE(check_detail(broken, "loads").find("syntax"), std::string::npos);
  EXPECT_TRUE(broken["reason"].get<std::string>().starts_with("loads: "));
  const json empty = versions("empty")[1];
  EXPECT_TRUE(failing_checks(empty).contains("record_count"));
  EXPECT_FALSE(failing_checks(empty).contains("loads"));
  const json escape = versions("escape")[1];
  EXPECT_TRUE(failing_checks(escape).contains("pages_parse"));
  EXPECT_NE(check_detail(escape, "pages_parse").find("forbidden"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ + "/escaped"));

  // The table says why a staged version is not active.
  const CommandResult table = host({"versions", "broken"});
  EXPECT_NE(table.out.find("loads: the script does not load"), std::string::npos) << table.out;
}

TEST_F(Dropin, AnUnchangedDirectoryStagesNothingTwice) {
  add_source("good");
  drop("good.lua", good_script());
  EXPECT_EQ(scan()["good.lua"]["action"], "promoted");
  auto again = scan();
  EXPECT_EQ(again["good.lua"]["action"], "unchanged");
  EXPECT_EQ(again["good.lua"]["version"], 2);
  EXPECT_EQ(versions("good").size(), 2u);
}

TEST_F(Dropin, ACachedScanReadsNoUnchangedFile) {
  add_source("good");
  const std::string file = drop("good.lua", good_script());
  auto st = store::Store::open(data_);
  ASSERT_TRUE(st) << st.error().message;
  sandbox::SandboxOptions options;
  options.worker_path = std::string(SDP_BIN_DIR) + "/sdp-worker";
  auto box = sandbox::Sandbox::create(options);
  ASSERT_TRUE(box) << box.error().message;
  std::vector<std::string> log;
  const lifecycle::LogFn to_log = [&](std::string_view line) { log.emplace_back(line); };
  lifecycle::DropinCache cache;
  auto first = lifecycle::scan_dropins(*st, **box, scripts_, cache, to_log);
  ASSERT_TRUE(first) << first.error();
  ASSERT_EQ(first->files.size(), 1u);
  EXPECT_EQ(first->files[0].action, DropinAction::kPromoted);
  EXPECT_EQ(first->files[0].source, "good");

  // Other content with the same size and mtime: the cache trusts the stat.
  const auto mtime = fs::last_write_time(file);
  std::string other = good_script();
  other.replace(other.find("dropped in"), 10, "dropped IN");
  drop("good.lua", other);
  fs::last_write_time(file, mtime);
  auto cached = lifecycle::scan_dropins(*st, **box, scripts_, cache, to_log);
  ASSERT_TRUE(cached) << cached.error();
  EXPECT_EQ(cached->files[0].action, DropinAction::kUnchanged);
  EXPECT_EQ(cached->files[0].version, 2u);

  // A fresh cache reads the file and finds the new content.
  lifecycle::DropinCache fresh;
  auto reread = lifecycle::scan_dropins(*st, **box, scripts_, fresh, to_log);
  ASSERT_TRUE(reread) << reread.error();
  EXPECT_EQ(reread->files[0].action, DropinAction::kPromoted);
  EXPECT_EQ(reread->files[0].version, 3u);
  EXPECT_EQ(log.size(), 2u);  // one line per version staged, none for unchanged files
}

TEST_F(Dropin, StageModeValidatesButDoesNotPromote) {
  add_source("good");
  must({"config", "set", "dropin.mode", "stage"});
  drop("good.lua", good_script());
  EXPECT_EQ(scan()["good.lua"]["action"], "staged");
  const json v = versions("good");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0]["state"], "active");
  EXPECT_EQ(v[1]["state"], "staged");
  EXPECT_TRUE(v[1]["validation"]["passed"]);
}

TEST_F(Dropin, AFileForAnUnknownSourceIsSkippedAndLoggedOnce) {
  drop("nosuch.lua", good_script());
  must({"add", "http://books.toscrape.com/index.html", "--name", "other", "--parser", kBooks});
  auto st = store::Store::open(data_);
  ASSERT_TRUE(st) << st.error().message;
  sandbox::SandboxOptions options;
  options.worker_path = std::string(SDP_BIN_DIR) + "/sdp-worker";
  auto box = sandbox::Sandbox::create(options);
  ASSERT_TRUE(box) << box.error().message;
  std::vector<std::string> log;
  const lifecycle::LogFn to_log = [&](std::string_view line) { log.emplace_back(line); };
  lifecycle::DropinCache cache;
  for (int i = 0; i < 2; ++i) {
    auto scan = lifecycle::scan_dropins(*st, **box, scripts_, cache, to_log);
    ASSERT_TRUE(scan) << scan.error();
    ASSERT_EQ(scan->files.size(), 1u);
    EXPECT_EQ(scan->files[0].action, DropinAction::kUnknownSource);
    EXPECT_TRUE(scan->ok());
  }
  EXPECT_EQ(log.size(), 1u);
  auto txn = st->read();
  ASSERT_TRUE(txn);
  EXPECT_FALSE(st->sources().get(*txn, "nosuch")->has_value());
}

TEST_F(Dropin, AFileDeclaringAnotherSourceIsRefused) {
  add_source("good");
  drop("good.lua", books_with("name = \"books\",", "name = \"books\",\n  source = \"other\","));
  EXPECT_EQ(scan()["good.lua"]["action"], "failed");
  const json v = versions("good");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0]["state"], "active");
  EXPECT_EQ(failing_checks(v[1]), std::set<std::string>{"source"});
}

TEST_F(Dropin, AFileDeclaringItsOwnSourceIsPromoted) {
  add_source("good");
  drop("good.lua", books_with("name = \"books\",", "name = \"books\",\n  source = \"good\","));
  EXPECT_EQ(scan()["good.lua"]["action"], "promoted");
}

TEST_F(Dropin, SubdirectoriesAndOtherFilesAreNotDropIns) {
  add_source("good");
  fs::create_directories(scripts_ + "/examples");
  std::ofstream(scripts_ + "/examples/good.lua") << good_script();
  std::ofstream(scripts_ + "/good.txt") << good_script();
  EXPECT_TRUE(scan().empty());
  EXPECT_EQ(versions("good").size(), 1u);
}

TEST_F(Dropin, AMissingScriptsDirectoryIsAnError) {
  add_source("good");
  const CommandResult r = host({"dropin", "--scripts", dir_ + "/nowhere"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--scripts"), std::string::npos) << r.err;
}

// Examples a script declares gate validation (with or without stored pages).

TEST_F(Dropin, WithoutStoredPagesTheDeclaredExamplesValidate) {
  add_source("good", /*with_page=*/false);
  drop("good.lua", good_script());
  EXPECT_EQ(scan()["good.lua"]["action"], "promoted");
  const json report = versions("good")[1]["validation"];
  EXPECT_EQ(report["pages"], 0);
  EXPECT_EQ(report["examples"], 1);
  std::set<std::string> checks;
  for (const json& c : report["checks"]) checks.insert(c["name"].get<std::string>());
  EXPECT_EQ(checks, (std::set<std::string>{"loads", "examples"}));
}

TEST_F(Dropin, AFailingExampleKeepsTheVersionStaged) {
  add_source("good");
  drop("good.lua", books_with("count = 20,", "count = 21,"));
  EXPECT_EQ(scan()["good.lua"]["action"], "failed");
  const json v = versions("good");
  EXPECT_EQ(v[1]["state"], "staged");
  EXPECT_EQ(failing_checks(v[1]), std::set<std::string>{"examples"});
  EXPECT_NE(check_detail(v[1], "examples").find("pages/index.html"), std::string::npos);
}

TEST_F(Dropin, AMissingExamplePageFailsTheExamplesCheck) {
  add_source("good", /*with_page=*/false);
  fs::remove_all(scripts_ + "/pages");
  drop("good.lua", good_script());
  EXPECT_EQ(scan()["good.lua"]["action"], "failed");
  const json v = versions("good");
  EXPECT_EQ(v[0]["state"], "active");
  EXPECT_EQ(failing_checks(v[1]), std::set<std::string>{"examples"});
  EXPECT_NE(check_detail(v[1], "examples").find(scripts_ + "/pages/index.html"), std::string::npos)
      << check_detail(v[1], "examples");
}

TEST_F(Dropin, AScriptThatDoesNotLoadIsRecordedEvenWithoutPages) {
  add_source("good", /*with_page=*/false);
  drop("good.lua", "return = 1");
  EXPECT_EQ(scan()["good.lua"]["action"], "failed");
  const json v = versions("good");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1]["state"], "staged");
  EXPECT_EQ(failing_checks(v[1]), std::set<std::string>{"loads"});
}

}  // namespace
}  // namespace host::testing
