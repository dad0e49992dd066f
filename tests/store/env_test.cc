// The RAII layer over LMDB: transactions end exactly once, the map grows on
// its own, and cursors walk keys in order.
#include "store/env.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "test_util.h"

namespace store {
namespace {

using testing::error_kind;
using testing::must;
using testing::TempDir;

class EnvTest : public ::testing::Test {
 protected:
  void open(EnvOptions options = {}) {
    env_.emplace(must(Env::open(dir_.path(), options)));
    auto txn = must(env_->begin_write());
    dbi_ = *must(env_->open_dbi(txn, "t", true));
    must(txn.commit());
  }
  std::optional<std::string> get(std::string_view key) {
    auto txn = must(env_->begin_read());
    auto value = must(txn.get(dbi_, key));
    return value ? std::optional<std::string>(*value) : std::nullopt;
  }

  TempDir dir_;
  std::optional<Env> env_;
  Dbi dbi_;
};

TEST_F(EnvTest, WriteTxnDestroyedWithoutCommitDiscardsItsWrites) {
  open();
  {
    auto txn = must(env_->begin_write());
    must(txn.put(dbi_, "k", "v"));
  }
  EXPECT_EQ(get("k"), std::nullopt);
}

TEST_F(EnvTest, CommitEndsTheTransactionWhateverItReturns) {
  open();
  auto txn = must(env_->begin_write());
  must(txn.put(dbi_, "k", "v"));
  must(txn.commit());
  EXPECT_FALSE(txn.is_open());
  EXPECT_EQ(error_kind(txn.commit()), ErrorKind::kInternal);
  EXPECT_EQ(get("k"), std::optional<std::string>("v"));
}

TEST_F(EnvTest, MovedTransactionIsOwnedOnce) {
  open();
  auto a = must(env_->begin_write());
  must(a.put(dbi_, "k", "v"));
  WriteTxn b = std::move(a);
  EXPECT_FALSE(a.is_open());
  must(b.commit());
  EXPECT_EQ(get("k"), std::optional<std::string>("v"));
}

TEST_F(EnvTest, ReadTxnSeesTheStoreAsOfItsStart) {
  open();
  auto before = must(env_->begin_read());
  must(env_->update([&](WriteTxn& txn) { return txn.put(dbi_, "k", "v"); }));
  EXPECT_FALSE(must(before.get(dbi_, "k")).has_value());
  auto after = must(env_->begin_read());
  EXPECT_TRUE(must(after.get(dbi_, "k")).has_value());
}

TEST_F(EnvTest, UpdateReturnsTheFunctionsErrorAndWritesNothing) {
  open();
  auto result = env_->update([&](WriteTxn& txn) -> std::expected<int, Error> {
    must(txn.put(dbi_, "k", "v"));
    return std::unexpected(Error{ErrorKind::kConflict, "no"});
  });
  EXPECT_EQ(error_kind(result), ErrorKind::kConflict);
  EXPECT_EQ(get("k"), std::nullopt);
}

TEST_F(EnvTest, MapGrowsWhenAWriteFillsIt) {
  EnvOptions options;
  options.initial_map_size = 1 << 20;
  open(options);
  std::string value(1 << 20, 'x');
  int attempts = 0;
  must(env_->update([&](WriteTxn& txn) -> std::expected<void, Error> {
    ++attempts;
    for (int i = 0; i < 24; ++i) {
      auto put = txn.put(dbi_, "k" + std::to_string(i), value);
      if (!put) return put;
    }
    return {};
  }));
  EXPECT_GT(attempts, 1);
  EXPECT_GE(must(env_->info()).map_size, std::size_t{24} << 20);
  EXPECT_EQ(get("k23")->size(), value.size());
}

TEST_F(EnvTest, MapFullAtTheMaximumSizeIsAnErrorAndChangesNothing) {
  EnvOptions options;
  options.initial_map_size = 1 << 20;
  options.max_map_size = 2 << 20;
  open(options);
  auto result = env_->update([&](WriteTxn& txn) -> std::expected<void, Error> {
    for (int i = 0; i < 8; ++i) {
      auto put = txn.put(dbi_, "k" + std::to_string(i), std::string(1 << 20, 'x'));
      if (!put) return put;
    }
    return {};
  });
  EXPECT_EQ(error_kind(result), ErrorKind::kMapFull);
  EXPECT_EQ(get("k0"), std::nullopt);
  must(env_->update([&](WriteTxn& txn) { return txn.put(dbi_, "small", "ok"); }));
}

TEST_F(EnvTest, GrowthWaitsForReadersOfOtherThreads) {
  EnvOptions options;
  options.initial_map_size = 1 << 20;
  open(options);
  auto reader = must(env_->begin_read());
  std::thread ender([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    reader.abort();
  });
  must(env_->update([&](WriteTxn& txn) -> std::expected<void, Error> {
    for (int i = 0; i < 4; ++i) {
      auto put = txn.put(dbi_, "k" + std::to_string(i), std::string(1 << 20, 'x'));
      if (!put) return put;
    }
    return {};
  }));
  ender.join();
  EXPECT_TRUE(get("k3").has_value());
}

TEST_F(EnvTest, GrowthGivesUpWhenTheCallerHoldsAReader) {
  EnvOptions options;
  options.initial_map_size = 1 << 20;
  options.resize_wait = std::chrono::milliseconds(50);
  open(options);
  auto reader = must(env_->begin_read());
  auto result = env_->update([&](WriteTxn& txn) -> std::expected<void, Error> {
    for (int i = 0; i < 4; ++i) {
      auto put = txn.put(dbi_, "k" + std::to_string(i), std::string(1 << 20, 'x'));
      if (!put) return put;
    }
    return {};
  });
  EXPECT_EQ(error_kind(result), ErrorKind::kMapFull);
}

TEST_F(EnvTest, CursorsWalkKeysInOrderAndDeleteInPlace) {
  open();
  must(env_->update([&](WriteTxn& txn) -> std::expected<void, Error> {
    for (std::string k : {"a", "b", "c", "d"}) must(txn.put(dbi_, k, k + "!"));
    return {};
  }));
  {
    auto txn = must(env_->begin_read());
    auto cursor = must(txn.cursor(dbi_));
    EXPECT_EQ(must(cursor.seek("bb"))->first, "c");
    EXPECT_EQ(must(cursor.next())->second, "d!");
    EXPECT_FALSE(must(cursor.next()).has_value());
    EXPECT_EQ(must(cursor.last())->first, "d");
    EXPECT_EQ(must(cursor.prev())->first, "c");
    EXPECT_FALSE(must(cursor.find("bb")).has_value());
    EXPECT_EQ(must(cursor.find("a"))->second, "a!");
  }
  must(env_->update([&](WriteTxn& txn) -> std::expected<void, Error> {
    auto cursor = must(txn.write_cursor(dbi_));
    EXPECT_EQ(must(cursor.find("b"))->first, "b");
    must(cursor.del());
    EXPECT_EQ(must(cursor.next())->first, "c");
    return {};
  }));
  EXPECT_EQ(get("b"), std::nullopt);
  EXPECT_TRUE(get("c").has_value());
}

TEST_F(EnvTest, OpeningAFileThatIsNotLmdbFails) {
  std::ofstream(dir_.path() / "data.mdb") << std::string(8192, 'z');
  EXPECT_EQ(error_kind(Env::open(dir_.path())), ErrorKind::kNotAStore);
}

}  // namespace
}  // namespace store
