// Silver upserts records with lineage, keeps every previous value, and reads
// records of any schema back as written.
#include "store/silver.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "test_util.h"

namespace store {
namespace {

using nlohmann::json;
using testing::at_seconds;
using testing::error_kind;
using testing::make_page;
using testing::must;

class SilverTest : public testing::StoreTest {
 protected:
  std::uint64_t snapshot(std::int64_t second) {
    return must(store().update([&](WriteTxn& txn) {
             return store().bronze().put(
                 txn, make_page("books", std::to_string(second), at_seconds(second)));
           }))
        .id;
  }
  UpsertStats upsert(std::uint64_t snapshot_id, std::uint32_t version, std::int64_t second,
                     std::vector<RecordInput> records) {
    return must(store().update([&](WriteTxn& txn) {
      return store().silver().upsert(txn, "books",
                                     Lineage{snapshot_id, version, at_seconds(second)}, records);
    }));
  }
  std::optional<SilverRecord> get(std::string key) {
    auto txn = read();
    return must(store().silver().get(txn, "books", key));
  }
};

TEST_F(SilverTest, InsertedRecordCarriesItsLineage) {
  std::uint64_t snap = snapshot(1);
  EXPECT_EQ(upsert(snap, 3, 5, {{"isbn-1", {{"title", "Dune"}, {"price", 9.5}}}}),
            (UpsertStats{1, 0, 0, 0}));
  auto r = get("isbn-1");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->source, "books");
  EXPECT_EQ(r->data, json({{"title", "Dune"}, {"price", 9.5}}));
  EXPECT_EQ(r->lineage, (Lineage{snap, 3, at_seconds(5)}));
  EXPECT_EQ(r->revision, 1u);
  EXPECT_EQ(r->created_at, at_seconds(5));
  EXPECT_EQ(r->changed_at, at_seconds(5));
  EXPECT_FALSE(get("isbn-2").has_value());
}

TEST_F(SilverTest, UnchangedValueMovesItsLineageWithoutHistory) {
  std::uint64_t a = snapshot(1), b = snapshot(2);
  upsert(a, 1, 10, {{"k", {{"x", 1}}}});
  EXPECT_EQ(upsert(b, 1, 20, {{"k", {{"x", 1}}}}), (UpsertStats{0, 0, 1, 0}));
  auto r = get("k");
  EXPECT_EQ(r->lineage.snapshot_id, b);
  EXPECT_EQ(r->revision, 1u);
  EXPECT_EQ(r->changed_at, at_seconds(10));
  auto txn = read();
  EXPECT_TRUE(must(store().silver().history(txn, "books", "k")).empty());
  EXPECT_EQ(must(store().bronze().pins(txn, a)), 0u);
  EXPECT_EQ(must(store().bronze().pins(txn, b)), 1u);
}

TEST_F(SilverTest, ChangedValueKeepsThePreviousOneInHistory) {
  std::uint64_t a = snapshot(1), b = snapshot(2), c = snapshot(3);
  upsert(a, 1, 10, {{"k", {{"price", 1}}}});
  EXPECT_EQ(upsert(b, 2, 20, {{"k", {{"price", 2}}}}), (UpsertStats{0, 1, 0, 0}));
  upsert(c, 2, 30, {{"k", {{"price", 3}}}});
  auto r = get("k");
  EXPECT_EQ(r->data["price"], 3);
  EXPECT_EQ(r->revision, 3u);
  EXPECT_EQ(r->created_at, at_seconds(10));
  EXPECT_EQ(r->changed_at, at_seconds(30));
  auto txn = read();
  auto history = must(store().silver().history(txn, "books", "k"));
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].data["price"], 1);
  EXPECT_EQ(history[0].revision, 1u);
  EXPECT_EQ(history[0].lineage, (Lineage{a, 1, at_seconds(10)}));
  EXPECT_EQ(history[1].data["price"], 2);
  EXPECT_EQ(history[1].lineage.parser_version, 2u);
}

