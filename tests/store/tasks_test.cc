// The task queue: priority then age, leases, delays, and counts.
#include "store/tasks.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace store {
namespace {

using std::chrono::seconds;
using testing::at_seconds;
using testing::error_kind;
using testing::must;

class TasksTest : public testing::StoreTest {
 protected:
  std::uint64_t enqueue(std::int32_t priority, std::int64_t second,
                        TaskType type = TaskType::kExtract,
                        std::optional<Time> not_before = std::nullopt, std::string source = "s") {
    NewTask task;
    task.type = type;
    task.source = std::move(source);
    task.priority = priority;
    task.not_before = not_before;
    return must(store().update(
        [&](WriteTxn& txn) { return store().tasks().enqueue(txn, task, at_seconds(second)); }));
  }
  std::optional<Task> claim(std::int64_t second, std::string owner = "w",
                            std::vector<TaskType> types = {}) {
    return must(store().update([&](WriteTxn& txn) {
      return store().tasks().claim(txn, owner, seconds(60), at_seconds(second), types);
    }));
  }
  Task get(std::uint64_t id) { return *must(store().tasks().get(read(), id)); }
  std::uint64_t count(TaskState state) {
    return must(store().tasks().counts(read()))[static_cast<std::size_t>(state)];
  }
};

TEST_F(TasksTest, ClaimTakesHighestPriorityThenOldest) {
  std::uint64_t low = enqueue(0, 1);
  std::uint64_t high_new = enqueue(5, 3);
  std::uint64_t high_old = enqueue(5, 2);
  EXPECT_EQ(claim(10)->id, high_old);
  EXPECT_EQ(claim(10)->id, high_new);
  EXPECT_EQ(claim(10)->id, low);
  EXPECT_FALSE(claim(10).has_value());
}

TEST_F(TasksTest, ClaimLeasesTheTask) {
  std::uint64_t id = enqueue(0, 1);
  Task t = *claim(10, "worker-7");
  EXPECT_EQ(t.id, id);
  EXPECT_EQ(t.state, TaskState::kInProgress);
  EXPECT_EQ(t.attempts, 1u);
  EXPECT_EQ(t.lease_owner, "worker-7");
  EXPECT_EQ(t.lease_expiry, std::optional<Time>(at_seconds(70)));
  EXPECT_EQ(get(id).lease_owner, "worker-7");
}

TEST_F(TasksTest, DelayedTaskWaitsForItsTime) {
  std::uint64_t later = enqueue(9, 1, TaskType::kExtract, at_seconds(100));
  std::uint64_t now_task = enqueue(0, 1);
  EXPECT_EQ(claim(10)->id, now_task);
  EXPECT_FALSE(claim(50).has_value());
  EXPECT_EQ(count(TaskState::kPending), 1u);
  EXPECT_EQ(claim(100)->id, later);
}

TEST_F(TasksTest, ExpiredLeasesGoBackToPending) {
  std::uint64_t id = enqueue(0, 1);
  claim(10, "dead-worker");
  EXPECT_EQ(must(store().update(
                [&](WriteTxn& txn) { return store().tasks().expire_leases(txn, at_seconds(69)); })),
            0u);
  EXPECT_EQ(must(store().update(
                [&](WriteTxn& txn) { return store().tasks().expire_leases(txn, at_seconds(70)); })),
            1u);
  Task t = get(id);
  EXPECT_EQ(t.state, TaskState::kPending);
  EXPECT_TRUE(t.lease_owner.empty());
  EXPECT_FALSE(t.last_error.empty());
  EXPECT_EQ(claim(80, "new-worker")->attempts, 2u);
}

TEST_F(TasksTest, OnlyTheLeaseOwnerCanFinishATask) {
  std::uint64_t id = enqueue(0, 1);
  claim(10, "a");
  auto stolen = store().update(
      [&](WriteTxn& txn) { return store().tasks().complete(txn, id, "b", at_seconds(11)); });
  EXPECT_EQ(error_kind(stolen), ErrorKind::kConflict);
  must(store().update(
      [&](WriteTxn& txn) { return store().tasks().complete(txn, id, "a", at_seconds(11)); }));
  EXPECT_EQ(get(id).state, TaskState::kDone);
  auto again = store().update(
      [&](WriteTxn& txn) { return store().tasks().complete(txn, id, "a", at_seconds(12)); });
  EXPECT_EQ(error_kind(again), ErrorKind::kConflict);
}

TEST_F(TasksTest, FailRequeueAndCancelMoveBetweenStates) {
  std::uint64_t id = enqueue(0, 1);
  claim(10, "a");
  must(store().update(
      [&](WriteTxn& txn) { return store().tasks().fail(txn, id, "a", "boom", at_seconds(11)); }));
  EXPECT_EQ(get(id).state, TaskState::kFailed);
  EXPECT_EQ(get(id).last_error, "boom");
  must(store().update([&](WriteTxn& txn) {
    return store().tasks().requeue(txn, id, "", "", at_seconds(20), at_seconds(12));
  }));
  EXPECT_EQ(get(id).state, TaskState::kPending);
  EXPECT_FALSE(claim(15).has_value());
  EXPECT_EQ(claim(20)->id, id);
  must(store().update(
      [&](WriteTxn& txn) { return store().tasks().cancel(txn, id, at_seconds(21)); }));
  EXPECT_EQ(get(id).state, TaskState::kCancelled);
  auto cancel_again = store().update(
      [&](WriteTxn& txn) { return store().tasks().cancel(txn, id, at_seconds(22)); });
  EXPECT_EQ(error_kind(cancel_again), ErrorKind::kConflict);
}

TEST_F(TasksTest, SetPriorityReordersTheQueue) {
  std::uint64_t a = enqueue(0, 1);
  std::uint64_t b = enqueue(0, 2);
  must(store().update(
      [&](WriteTxn& txn) { return store().tasks().set_priority(txn, b, 3, at_seconds(3)); }));
  EXPECT_EQ(claim(10)->id, b);
  EXPECT_EQ(claim(10)->id, a);
}

TEST_F(TasksTest, ClaimCanBeLimitedToSomeTypes) {
  std::uint64_t scout = enqueue(9, 1, TaskType::kScout);
  std::uint64_t repair = enqueue(0, 2, TaskType::kRepair);
  EXPECT_EQ(claim(10, "w", {TaskType::kRepair, TaskType::kBuild})->id, repair);
  EXPECT_FALSE(claim(10, "w", {TaskType::kRepair}).has_value());
  EXPECT_EQ(claim(10)->id, scout);
}

TEST_F(TasksTest, CountsAndListsFollowEveryTransition) {
  std::uint64_t a = enqueue(1, 1);
  enqueue(0, 2);
  enqueue(0, 3, TaskType::kExtract, at_seconds(1000), "other");
  claim(10, "w");
  must(store().update(
      [&](WriteTxn& txn) { return store().tasks().complete(txn, a, "w", at_seconds(11)); }));
  EXPECT_EQ(count(TaskState::kPending), 2u);
  EXPECT_EQ(count(TaskState::kInProgress), 0u);
  EXPECT_EQ(count(TaskState::kDone), 1u);
  auto txn = read();
  auto pending = must(store().tasks().list(txn, TaskState::kPending));
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[1].source, "other");  // due ones first, then delayed ones
  EXPECT_EQ(must(store().tasks().list_for_source(txn, "s")).size(), 2u);
  EXPECT_EQ(must(store().tasks().list(txn, TaskState::kDone, 1)).size(), 1u);
  txn.abort();
  EXPECT_TRUE(must(store().verify()).ok());
}

