// Tasks: the host's persistent priority queue.
//
// A task is PENDING until a worker claims it, IN_PROGRESS while the worker
// holds its lease, then DONE, FAILED or CANCELLED; requeue() and lease
// expiry bring it back to PENDING. claim() picks, atomically with the
// caller's transaction, the PENDING task with the highest priority, oldest
// first among equals, whose not_before time has come.
//
// Cost: every operation is O(log n) in the number of tasks (an index keyed
// (state, -priority, created, id), one of delayed tasks keyed by not_before,
// and one of leases keyed by expiry); counts() reads maintained counters.
// claim() with a type filter skips non-matching pending tasks in queue order
// (the index carries the type, so no task is decoded to skip it).
//
// Leases: complete(), fail(), requeue() of a running task and extend_lease()
// name the owner; if the task is no longer IN_PROGRESS under that owner (the
// lease expired and another worker took it) they fail with kConflict and
// change nothing.
//
// Times are passed in (`now`) rather than read from the clock, so that tests
// and the host's scheduler control them.
//
// Thread safety: a Tasks object is immutable and shared.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
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

enum class TaskType : std::uint8_t {
  kScout = 0,
  kBuild = 1,
  kValidate = 2,
  kExtract = 3,
  kRepair = 4,
};

enum class TaskState : std::uint8_t {
  kPending = 0,
  kInProgress = 1,
  kDone = 2,
  kFailed = 3,
  kCancelled = 4,
};
inline constexpr std::size_t kTaskStateCount = 5;

// "scout", "build", "validate", "extract", "repair".
std::string_view to_string(TaskType type);
std::optional<TaskType> parse_task_type(std::string_view text);
// "PENDING", "IN_PROGRESS", "DONE", "FAILED", "CANCELLED".
std::string_view to_string(TaskState state);
std::optional<TaskState> parse_task_state(std::string_view text);

struct Task {
  std::uint64_t id = 0;
  TaskType type = TaskType::kScout;
  std::string source;
  TaskState state = TaskState::kPending;
  std::int32_t priority = 0;   // higher runs first
  std::uint32_t attempts = 0;  // claims so far
  Time created_at;
  Time updated_at;
  Time not_before;  // not claimed before this time
  std::string last_error;
  std::string lease_owner;           // IN_PROGRESS only
  std::optional<Time> lease_expiry;  // IN_PROGRESS only
  std::string payload;               // JSON text for the worker
};

struct NewTask {
  TaskType type = TaskType::kScout;
  std::string source;
  std::int32_t priority = 0;
  std::optional<Time> not_before;  // default: now
  std::string payload;
};

// Tasks per state, indexed by static_cast<size_t>(TaskState).
using TaskCounts = std::array<std::uint64_t, kTaskStateCount>;

class Tasks {
 public:
  explicit Tasks(const detail::Dbs& dbs) : dbs_(&dbs) {}

  // Adds a PENDING task and returns its id (ids grow, never reused).
  std::expected<std::uint64_t, Error> enqueue(WriteTxn& txn, const NewTask& task, Time now) const;

  // Claims the next task: PENDING, not_before <= now, of one of `types`
  // (empty: any), highest priority then oldest. It becomes IN_PROGRESS,
  // leased to `owner` until now + lease, attempts + 1. nullopt if none.
  std::expected<std::optional<Task>, Error> claim(WriteTxn& txn, std::string_view owner,
                                                  std::chrono::microseconds lease, Time now,
                                                  std::span<const TaskType> types = {}) const;

  // Claims task `id` if it is PENDING (due or not), as claim() would:
  // `host extract --wait` runs exactly the task it queued. nullopt if the
  // task is in another state; kNotFound if there is none.
  std::expected<std::optional<Task>, Error> claim_id(WriteTxn& txn, std::uint64_t id,
                                                     std::string_view owner,
                                                     std::chrono::microseconds lease,
                                                     Time now) const;

  std::expected<void, Error> extend_lease(WriteTxn& txn, std::uint64_t id, std::string_view owner,
                                          Time new_expiry, Time now) const;
  // IN_PROGRESS (leased to owner) -> DONE.
  std::expected<void, Error> complete(WriteTxn& txn, std::uint64_t id, std::string_view owner,
                                      Time now) const;
  // IN_PROGRESS (leased to owner) -> FAILED, keeping `error`.
  std::expected<void, Error> fail(WriteTxn& txn, std::uint64_t id, std::string_view owner,
                                  std::string_view error, Time now) const;
  // Back to PENDING, claimable from not_before: from IN_PROGRESS (owner must
  // match), FAILED or CANCELLED (owner ignored). Keeps attempts.
  std::expected<void, Error> requeue(WriteTxn& txn, std::uint64_t id, std::string_view owner,
                                     std::string_view error, Time not_before, Time now) const;
  // PENDING or IN_PROGRESS -> CANCELLED. kConflict from other states.
  std::expected<void, Error> cancel(WriteTxn& txn, std::uint64_t id, Time now) const;
  std::expected<void, Error> set_priority(WriteTxn& txn, std::uint64_t id, std::int32_t priority,
                                          Time now) const;
  // Every IN_PROGRESS task whose lease expired at or before now goes back to
  // PENDING (last_error "lease expired"). Returns how many.
  std::expected<std::uint64_t, Error> expire_leases(WriteTxn& txn, Time now) const;
  // Deletes tasks in a final state (DONE, FAILED, CANCELLED) last updated
  // before `before`. Returns how many.
  std::expected<std::uint64_t, Error> purge(WriteTxn& txn, TaskState state, Time before) const;

  std::expected<std::optional<Task>, Error> get(const Txn& txn, std::uint64_t id) const;
  // Tasks in a state, in queue order (PENDING: due ones first, then delayed
  // ones). limit 0: all.
  std::expected<std::vector<Task>, Error> list(const Txn& txn, TaskState state,
                                               std::size_t limit = 0) const;
  // A source's tasks by id. limit 0: all.
  std::expected<std::vector<Task>, Error> list_for_source(const Txn& txn, std::string_view source,
                                                          std::size_t limit = 0) const;
  // Tasks per state (maintained counters: O(1)).
  std::expected<TaskCounts, Error> counts(const Txn& txn) const;

 private:
  const detail::Dbs* dbs_;
};

}  // namespace store
