// The smaller state tables: sources, runs, repairs, settings, metrics.
#include <gtest/gtest.h>

#include "test_util.h"

namespace store {
namespace {

using testing::at_seconds;
using testing::error_kind;
using testing::must;

using SourcesTest = testing::StoreTest;

TEST_F(SourcesTest, PutGetListErase) {
  Source s;
  s.name = "books";
  s.url = "https://books.test/";
  s.enabled = false;
  s.description = "Books";
  s.config = R"({"every": "1h"})";
  s.created_at = at_seconds(1);
  s.updated_at = at_seconds(2);
  must(store().update([&](WriteTxn& txn) { return store().sources().put(txn, s); }));
  s.name = "art";
  must(store().update([&](WriteTxn& txn) { return store().sources().put(txn, s); }));
  {
    auto txn = read();
    auto got = *must(store().sources().get(txn, "books"));
    EXPECT_EQ(got.url, s.url);
    EXPECT_FALSE(got.enabled);
    EXPECT_EQ(got.config, s.config);
    EXPECT_EQ(got.updated_at, at_seconds(2));
    auto all = must(store().sources().list(txn));
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].name, "art");
    EXPECT_EQ(must(store().sources().count(txn)), 2u);
  }
  EXPECT_TRUE(
      must(store().update([&](WriteTxn& txn) { return store().sources().erase(txn, "art"); })));
  EXPECT_FALSE(must(store().sources().get(read(), "art")).has_value());
  s.name = std::string(101, 'x');
  EXPECT_EQ(
      error_kind(store().update([&](WriteTxn& txn) { return store().sources().put(txn, s); })),
      ErrorKind::kInvalidArgument);
}

using RunsTest = testing::StoreTest;

TEST_F(RunsTest, AddFinishAndListRecentRuns) {
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 5; ++i) {
    store::Run run;
    run.source = i % 2 == 0 ? "a" : "b";
    run.kind = "extract";
    run.started_at = at_seconds(i);
    ids.push_back(
        must(store().update([&](WriteTxn& txn) { return store().runs().add(txn, run); })));
  }
  store::Run done = *must(store().runs().get(read(), ids[2]));
  done.state = RunState::kFailed;
  done.finished_at = at_seconds(100);
  done.records = 7;
  done.rejects = 1;
  done.error_kind = "timeout";
  done.message = "CPU limit";
  done.snapshot_id = 42;
  done.parser_version = 3;
  done.source = "ignored";
  must(store().update([&](WriteTxn& txn) { return store().runs().update(txn, done); }));
  auto txn = read();
  store::Run got = *must(store().runs().get(txn, ids[2]));
  EXPECT_EQ(got.state, RunState::kFailed);
  EXPECT_EQ(got.source, "a");
  EXPECT_EQ(got.snapshot_id, std::optional<std::uint64_t>(42));
  EXPECT_EQ(got.parser_version, std::optional<std::uint32_t>(3));
  EXPECT_EQ(got.error_kind, "timeout");
  auto recent = must(store().runs().recent(txn, 2));
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].id, ids[4]);
  auto of_a = must(store().runs().recent_for_source(txn, "a", 10));
  ASSERT_EQ(of_a.size(), 3u);
  EXPECT_EQ(of_a[0].id, ids[4]);
  EXPECT_EQ(of_a[2].id, ids[0]);
  txn.abort();
  EXPECT_EQ(
      must(store().update([&](WriteTxn& t) { return store().runs().prune(t, at_seconds(2)); })),
      2u);
  EXPECT_EQ(must(store().runs().recent(read(), 10)).size(), 3u);
  EXPECT_TRUE(must(store().verify()).ok());
  store::Run missing;
  missing.id = 999;
  EXPECT_EQ(
      error_kind(store().update([&](WriteTxn& t) { return store().runs().update(t, missing); })),
      ErrorKind::kNotFound);
}

using RepairsTest = testing::StoreTest;

