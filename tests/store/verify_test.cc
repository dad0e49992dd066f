// verify() finds damage and names each damaged item.
#include <gtest/gtest.h>

#include <functional>

#include "store/detail/codec.h"
#include "store/keys.h"
#include "test_util.h"

namespace store {
namespace {

using testing::create_options;
using testing::must;
using testing::populate;
using testing::Sample;
using testing::TempDir;

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = must(Store::open(dir_.path(), create_options()));
    sample_ = populate(s);
    auto txn = must(s.read());
    sha_a_ = must(s.bronze().get(txn, sample_.snapshot_a))->body_sha256;
  }

  // Changes the store behind the library's back, then verifies it.
  VerifyReport tamper(const std::function<void(const Env&, WriteTxn&)>& change) {
    {
      auto env = must(Env::open(dir_.path()));
      must(env.update([&](WriteTxn& txn) -> std::expected<void, Error> {
        change(env, txn);
        return {};
      }));
    }
    auto s = must(Store::open(dir_.path()));
    return must(s.verify());
  }
  static Dbi dbi(const Env& env, WriteTxn& txn, const char* name) {
    return *must(env.open_dbi(txn, name, false));
  }
  static bool mentions(const VerifyReport& report, std::string_view item,
                       std::string_view description = {}) {
    for (const Damage& d : report.damage) {
      if (d.item.find(item) != std::string::npos &&
          d.description.find(description) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
  static std::string dump(const VerifyReport& report) {
    std::string out;
    for (const Damage& d : report.damage) out += d.item + ": " + d.description + "\n";
    return out;
  }

  TempDir dir_;
  Sample sample_;
  Sha256Digest sha_a_{};
};

TEST_F(VerifyTest, SoundStorePasses) {
  auto s = must(Store::open(dir_.path()));
  VerifyReport report = must(s.verify());
  EXPECT_TRUE(report.ok()) << dump(report);
  EXPECT_EQ(report.checked["bronze bodies"], 2u);
  EXPECT_EQ(report.checked["silver records"], 2u);
  EXPECT_EQ(report.checked["tasks"], 2u);
}

TEST_F(VerifyTest, AlteredBodyIsNamed) {
  auto report = tamper([&](const Env& env, WriteTxn& txn) {
    must(txn.put(dbi(env, txn, "bronze_bodies"), as_bytes(sha_a_), "<html>A</html>"));
  });
  EXPECT_TRUE(mentions(report, "bronze body " + to_hex(sha_a_), "does not match its SHA-256"))
      << dump(report);
}

TEST_F(VerifyTest, MissingLineageSnapshotIsNamed) {
  auto report = tamper([&](const Env& env, WriteTxn& txn) {
    must(txn.del(dbi(env, txn, "bronze_snapshots"), KeyWriter().u64(sample_.snapshot_a).bytes()));
  });
  EXPECT_TRUE(mentions(report, "silver record books/isbn-2", "does not exist")) << dump(report);
  EXPECT_TRUE(mentions(report, "index bronze_by_source")) << dump(report);
  EXPECT_TRUE(mentions(report, "bronze body " + to_hex(sha_a_), "no snapshot uses it"))
      << dump(report);
}

TEST_F(VerifyTest, MissingParserVersionIsNamed) {
  auto report = tamper([&](const Env& env, WriteTxn& txn) {
    must(txn.del(dbi(env, txn, "versions"), KeyWriter().str("books").u32(1).bytes()));
  });
  EXPECT_TRUE(mentions(report, "silver record books/isbn-1", "parser version 1")) << dump(report);
  EXPECT_TRUE(mentions(report, "index active_versions")) << dump(report);
}

TEST_F(VerifyTest, MissingIndexEntryIsNamed) {
  auto report = tamper(
      [&](const Env& env, WriteTxn& txn) { must(txn.clear(dbi(env, txn, "tasks_leases"))); });
  EXPECT_TRUE(mentions(report, "task " + std::to_string(sample_.running_task), "tasks_leases"))
      << dump(report);
}

TEST_F(VerifyTest, WrongCounterIsNamed) {
  auto report = tamper([&](const Env& env, WriteTxn& txn) {
    must(txn.put(dbi(env, txn, "counters"), "tasks/PENDING", detail::fixed64(7)));
  });
  EXPECT_TRUE(mentions(report, "counter tasks/PENDING", "says 7")) << dump(report);
}

TEST_F(VerifyTest, UndecodableValueIsNamed) {
  auto report = tamper([&](const Env& env, WriteTxn& txn) {
    must(txn.put(dbi(env, txn, "sources"), KeyWriter().str("books").bytes(), "\x09garbage"));
  });
  EXPECT_TRUE(mentions(report, "source books", "cannot be decoded")) << dump(report);
}

TEST_F(VerifyTest, ReadingADamagedValueIsACorruptionError) {
  {
    auto env = must(Env::open(dir_.path()));
    must(env.update([&](WriteTxn& txn) {
      return txn.put(*must(env.open_dbi(txn, "runs", false)), KeyWriter().u64(sample_.run).bytes(),
                     "\x01");
    }));
  }
  auto s = must(Store::open(dir_.path()));
  auto txn = must(s.read());
  EXPECT_EQ(testing::error_kind(s.runs().get(txn, sample_.run)), ErrorKind::kCorrupt);
}

}  // namespace
}  // namespace store
