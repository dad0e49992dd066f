// host tasks [requeue | priority | cancel], driven as a user would, over a
// queue seeded through the store API.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <limits>

#include "store/store.h"
#include "tests/host/run_host.h"

namespace host::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;
using store::TaskState;
using store::TaskType;

// How a seeded task should end up.
struct Seed {
  TaskType type = TaskType::kExtract;
  std::string source = "books";
  std::int32_t priority = 0;
  TaskState state = TaskState::kPending;
  std::string error = "";                                // FAILED: the error it failed with
  std::string owner = "orchestrator-1";                  // IN_PROGRESS: the lease owner
  std::chrono::microseconds lease = 10min;               // IN_PROGRESS: from `at`
  store::Time at = store::now();                         // when it was enqueued (and claimed)
  std::optional<store::Time> not_before = std::nullopt;  // PENDING: delayed until
  std::string payload = R"({"url":"http://books.toscrape.com/"})";
};

class TasksCommand : public HostCommandTest {
 protected:
  store::Store open() {
    store::OpenOptions options;
    options.create_if_missing = true;
    auto st = store::Store::open(data_, options);
    EXPECT_TRUE(st) << st.error().message;
    return std::move(*st);
  }

  void add_sources(const std::vector<std::string>& names) {
    store::Store st = open();
    auto r = st.update([&](store::WriteTxn& txn) -> std::expected<void, store::Error> {
      for (const auto& name : names) {
        store::Source src;
        src.name = name;
        src.url = "http://" + name + ".test/";
        src.created_at = src.updated_at = store::now();
        if (auto ok = st.sources().put(txn, src); !ok) return ok;
      }
      return {};
    });
    ASSERT_TRUE(r) << r.error().message;
  }

  // Enqueues a task and moves it to seed.state; returns its id.
  static std::expected<std::uint64_t, store::Error> seed(const store::Store& st,
                                                         store::WriteTxn& txn, const Seed& s) {
    store::NewTask t;
    t.type = s.type;
    t.source = s.source;
    t.priority = s.priority;
    t.not_before = s.not_before;
    t.payload = s.payload;
    auto id = st.tasks().enqueue(txn, t, s.at);
    if (!id || s.state == TaskState::kPending) return id;
    // Claim exactly this task: lift it above every other for the claim.
    if (auto ok = st.tasks().set_priority(txn, *id, std::numeric_limits<std::int32_t>::max(), s.at);
        !ok) {
      return std::unexpected(ok.error());
    }
    auto claimed = st.tasks().claim(txn, s.owner, s.lease, s.at);
    if (!claimed) return std::unexpected(claimed.error());
    if (!*claimed || (*claimed)->id != *id) {
      return std::unexpected(store::Error{store::ErrorKind::kInternal, "claimed another task"});
    }
    if (auto ok = st.tasks().set_priority(txn, *id, s.priority, s.at); !ok) {
      return std::unexpected(ok.error());
    }
    std::expected<void, store::Error> done;
    switch (s.state) {
      case TaskState::kDone:
        done = st.tasks().complete(txn, *id, s.owner, s.at);
        break;
      case TaskState::kFailed:
        done = st.tasks().fail(txn, *id, s.owner, s.error, s.at);
        break;
      case TaskState::kCancelled:
        done = st.tasks().cancel(txn, *id, s.at);
        break;
      default:
        break;
    }
    if (!done) return std::unexpected(done.error());
    return id;
  }

  std::vector<std::uint64_t> seed_all(const std::vector<Seed>& seeds) {
    store::Store st = open();
    std::vector<std::uint64_t> ids;
    auto r = st.update([&](store::WriteTxn& txn) -> std::expected<void, store::Error> {
      ids.clear();
      for (const Seed& s : seeds) {
        auto id = seed(st, txn, s);
        if (!id) return std::unexpected(id.error());
        ids.push_back(*id);
      }
      return {};
    });
    EXPECT_TRUE(r) << r.error().message;
    return ids;
  }
  std::uint64_t seed_one(const Seed& s) { return seed_all({s}).at(0); }

  store::Task get(std::uint64_t id) {
    store::Store st = open();
    auto txn = st.read();
    auto t = st.tasks().get(*txn, id);
    EXPECT_TRUE(t && *t);
    return **t;
  }

