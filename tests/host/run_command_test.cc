// host run and host extract, as a user runs them: against a local site,
// with Ctrl-C, a second Ctrl-C, SIGKILL and restarts.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "store/store.h"
#include "tests/host/fixture_site.h"
#include "tests/host/fleet.h"
#include "tests/host/run_host.h"

namespace host::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class RunCommand : public HostCommandTest {
 protected:
  RunCommand()
      : site_([this](std::string_view path) {
          if (path == "/robots.txt") return SiteResponse{404, "text/plain", ""};
          if (path.starts_with("/slow")) {
            // Re-reads slow_, so a test ends a long wait by setting it to 0.
            const auto t0 = std::chrono::steady_clock::now();
            while (std::chrono::steady_clock::now() - t0 < slow_.load() * 1ms) {
              std::this_thread::sleep_for(5ms);
            }
          }
          if (path.starts_with("/broken")) return SiteResponse{500, "text/plain", "down"};
          return SiteResponse{200, "text/html", tagged_page(3)};
        }) {}

  void SetUp() override {
    ASSERT_TRUE(site_.ok());
    HostCommandTest::SetUp();
    std::ofstream(dir_ + "/p.lua") << tagged_parser("A");
    std::ofstream(dir_ + "/p2.lua") << tagged_parser("B");
    for (auto [k, v] : {std::pair{"fetch.allow_private", "true"},
                        {"fetch.min_delay", "0"},
                        {"fetch.max_per_host", "64"},
                        {"fetch.retries", "0"}}) {
      must({"config", "set", k, v});
    }
  }
  std::unique_ptr<BackgroundHost> background(std::vector<std::string> args) {
    args.insert(args.begin(), {"--data", data_});
    return std::make_unique<BackgroundHost>(args);
  }
  void add(const std::string& name, const std::string& path) {
    must({"add", site_.url(path), "--name", name, "--parser", dir_ + "/p.lua"});
  }

  std::atomic<int> slow_{0};
  FixtureSite site_;
};

