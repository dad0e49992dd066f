// Backups are consistent copies taken while the store is in use; restore
// refuses to replace a store somebody has open.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "test_util.h"

namespace store {
namespace {

namespace fs = std::filesystem;
using testing::create_options;
using testing::error_kind;
using testing::must;
using testing::populate;
using testing::TempDir;

TEST(Backup, CopyTakenWhileWritingIsConsistentAndCompact) {
  TempDir dir;
  auto s = must(Store::open(dir.path() / "store", create_options()));
  populate(s);
  std::atomic<bool> stop = false;
  std::atomic<int> batches = 0;
  std::thread writer([&] {
    while (!stop) {
      int b = batches;
      auto r = s.update([&](WriteTxn& txn) -> std::expected<void, Error> {
        std::vector<RecordInput> records;
        for (int j = 0; j < 50; ++j) {
          records.push_back({"w" + std::to_string(b) + "-" + std::to_string(j), {{"b", b}}});
        }
        auto up = s.silver().upsert(txn, "books", Lineage{1, 1, testing::at_seconds(b)}, records);
        if (!up) return std::unexpected(up.error());
        return {};
      });
      if (!r) break;
      ++batches;
    }
  });
  while (batches < 5) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  fs::path file = dir.path() / "backup.mdb";
  must(s.backup_to(file));
  stop = true;
  writer.join();
  EXPECT_FALSE(fs::exists(dir.path() / ("backup.mdb.tmp-" + std::to_string(::getpid()))));

  auto backup = must(Store::open_backup(file));
  VerifyReport report = must(backup.verify());
  EXPECT_TRUE(report.ok());
  auto txn = must(backup.read());
  std::uint64_t records = must(backup.silver().count(txn, "books"));
  EXPECT_GE(records, 2u + 5 * 50);
  EXPECT_EQ((records - 2) % 50, 0u) << "a backup never holds part of a transaction";
  EXPECT_EQ(error_kind(s.backup_to(file)), ErrorKind::kExists);
  BackupOptions overwrite;
  overwrite.overwrite = true;
  must(s.backup_to(file, overwrite));
}

TEST(Backup, RestoreReplacesTheStore) {
  TempDir dir;
  fs::path file = dir.path() / "backup.mdb";
  {
    auto s = must(Store::open(dir.path() / "store", create_options()));
    populate(s);
    must(s.backup_to(file));
    must(s.update([&](WriteTxn& txn) { return s.settings().set(txn, "after", "1", now()); }));
  }
  must(restore(file, dir.path() / "store"));
  must(restore(file, dir.path() / "fresh"));
  for (const char* name : {"store", "fresh"}) {
    auto s = must(Store::open(dir.path() / name));
    auto txn = must(s.read());
    EXPECT_FALSE(must(s.settings().get(txn, "after")).has_value()) << name;
    EXPECT_EQ(must(s.silver().count(txn, "books")), 2u) << name;
    txn.abort();
    EXPECT_TRUE(must(s.verify()).ok()) << name;
  }
}

TEST(Backup, RestoreRefusesAStoreOpenInThisProcess) {
  TempDir dir;
  fs::path file = dir.path() / "backup.mdb";
  auto s = must(Store::open(dir.path() / "store", create_options()));
  must(s.backup_to(file));
  auto restored = restore(file, dir.path() / "store");
  ASSERT_EQ(error_kind(restored), ErrorKind::kInUse);
  EXPECT_NE(restored.error().message.find(std::to_string(::getpid())), std::string::npos);
  EXPECT_EQ(must(store_user(dir.path() / "store")), std::optional<pid_t>(::getpid()));
  // The open store is untouched and still works.
  must(s.update([&](WriteTxn& txn) { return s.settings().set(txn, "still", "ok", now()); }));
}

TEST(Backup, RestoreRefusesAStoreOpenInAnotherProcessAndNamesIt) {
  TempDir dir;
  fs::path file = dir.path() / "backup.mdb";
  {
    auto s = must(Store::open(dir.path() / "store", create_options()));
    must(s.backup_to(file));
  }
  EXPECT_FALSE(must(store_user(dir.path() / "store")).has_value());
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto s = Store::open(dir.path() / "store");
    char ok = s ? '1' : '0';
    if (::write(ready[1], &ok, 1) != 1) ::_exit(2);
    ::pause();
    ::_exit(0);
  }
  char ok = 0;
  ASSERT_EQ(::read(ready[0], &ok, 1), 1);
  ASSERT_EQ(ok, '1');
  auto restored = restore(file, dir.path() / "store");
  EXPECT_EQ(error_kind(restored), ErrorKind::kInUse);
  if (!restored) {
    EXPECT_NE(restored.error().message.find(std::to_string(child)), std::string::npos)
        << restored.error().message;
  }
  EXPECT_EQ(must(store_user(dir.path() / "store")), std::optional<pid_t>(child));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  must(restore(file, dir.path() / "store"));
}

TEST(Backup, RestoreRefusesADamagedBackup) {
  TempDir dir;
  fs::path file = dir.path() / "backup.mdb";
  Sha256Digest sha{};
  {
    auto s = must(Store::open(dir.path() / "store", create_options()));
    auto sample = populate(s);
    auto txn = must(s.read());
    sha = must(s.bronze().get(txn, sample.snapshot_a))->body_sha256;
    txn.abort();
    must(s.backup_to(file));
  }
  {
    EnvOptions options;
    options.no_subdir = true;
    options.no_lock = true;
    auto env = must(Env::open(file, options));
    must(env.update([&](WriteTxn& txn) {
      return txn.put(*must(env.open_dbi(txn, "bronze_bodies", false)), as_bytes(sha), "tampered");
    }));
  }
  std::string before = testing::read_file(dir.path() / "store" / "data.mdb");
  EXPECT_EQ(error_kind(restore(file, dir.path() / "store")), ErrorKind::kCorrupt);
  EXPECT_TRUE(testing::read_file(dir.path() / "store" / "data.mdb") == before);
  EXPECT_EQ(error_kind(restore(dir.path() / "nothing.mdb", dir.path() / "store")),
            ErrorKind::kNotFound);
}

}  // namespace
}  // namespace store