TEST_F(RepairsTest, KeepDiffsAndCountPerDay) {
  for (int hour : {1, 5, 23, 25}) {
    Repair r;
    r.source = "a";
    r.created_at = at_seconds(hour * 3600);
    r.from_version = 1;
    r.to_version = 2;
    r.reason = "selector broke";
    r.diff = "--- a\n+++ b\n";
    must(store().update([&](WriteTxn& txn) { return store().repairs().add(txn, r); }));
  }
  auto txn = read();
  EXPECT_EQ(must(store().repairs().count_between(txn, "a", at_seconds(0), at_seconds(24 * 3600))),
            3u);
  EXPECT_EQ(must(store().repairs().count_between(txn, "b", at_seconds(0), at_seconds(24 * 3600))),
            0u);
  auto list = must(store().repairs().list_for_source(txn, "a", 2));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].created_at, at_seconds(25 * 3600));
  EXPECT_EQ(list[0].diff, "--- a\n+++ b\n");
  EXPECT_EQ(list[0].to_version, std::optional<std::uint32_t>(2));
  Repair applied = list[0];
  txn.abort();
  applied.state = RepairState::kApplied;
  applied.message = "validated";
  must(store().update([&](WriteTxn& t) { return store().repairs().update(t, applied); }));
  EXPECT_EQ(must(store().repairs().get(read(), applied.id))->state, RepairState::kApplied);
  EXPECT_EQ(parse_repair_state("rejected"), std::optional<RepairState>(RepairState::kRejected));
}

using SettingsTest = testing::StoreTest;

TEST_F(SettingsTest, SourceOverridesWinOverGlobalValues) {
  must(store().update([&](WriteTxn& txn) -> std::expected<void, Error> {
    must(store().settings().set(txn, "retention.snapshots", "20", at_seconds(1)));
    must(store().settings().set(txn, "fetch.timeout", "30s", at_seconds(1)));
    return store().settings().set(txn, "retention.snapshots", "50", at_seconds(2), "books");
  }));
  {
    auto txn = read();
    EXPECT_EQ(must(store().settings().effective(txn, "retention.snapshots", "books"))->value, "50");
    EXPECT_EQ(must(store().settings().effective(txn, "retention.snapshots", "books"))->scope,
              "books");
    EXPECT_EQ(must(store().settings().effective(txn, "retention.snapshots", "films"))->value, "20");
    EXPECT_EQ(must(store().settings().effective(txn, "fetch.timeout", "books"))->value, "30s");
    EXPECT_FALSE(must(store().settings().effective(txn, "unset", "books")).has_value());
    auto global = must(store().settings().list(txn));
    ASSERT_EQ(global.size(), 2u);
    EXPECT_EQ(global[0].name, "fetch.timeout");
    EXPECT_EQ(must(store().settings().list(txn, "books")).size(), 1u);
    auto overrides = must(store().settings().overrides(txn, "retention.snapshots"));
    ASSERT_EQ(overrides.size(), 1u);
    EXPECT_EQ(overrides[0].scope, "books");
  }
  EXPECT_TRUE(must(store().update([&](WriteTxn& txn) {
    return store().settings().reset(txn, "retention.snapshots", "books");
  })));
  EXPECT_EQ(must(store().settings().effective(read(), "retention.snapshots", "books"))->value,
            "20");
  EXPECT_EQ(error_kind(store().update([&](WriteTxn& txn) {
              return store().settings().set(txn, "", "x", at_seconds(1));
            })),
            ErrorKind::kInvalidArgument);
}

using MetricsTest = testing::StoreTest;

TEST_F(MetricsTest, TimeSeriesPerSourceAndName) {
  must(store().update([&](WriteTxn& txn) -> std::expected<void, Error> {
    for (int i = 0; i < 10; ++i) {
      must(store().metrics().record(txn, "a", "latency_ms", at_seconds(i), i * 1.5));
      must(store().metrics().record(txn, "a", "records", at_seconds(i), i));
      must(store().metrics().record(txn, "b", "latency_ms", at_seconds(i), -i));
    }
    return {};
  }));
  {
    auto txn = read();
    auto range =
        must(store().metrics().range(txn, "a", "latency_ms", at_seconds(2), at_seconds(5)));
    EXPECT_EQ(range, (std::vector<Sample>{
                         {at_seconds(2), 3.0}, {at_seconds(3), 4.5}, {at_seconds(4), 6.0}}));
    EXPECT_EQ(must(store().metrics().latest(txn, "b", "latency_ms")),
              std::optional<Sample>(Sample{at_seconds(9), -9}));
    EXPECT_EQ(must(store().metrics().names(txn, "a")),
              (std::vector<std::string>{"latency_ms", "records"}));
    EXPECT_FALSE(must(store().metrics().latest(txn, "c", "x")).has_value());
  }
  EXPECT_EQ(must(store().update(
                [&](WriteTxn& txn) { return store().metrics().prune(txn, at_seconds(8)); })),
            24u);
  auto txn = read();
  EXPECT_EQ(
      must(store().metrics().range(txn, "a", "records", at_seconds(0), at_seconds(100))).size(),
      2u);
  EXPECT_EQ(
      must(store().metrics().range(txn, "b", "latency_ms", at_seconds(0), at_seconds(100))).size(),
      2u);
}

}  // namespace
}  // namespace store
