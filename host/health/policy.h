// Source health rules: how one extraction's outcome moves a source between
// ACTIVE, DEGRADED, QUARANTINED and DEAD, and when a repair is due.
//
// The rules, in one place (the store only records what is decided here):
//  - A success resets the failures in a row. The source is ACTIVE, or
//    DEGRADED when the run's quality dropped: fewer records than
//    `quality_drop` times the previous successful run's, or more than
//    `max_reject_ratio` of its records rejected by the schema.
//  - A failure counts one more in a row. An ACTIVE source becomes DEGRADED;
//    after `quarantine_after` failures in a row it becomes QUARANTINED, which
//    stops its scheduled extractions and asks for a repair.
//  - A QUARANTINED source becomes DEAD when the circuit breaker trips: it has
//    had `max_repairs_per_day` repair attempts in the last 24 hours (counted
//    from its last revival, if later). Only `host revive` brings it back.
//  - A success while QUARANTINED or DEAD (an operator's `host extract`, or a
//    repair that worked) makes the source ACTIVE again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/health.h"

namespace host::health {

// Why an extraction failed. The names (to_string) are stored in runs and
// shown by `host status`; they never change once released.
enum class FailureKind {
  kNetwork,       // DNS, connect, reset, timeout, cancelled retries...
  kHttpStatus,    // the server answered 4xx/5xx
  kRobots,        // robots.txt disallows the page
  kBlocked,       // the address or scheme is refused, or the body is too large / of a refused type
  kParseError,    // the script failed (syntax, runtime error, crash)
  kSandboxLimit,  // the script hit a CPU, memory or output limit, or a forbidden call
  kZeroRecords,   // the script ran and returned nothing
  kSchema,        // every record it returned was rejected by its schema
  kNoParser,      // the source has no active parser version
  kStore,         // the result could not be stored
};

// "network", "http_status", "robots", "blocked", "parse_error",
// "sandbox_limit", "zero_records", "schema", "no_parser", "store".
std::string_view to_string(FailureKind kind);
// A phrase for people: "the site could not be reached", ...
std::string_view describe(FailureKind kind);

struct Policy {
  std::uint32_t quarantine_after = 3;     // health.quarantine_after
  std::uint32_t max_repairs_per_day = 3;  // repair.max_per_day
  double quality_drop = 0.5;              // health.quality_drop
  double max_reject_ratio = 0.05;         // 1 - validate.min_schema_ratio
};

struct Outcome {
  bool success = false;
  FailureKind failure = FailureKind::kNetwork;  // when !success
  std::string message;                          // when !success: what happened
  std::uint64_t records = 0;
  std::uint64_t rejects = 0;
  // The records of the source's previous successful run, if known.
  std::optional<std::uint64_t> previous_records;
};

struct Decision {
  store::SourceHealth health;  // the new row to store
  std::string reason;          // for the transition, if the state changed
  bool changed = false;        // the state differs from before
  bool queue_repair = false;   // the source just became QUARANTINED
};

// The source's health after `outcome`, given its current row (nullopt: it
// has none yet, i.e. new and ACTIVE).
Decision apply(std::string_view source, const std::optional<store::SourceHealth>& current,
               const Outcome& outcome, const Policy& policy, store::Time now);

// The circuit breaker: whether another repair may start, given how many the
// source had in the window. When it may not, the source goes DEAD.
bool repair_allowed(std::uint64_t repairs_in_window, const Policy& policy);

// The DEAD row for a source whose repairs are exhausted.
Decision exhaust(std::string_view source, const std::optional<store::SourceHealth>& current,
                 std::uint64_t repairs_in_window, store::Time now);

}  // namespace host::health
