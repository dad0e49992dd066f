// Runs: one row per piece of work the host did for a source (a fetch, an
// extraction, a reprocess, a validation), with its outcome. A script failure
// is a run outcome, stored and shown, never an exception.
//
// Ids grow with every add() and are never reused, so id order is start
// order; recent() reads the newest first without scanning.
//
// Thread safety: a Runs object is immutable and shared.
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

enum class RunState : std::uint8_t { kRunning = 0, kSucceeded = 1, kFailed = 2, kCancelled = 3 };

// "running", "succeeded", "failed", "cancelled".
std::string_view to_string(RunState state);
std::optional<RunState> parse_run_state(std::string_view text);

struct Run {
  std::uint64_t id = 0;  // assigned by add()
  std::string source;
  std::string kind;  // "fetch", "extract", "reprocess", ... (host's vocabulary)
  RunState state = RunState::kRunning;
  Time started_at;
  std::optional<Time> finished_at;
  std::optional<std::uint64_t> snapshot_id;
  std::optional<std::uint32_t> parser_version;
  std::uint64_t records = 0;
  std::uint64_t rejects = 0;
  std::string error_kind;  // e.g. the sandbox's error kind name; "" on success
  std::string message;
  std::string usage;  // JSON text: CPU time, memory, bytes...
};

class Runs {
 public:
  explicit Runs(const detail::Dbs& dbs) : dbs_(&dbs) {}

  // Stores a new run (run.id is ignored) and returns its id.
  std::expected<std::uint64_t, Error> add(WriteTxn& txn, const Run& run) const;
  // Replaces the stored run with the same id (typically to finish it).
  // source and started_at cannot change. kNotFound if there is no such run.
  std::expected<void, Error> update(WriteTxn& txn, const Run& run) const;
  std::expected<std::optional<Run>, Error> get(const Txn& txn, std::uint64_t id) const;
  // The newest runs of all sources, newest first.
  std::expected<std::vector<Run>, Error> recent(const Txn& txn, std::size_t limit) const;
  // The newest runs of one source, newest first.
  std::expected<std::vector<Run>, Error> recent_for_source(const Txn& txn, std::string_view source,
                                                           std::size_t limit) const;
  // Deletes runs that started before `before`; returns how many.
  std::expected<std::uint64_t, Error> prune(WriteTxn& txn, Time before) const;

 private:
  const detail::Dbs* dbs_;
};

}  // namespace store