TEST_F(TasksTest, PurgeRemovesOldFinishedTasks) {
  std::uint64_t id = enqueue(0, 1);
  claim(2, "w");
  must(store().update(
      [&](WriteTxn& txn) { return store().tasks().complete(txn, id, "w", at_seconds(3)); }));
  EXPECT_EQ(must(store().update([&](WriteTxn& txn) {
              return store().tasks().purge(txn, TaskState::kDone, at_seconds(3));
            })),
            0u);
  EXPECT_EQ(must(store().update([&](WriteTxn& txn) {
              return store().tasks().purge(txn, TaskState::kDone, at_seconds(4));
            })),
            1u);
  EXPECT_FALSE(must(store().tasks().get(read(), id)).has_value());
  EXPECT_EQ(count(TaskState::kDone), 0u);
  EXPECT_TRUE(must(store().verify()).ok());
}

TEST_F(TasksTest, QueueStaysFastWithManyTasks) {
  // 20,000 tasks in one transaction, then claims and completions: each
  // operation touches a handful of index entries, never the whole queue.
  // Errors are returned, not thrown, so that update() can grow the map and
  // run the function again.
  must(store().update([&](WriteTxn& txn) -> std::expected<void, Error> {
    for (int i = 0; i < 20'000; ++i) {
      NewTask task;
      task.source = "s" + std::to_string(i % 100);
      task.priority = i % 7;
      auto id = store().tasks().enqueue(txn, task, at_seconds(i));
      if (!id) return std::unexpected(id.error());
    }
    return {};
  }));
  auto start = std::chrono::steady_clock::now();
  must(store().update([&](WriteTxn& txn) -> std::expected<void, Error> {
    for (int i = 0; i < 1000; ++i) {
      auto t = store().tasks().claim(txn, "w", seconds(60), at_seconds(30'000));
      if (!t) return std::unexpected(t.error());
      if (!*t) return std::unexpected(Error{ErrorKind::kNotFound, "queue ran dry"});
      auto done = store().tasks().complete(txn, (*t)->id, "w", at_seconds(30'000));
      if (!done) return done;
    }
    return {};
  }));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
  EXPECT_EQ(count(TaskState::kDone), 1000u);
}

TEST_F(TasksTest, NamesParse) {
  EXPECT_EQ(parse_task_state("IN_PROGRESS"), std::optional<TaskState>(TaskState::kInProgress));
  EXPECT_EQ(parse_task_type("repair"), std::optional<TaskType>(TaskType::kRepair));
  EXPECT_EQ(to_string(TaskState::kCancelled), "CANCELLED");
  EXPECT_EQ(parse_task_type("nope"), std::nullopt);
}

}  // namespace
}  // namespace store
