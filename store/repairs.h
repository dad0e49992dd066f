// Repairs: each attempt to fix a source's parser, with the diff it made.
// The host's circuit breaker counts a source's repairs in a time window
// (count_between: an index range, not a scan of all repairs).
//
// Thread safety: a Repairs object is immutable and shared.
#pragma once

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

enum class RepairState : std::uint8_t { kProposed = 0, kApplied = 1, kRejected = 2, kFailed = 3 };

// "proposed", "applied", "rejected", "failed".
std::string_view to_string(RepairState state);
std::optional<RepairState> parse_repair_state(std::string_view text);

struct Repair {
  std::uint64_t id = 0;  // assigned by add()
  std::string source;
  RepairState state = RepairState::kProposed;
  Time created_at;
  Time updated_at;
  std::optional<std::uint32_t> from_version;  // the parser version repaired
  std::optional<std::uint32_t> to_version;    // the version the repair produced
  std::string reason;                         // what triggered it
  std::string diff;                           // unified diff of the script
  std::string message;                        // outcome, for the operator
};

class Repairs {
 public:
  explicit Repairs(const detail::Dbs& dbs) : dbs_(&dbs) {}

  // Stores a new repair (repair.id ignored) and returns its id.
  std::expected<std::uint64_t, Error> add(WriteTxn& txn, const Repair& repair) const;
  // Replaces the stored repair with the same id; source and created_at
  // cannot change. kNotFound if there is none.
  std::expected<void, Error> update(WriteTxn& txn, const Repair& repair) const;
  std::expected<std::optional<Repair>, Error> get(const Txn& txn, std::uint64_t id) const;
  // A source's repairs, newest first. limit 0: all.
  std::expected<std::vector<Repair>, Error> list_for_source(const Txn& txn, std::string_view source,
                                                            std::size_t limit = 0) const;
  // Repairs of a source created in [from, to).
  std::expected<std::uint64_t, Error> count_between(const Txn& txn, std::string_view source,
                                                    Time from, Time to) const;

 private:
  const detail::Dbs* dbs_;
};

}  // namespace store
