// Source health: a row per source, counts per state, and the transitions.
#include "store/health.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace store {
namespace {

using testing::at_seconds;
using testing::must;

class HealthTest : public testing::StoreTest {
 protected:
  void put(std::string source, HealthState state, std::int64_t second, std::string reason,
           std::uint32_t failures = 0) {
    SourceHealth h;
    h.source = std::move(source);
    h.state = state;
    h.failures_in_row = failures;
    h.updated_at = at_seconds(second);
    if (failures > 0) {
      h.last_failure = at_seconds(second);
      h.last_error = "timeout";
    } else {
      h.last_success = at_seconds(second);
    }
    must(store().update([&](WriteTxn& txn) { return store().health().put(txn, h, reason); }));
  }
  std::uint64_t count(HealthState state) {
    return must(store().health().counts(read()))[static_cast<std::size_t>(state)];
  }
};

TEST_F(HealthTest, KeepsTheLatestRow) {
  put("a", HealthState::kActive, 1, "created");
  put("a", HealthState::kDegraded, 2, "3 failures", 3);
  auto h = *must(store().health().get(read(), "a"));
  EXPECT_EQ(h.state, HealthState::kDegraded);
  EXPECT_EQ(h.failures_in_row, 3u);
  EXPECT_EQ(h.last_error, "timeout");
  EXPECT_EQ(h.state_since, at_seconds(2));
  EXPECT_FALSE(must(store().health().get(read(), "b")).has_value());
}

TEST_F(HealthTest, RecordsATransitionOnlyWhenTheStateChanges) {
  put("a", HealthState::kActive, 1, "created");
  put("a", HealthState::kActive, 2, "still fine");
  put("a", HealthState::kQuarantined, 3, "broken parser", 5);
  auto txn = read();
  auto transitions = must(store().health().transitions(txn, "a"));
  ASSERT_EQ(transitions.size(), 2u);
  EXPECT_EQ(transitions[0].from, std::optional<HealthState>(HealthState::kActive));
  EXPECT_EQ(transitions[0].to, HealthState::kQuarantined);
  EXPECT_EQ(transitions[0].reason, "broken parser");
  EXPECT_EQ(transitions[0].at, at_seconds(3));
  EXPECT_FALSE(transitions[1].from.has_value());
  EXPECT_EQ(must(store().health().get(txn, "a"))->state_since, at_seconds(3));
  EXPECT_EQ(must(store().health().transitions(txn, "a", 1)).size(), 1u);
}

TEST_F(HealthTest, CountsAndListsByState) {
  put("a", HealthState::kActive, 1, "");
  put("b", HealthState::kDead, 1, "");
  put("c", HealthState::kDead, 1, "");
  put("b", HealthState::kActive, 2, "revived");
  EXPECT_EQ(count(HealthState::kActive), 2u);
  EXPECT_EQ(count(HealthState::kDead), 1u);
  auto txn = read();
  auto dead = must(store().health().list(txn, HealthState::kDead));
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].source, "c");
  txn.abort();
  must(store().update([&](WriteTxn& t) { return store().health().erase(t, "c"); }));
  EXPECT_EQ(count(HealthState::kDead), 0u);
  EXPECT_TRUE(must(store().verify()).ok());
}

TEST_F(HealthTest, StateNamesParse) {
  EXPECT_EQ(parse_health_state("QUARANTINED"),
            std::optional<HealthState>(HealthState::kQuarantined));
  EXPECT_EQ(to_string(HealthState::kDegraded), "DEGRADED");
  EXPECT_EQ(parse_health_state("sick"), std::nullopt);
}

}  // namespace
}  // namespace store