TEST_F(SilverTest, RecordsOfOlderSchemasStayReadable) {
  std::uint64_t a = snapshot(1), b = snapshot(2);
  // Parser v1 wrote {title, price}; v2 drops price and adds price_cents and
  // currency. Records v2 never touched keep v1's shape.
  upsert(a, 1, 10,
         {{"old", {{"title", "A"}, {"price", 1.5}}}, {"kept", {{"title", "B"}, {"price", 2.5}}}});
  upsert(b, 2, 20, {{"old", {{"title", "A"}, {"price_cents", 150}, {"currency", "EUR"}}}});
  EXPECT_EQ(get("kept")->data, json({{"title", "B"}, {"price", 2.5}}));
  EXPECT_EQ(get("old")->data, json({{"title", "A"}, {"price_cents", 150}, {"currency", "EUR"}}));
  auto txn = read();
  EXPECT_EQ(must(store().silver().history(txn, "books", "old"))[0].data,
            json({{"title", "A"}, {"price", 1.5}}));
}

TEST_F(SilverTest, ErasedRecordGoesToHistoryAndRevisionsContinue) {
  std::uint64_t a = snapshot(1);
  upsert(a, 1, 10, {{"k", {{"v", 1}}}});
  EXPECT_TRUE(must(
      store().update([&](WriteTxn& txn) { return store().silver().erase(txn, "books", "k"); })));
  EXPECT_FALSE(get("k").has_value());
  upsert(a, 1, 20, {{"k", {{"v", 2}}}});
  EXPECT_EQ(get("k")->revision, 2u);
  auto txn = read();
  EXPECT_EQ(must(store().silver().history(txn, "books", "k")).size(), 1u);
  EXPECT_EQ(must(store().silver().count(txn, "books")), 1u);
}

TEST_F(SilverTest, LongKeysRoundTrip) {
  std::uint64_t a = snapshot(1);
  std::string long_a = std::string(400, 'a') + "1";
  std::string long_b = std::string(400, 'a') + "2";
  upsert(a, 1, 10, {{long_a, {{"v", 1}}}, {long_b, {{"v", 2}}}});
  upsert(a, 1, 11, {{long_a, {{"v", 3}}}});
  EXPECT_EQ(get(long_a)->data["v"], 3);
  EXPECT_EQ(get(long_b)->data["v"], 2);
  auto txn = read();
  EXPECT_EQ(must(store().silver().history(txn, "books", long_a)).size(), 1u);
  auto scan = must(store().silver().scan(txn, "books"));
  std::vector<std::string> keys;
  while (auto r = must(scan.next())) keys.push_back(r->key);
  // Long keys sort by their first 200 bytes, then by digest.
  std::sort(keys.begin(), keys.end());
  EXPECT_TRUE(keys == (std::vector<std::string>{long_a, long_b}));
}

TEST_F(SilverTest, LaterDuplicateInABatchWins) {
  std::uint64_t a = snapshot(1);
  upsert(a, 1, 10, {{"k", {{"v", 1}}}, {"k", {{"v", 2}}}});
  EXPECT_EQ(get("k")->data["v"], 2);
  auto txn = read();
  EXPECT_EQ(must(store().silver().count(txn, "books")), 1u);
  EXPECT_EQ(must(store().bronze().pins(txn, a)), 1u);
}

TEST_F(SilverTest, BadInputIsRejectedAndNothingIsWritten) {
  std::uint64_t a = snapshot(1);
  auto not_object = store().update([&](WriteTxn& txn) {
    std::vector<RecordInput> records = {{"ok", {{"v", 1}}}, {"bad", json::array({1, 2})}};
    return store().silver().upsert(txn, "books", Lineage{a, 1, at_seconds(1)}, records);
  });
  EXPECT_EQ(error_kind(not_object), ErrorKind::kInvalidArgument);
  EXPECT_FALSE(get("ok").has_value());
  auto empty_key = store().update([&](WriteTxn& txn) {
    std::vector<RecordInput> records = {{"", {{"v", 1}}}};
    return store().silver().upsert(txn, "books", Lineage{a, 1, at_seconds(1)}, records);
  });
  EXPECT_EQ(error_kind(empty_key), ErrorKind::kInvalidArgument);
}

