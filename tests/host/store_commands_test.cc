// host config / records / reprocess / backup / restore / verify, driven as a
// user would, over a store seeded through the store API.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "host/util/atomic_file.h"
#include "store/sha256.h"
#include "store/store.h"
#include "tests/host/run_host.h"

namespace host::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kSource = SDP_SOURCE_DIR;

class StoreCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sdp-store-cmd-XXXXXX";
    dir_ = mkdtemp(tmpl);
    data_ = dir_ + "/data";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A source "books" with one stored page and an active parser version.
  void seed_books() {
    store::OpenOptions options;
    options.create_if_missing = true;
    auto st = store::Store::open(data_, options);
    ASSERT_TRUE(st) << st.error().message;
    const std::string page = slurp(kSource + "/scripts/examples/books/pages/index.html");
    const std::string script = slurp(kSource + "/scripts/examples/books/books.lua");
    auto r = st->update([&](store::WriteTxn& txn) -> std::expected<void, store::Error> {
      store::Source src;
      src.name = "books";
      src.url = "http://books.toscrape.com/index.html";
      src.created_at = src.updated_at = store::now();
      if (auto ok = st->sources().put(txn, src); !ok) return ok;
      store::FetchedPage fp;
      fp.source = "books";
      fp.url = src.url;
      fp.fetched_at = store::now();
      fp.status = 200;
      fp.content_type = "text/html";
      fp.headers = {{"Content-Type", "text/html"}};
      fp.body = page;
      if (auto put = st->bronze().put(txn, fp); !put) return std::unexpected(put.error());
      store::NewParserVersion v;
      v.script = script;
      v.created_at = store::now();
      auto n = st->versions().add(txn, "books", v);
      if (!n) return std::unexpected(n.error());
      return st->versions().promote(txn, "books", *n, store::now());
    });
    ASSERT_TRUE(r) << r.error().message;
  }

  // Runs a command that must succeed, showing its stderr if it does not.
  void must(std::vector<std::string> args) {
    const CommandResult r = host(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  CommandResult host(std::vector<std::string> args) {
    args.insert(args.begin(), {"--data", data_});
    return run_host(args);
  }

  std::string dir_;
  std::string data_;
};

TEST_F(StoreCommands, ReprocessRebuildsSilverFromBronze) {
  seed_books();
  const CommandResult r = host({"reprocess", "books"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("20 inserted"), std::string::npos) << r.out;
  const CommandResult again = host({"reprocess", "books"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("20 unchanged"), std::string::npos) << again.out;
}

TEST_F(StoreCommands, ReprocessUnknownVersionOrSourceFails) {
  seed_books();
  EXPECT_EQ(host({"reprocess", "books", "--version", "9"}).exit_code, 1);
  const CommandResult r = host({"reprocess", "nosuch"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no source named 'nosuch'"), std::string::npos);
}

TEST_F(StoreCommands, RecordsExportSilverWithLineage) {
  seed_books();
  must({"reprocess", "books"});
  const CommandResult r = host({"records", "books"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = lines(r.out);
  ASSERT_EQ(out.size(), 20u);
  const json first = json::parse(out[0]);
  EXPECT_EQ(first["_parser_version"], 1);
  EXPECT_TRUE(first.contains("_snapshot"));
  EXPECT_TRUE(first.contains("title"));
  EXPECT_EQ(first["_key"], first["url"]);
}

TEST_F(StoreCommands, RecordsCsvToFileIsAtomicWithChecksum) {
  seed_books();
  must({"reprocess", "books"});
  const std::string out = dir_ + "/books.csv";
  const CommandResult r = host({"records", "books", "--format", "csv", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string csv = slurp(out);
  EXPECT_EQ(lines(csv).size(), 21u);  // header + 20
  EXPECT_EQ(csv.rfind("image,in_stock,price,rating,title,url,_key", 0), 0u) << csv.substr(0, 80);
  const std::string sum = slurp(out + ".sha256");
  EXPECT_EQ(sum, store::to_hex(store::sha256(csv)) + "  books.csv\n");
  // No temporary files left behind.
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) files += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, 2u);
}

TEST_F(StoreCommands, RecordsBronzeLayerHasTheBody) {
  seed_books();
  const CommandResult r = host({"records", "books", "--layer", "bronze"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = lines(r.out);
  ASSERT_EQ(out.size(), 1u);
  const json page = json::parse(out[0]);
  EXPECT_EQ(page["status"], 200);
  EXPECT_NE(page["body"].get<std::string>().find("product_pod"), std::string::npos);
}

TEST_F(StoreCommands, RecordsSinceFilters) {
  seed_books();
  must({"reprocess", "books"});
  EXPECT_EQ(lines(host({"records", "books", "--since", "1h"}).out).size(), 20u);
  EXPECT_EQ(lines(host({"records", "books", "--since", "2999-01-01"}).out).size(), 0u);
  const CommandResult bad = host({"records", "books", "--since", "yesterday-ish"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("ISO 8601"), std::string::npos);
}

TEST_F(StoreCommands, RecordsOfUnknownSourceOrMissingStoreFail) {
  const CommandResult missing = host({"records", "books"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no store at"), std::string::npos) << missing.err;
  seed_books();
  EXPECT_EQ(host({"records", "nosuch"}).exit_code, 1);
}

TEST_F(StoreCommands, VerifyPassesOnAHealthyStore) {
  seed_books();
  must({"reprocess", "books"});
  const CommandResult r = host({"verify"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("intact"), std::string::npos);
}

TEST_F(StoreCommands, BackupAndRestoreRoundTrip) {
  seed_books();
  must({"reprocess", "books"});
  const std::string backup = dir_ + "/store.bak";
  ASSERT_EQ(host({"backup", backup}).exit_code, 0);
  const CommandResult again = host({"backup", backup});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("--force"), std::string::npos) << again.err;
  EXPECT_EQ(host({"backup", backup, "--force"}).exit_code, 0);

  const std::string other = dir_ + "/restored";
  const CommandResult restored = run_host({"--data", other, "restore", backup});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  const CommandResult records = run_host({"--data", other, "records", "books"});
  EXPECT_EQ(lines(records.out).size(), 20u) << records.err;
}

TEST_F(StoreCommands, RestoreRefusesAStoreInUse) {
  seed_books();
  const std::string backup = dir_ + "/store.bak";
  ASSERT_EQ(host({"backup", backup}).exit_code, 0);
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t holder = fork();
  if (holder == 0) {
    auto st = store::Store::open(data_);
    const char c = st ? 'y' : 'n';
    (void)!write(ready[1], &c, 1);
    pause();
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  const CommandResult r = host({"restore", backup});
  kill(holder, SIGKILL);
  waitpid(holder, nullptr, 0);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("restore refused"), std::string::npos) << r.err;
}

TEST_F(StoreCommands, ConfigSetGetResetRoundTrip) {
  EXPECT_EQ(host({"config", "get", "fetch.timeout"}).out, "30\n");
  ASSERT_EQ(host({"config", "set", "fetch.timeout", "45s"}).exit_code, 0);
  EXPECT_EQ(host({"config", "get", "fetch.timeout"}).out, "45\n");
  ASSERT_EQ(host({"config", "set", "sandbox.max_memory", "64MiB"}).exit_code, 0);
  EXPECT_EQ(host({"config", "get", "sandbox.max_memory"}).out, "67108864\n");
  ASSERT_EQ(host({"config", "reset", "fetch.timeout"}).exit_code, 0);
  EXPECT_EQ(host({"config", "get", "fetch.timeout"}).out, "30\n");
  EXPECT_EQ(host({"config", "validate"}).exit_code, 0);
}

TEST_F(StoreCommands, ConfigRefusesUnknownKeysAndBadValues) {
  const CommandResult typo = host({"config", "set", "fetch.timout", "5"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("did you mean 'fetch.timeout'"), std::string::npos) << typo.err;
  const CommandResult bad = host({"config", "set", "fetch.retries", "many"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("expected a whole number"), std::string::npos) << bad.err;
  const CommandResult range = host({"config", "set", "validate.count_tolerance", "1.5"});
  EXPECT_EQ(range.exit_code, 2);
  EXPECT_NE(range.err.find("at most 1"), std::string::npos) << range.err;
  EXPECT_EQ(host({"config", "get", "nope"}).exit_code, 2);
  EXPECT_FALSE(fs::exists(data_ + "/data.mdb"));  // nothing was written
}

TEST_F(StoreCommands, ConfigOverridesPerSource) {
  seed_books();
  ASSERT_EQ(host({"config", "set", "fetch.min_delay", "5", "--source", "books"}).exit_code, 0);
  EXPECT_EQ(host({"config", "get", "fetch.min_delay", "--source", "books"}).out, "5\n");
  EXPECT_EQ(host({"config", "get", "fetch.min_delay"}).out, "1\n");
  const CommandResult global_only = host({"config", "set", "llm.model", "x", "--source", "books"});
  EXPECT_EQ(global_only.exit_code, 1);
  EXPECT_NE(global_only.err.find("global"), std::string::npos);
  EXPECT_EQ(host({"config", "set", "fetch.min_delay", "5", "--source", "nosuch"}).exit_code, 1);
  const CommandResult list = host({"config", "list", "--source", "books", "--json"});
  ASSERT_EQ(list.exit_code, 0);
  for (const auto& s : json::parse(list.out)) {
    if (s["name"] == "fetch.min_delay") {
      EXPECT_EQ(s["from"], "source");
    }
  }
}

TEST_F(StoreCommands, SandboxLimitSettingsApplyToReprocess) {
  seed_books();
  ASSERT_EQ(host({"config", "set", "sandbox.max_records", "5", "--source", "books"}).exit_code, 0);
  const CommandResult r = host({"reprocess", "books"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("output: parse() returned 20 records; the limit is 5"), std::string::npos)
      << r.err;
}

TEST_F(StoreCommands, NotAStoreDirectoryIsAClearError) {
  fs::create_directories(data_);
  std::ofstream(data_ + "/notes.txt") << "hello";
  const CommandResult r = host({"verify"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(r.err.empty());
  EXPECT_EQ(slurp(data_ + "/notes.txt"), "hello");
}

}  // namespace
}  // namespace host::testing
