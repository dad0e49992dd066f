// The health rules: how outcomes move a source between states.
#include "host/health/policy.h"

#include <gtest/gtest.h>

namespace host::health {
namespace {

using store::HealthState;

const store::Time kNow = store::Time(std::chrono::microseconds(1'700'000'000'000'000));

Outcome success(std::uint64_t records, std::uint64_t rejects = 0,
                std::optional<std::uint64_t> previous = std::nullopt) {
  Outcome o;
  o.success = true;
  o.records = records;
  o.rejects = rejects;
  o.previous_records = previous;
  return o;
}

Outcome failure(FailureKind kind, std::string message = "boom") {
  Outcome o;
  o.failure = kind;
  o.message = std::move(message);
  return o;
}

TEST(HealthPolicy, FirstSuccessOfANewSourceIsActive) {
  const Decision d = apply("s", std::nullopt, success(10), Policy{}, kNow);
  EXPECT_EQ(d.health.state, HealthState::kActive);
  EXPECT_TRUE(d.changed);
  EXPECT_EQ(d.health.failures_in_row, 0u);
  EXPECT_EQ(d.health.last_success, kNow);
  EXPECT_FALSE(d.queue_repair);
}

TEST(HealthPolicy, AFailureDegradesAnActiveSource) {
  const Decision d =
      apply("s", std::nullopt, failure(FailureKind::kNetwork, "refused"), Policy{}, kNow);
  EXPECT_EQ(d.health.state, HealthState::kDegraded);
  EXPECT_EQ(d.health.failures_in_row, 1u);
  EXPECT_EQ(d.health.last_failure, kNow);
  EXPECT_EQ(d.health.last_error, "the site could not be reached: refused");
  EXPECT_NE(d.reason.find("network failure"), std::string::npos) << d.reason;
}

TEST(HealthPolicy, ThreeFailuresInARowQuarantineAndAskForARepair) {
  std::optional<store::SourceHealth> h;
  Decision d;
  for (int i = 0; i < 3; ++i) {
    d = apply("s", h, failure(FailureKind::kZeroRecords), Policy{}, kNow);
    h = d.health;
  }
  EXPECT_EQ(d.health.state, HealthState::kQuarantined);
  EXPECT_EQ(d.health.failures_in_row, 3u);
  EXPECT_TRUE(d.queue_repair);
  EXPECT_TRUE(d.changed);
  // A fourth failure keeps it quarantined without asking again.
  d = apply("s", h, failure(FailureKind::kZeroRecords), Policy{}, kNow);
  EXPECT_EQ(d.health.state, HealthState::kQuarantined);
  EXPECT_FALSE(d.queue_repair);
  EXPECT_FALSE(d.changed);
}

TEST(HealthPolicy, QuarantineThresholdIsASetting) {
  Policy p;
  p.quarantine_after = 1;
  const Decision d = apply("s", std::nullopt, failure(FailureKind::kRobots), p, kNow);
  EXPECT_EQ(d.health.state, HealthState::kQuarantined);
  EXPECT_TRUE(d.queue_repair);
}

TEST(HealthPolicy, ASuccessResetsTheFailuresInARow) {
  auto d = apply("s", std::nullopt, failure(FailureKind::kHttpStatus), Policy{}, kNow);
  d = apply("s", d.health, failure(FailureKind::kHttpStatus), Policy{}, kNow);
  ASSERT_EQ(d.health.failures_in_row, 2u);
  d = apply("s", d.health, success(5), Policy{}, kNow);
  EXPECT_EQ(d.health.state, HealthState::kActive);
  EXPECT_EQ(d.health.failures_in_row, 0u);
  EXPECT_EQ(d.reason, "extraction succeeded again");
}

TEST(HealthPolicy, FewerRecordsThanBeforeIsAQualityDrop) {
  const Decision d = apply("s", std::nullopt, success(4, 0, 50), Policy{}, kNow);
  EXPECT_EQ(d.health.state, HealthState::kDegraded);
  EXPECT_NE(d.reason.find("quality drop: 4 records"), std::string::npos) << d.reason;
  // At the threshold it is not a drop.
  EXPECT_EQ(apply("s", std::nullopt, success(25, 0, 50), Policy{}, kNow).health.state,
            HealthState::kActive);
}

TEST(HealthPolicy, ManyRejectedRecordsIsAQualityDrop) {
  const Decision d = apply("s", std::nullopt, success(90, 10), Policy{}, kNow);
  EXPECT_EQ(d.health.state, HealthState::kDegraded);
  EXPECT_NE(d.reason.find("10 of 100 records rejected"), std::string::npos) << d.reason;
  EXPECT_EQ(apply("s", std::nullopt, success(99, 1), Policy{}, kNow).health.state,
            HealthState::kActive);
}

TEST(HealthPolicy, ASuccessBringsAQuarantinedSourceBack) {
  store::SourceHealth h;
  h.source = "s";
  h.state = HealthState::kQuarantined;
  h.failures_in_row = 3;
  const Decision d = apply("s", h, success(10), Policy{}, kNow);
  EXPECT_EQ(d.health.state, HealthState::kActive);
  EXPECT_TRUE(d.changed);
}

TEST(HealthPolicy, ADeadSourceStaysDeadOnFailure) {
  store::SourceHealth h;
  h.source = "s";
  h.state = HealthState::kDead;
  const Decision d = apply("s", h, failure(FailureKind::kParseError), Policy{}, kNow);
  EXPECT_EQ(d.health.state, HealthState::kDead);
  EXPECT_FALSE(d.changed);
  EXPECT_FALSE(d.queue_repair);
}

TEST(HealthPolicy, CircuitBreakerAllowsMaxRepairsPerDay) {
  Policy p;
  p.max_repairs_per_day = 3;
  EXPECT_TRUE(repair_allowed(0, p));
  EXPECT_TRUE(repair_allowed(2, p));
  EXPECT_FALSE(repair_allowed(3, p));
  p.max_repairs_per_day = 0;
  EXPECT_FALSE(repair_allowed(0, p));
}

TEST(HealthPolicy, ExhaustedRepairsMakeTheSourceDeadAndSayHowToRevive) {
  store::SourceHealth h;
  h.source = "shop";
  h.state = HealthState::kQuarantined;
  const Decision d = exhaust("shop", h, 3, kNow);
  EXPECT_EQ(d.health.state, HealthState::kDead);
  EXPECT_TRUE(d.changed);
  EXPECT_NE(d.reason.find("host revive shop"), std::string::npos) << d.reason;
}

TEST(HealthPolicy, EveryFailureKindHasAStableNameAndAPhrase) {
  for (auto k : {FailureKind::kNetwork, FailureKind::kHttpStatus, FailureKind::kRobots,
                 FailureKind::kBlocked, FailureKind::kParseError, FailureKind::kSandboxLimit,
                 FailureKind::kZeroRecords, FailureKind::kSchema, FailureKind::kNoParser,
                 FailureKind::kStore}) {
    EXPECT_NE(to_string(k), "unknown");
    EXPECT_NE(describe(k), "unknown failure");
  }
  EXPECT_EQ(to_string(FailureKind::kZeroRecords), "zero_records");
}

}  // namespace
}  // namespace host::health
