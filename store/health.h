// Source health: one row per source (state, failures in a row, last success
// and error) and the history of its state transitions.
//
// The store keeps what the host decides: put() records a transition, with
// its time and reason, whenever the stored state changes; the rules that
// move a source between states live in the host.
//
// counts() answers "how many sources in each state" from maintained
// counters (O(1)); list(state) reads an index, not every source.
//
// Thread safety: a Health object is immutable and shared.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/clock.h"
#include "store/env.h"
#include "store/error.h"

namespace store {

namespace detail {
struct Dbs;
}  // namespace detail

enum class HealthState : std::uint8_t {
  kActive = 0,
  kDegraded = 1,
  kQuarantined = 2,
  kDead = 3,
};
inline constexpr std::size_t kHealthStateCount = 4;

// "ACTIVE", "DEGRADED", "QUARANTINED", "DEAD".
std::string_view to_string(HealthState state);
std::optional<HealthState> parse_health_state(std::string_view text);

struct SourceHealth {
  std::string source;
  HealthState state = HealthState::kActive;
  std::uint32_t failures_in_row = 0;
  std::optional<Time> last_success;
  std::optional<Time> last_failure;
  std::string last_error;
  Time state_since;  // set by put() when the state changes
  Time updated_at;
};

struct HealthTransition {
  std::string source;
  std::optional<HealthState> from;  // nullopt: the source's first health row
  HealthState to = HealthState::kActive;
  Time at;
  std::string reason;
};

// Sources per state, indexed by static_cast<size_t>(HealthState).
using HealthCounts = std::array<std::uint64_t, kHealthStateCount>;

class Health {
 public:
  explicit Health(const detail::Dbs& dbs) : dbs_(&dbs) {}

  // Stores the source's health as of health.updated_at. If the state differs
  // from the stored one (or there was none), appends a transition with
  // `reason` and sets state_since to updated_at; otherwise keeps the stored
  // state_since.
  std::expected<void, Error> put(WriteTxn& txn, const SourceHealth& health,
                                 std::string_view reason) const;
  std::expected<std::optional<SourceHealth>, Error> get(const Txn& txn,
                                                        std::string_view source) const;
  // Sources in one state, by name. limit 0: all.
  std::expected<std::vector<SourceHealth>, Error> list(const Txn& txn, HealthState state,
                                                       std::size_t limit = 0) const;
  std::expected<HealthCounts, Error> counts(const Txn& txn) const;
  // A source's transitions, newest first. limit 0: all.
  std::expected<std::vector<HealthTransition>, Error> transitions(const Txn& txn,
                                                                  std::string_view source,
                                                                  std::size_t limit = 0) const;
  // Removes the source's health row (its transitions stay).
  std::expected<bool, Error> erase(WriteTxn& txn, std::string_view source) const;

 private:
  const detail::Dbs* dbs_;
};

}  // namespace store
