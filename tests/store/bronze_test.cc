// Bronze keeps every fetch, stores identical bodies once, and retention keeps
// the newest snapshots plus those silver still points to.
#include "store/bronze.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace store {
namespace {

using testing::at_seconds;
using testing::error_kind;
using testing::make_page;
using testing::must;

class BronzeTest : public testing::StoreTest {
 protected:
  std::uint64_t put(const FetchedPage& page) {
    return must(store().update([&](WriteTxn& txn) { return store().bronze().put(txn, page); })).id;
  }
  std::uint64_t put(std::string source, std::string body, std::int64_t second) {
    return put(make_page(std::move(source), std::move(body), at_seconds(second)));
  }
  void pin(std::uint64_t snapshot, std::string key) {
    must(store().update([&](WriteTxn& txn) {
      std::vector<RecordInput> records = {{key, {{"v", 1}}}};
      return store().silver().upsert(txn, "s", Lineage{snapshot, 1, at_seconds(1)}, records);
    }));
  }
  RetentionResult retain(std::string source, std::size_t keep) {
    return must(store().update(
        [&](WriteTxn& txn) { return store().bronze().apply_retention(txn, source, keep); }));
  }
  std::size_t bodies() {
    auto txn = read();
    return must(store().stats()).databases[4].entries;  // bronze_bodies
  }
};

TEST_F(BronzeTest, SnapshotKeepsEveryFieldOfTheFetch) {
  FetchedPage page = make_page("s", "<p>hello</p>", at_seconds(100), "https://s.test/a?b=c");
  page.status = 404;
  page.timings = {std::chrono::microseconds(1), std::chrono::microseconds(2),
                  std::chrono::microseconds(3), std::chrono::microseconds(4),
                  std::chrono::microseconds(5)};
  std::uint64_t id = put(page);
  auto txn = read();
  Snapshot s = *must(store().bronze().get(txn, id));
  EXPECT_EQ(s.id, id);
  EXPECT_EQ(s.source, "s");
  EXPECT_EQ(s.url, page.url);
  EXPECT_EQ(s.fetched_at, page.fetched_at);
  EXPECT_EQ(s.status, 404);
  EXPECT_EQ(s.headers, page.headers);
  EXPECT_EQ(s.content_type, "text/html");
  EXPECT_EQ(s.body_sha256, sha256(page.body));
  EXPECT_EQ(s.body_size, page.body.size());
  EXPECT_EQ(s.timings, page.timings);
  EXPECT_EQ(*must(store().bronze().body(txn, s.body_sha256)), page.body);
  EXPECT_FALSE(must(store().bronze().get(txn, id + 1)).has_value());
}

TEST_F(BronzeTest, IdenticalBodiesAreStoredOnce) {
  auto first = must(store().update([&](WriteTxn& txn) {
    return store().bronze().put(txn, make_page("s", "same", at_seconds(1)));
  }));
  auto second = must(store().update([&](WriteTxn& txn) {
    return store().bronze().put(txn, make_page("t", "same", at_seconds(2)));
  }));
  EXPECT_TRUE(first.body_was_new);
  EXPECT_FALSE(second.body_was_new);
  EXPECT_NE(first.id, second.id);
  EXPECT_EQ(first.body_sha256, second.body_sha256);
  EXPECT_EQ(bodies(), 1u);
}

TEST_F(BronzeTest, IdsGrowAndAreNeverReused) {
  std::uint64_t a = put("s", "a", 1);
  std::uint64_t b = put("s", "b", 2);
  must(store().update([&](WriteTxn& txn) { return store().bronze().erase(txn, b); }));
  std::uint64_t c = put("s", "c", 3);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
}

TEST_F(BronzeTest, ListsASourceInFetchOrderWithFilters) {
  put("s", "1", 30);
  put("s", "2", 10);
  put("other", "x", 15);
  put("s", "3", 20);
  auto txn = read();
  auto all = must(store().bronze().list(txn, "s"));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].fetched_at, at_seconds(10));
  EXPECT_EQ(all[2].fetched_at, at_seconds(30));
  SnapshotListOptions recent;
  recent.since = at_seconds(20);
  recent.newest_first = true;
  auto since = must(store().bronze().list(txn, "s", recent));
  ASSERT_EQ(since.size(), 2u);
  EXPECT_EQ(since[0].fetched_at, at_seconds(30));
  EXPECT_EQ(must(store().bronze().latest(txn, "s"))->fetched_at, at_seconds(30));
  EXPECT_EQ(must(store().bronze().count(txn, "s")), 3u);
  EXPECT_EQ(must(store().bronze().count(txn, "nobody")), 0u);
}