TEST_F(RunCommand, OnceExtractsEverySourceAndExits) {
  add("a", "/a");
  add("b", "/b");
  add("down", "/broken");
  const auto r = host({"run", "--once", "--workers", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("extract a: 3 records (3 new, 0 changed) with version 1"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("extract b: 3 records"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("extract down: FAILED (http_status)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("down: new -> DEGRADED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("done: 2 task(s) succeeded, 1 failed"), std::string::npos) << r.out;
  // Not a terminal: plain timestamped lines, no progress bar escapes.
  EXPECT_EQ(r.err.find("\033[K"), std::string::npos);
  const auto records = host({"records", "a"});
  EXPECT_EQ(lines(records.out).size(), 3u) << records.out << records.err;
  // Nothing is due any more: a second drain does nothing.
  const auto again = host({"run", "--once"});
  EXPECT_NE(again.out.find("done: 0 task(s) succeeded, 0 failed"), std::string::npos) << again.out;
}

TEST_F(RunCommand, CtrlCStopsGracefullyAndPutsWorkBack) {
  slow_ = 3000;
  for (int i = 0; i < 4; ++i) add("s" + std::to_string(i), "/slow/" + std::to_string(i));
  auto run = background({"run", "--workers", "2", "--drain", "1"});
  ASSERT_TRUE(run->wait_for_output(
      [](const std::string& out) { return out.find("worker(s)") != std::string::npos; }, 10s));
  std::this_thread::sleep_for(500ms);  // the fetches are in flight
  const auto t0 = std::chrono::steady_clock::now();
  run->signal(SIGINT);
  auto r = run->wait(10s);
  ASSERT_TRUE(r) << "host run did not stop within 10 s after SIGINT";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_NE(r->out.find("received SIGINT: stopping"), std::string::npos) << r->out;
  EXPECT_NE(r->out.find("4 put back"), std::string::npos) << r->out;
  // The work is queued again, and a new run does it.
  const auto tasks = host({"verify"});
  EXPECT_EQ(tasks.exit_code, 0) << tasks.out << tasks.err;
  slow_ = 0;
  const auto again = host({"run", "--once"});
  EXPECT_NE(again.out.find("done: 4 task(s) succeeded, 0 failed"), std::string::npos)
      << again.out << again.err;
}

TEST_F(RunCommand, ASecondCtrlCExitsAtOnce) {
  slow_ = 20000;
  add("s", "/slow/x");
  auto run = background({"run", "--drain", "30"});
  ASSERT_TRUE(run->wait_for_output(
      [](const std::string& out) { return out.find("worker(s)") != std::string::npos; }, 10s));
  std::this_thread::sleep_for(300ms);
  run->signal(SIGINT);
  ASSERT_TRUE(run->wait_for_output(
      [](const std::string& out) { return out.find("stopping") != std::string::npos; }, 5s));
  std::this_thread::sleep_for(100ms);
  run->signal(SIGINT);
  auto r = run->wait(3s);
  ASSERT_TRUE(r) << "a second SIGINT did not end host run";
  EXPECT_EQ(r->exit_code, 128 + SIGINT);
  EXPECT_EQ(host({"verify"}).exit_code, 0);
  slow_ = 0;
  // The task it held is resumed by the next run.
  const auto again = host({"run", "--once"});
  EXPECT_NE(again.out.find("put 1 unfinished task(s) of a previous run back"), std::string::npos)
      << again.out;
  EXPECT_NE(again.out.find("done: 1 task(s) succeeded"), std::string::npos) << again.out;
}

TEST_F(RunCommand, SigkillMidRunLosesNoTaskAndRunsNoneTwice) {
  constexpr int kSources = 30;
  slow_ = 150;
  for (int i = 0; i < kSources; ++i) add("s" + std::to_string(i), "/slow/" + std::to_string(i));
  std::mt19937 rng(7);
  for (int round = 0; round < 3; ++round) {
    auto run = background({"run", "--workers", "2", "--in-flight", "8"});
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 700));
    run->signal(SIGKILL);
    ASSERT_TRUE(run->wait(5s));
    const auto v = host({"verify"});
    ASSERT_EQ(v.exit_code, 0) << "after SIGKILL " << round << ": " << v.out << v.err;
  }
  slow_ = 0;
  const auto r = host({"run", "--once"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto st = store::Store::open(data_);
  ASSERT_TRUE(st) << st.error().message;
  auto txn = st->read();
  // Every source's extract task ended exactly once, with exactly one
  // successful extraction behind it.
  std::map<std::string, int> done_tasks;
  for (auto state : {store::TaskState::kDone, store::TaskState::kFailed}) {
    auto list = st->tasks().list(*txn, state);
    ASSERT_TRUE(list);
    for (const auto& t : *list) ++done_tasks[t.source];
  }
  auto counts = *st->tasks().counts(*txn);
  EXPECT_EQ(counts[static_cast<std::size_t>(store::TaskState::kPending)], 0u);
  EXPECT_EQ(counts[static_cast<std::size_t>(store::TaskState::kInProgress)], 0u);
  for (int i = 0; i < kSources; ++i) {
    const std::string name = "s" + std::to_string(i);
    EXPECT_EQ(done_tasks[name], 1) << name;
    int succeeded = 0;
    auto runs = st->runs().recent_for_source(*txn, name, 100);
    ASSERT_TRUE(runs);
    for (const auto& run : *runs) {
      succeeded += run.kind == "extract" && run.state == store::RunState::kSucceeded;
    }
    EXPECT_EQ(succeeded, 1) << name;
    EXPECT_EQ(*st->silver().count(*txn, name), 3u) << name;
  }
}

TEST_F(RunCommand, ExtractWaitRunsTheTaskWhenNoRunIsGoing) {
  add("a", "/a");
  add("down", "/broken");
  const auto ok = host({"extract", "a", "--wait"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("extract a: succeeded: 3 record(s) with parser version 1 (snapshot"),
            std::string::npos)
      << ok.out;
  const auto bad = host({"extract", "down", "--wait"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("the extraction of down failed: http_status"), std::string::npos)
      << bad.err;
  EXPECT_NE(bad.err.find("host history down"), std::string::npos) << bad.err;
  // Only the tasks asked for ran: "a" was not extracted again by "down"'s run.
  const auto records = host({"records", "a"});
  EXPECT_EQ(lines(records.out).size(), 3u);
}

TEST_F(RunCommand, ExtractWithoutWaitQueuesAheadOfScheduledWork) {
  add("a", "/a");
  const auto r = host({"extract", "a"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("queued extract task"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no 'host run' is working this store"), std::string::npos) << r.out;
}

TEST_F(RunCommand, ExtractWaitWaitsForARunningOrchestratorAndSeesAPromotion) {
  add("a", "/a");
  auto run = background({"run", "--workers", "1"});
  ASSERT_TRUE(run->wait_for_output(
      [](const std::string& out) { return out.find("extract a: 3 records") != std::string::npos; },
      20s))
      << run->out() << run->err();
  // Hot swap from another process: stage and promote version 2 while it runs.
  must({"stage", "a", dir_ + "/p2.lua"});
  must({"promote", "a", "2", "--force"});
  const auto r = host({"extract", "a", "--wait", "--timeout", "20s"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("waiting for the running 'host run'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("with parser version 2"), std::string::npos) << r.out;
  run->signal(SIGTERM);
  auto end = run->wait(10s);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->exit_code, 0);
  EXPECT_NE(end->out.find("received SIGTERM"), std::string::npos);
}

TEST_F(RunCommand, ASecondRunOnTheSameStoreIsRefused) {
  add("a", "/a");
  auto run = background({"run"});
  ASSERT_TRUE(run->wait_for_output(
      [](const std::string& out) { return out.find("worker(s)") != std::string::npos; }, 10s));
  const auto r = host({"run", "--once"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is already working the store"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(std::to_string(run->pid())), std::string::npos) << r.err;
  run->signal(SIGTERM);
  EXPECT_TRUE(run->wait(10s));
}

TEST_F(RunCommand, BadArgumentsAreUsageErrors) {
  EXPECT_EQ(host({"run", "--workers", "0"}).exit_code, 2);
  EXPECT_EQ(host({"extract"}).exit_code, 2);
  const auto timeout = host({"extract", "a", "--wait", "--timeout", "soon"});
  EXPECT_EQ(timeout.exit_code, 2);
  EXPECT_NE(timeout.err.find("is not a duration"), std::string::npos) << timeout.err;
  const auto unknown = host({"extract", "nope"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no source named 'nope'"), std::string::npos) << unknown.err;
}

TEST_F(RunCommand, ARunningHostPromotesAGoodDropInAndKeepsABrokenOneStaged) {
  add("a", "/a");
  add("b", "/b");
  fs::create_directories(dir_ + "/scripts");
  auto run = background({"run", "--workers", "1", "--scripts", dir_ + "/scripts"});
  ASSERT_TRUE(run->wait_for_output(
      [](const std::string& out) { return out.find("extract b: 3 records") != std::string::npos; },
      20s))
      << run->out() << run->err();
  fs::copy_file(dir_ + "/p2.lua", dir_ + "/scripts/a.lua");
  std::ofstream(dir_ + "/scripts/b.lua") << "local P = {  -- not Lua";
  EXPECT_TRUE(run->wait_for_output(
      [](const std::string& out) {
        return out.find("drop-in: ") != std::string::npos &&
               out.find("a.lua") != std::string::npos && out.find("b.lua") != std::string::npos;
      },
      20s))
      << run->out();
  run->signal(SIGINT);
  auto end = run->wait(10s);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->exit_code, 0) << end->err;
  const auto a = host({"versions", "a", "--json"});
  const auto b = host({"versions", "b", "--json"});
  auto av = nlohmann::json::parse(a.out);
  auto bv = nlohmann::json::parse(b.out);
  ASSERT_EQ(av.size(), 2u) << a.out;
  EXPECT_EQ(av[1]["state"], "active") << a.out;
  ASSERT_EQ(bv.size(), 2u) << b.out;
  EXPECT_EQ(bv[0]["state"], "active");
  EXPECT_EQ(bv[1]["state"], "staged");
  EXPECT_NE(bv[1]["reason"].dump().find("loads"), std::string::npos) << b.out;
}

TEST_F(RunCommand, AMissingScriptsDirectoryNamedOnTheCommandLineIsAnError) {
  const auto r = host({"run", "--once", "--scripts", dir_ + "/nowhere"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not exist; create it"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace host::testing