  // The ids in the table's first column, in order.
  static std::vector<std::uint64_t> ids_in(const std::string& out) {
    std::vector<std::uint64_t> ids;
    for (const auto& line : lines(out)) {
      if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0]))) {
        ids.push_back(std::stoull(line));
      }
    }
    return ids;
  }
  static std::vector<std::uint64_t> ids_in(const json& j) {
    std::vector<std::uint64_t> ids;
    for (const auto& t : j["tasks"]) ids.push_back(t["id"]);
    return ids;
  }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(TasksCommand, ListsRunningThenPendingInTheOrderTheyRun) {
  add_sources({"books", "quotes"});
  const store::Time t0 = store::now() - 1h;
  const auto ids = seed_all({
      {.priority = 1, .at = t0},
      {.source = "quotes", .priority = 5, .at = t0 + 1min},
      {.priority = 5, .at = t0 + 2min},
      {.type = TaskType::kRepair, .state = TaskState::kInProgress, .at = store::now() - 1min},
      {.priority = 9, .at = t0, .not_before = store::now() + 1h},  // delayed: after due ones
      {.state = TaskState::kDone, .at = t0},
      {.state = TaskState::kFailed, .error = "timeout", .at = t0},
  });
  const CommandResult r = host({"tasks"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines(r.out).at(0), "tasks: 1 IN_PROGRESS, 4 PENDING, 1 FAILED, 0 CANCELLED, 1 DONE");
  EXPECT_EQ(ids_in(r.out), (std::vector<std::uint64_t>{ids[3], ids[1], ids[2], ids[0], ids[4]}));
  EXPECT_TRUE(contains(r.out, "orchestrator-1, expires in ")) << r.out;
  EXPECT_TRUE(contains(r.out, "due in ")) << r.out;
  EXPECT_FALSE(contains(r.out, "more (use --limit 0")) << r.out;
}

TEST_F(TasksCommand, StateSelectsOneStateOrAll) {
  add_sources({"books"});
  const auto ids = seed_all({
      {},
      {.state = TaskState::kFailed, .error = "http 503"},
      {.state = TaskState::kDone},
      {.state = TaskState::kCancelled},
      {.state = TaskState::kInProgress},
  });
  EXPECT_EQ(ids_in(host({"tasks", "--state", "FAILED"}).out), std::vector<std::uint64_t>{ids[1]});
  EXPECT_EQ(ids_in(host({"tasks", "--state", "done"}).out), std::vector<std::uint64_t>{ids[2]});
  EXPECT_EQ(ids_in(host({"tasks", "--state", "in-progress"}).out),
            std::vector<std::uint64_t>{ids[4]});
  // all: running, pending, then failed, cancelled, done.
  EXPECT_EQ(ids_in(host({"tasks", "--state", "all"}).out),
            (std::vector<std::uint64_t>{ids[4], ids[0], ids[1], ids[3], ids[2]}));
  const CommandResult none = host({"tasks", "--state", "FAILED", "--type", "scout"});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_TRUE(contains(none.out, "no FAILED scout tasks")) << none.out;
}

TEST_F(TasksCommand, SourceAndTypeFilter) {
  add_sources({"books", "quotes"});
  const auto ids = seed_all({
      {.type = TaskType::kExtract, .source = "books"},
      {.type = TaskType::kRepair, .source = "books", .priority = 3},
      {.type = TaskType::kRepair, .source = "quotes"},
      {.type = TaskType::kRepair, .source = "books", .state = TaskState::kFailed},
  });
  EXPECT_EQ(ids_in(host({"tasks", "--source", "books"}).out),
            (std::vector<std::uint64_t>{ids[1], ids[0]}));
  EXPECT_EQ(ids_in(host({"tasks", "--type", "repair"}).out),
            (std::vector<std::uint64_t>{ids[1], ids[2]}));
  EXPECT_EQ(ids_in(host({"tasks", "--type", "REPAIR", "--source", "books", "--state", "all"}).out),
            (std::vector<std::uint64_t>{ids[1], ids[3]}));
  const CommandResult quiet = host({"tasks", "--source", "quotes", "--type", "scout"});
  EXPECT_EQ(quiet.exit_code, 0);
  EXPECT_TRUE(contains(quiet.out, "no IN_PROGRESS or PENDING scout tasks for quotes")) << quiet.out;
}

TEST_F(TasksCommand, UnknownSourceFails) {
  add_sources({"books"});
  const CommandResult r = host({"tasks", "--source", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "no source named 'nope' ('host status' lists them)")) << r.err;
}

TEST_F(TasksCommand, BadStateOrTypeIsAUsageErrorNamingTheAcceptedOnes) {
  add_sources({"books"});
  const CommandResult state = host({"tasks", "--state", "RUNNING"});
  EXPECT_EQ(state.exit_code, 2);
  EXPECT_TRUE(contains(state.err, "unknown state 'RUNNING'")) << state.err;
  EXPECT_TRUE(contains(state.err, "PENDING, IN_PROGRESS, DONE, FAILED, CANCELLED, all"))
      << state.err;
  const CommandResult type = host({"tasks", "--type", "crawl"});
  EXPECT_EQ(type.exit_code, 2);
  EXPECT_TRUE(contains(type.err, "unknown type 'crawl'")) << type.err;
  EXPECT_TRUE(contains(type.err, "scout, build, validate, extract, repair")) << type.err;
  EXPECT_EQ(host({"tasks", "--limit", "-3"}).exit_code, 2);
}

TEST_F(TasksCommand, LimitSaysHowManyMore) {
  add_sources({"books"});
  seed_all(std::vector<Seed>(5));
  const CommandResult r = host({"tasks", "--limit", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ids_in(r.out).size(), 2u);
  EXPECT_EQ(lines(r.out).back(), "... and 3 more (use --limit 0 for all)");
  EXPECT_EQ(ids_in(host({"tasks", "--limit", "0"}).out).size(), 5u);
  const json j = host_json({"tasks", "--json", "--limit", "2"});
  EXPECT_EQ(j["tasks"].size(), 2u);
  EXPECT_EQ(j["more"], 3);
  // With a type filter too (the path that reads the state's tasks).
  EXPECT_EQ(lines(host({"tasks", "--limit", "4", "--type", "extract"}).out).back(),
            "... and 1 more (use --limit 0 for all)");
}

TEST_F(TasksCommand, JsonHasEveryFieldAndTheWholeError) {
  add_sources({"books"});
  const std::string long_error =
      "runtime: \"quoted\" \\ é\t" + std::string(300, 'x') + "\nsecond line";
  const auto ids = seed_all({
      {.type = TaskType::kRepair, .state = TaskState::kInProgress, .owner = "orch-7"},
      {.state = TaskState::kFailed, .error = long_error, .payload = "not JSON"},
      {.state = TaskState::kFailed, .error = "bad \xff byte", .payload = "{\n \"a\": [1, 2]\n}"},
  });
  const json j = host_json({"tasks", "--json", "--state", "all"});
  EXPECT_EQ(
      j["counts"],
      json({{"PENDING", 0}, {"IN_PROGRESS", 1}, {"DONE", 0}, {"FAILED", 2}, {"CANCELLED", 0}}));
  ASSERT_EQ(ids_in(j), (std::vector<std::uint64_t>{ids[0], ids[1], ids[2]}));
  const json& running = j["tasks"][0];
  for (const char* key :
       {"id", "type", "source", "state", "priority", "attempts", "created_at", "updated_at",
        "not_before", "last_error", "lease_owner", "lease_expiry", "payload"}) {
    EXPECT_TRUE(running.contains(key)) << key;
  }
  EXPECT_EQ(running.size(), 13u);
  EXPECT_EQ(running["type"], "repair");
  EXPECT_EQ(running["source"], "books");
  EXPECT_EQ(running["state"], "IN_PROGRESS");
  EXPECT_EQ(running["attempts"], 1);
  EXPECT_EQ(running["lease_owner"], "orch-7");
  EXPECT_EQ(running["payload"]["url"], "http://books.toscrape.com/");
  for (const char* key : {"created_at", "updated_at", "not_before", "lease_expiry"}) {
    EXPECT_TRUE(is_iso_time(running[key].get<std::string>())) << key;
  }
  const json& failed = j["tasks"][1];
  EXPECT_EQ(failed["last_error"], long_error);
  EXPECT_EQ(failed["payload"], "not JSON");
  // Invalid UTF-8 is replaced; a multi-line payload is written on one line.
  EXPECT_EQ(j["tasks"][2]["last_error"], "bad \uFFFD byte");
  EXPECT_EQ(j["tasks"][2]["payload"], json({{"a", {1, 2}}}));
  EXPECT_TRUE(failed["lease_owner"].is_null());
  EXPECT_TRUE(failed["lease_expiry"].is_null());
}

TEST_F(TasksCommand, TableCutsTheErrorToOneShortLine) {
  add_sources({"books"});
  seed_one({.state = TaskState::kFailed, .error = "schema: " + std::string(100, 'y') + "\nnext"});
  const CommandResult r = host({"tasks", "--state", "FAILED"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "schema: " + std::string(31, 'y') + "…")) << r.out;
  EXPECT_FALSE(contains(r.out, "next")) << r.out;
}

TEST_F(TasksCommand, RequeueBringsFailedAndCancelledBack) {
  add_sources({"books"});
  const auto ids = seed_all(
      {{.state = TaskState::kFailed, .error = "http 503"}, {.state = TaskState::kCancelled}});
  const CommandResult r = host({"tasks", "requeue", std::to_string(ids[0])});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "FAILED -> PENDING")) << r.out;
  EXPECT_EQ(get(ids[0]).state, TaskState::kPending);
  EXPECT_LE(get(ids[0]).not_before, store::now());
  EXPECT_EQ(get(ids[0]).last_error, "http 503");
  const CommandResult c = host({"tasks", "requeue", std::to_string(ids[1])});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(contains(c.out, "CANCELLED -> PENDING")) << c.out;
  EXPECT_EQ(get(ids[1]).state, TaskState::kPending);
}

