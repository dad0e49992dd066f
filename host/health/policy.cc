#include "host/health/policy.h"

namespace host::health {

std::string_view to_string(FailureKind kind) {
  switch (kind) {
    case FailureKind::kNetwork:
      return "network";
    case FailureKind::kHttpStatus:
      return "http_status";
    case FailureKind::kRobots:
      return "robots";
    case FailureKind::kBlocked:
      return "blocked";
    case FailureKind::kParseError:
      return "parse_error";
    case FailureKind::kSandboxLimit:
      return "sandbox_limit";
    case FailureKind::kZeroRecords:
      return "zero_records";
    case FailureKind::kSchema:
      return "schema";
    case FailureKind::kNoParser:
      return "no_parser";
    case FailureKind::kStore:
      return "store";
  }
  return "unknown";
}

std::string_view describe(FailureKind kind) {
  switch (kind) {
    case FailureKind::kNetwork:
      return "the site could not be reached";
    case FailureKind::kHttpStatus:
      return "the site answered with an error status";
    case FailureKind::kRobots:
      return "robots.txt does not allow the page";
    case FailureKind::kBlocked:
      return "the fetch was refused by the safety settings";
    case FailureKind::kParseError:
      return "the parser failed";
    case FailureKind::kSandboxLimit:
      return "the parser hit a sandbox limit";
    case FailureKind::kZeroRecords:
      return "the parser found no records";
    case FailureKind::kSchema:
      return "every record broke the parser's schema";
    case FailureKind::kNoParser:
      return "the source has no active parser";
    case FailureKind::kStore:
      return "the result could not be stored";
  }
  return "unknown failure";
}

namespace {

store::SourceHealth start_from(std::string_view source,
                               const std::optional<store::SourceHealth>& current) {
  if (current) return *current;
  store::SourceHealth h;
  h.source = std::string(source);
  h.state = store::HealthState::kActive;
  return h;
}

Decision finish(store::SourceHealth next, const std::optional<store::SourceHealth>& current,
                std::string reason) {
  Decision d;
  d.changed = !current || current->state != next.state;
  d.reason = std::move(reason);
  d.health = std::move(next);
  return d;
}

}  // namespace

Decision apply(std::string_view source, const std::optional<store::SourceHealth>& current,
               const Outcome& outcome, const Policy& policy, store::Time now) {
  store::SourceHealth next = start_from(source, current);
  next.updated_at = now;
  const store::HealthState before = next.state;
  std::string reason;
  if (outcome.success) {
    next.failures_in_row = 0;
    next.last_success = now;
    const std::uint64_t total = outcome.records + outcome.rejects;
    const bool too_few = outcome.previous_records && *outcome.previous_records > 0 &&
                         static_cast<double>(outcome.records) <
                             policy.quality_drop * static_cast<double>(*outcome.previous_records);
    const bool too_many_rejects =
        total > 0 &&
        static_cast<double>(outcome.rejects) > policy.max_reject_ratio * static_cast<double>(total);
    if (too_few) {
      next.state = store::HealthState::kDegraded;
      reason = "quality drop: " + std::to_string(outcome.records) +
               " records, the previous run had " + std::to_string(*outcome.previous_records);
    } else if (too_many_rejects) {
      next.state = store::HealthState::kDegraded;
      reason = "quality drop: " + std::to_string(outcome.rejects) + " of " + std::to_string(total) +
               " records rejected by the schema";
    } else {
      next.state = store::HealthState::kActive;
      reason = before == store::HealthState::kActive ? "extraction succeeded"
                                                     : "extraction succeeded again";
    }
    return finish(std::move(next), current, std::move(reason));
  }

  next.failures_in_row += 1;
  next.last_failure = now;
  next.last_error = std::string(describe(outcome.failure)) + ": " + outcome.message;
  const std::string what = std::string(to_string(outcome.failure)) + " failure";
  Decision d;
  switch (before) {
    case store::HealthState::kActive:
    case store::HealthState::kDegraded:
      if (next.failures_in_row >= policy.quarantine_after) {
        next.state = store::HealthState::kQuarantined;
        reason = std::to_string(next.failures_in_row) + " failures in a row (last: " + what +
                 "); a repair is queued";
        d = finish(std::move(next), current, std::move(reason));
        d.queue_repair = true;
        return d;
      }
      next.state = store::HealthState::kDegraded;
      reason = what + " (" + std::to_string(next.failures_in_row) + " in a row)";
      break;
    case store::HealthState::kQuarantined:
    case store::HealthState::kDead:
      break;  // stays; only a success, a repair or `host revive` moves it
  }
  return finish(std::move(next), current, std::move(reason));
}

bool repair_allowed(std::uint64_t repairs_in_window, const Policy& policy) {
  return repairs_in_window < policy.max_repairs_per_day;
}

Decision exhaust(std::string_view source, const std::optional<store::SourceHealth>& current,
                 std::uint64_t repairs_in_window, store::Time now) {
  store::SourceHealth next = start_from(source, current);
  next.state = store::HealthState::kDead;
  next.updated_at = now;
  return finish(std::move(next), current,
                "repairs exhausted: " + std::to_string(repairs_in_window) +
                    " repair attempt(s) in the last 24 hours (repair.max_per_day); 'host revive " +
                    std::string(source) + "' brings it back");
}

}  // namespace host::health
