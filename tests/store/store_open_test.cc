// Opening a store: bad input is a clear error and changes nothing.
#include <gtest/gtest.h>
#include <lmdb.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "test_util.h"

namespace store {
namespace {

namespace fs = std::filesystem;
using testing::create_options;
using testing::error_kind;
using testing::must;
using testing::read_file;
using testing::TempDir;

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(StoreOpen, CreatesANewStoreWhenAsked) {
  TempDir dir;
  auto store = must(Store::open(dir.path() / "new", create_options()));
  EXPECT_EQ(store.schema_version(), kSchemaVersion);
  EXPECT_FALSE(store.migrated_from().has_value());
  EXPECT_EQ(listing(dir.path() / "new"), (std::vector<std::string>{"data.mdb", "lock.mdb"}));
}

TEST(StoreOpen, MissingStoreWithoutCreateIsNotAStore) {
  TempDir dir;
  EXPECT_EQ(error_kind(Store::open(dir.path() / "nothing")), ErrorKind::kNotAStore);
  EXPECT_FALSE(fs::exists(dir.path() / "nothing"));
  EXPECT_EQ(error_kind(Store::open(dir.path())), ErrorKind::kNotAStore);
  EXPECT_TRUE(listing(dir.path()).empty());
}

TEST(StoreOpen, DirectoryWithOtherFilesIsNotAStoreAndIsLeftAlone) {
  TempDir dir;
  std::ofstream(dir.path() / "notes.txt") << "mine";
  EXPECT_EQ(error_kind(Store::open(dir.path(), create_options())), ErrorKind::kNotAStore);
  EXPECT_EQ(listing(dir.path()), std::vector<std::string>{"notes.txt"});
}

TEST(StoreOpen, GarbageDataFileIsNotAStoreAndGetsNoLockFile) {
  TempDir dir;
  std::string garbage(10000, 'g');
  std::ofstream(dir.path() / "data.mdb") << garbage;
  EXPECT_EQ(error_kind(Store::open(dir.path(), create_options())), ErrorKind::kNotAStore);
  EXPECT_EQ(listing(dir.path()), std::vector<std::string>{"data.mdb"});
  EXPECT_TRUE(read_file(dir.path() / "data.mdb") == garbage);
}

TEST(StoreOpen, PlainFileIsNotAStore) {
  TempDir dir;
  std::ofstream(dir.path() / "file") << "x";
  EXPECT_EQ(error_kind(Store::open(dir.path() / "file", create_options())), ErrorKind::kNotAStore);
}

TEST(StoreOpen, LmdbEnvironmentOfAnotherProgramIsNotAStore) {
  TempDir dir;
  {
    auto env = must(Env::open(dir.path()));
    must(env.update([&](WriteTxn& txn) -> std::expected<void, Error> {
      auto dbi = must(env.open_dbi(txn, "theirs", true));
      return txn.put(*dbi, "k", "v");
    }));
  }
  std::string before = read_file(dir.path() / "data.mdb");
  EXPECT_EQ(error_kind(Store::open(dir.path(), create_options())), ErrorKind::kNotAStore);
  EXPECT_TRUE(read_file(dir.path() / "data.mdb") == before);
}

TEST(StoreOpen, NewerSchemaIsRefusedWithoutChangingAnything) {
  TempDir dir;
  { must(Store::open(dir.path(), create_options())); }
  {
    // Pretend a newer binary wrote it.
    auto env = must(Env::open(dir.path()));
    must(env.update([&](WriteTxn& txn) -> std::expected<void, Error> {
      auto meta = must(env.open_dbi(txn, "meta", false));
      return txn.put(*meta, "schema_version", std::string("\0\0\0\0\0\0\0\x63", 8));
    }));
  }
  std::string before = read_file(dir.path() / "data.mdb");
  auto opened = Store::open(dir.path(), create_options());
  ASSERT_EQ(error_kind(opened), ErrorKind::kSchemaTooNew);
  EXPECT_NE(opened.error().message.find("99"), std::string::npos);
  EXPECT_TRUE(read_file(dir.path() / "data.mdb") == before);
  OpenOptions read_only;
  read_only.read_only = true;
  EXPECT_EQ(error_kind(Store::open(dir.path(), read_only)), ErrorKind::kSchemaTooNew);
}

TEST(StoreOpen, SecondOpenInTheSameProcessIsRefused) {
  TempDir dir;
  auto store = must(Store::open(dir.path(), create_options()));
  EXPECT_EQ(error_kind(Store::open(dir.path())), ErrorKind::kInUse);
  // The first one still works.
  must(store.update([&](WriteTxn& txn) { return store.settings().set(txn, "a", "1", now()); }));
}

TEST(StoreOpen, ReadOnlyStoreReadsButRefusesWrites) {
  TempDir dir;
  {
    auto store = must(Store::open(dir.path(), create_options()));
    must(store.update([&](WriteTxn& txn) { return store.settings().set(txn, "a", "1", now()); }));
  }
  OpenOptions options;
  options.read_only = true;
  auto store = must(Store::open(dir.path(), options));
  auto txn = must(store.read());
  EXPECT_EQ(must(store.settings().get(txn, "a"))->value, "1");
  txn.abort();
  auto write = store.update([&](WriteTxn& t) { return store.settings().set(t, "a", "2", now()); });
  EXPECT_EQ(error_kind(write), ErrorKind::kPermission);
}

TEST(StoreOpen, PermissionErrorIsReported) {
  // Root ignores file modes, so the check runs in a child that drops to
  // "nobody" when the test runs as root.
  TempDir dir;
  { must(Store::open(dir.path() / "s", create_options())); }
  // Directories traversable by all, files private to their owner.
  auto all_read = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                  fs::perms::others_read | fs::perms::others_exec;
  fs::permissions(dir.path(), all_read);
  fs::permissions(dir.path() / "s", all_read);
  fs::permissions(dir.path() / "s" / "lock.mdb", fs::perms::owner_read | fs::perms::owner_write);
  fs::permissions(dir.path() / "s" / "data.mdb", fs::perms::owner_read | fs::perms::owner_write);
  std::string before = read_file(dir.path() / "s" / "data.mdb");
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    auto opened = Store::open(dir.path() / "s");
    ::_exit(!opened && opened.error().kind == ErrorKind::kPermission ? 0 : 1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(read_file(dir.path() / "s" / "data.mdb") == before);
}

TEST(StoreErrors, FullDiskIsReportedAndTheStoreIsUnchanged) {
  // A file size limit stands in for a full disk: writes past it fail with
  // EFBIG, as they would with ENOSPC. It runs in a child so that the limit
  // does not reach the test process.
  TempDir dir;
  {
    auto s = must(Store::open(dir.path(), create_options()));
    must(s.update([&](WriteTxn& txn) { return s.settings().set(txn, "before", "1", now()); }));
  }
  std::string before = read_file(dir.path() / "data.mdb");
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    auto s = Store::open(dir.path());
    if (!s) ::_exit(2);
    rlimit limit{before.size() + 65536, RLIM_INFINITY};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(3);
    auto put = s->update([&](WriteTxn& txn) {
      return s->bronze().put(txn, testing::make_page("big", std::string(4 << 20, 'x'), now()));
    });
    ::_exit(!put && put.error().kind == ErrorKind::kNoSpace ? 0 : 1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  auto s = must(Store::open(dir.path()));
  EXPECT_TRUE(must(s.verify()).ok());
  auto txn = must(s.read());
  EXPECT_EQ(must(s.bronze().count(txn, "big")), 0u);
  EXPECT_EQ(must(s.settings().get(txn, "before"))->value, "1");
}

}  // namespace
}  // namespace store