TEST_F(SilverTest, ScanFiltersByChangeAndExtractionTime) {
  std::uint64_t a = snapshot(1);
  upsert(a, 1, 10, {{"a", {{"v", 1}}}, {"b", {{"v", 1}}}, {"c", {{"v", 1}}}});
  upsert(a, 1, 20, {{"b", {{"v", 2}}}, {"c", {{"v", 1}}}});
  auto txn = read();
  auto keys = [&](const SilverScanOptions& options) {
    auto scan = must(store().silver().scan(txn, "books", options));
    std::vector<std::string> out;
    while (auto r = must(scan.next_record())) out.push_back(r->key);
    return out;
  };
  SilverScanOptions changed;
  changed.changed_since = at_seconds(15);
  EXPECT_EQ(keys(changed), std::vector<std::string>{"b"});
  SilverScanOptions extracted;
  extracted.extracted_since = at_seconds(15);
  EXPECT_EQ(keys(extracted), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(keys({}), (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(SilverTest, ViewGivesTheStoredBytesWithoutDecoding) {
  std::uint64_t a = snapshot(1);
  upsert(a, 1, 10, {{"k", {{"v", "x"}}}});
  auto txn = read();
  auto view = must(store().silver().get_view(txn, "books", "k"));
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(
      view->data_msgpack,
      std::string_view(reinterpret_cast<const char*>(json::to_msgpack(json{{"v", "x"}}).data()),
                       view->data_msgpack.size()));
  EXPECT_EQ(must(view->data()), json({{"v", "x"}}));
}

TEST_F(SilverTest, ReplaceSourceRebuildsFromAFullRerun) {
  std::uint64_t a = snapshot(1), b = snapshot(2);
  upsert(a, 1, 10, {{"stays", {{"v", 1}}}, {"changes", {{"v", 1}}}, {"goes", {{"v", 1}}}});
  std::vector<RecordInput> from_a = {{"stays", {{"v", 1}}}, {"changes", {{"v", 1}}}};
  std::vector<RecordInput> from_b = {{"changes", {{"v", 2}}}, {"new", {{"v", 1}}}};
  std::vector<SnapshotRecords> batches = {{Lineage{a, 2, at_seconds(30)}, from_a},
                                          {Lineage{b, 2, at_seconds(31)}, from_b}};
  UpsertStats stats = must(store().update(
      [&](WriteTxn& txn) { return store().silver().replace_source(txn, "books", batches); }));
  EXPECT_EQ(stats.deleted, 1u);
  EXPECT_EQ(stats.inserted, 1u);
  EXPECT_FALSE(get("goes").has_value());
  EXPECT_EQ(get("stays")->lineage.parser_version, 2u);
  EXPECT_EQ(get("changes")->data["v"], 2);
  EXPECT_EQ(get("new")->lineage.snapshot_id, b);
  auto txn = read();
  EXPECT_EQ(must(store().silver().count(txn, "books")), 3u);
  EXPECT_EQ(must(store().silver().history(txn, "books", "goes")).size(), 1u);
  EXPECT_EQ(must(store().bronze().pins(txn, a)), 1u);
  EXPECT_EQ(must(store().bronze().pins(txn, b)), 2u);
}

TEST_F(SilverTest, CountsArePerSource) {
  std::uint64_t a = snapshot(1);
  upsert(a, 1, 10, {{"1", {{"v", 1}}}, {"2", {{"v", 1}}}});
  auto txn = read();
  EXPECT_EQ(must(store().silver().count(txn, "books")), 2u);
  EXPECT_EQ(must(store().silver().count(txn, "films")), 0u);
}

}  // namespace
}  // namespace store
