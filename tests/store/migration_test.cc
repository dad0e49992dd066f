// A store written by the previous schema version opens, migrates once, and
// still holds everything.
#include <gtest/gtest.h>

#include "test_util.h"

namespace store {
namespace {

using testing::create_options;
using testing::error_kind;
using testing::must;
using testing::populate;
using testing::Sample;
using testing::TempDir;

// Schema 1 is schema 2 without the derived databases `counters`,
// `active_versions` and `bronze_pins`. Turns a current store into exactly
// what a schema-1 binary left behind.
void downgrade_to_v1(const std::filesystem::path& dir) {
  auto env = must(Env::open(dir));
  must(env.update([&](WriteTxn& txn) -> std::expected<void, Error> {
    for (const char* name : {"counters", "active_versions", "bronze_pins"}) {
      auto dbi = must(env.open_dbi(txn, name, false));
      if (!dbi) return std::unexpected(Error{ErrorKind::kInternal, std::string("no ") + name});
      must(txn.drop(*dbi));
    }
    auto meta = must(env.open_dbi(txn, "meta", false));
    return txn.put(*meta, "schema_version", std::string("\0\0\0\0\0\0\0\1", 8));
  }));
}

class MigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    {
      auto s = must(Store::open(dir_.path(), create_options()));
      sample_ = populate(s);
    }
    downgrade_to_v1(dir_.path());
  }

  TempDir dir_;
  Sample sample_;
};

TEST_F(MigrationTest, PreviousSchemaOpensAndFindsEverything) {
  auto s = must(Store::open(dir_.path()));
  EXPECT_EQ(s.schema_version(), kSchemaVersion);
  EXPECT_EQ(s.migrated_from(), std::optional<std::uint32_t>(1));
  auto txn = must(s.read());
  EXPECT_EQ(must(s.sources().get(txn, "books"))->url, "https://books.test/");
  EXPECT_EQ(must(s.bronze().get(txn, sample_.snapshot_a))->source, "books");
  EXPECT_EQ(*must(s.bronze().body(txn, must(s.bronze().get(txn, sample_.snapshot_b))->body_sha256)),
            "<html>b</html>");
  auto record = must(s.silver().get(txn, "books", "isbn-1"));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->data["price"], 12);
  EXPECT_EQ(must(s.silver().history(txn, "books", "isbn-1")).size(), 1u);
  EXPECT_EQ(must(s.tasks().get(txn, sample_.running_task))->state, TaskState::kInProgress);
  EXPECT_EQ(must(s.runs().get(txn, sample_.run))->kind, "extract");
  EXPECT_EQ(must(s.repairs().get(txn, sample_.repair))->diff, "-a\n+b\n");
  EXPECT_EQ(must(s.settings().effective(txn, "fetch.timeout", "books"))->value, "90s");
  EXPECT_EQ(must(s.metrics().latest(txn, "books", "latency_ms"))->value, 12.5);
  // The derived data the migration built.
  EXPECT_EQ(must(s.silver().count(txn, "books")), 2u);
  EXPECT_EQ(must(s.bronze().pins(txn, sample_.snapshot_a)), 1u);
  EXPECT_EQ(must(s.bronze().pins(txn, sample_.snapshot_b)), 1u);
  EXPECT_EQ(must(s.versions().active_number(txn, "books")), std::optional<std::uint32_t>(1));
  TaskCounts tasks = must(s.tasks().counts(txn));
  EXPECT_EQ(tasks[static_cast<std::size_t>(TaskState::kPending)], 1u);
  EXPECT_EQ(tasks[static_cast<std::size_t>(TaskState::kInProgress)], 1u);
  EXPECT_EQ(must(s.health().counts(txn))[static_cast<std::size_t>(HealthState::kDegraded)], 1u);
  txn.abort();
  VerifyReport report = must(s.verify());
  EXPECT_TRUE(report.ok()) << report.damage.front().item << ": "
                           << report.damage.front().description;
}

TEST_F(MigrationTest, MigrationRunsOnce) {
  { must(Store::open(dir_.path())); }
  auto s = must(Store::open(dir_.path()));
  EXPECT_FALSE(s.migrated_from().has_value());
  EXPECT_TRUE(must(s.verify()).ok());
}

TEST_F(MigrationTest, ReadOnlyOpenOfAnOlderStoreAsksForAMigrationAndChangesNothing) {
  std::string before = testing::read_file(dir_.path() / "data.mdb");
  OpenOptions options;
  options.read_only = true;
  EXPECT_EQ(error_kind(Store::open(dir_.path(), options)), ErrorKind::kSchemaTooOld);
  EXPECT_TRUE(testing::read_file(dir_.path() / "data.mdb") == before);
}

}  // namespace
}  // namespace store