TEST_F(BronzeTest, ScanGivesSnapshotsWithBodiesSinceATime) {
  put("s", "one", 1);
  put("s", "two", 2);
  put("s", "three", 3);
  auto txn = read();
  auto scan = must(store().bronze().scan(txn, "s", at_seconds(2)));
  std::vector<std::string> bodies;
  while (auto next = must(scan.next())) bodies.emplace_back(next->body);
  EXPECT_EQ(bodies, (std::vector<std::string>{"two", "three"}));
}

TEST_F(BronzeTest, RetentionKeepsTheNewestSnapshotsOfTheSource) {
  for (int i = 1; i <= 6; ++i) put("s", "body" + std::to_string(i), i);
  put("other", "body1", 1);
  RetentionResult r = retain("s", 4);
  EXPECT_EQ(r.snapshots_deleted, 2u);
  EXPECT_EQ(r.bodies_deleted, 1u);  // body1 is still used by "other"
  auto txn = read();
  auto left = must(store().bronze().list(txn, "s"));
  ASSERT_EQ(left.size(), 4u);
  EXPECT_EQ(left.front().fetched_at, at_seconds(3));
  EXPECT_EQ(must(store().bronze().count(txn, "other")), 1u);
  txn.abort();
  EXPECT_TRUE(must(store().verify()).ok());
}

TEST_F(BronzeTest, RetentionDefaultsToTwentySnapshots) {
  for (int i = 1; i <= 25; ++i) put("s", std::to_string(i), i);
  EXPECT_EQ(retain("s", kDefaultKeepSnapshots).snapshots_deleted, 5u);
}

TEST_F(BronzeTest, RetentionKeepsSnapshotsThatSilverPointsTo) {
  std::uint64_t old = put("s", "old", 1);
  for (int i = 2; i <= 5; ++i) put("s", std::to_string(i), i);
  pin(old, "k");
  RetentionResult r = retain("s", 2);
  EXPECT_EQ(r.snapshots_deleted, 2u);
  EXPECT_EQ(r.pinned_kept, 1u);
  {
    auto txn = read();
    EXPECT_TRUE(must(store().bronze().get(txn, old)).has_value());
  }
  // Once the record moves to a newer snapshot the old one can go.
  pin(put("s", "6", 6), "k");
  EXPECT_EQ(retain("s", 2).snapshots_deleted, 2u);
  auto txn = read();
  EXPECT_FALSE(must(store().bronze().get(txn, old)).has_value());
}

TEST_F(BronzeTest, ErasingAPinnedSnapshotIsAConflict) {
  std::uint64_t id = put("s", "x", 1);
  pin(id, "k");
  auto erased = store().update([&](WriteTxn& txn) { return store().bronze().erase(txn, id); });
  EXPECT_EQ(error_kind(erased), ErrorKind::kConflict);
}

TEST_F(BronzeTest, BadSourceNameIsRejected) {
  auto bad = store().update(
      [&](WriteTxn& txn) { return store().bronze().put(txn, make_page("", "x", at_seconds(1))); });
  EXPECT_EQ(error_kind(bad), ErrorKind::kInvalidArgument);
  auto control = store().update([&](WriteTxn& txn) {
    return store().bronze().put(txn, make_page("a\nb", "x", at_seconds(1)));
  });
  EXPECT_EQ(error_kind(control), ErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace store