TEST_F(TasksCommand, RequeueRefusesDonePendingAndMissingTasks) {
  add_sources({"books"});
  const auto ids = seed_all({{.state = TaskState::kDone}, {}});
  const CommandResult done = host({"tasks", "requeue", std::to_string(ids[0])});
  EXPECT_EQ(done.exit_code, 1);
  EXPECT_TRUE(contains(done.err, "is DONE")) << done.err;
  const CommandResult pending = host({"tasks", "requeue", std::to_string(ids[1])});
  EXPECT_EQ(pending.exit_code, 1);
  EXPECT_TRUE(contains(pending.err, "already PENDING")) << pending.err;
  const CommandResult missing = host({"tasks", "requeue", "999"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(contains(missing.err, "no task 999")) << missing.err;
  EXPECT_EQ(get(ids[0]).state, TaskState::kDone);
  EXPECT_EQ(host({"tasks", "requeue"}).exit_code, 2);
  EXPECT_EQ(host({"tasks", "requeue", "seven"}).exit_code, 2);
}

TEST_F(TasksCommand, RequeueOfALiveLeaseNeedsForce) {
  add_sources({"books"});
  const std::uint64_t id = seed_one({.state = TaskState::kInProgress, .owner = "orch-2"});
  const CommandResult refused = host({"tasks", "requeue", std::to_string(id)});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_TRUE(contains(refused.err, "leased to 'orch-2'")) << refused.err;
  EXPECT_TRUE(contains(refused.err, "--force")) << refused.err;
  EXPECT_EQ(get(id).state, TaskState::kInProgress);

  const CommandResult forced = host({"tasks", "requeue", std::to_string(id), "--force"});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_TRUE(contains(forced.out, "IN_PROGRESS -> PENDING")) << forced.out;
  EXPECT_EQ(get(id).state, TaskState::kPending);
  // The worker that held it can no longer report on it.
  store::Store st = open();
  auto late = st.update(
      [&](store::WriteTxn& txn) { return st.tasks().complete(txn, id, "orch-2", store::now()); });
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().kind, store::ErrorKind::kConflict);
}

TEST_F(TasksCommand, RequeueOfAnExpiredLeaseNeedsNoForce) {
  add_sources({"books"});
  const std::uint64_t id = seed_one(
      {.state = TaskState::kInProgress, .owner = "gone", .lease = 1min, .at = store::now() - 1h});
  const CommandResult r = host({"tasks", "requeue", std::to_string(id)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "lease had expired")) << r.out;
  EXPECT_EQ(get(id).state, TaskState::kPending);
}

TEST_F(TasksCommand, PriorityChangesOpenTasksOnly) {
  add_sources({"books"});
  const auto ids = seed_all({{}, {.state = TaskState::kInProgress}, {.state = TaskState::kDone}});
  const CommandResult r = host({"tasks", "priority", std::to_string(ids[0]), "9"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "priority 0 -> 9")) << r.out;
  EXPECT_EQ(get(ids[0]).priority, 9);
  ASSERT_EQ(host({"tasks", "priority", std::to_string(ids[1]), "-5"}).exit_code, 0);
  EXPECT_EQ(get(ids[1]).priority, -5);
  const CommandResult done = host({"tasks", "priority", std::to_string(ids[2]), "1"});
  EXPECT_EQ(done.exit_code, 1);
  EXPECT_TRUE(contains(done.err, "DONE")) << done.err;
  EXPECT_EQ(host({"tasks", "priority", std::to_string(ids[0]), "2147483648"}).exit_code, 2);
  EXPECT_EQ(host({"tasks", "priority", "999", "1"}).exit_code, 1);
}

TEST_F(TasksCommand, CancelStopsPendingAndRunningTasks) {
  add_sources({"books"});
  const auto ids = seed_all(
      {{}, {.state = TaskState::kInProgress, .owner = "orch-3"}, {.state = TaskState::kFailed}});
  const CommandResult p = host({"tasks", "cancel", std::to_string(ids[0])});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_TRUE(contains(p.out, "PENDING -> CANCELLED")) << p.out;
  const CommandResult running = host({"tasks", "cancel", std::to_string(ids[1])});
  ASSERT_EQ(running.exit_code, 0) << running.err;
  EXPECT_TRUE(contains(running.out, "IN_PROGRESS -> CANCELLED; 'orch-3' holds it")) << running.out;
  EXPECT_EQ(get(ids[0]).state, TaskState::kCancelled);
  EXPECT_EQ(get(ids[1]).state, TaskState::kCancelled);
  const CommandResult failed = host({"tasks", "cancel", std::to_string(ids[2])});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_TRUE(contains(failed.err, "already FAILED")) << failed.err;
  EXPECT_EQ(host({"tasks", "cancel", "999"}).exit_code, 1);
}

TEST_F(TasksCommand, ListingOptionsDoNotMixWithChanges) {
  add_sources({"books"});
  const std::uint64_t id = seed_one({});
  EXPECT_EQ(host({"tasks", "--state", "PENDING", "cancel", std::to_string(id)}).exit_code, 2);
  EXPECT_EQ(host({"tasks", "cancel", std::to_string(id), "--json"}).exit_code, 2);
  EXPECT_EQ(get(id).state, TaskState::kPending);
}

TEST_F(TasksCommand, WithoutAStoreThereAreNoTasks) {
  const CommandResult r = host({"tasks"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "no IN_PROGRESS or PENDING tasks")) << r.out;
  EXPECT_EQ(host_json({"tasks", "--json"})["tasks"], json::array());
  EXPECT_EQ(host({"tasks", "cancel", "1"}).exit_code, 1);
  EXPECT_FALSE(fs::exists(data_));
}

TEST_F(TasksCommand, AHundredThousandTasks) {
  add_sources({"books", "quotes"});
  store::Store st = open();
  const store::Time now = store::now() - 1min;
  auto r = st.update([&](store::WriteTxn& txn) -> std::expected<void, store::Error> {
    for (int i = 0; i < 100'000; ++i) {
      store::NewTask t;
      t.type = i % 10 == 0 ? TaskType::kRepair : TaskType::kExtract;
      t.source = i % 2 == 0 ? "books" : "quotes";
      t.priority = i % 7;
      if (auto id = st.tasks().enqueue(txn, t, now); !id) return std::unexpected(id.error());
    }
    for (int i = 0; i < 3; ++i) {
      auto c = st.tasks().claim(txn, "orch", 10min, now);
      if (!c) return std::unexpected(c.error());
      if (i == 0) {
        if (auto ok = st.tasks().fail(txn, (*c)->id, "orch", "timeout", now); !ok) return ok;
      }
    }
    return {};
  });
  ASSERT_TRUE(r) << r.error().message;

  const CommandResult table = host({"tasks"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(lines(table.out).at(0),
            "tasks: 2 IN_PROGRESS, 99997 PENDING, 1 FAILED, 0 CANCELLED, 0 DONE");
  EXPECT_EQ(ids_in(table.out).size(), 50u);
  EXPECT_EQ(lines(table.out).back(), "... and 99949 more (use --limit 0 for all)");

  const json j = host_json({"tasks", "--json", "--state", "IN_PROGRESS", "--limit", "0"});
  EXPECT_EQ(j["counts"]["PENDING"], 99997);
  EXPECT_EQ(j["tasks"].size(), 2u);
  EXPECT_EQ(j["more"], 0);

  const json repairs = host_json({"tasks", "--json", "--type", "repair", "--limit", "10"});
  EXPECT_EQ(repairs["tasks"].size(), 10u);
  EXPECT_EQ(repairs["tasks"].size() + repairs["more"].get<std::uint64_t>(), 10'000u);
}

}  // namespace
}  // namespace host::testing
