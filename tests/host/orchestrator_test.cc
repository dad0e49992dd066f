// The orchestrator in-process, with a scripted fetcher: scheduling, queue
// order, what each outcome writes, health, repairs, the circuit breaker,
// stopping and resuming.
#include "host/orchestrator/orchestrator.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "host/fetch/fake_fetcher.h"
#include "tests/host/fleet.h"

namespace host::orchestrator {
namespace {

namespace fs = std::filesystem;
using fetch::fake_error;
using fetch::fake_response;
using fetch::FakeFetcher;
using fetch::FetchErrorKind;
using nlohmann::json;

// A parser for <li class="item" data-id="N">name</li>; `selector` and
// `made_by` vary it.
std::string items_parser(const std::string& selector = "li.item", const std::string& made_by = "A",
                         const std::string& extra = "") {
  return R"(local sdk = require("sdk")
local P = sdk.BaseParser:extend {
  name = "items",
  schema = { id = { type = "string", required = true }, name = { type = "string" },
             made_by = { type = "string" }, n = { type = "number" } },
  key = { "id" },
}
function P:parse(page)
  )" + extra +
         R"(
  local out = {}
  for _, li in ipairs(page:html():css(")" +
         selector + R"(")) do
    out[#out + 1] = { id = li:attr("data-id"), name = li:text(), made_by = ")" +
         made_by + R"(" }
  end
  return out
end
return P
)";
}

std::string items_page(int n, int first = 1) {
  std::string html = "<html><body><ul>";
  for (int i = first; i < first + n; ++i) {
    html += "<li class=\"item\" data-id=\"" + std::to_string(i) + "\">item " + std::to_string(i) +
            "</li>";
  }
  return html + "</ul></body></html>";
}

sandbox::Sandbox& shared_sandbox() {
  static std::unique_ptr<sandbox::Sandbox> box = [] {
    sandbox::SandboxOptions o;
    o.workers = 2;
    auto b = sandbox::Sandbox::create(o);
    if (!b) std::abort();
    return std::move(*b);
  }();
  return *box;
}

class OrchestratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sdp-orch-XXXXXX";
    dir_ = mkdtemp(tmpl);
    store::OpenOptions o;
    o.create_if_missing = true;
    auto s = store::Store::open(dir_ + "/data", o);
    ASSERT_TRUE(s) << s.error().message;
    st_.emplace(std::move(*s));
  }
  void TearDown() override {
    st_.reset();
    fs::remove_all(dir_);
  }

  store::Store& st() { return *st_; }

  static std::string url_of(const std::string& name) { return "http://" + name + ".test/list"; }

  // A source with `script` as its active version 1.
  void add_source(const std::string& name, const std::string& script = items_parser()) {
    auto r = st().update([&](store::WriteTxn& txn) {
      return testing::add_source(st(), txn, name, url_of(name), script);
    });
    ASSERT_TRUE(r) << r.error().message;
  }

  std::expected<std::uint32_t, store::Error> stage_in(store::WriteTxn& txn, const std::string& name,
                                                      const std::string& script) {
    store::NewParserVersion v;
    v.script = script;
    v.created_at = store::now();
    return st().versions().add(txn, name, v);
  }

  std::uint32_t stage(const std::string& name, const std::string& script) {
    auto n = st().update([&](store::WriteTxn& txn) { return stage_in(txn, name, script); });
    EXPECT_TRUE(n) << n.error().message;
    return n ? *n : 0;
  }

  void set(const std::string& key, const std::string& value, const std::string& source = "") {
    auto r = st().update([&](store::WriteTxn& txn) {
      return st().settings().set(txn, key, value, store::now(), source);
    });
    ASSERT_TRUE(r) << r.error().message;
  }

  std::uint64_t enqueue(const std::string& source, store::TaskType type = store::TaskType::kExtract,
                        std::int32_t priority = 0, const std::string& payload = "") {
    auto id = st().update([&](store::WriteTxn& txn) {
      store::NewTask t;
      t.type = type;
      t.source = source;
      t.priority = priority;
      t.payload = payload;
      return st().tasks().enqueue(txn, t, store::now());
    });
    EXPECT_TRUE(id) << id.error().message;
    return id ? *id : 0;
  }

  Options options() {
    Options o;
    o.workers = 2;
    o.once = true;
    o.log = [this](std::string_view line) {
      std::lock_guard lock(log_mu_);
      log_.emplace_back(line);
    };
    return o;
  }

  Summary run(Options o) {
    Orchestrator orch(st(), fetcher_, shared_sandbox(), std::move(o));
    auto s = orch.run();
    EXPECT_TRUE(s) << s.error();
    return s ? *s : Summary{};
  }

  // One extraction of `source` queued and run.
  Summary extract_once(const std::string& source) {
    enqueue(source);
    Options o = options();
    o.schedule = false;
    return run(o);
  }

  std::string log_text() {
    std::lock_guard lock(log_mu_);
    std::string all;
    for (const auto& l : log_) all += l + "\n";
    return all;
  }

  std::optional<store::SourceHealth> health(const std::string& source) {
    auto txn = st().read();
    auto h = st().health().get(*txn, source);
    return h ? *h : std::nullopt;
  }

  std::vector<store::Run> runs(const std::string& source) {
    auto txn = st().read();
    auto r = st().runs().recent_for_source(*txn, source, 100);
    return r ? *r : std::vector<store::Run>{};
  }

  std::optional<store::Task> task(std::uint64_t id) {
    auto txn = st().read();
    auto t = st().tasks().get(*txn, id);
    return t ? *t : std::nullopt;
  }

  std::uint64_t count(store::TaskState state) {
    auto txn = st().read();
    return (*st().tasks().counts(*txn))[static_cast<std::size_t>(state)];
  }

  std::uint32_t active_version(const std::string& source) {
    auto txn = st().read();
    auto n = st().versions().active_number(*txn, source);
    return n && *n ? **n : 0;
  }

  std::string dir_;
  std::optional<store::Store> st_;
  FakeFetcher fetcher_;
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

TEST_F(OrchestratorTest, OnceExtractsEveryDueSourceWithLineage) {
  for (const char* name : {"a", "b", "c"}) {
    add_source(name);
    fetcher_.respond(url_of(name), fake_response(url_of(name), items_page(3)));
  }
  const Summary s = run(options());
  EXPECT_EQ(s.progress.done, 3u) << log_text();
  EXPECT_EQ(s.progress.failed, 0u);
  EXPECT_EQ(s.progress.pages, 3u);
  EXPECT_EQ(s.progress.records, 9u);
  auto txn = st().read();
  for (const char* name : {"a", "b", "c"}) {
    EXPECT_EQ(*st().silver().count(*txn, name), 3u);
    auto rec = st().silver().get(*txn, name, "2");
    ASSERT_TRUE(rec && *rec);
    EXPECT_EQ((*rec)->data["name"], "item 2");
    EXPECT_EQ((*rec)->lineage.parser_version, 1u);
    auto snap = st().bronze().get(*txn, (*rec)->lineage.snapshot_id);
    ASSERT_TRUE(snap && *snap);
    EXPECT_EQ((*snap)->source, name);
    EXPECT_EQ((*snap)->url, url_of(name));
    auto h = st().health().get(*txn, name);
    ASSERT_TRUE(h && *h);
    EXPECT_EQ((*h)->state, store::HealthState::kActive);
    auto r = st().runs().recent_for_source(*txn, name, 5);
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ(r->front().kind, "extract");
    EXPECT_EQ(r->front().state, store::RunState::kSucceeded);
    EXPECT_EQ(r->front().records, 3u);
    EXPECT_EQ(r->front().parser_version, 1u);
    auto m = st().metrics().latest(*txn, name, "records");
    ASSERT_TRUE(m && *m);
    EXPECT_EQ((*m)->value, 3.0);
  }
  auto c = st().tasks().counts(*txn);
  EXPECT_EQ((*c)[static_cast<std::size_t>(store::TaskState::kDone)], 3u);
  EXPECT_EQ((*c)[static_cast<std::size_t>(store::TaskState::kPending)], 0u);
}

TEST_F(OrchestratorTest, ASourceIsNotExtractedAgainBeforeItsInterval) {
  add_source("a");
  fetcher_.respond(url_of("a"), fake_response(url_of("a"), items_page(3)));
  run(options());
  ASSERT_EQ(fetcher_.requests().size(), 1u);
  run(options());  // interval 1 h: not due
  EXPECT_EQ(fetcher_.requests().size(), 1u);
  set("source.interval", "1", "a");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  run(options());
  EXPECT_EQ(fetcher_.requests().size(), 2u);
}

TEST_F(OrchestratorTest, DisabledQuarantinedAndParserlessSourcesAreNotScheduled) {
  add_source("off");
  add_source("sick");
  ASSERT_TRUE(st().update([&](store::WriteTxn& txn) -> std::expected<void, store::Error> {
    auto s = *st().sources().get(txn, "off");
    s->enabled = false;
    if (auto ok = st().sources().put(txn, *s); !ok) return ok;
    store::SourceHealth h;
    h.source = "sick";
    h.state = store::HealthState::kQuarantined;
    h.updated_at = store::now() - std::chrono::hours(10);
    if (auto ok = st().health().put(txn, h, "test"); !ok) return ok;
    store::Source bare;
    bare.name = "bare";
    bare.url = url_of("bare");
    return st().sources().put(txn, bare);
  }));
  run(options());
  EXPECT_TRUE(fetcher_.requests().empty());
  EXPECT_NE(log_text().find("bare has no active parser version"), std::string::npos) << log_text();
}

TEST_F(OrchestratorTest, TasksRunByPriorityThenAge) {
  for (const char* name : {"a", "b", "c", "d"}) {
    add_source(name);
    fetcher_.respond(url_of(name), fake_response(url_of(name), items_page(1)));
  }
  enqueue("a", store::TaskType::kExtract, 0);
  enqueue("b", store::TaskType::kExtract, 10);
  enqueue("c", store::TaskType::kExtract, 5);
  enqueue("d", store::TaskType::kExtract, 10);
  Options o = options();
  o.schedule = false;
  o.max_in_flight = 1;
  run(o);
  std::vector<std::string> order;
  for (const auto& r : fetcher_.requests()) order.push_back(r.source);
  EXPECT_EQ(order, (std::vector<std::string>{"b", "d", "c", "a"}));
}

TEST_F(OrchestratorTest, FailuresDegradeThenQuarantineAndQueueARepair) {
  add_source("a");
  set("repair.retry_after", "3600");
  fetcher_.respond(url_of("a"), std::unexpected(fake_error(FetchErrorKind::kHttpStatus, "HTTP 503",
                                                           url_of("a"), 503)));
  extract_once("a");
  EXPECT_EQ(health("a")->state, store::HealthState::kDegraded);
  EXPECT_EQ(health("a")->failures_in_row, 1u);
  extract_once("a");
  EXPECT_EQ(health("a")->state, store::HealthState::kDegraded);
  extract_once("a");  // the third: quarantined; the repair runs in the same drain and fails
  auto h = health("a");
  EXPECT_EQ(h->state, store::HealthState::kQuarantined) << log_text();
  EXPECT_EQ(h->failures_in_row, 3u);
  EXPECT_NE(h->last_error.find("HTTP 503"), std::string::npos) << h->last_error;
  {
    auto txn = st().read();
    auto reps = st().repairs().list_for_source(*txn, "a");
    ASSERT_EQ(reps->size(), 1u);
    EXPECT_EQ(reps->front().state, store::RepairState::kFailed);
    EXPECT_NE(reps->front().message.find("still fails"), std::string::npos)
        << reps->front().message;
    // The next attempt waits for repair.retry_after.
    auto pending = st().tasks().list(*txn, store::TaskState::kPending);
    ASSERT_EQ(pending->size(), 1u);
    EXPECT_EQ(pending->front().type, store::TaskType::kRepair);
    EXPECT_GT(pending->front().not_before, store::now() + std::chrono::minutes(50));
    auto transitions = st().health().transitions(*txn, "a");
    ASSERT_GE(transitions->size(), 2u);
    EXPECT_EQ(transitions->front().to, store::HealthState::kQuarantined);
    EXPECT_NE(transitions->front().reason.find("3 failures in a row"), std::string::npos);
  }
  // A quarantined source is no longer scheduled.
  const auto before = fetcher_.requests().size();
  set("source.interval", "1", "a");
  run(options());
  EXPECT_EQ(fetcher_.requests().size(), before);
}

TEST_F(OrchestratorTest, ARepairBringsTheSourceBackWhenTheSiteRecovers) {
  add_source("a");
  std::atomic<int> calls{0};
  fetcher_.set_handler([&](const fetch::FetchRequest& r) -> fetch::FetchResult {
    if (++calls <= 3) return std::unexpected(fake_error(FetchErrorKind::kNetwork, "reset", r.url));
    return fake_response(r.url, items_page(2));
  });
  for (int i = 0; i < 3; ++i) extract_once("a");
  EXPECT_EQ(health("a")->state, store::HealthState::kActive) << log_text();
  auto txn = st().read();
  auto reps = st().repairs().list_for_source(*txn, "a");
  ASSERT_EQ(reps->size(), 1u);
  EXPECT_EQ(reps->front().state, store::RepairState::kApplied);
  EXPECT_NE(reps->front().message.find("transient"), std::string::npos) << reps->front().message;
  auto r = st().runs().recent_for_source(*txn, "a", 1);
  EXPECT_EQ(r->front().kind, "repair");
  EXPECT_EQ(r->front().state, store::RunState::kSucceeded);
}

TEST_F(OrchestratorTest, ARepairRollsBackToAnOlderVersionThatStillWorks) {
  add_source("a");  // version 1 reads li.item
  const auto v2 = stage("a", items_parser("li.product"));
  ASSERT_TRUE(st().update(
      [&](store::WriteTxn& txn) { return st().versions().promote(txn, "a", v2, store::now()); }));
  fetcher_.respond(url_of("a"), fake_response(url_of("a"), items_page(4)));
  for (int i = 0; i < 3; ++i) extract_once("a");
  EXPECT_EQ(active_version("a"), 1u) << log_text();
  EXPECT_EQ(health("a")->state, store::HealthState::kActive);
  auto txn = st().read();
  auto reps = st().repairs().list_for_source(*txn, "a");
  ASSERT_EQ(reps->size(), 1u);
  EXPECT_EQ(reps->front().from_version, v2);
  EXPECT_EQ(reps->front().to_version, 1u);
  EXPECT_NE(reps->front().diff.find("-  for _, li in ipairs(page:html():css(\"li.product\"))"),
            std::string::npos)
      << reps->front().diff;
  auto r = st().runs().recent_for_source(*txn, "a", 10);
  ASSERT_GE(r->size(), 2u);
  EXPECT_EQ((*r)[1].error_kind, "zero_records");
}

TEST_F(OrchestratorTest, ExhaustedRepairsMakeTheSourceDeadUntilRevived) {
  add_source("a");
  set("repair.retry_after", "0");
  set("repair.max_per_day", "2");
  fetcher_.respond(url_of("a"),
                   std::unexpected(fake_error(FetchErrorKind::kNetwork, "refused", url_of("a"))));
  for (int i = 0; i < 3; ++i) extract_once("a");
  // Quarantined, then two failed repairs in the same drain: dead.
  auto h = health("a");
  EXPECT_EQ(h->state, store::HealthState::kDead) << log_text();
  auto txn = st().read();
  EXPECT_EQ(*st().repairs().count_between(*txn, "a", store::now() - std::chrono::hours(1),
                                          store::now() + std::chrono::hours(1)),
            2u);
  auto transitions = st().health().transitions(*txn, "a", 1);
  EXPECT_NE(transitions->front().reason.find("host revive a"), std::string::npos)
      << transitions->front().reason;
  EXPECT_EQ((*st().tasks().counts(*txn))[static_cast<std::size_t>(store::TaskState::kPending)], 0u);
}

TEST_F(OrchestratorTest, TheCircuitBreakerCountsFromTheLastRevival) {
  add_source("a");
  set("repair.retry_after", "0");
  set("repair.max_per_day", "1");
  fetcher_.respond(url_of("a"),
                   std::unexpected(fake_error(FetchErrorKind::kNetwork, "refused", url_of("a"))));
  for (int i = 0; i < 3; ++i) extract_once("a");
  ASSERT_EQ(health("a")->state, store::HealthState::kDead);
  // Revive (as `host revive` does), fail three times again: a fresh repair runs.
  ASSERT_TRUE(st().update([&](store::WriteTxn& txn) {
    auto h = *health("a");
    h.state = store::HealthState::kActive;
    h.failures_in_row = 0;
    h.updated_at = store::now();
    return st().health().put(txn, h, "revived by operator");
  }));
  for (int i = 0; i < 3; ++i) extract_once("a");
  auto txn = st().read();
  auto reps = st().repairs().list_for_source(*txn, "a");
  EXPECT_EQ(reps->size(), 2u) << log_text();
  EXPECT_EQ(health("a")->state, store::HealthState::kDead);
}

TEST_F(OrchestratorTest, EachFailureIsRecordedWithItsKind) {
  struct Case {
    std::string name;
    std::string script;
    fetch::FetchResult response;
    std::string kind;
  };
  const std::string ok_page = items_page(2);
  std::vector<Case> cases;
  cases.push_back(
      {"zero", items_parser("li.none"), fake_response(url_of("zero"), ok_page), "zero_records"});
  cases.push_back({"boom", items_parser("li.item", "A", "error('broken parser')"),
                   fake_response(url_of("boom"), ok_page), "parse_error"});
  cases.push_back({"spin", items_parser("li.item", "A", "while true do end"),
                   fake_response(url_of("spin"), ok_page), "sandbox_limit"});
  cases.push_back({"escape", items_parser("li.item", "A", "io.open('/etc/passwd')"),
                   fake_response(url_of("escape"), ok_page), "sandbox_limit"});
  cases.push_back({"robots", items_parser(),
                   std::unexpected(fake_error(FetchErrorKind::kRobots, "robots.txt disallows it",
                                              url_of("robots"))),
                   "robots"});
  cases.push_back(
      {"http", items_parser(),
       std::unexpected(fake_error(FetchErrorKind::kHttpStatus, "HTTP 404", url_of("http"), 404)),
       "http_status"});
  {
    // Every record breaks the schema: n must be a number.
    std::string s = items_parser();
    const std::string from = "made_by = \"A\" }";
    s.replace(s.find(from), from.size(), "made_by = \"A\", n = \"many\" }");
    cases.push_back({"schema", s, fake_response(url_of("schema"), ok_page), "schema"});
  }
  set("sandbox.timeout", "0.2");
  for (auto& c : cases) {
    add_source(c.name, c.script);
    fetcher_.respond(url_of(c.name), c.response);
  }
  const Summary s = run(options());
  EXPECT_EQ(s.progress.failed, cases.size()) << log_text();
  for (const auto& c : cases) {
    auto r = runs(c.name);
    ASSERT_EQ(r.size(), 1u) << c.name;
    EXPECT_EQ(r.front().state, store::RunState::kFailed) << c.name;
    EXPECT_EQ(r.front().error_kind, c.kind) << c.name << ": " << r.front().message;
    EXPECT_EQ(health(c.name)->state, store::HealthState::kDegraded) << c.name;
  }
}

TEST_F(OrchestratorTest, ASourceWithoutAnActiveParserFailsItsExtraction) {
  ASSERT_TRUE(st().update([&](store::WriteTxn& txn) {
    store::Source s;
    s.name = "bare";
    s.url = url_of("bare");
    return st().sources().put(txn, s);
  }));
  extract_once("bare");
  auto r = runs("bare");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r.front().error_kind, "no_parser");
  EXPECT_NE(r.front().message.find("host promote bare"), std::string::npos);
  EXPECT_TRUE(fetcher_.requests().empty());
}

TEST_F(OrchestratorTest, StopPutsWorkInFlightBackInTheQueue) {
  add_source("slow");
  const auto id = enqueue("slow");
  Options o = options();
  o.once = false;
  o.schedule = false;
  o.drain = std::chrono::milliseconds(200);
  Orchestrator orch(st(), fetcher_, shared_sandbox(), o);
  // A fetch that outlasts the drain time and ends cancelled, as the real
  // fetcher's transfers do when it shuts down.
  fetcher_.set_handler([&](const fetch::FetchRequest& r) -> fetch::FetchResult {
    while (!orch.stopping()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    return std::unexpected(fake_error(FetchErrorKind::kCancelled, "shut down", r.url));
  });
  std::thread stopper([&] {
    while (orch.progress().in_flight == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    orch.stop();
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto s = orch.run();
  stopper.join();
  ASSERT_TRUE(s) << s.error();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(s->progress.requeued, 1u);
  auto t = task(id);
  EXPECT_EQ(t->state, store::TaskState::kPending) << log_text();
  EXPECT_EQ(t->attempts, 1u);
  EXPECT_TRUE(runs("slow").empty());
}

TEST_F(OrchestratorTest, TasksLeftInProgressByADeadRunAreResumed) {
  add_source("a");
  fetcher_.respond(url_of("a"), fake_response(url_of("a"), items_page(2)));
  const auto id = enqueue("a");
  ASSERT_TRUE(st().update([&](store::WriteTxn& txn) {
    return st().tasks().claim(txn, "host:1:gone", std::chrono::hours(1), store::now());
  }));
  ASSERT_EQ(task(id)->state, store::TaskState::kInProgress);
  Options o = options();
  o.schedule = false;
  const Summary s = run(o);
  EXPECT_EQ(s.orphans_requeued, 1u);
  EXPECT_EQ(task(id)->state, store::TaskState::kDone) << log_text();
  EXPECT_EQ(runs("a").size(), 1u);
}

TEST_F(OrchestratorTest, OnlyTaskRunsThatTaskAndNothingElse) {
  add_source("a");
  add_source("b");
  fetcher_.respond(url_of("a"), fake_response(url_of("a"), items_page(2)));
  fetcher_.respond(url_of("b"), fake_response(url_of("b"), items_page(2)));
  const auto first = enqueue("a", store::TaskType::kExtract, 100);
  const auto second = enqueue("b");
  Options o = options();
  o.once = false;
  o.schedule = false;
  o.only_task = second;
  run(o);
  EXPECT_EQ(task(second)->state, store::TaskState::kDone);
  EXPECT_EQ(task(first)->state, store::TaskState::kPending);
}

TEST_F(OrchestratorTest, AValidateTaskPromotesAVersionThatPasses) {
  add_source("a");
  fetcher_.respond(url_of("a"), fake_response(url_of("a"), items_page(3)));
  extract_once("a");  // a stored page to validate against
  const auto good = stage("a", items_parser("li.item", "B"));
  const auto bad = stage("a", items_parser("li.none"));
  const auto bad_task =
      enqueue("a", store::TaskType::kValidate, 0, json{{"version", bad}, {"promote", true}}.dump());
  Options o = options();
  o.schedule = false;
  run(o);
  EXPECT_EQ(task(bad_task)->state, store::TaskState::kFailed);
  EXPECT_NE(task(bad_task)->last_error.find("record_count"), std::string::npos)
      << task(bad_task)->last_error;
  EXPECT_EQ(active_version("a"), 1u);
  const auto good_task = enqueue("a", store::TaskType::kValidate, 0,
                                 json{{"version", good}, {"promote", true}}.dump());
  run(o);
  EXPECT_EQ(task(good_task)->state, store::TaskState::kDone) << task(good_task)->last_error;
  EXPECT_EQ(active_version("a"), good);
  auto txn = st().read();
  auto v = st().versions().get(*txn, "a", good);
  EXPECT_NE((*v)->validation_report.find("\"passed\":true"), std::string::npos);
}

TEST_F(OrchestratorTest, APromotionServesTheNextRun) {
  add_source("a");
  set("source.interval", "1", "a");
  fetcher_.respond(url_of("a"), fake_response(url_of("a"), items_page(2)));
  extract_once("a");
  const auto v2 = stage("a", items_parser("li.item", "B"));
  ASSERT_TRUE(st().update(
      [&](store::WriteTxn& txn) { return st().versions().promote(txn, "a", v2, store::now()); }));
  extract_once("a");
  auto txn = st().read();
  auto rec = st().silver().get(*txn, "a", "1");
  EXPECT_EQ((*rec)->data["made_by"], "B");
  EXPECT_EQ((*rec)->lineage.parser_version, v2);
}

TEST_F(OrchestratorTest, StopBeforeRunReturnsAtOnce) {
  add_source("a");
  fetcher_.respond(url_of("a"), fake_response(url_of("a"), items_page(2)));
  Options o = options();
  o.once = false;
  Orchestrator orch(st(), fetcher_, shared_sandbox(), o);
  orch.stop();
  auto s = orch.run();
  ASSERT_TRUE(s);
  EXPECT_TRUE(fetcher_.requests().empty());
}

TEST_F(OrchestratorTest, FinishedTasksRunsAndSamplesOlderThanTheHistoryKeepArePruned) {
  add_source("a");
  set("store.history_keep", "2h");
  const store::Time old = store::now() - std::chrono::hours(3);
  ASSERT_TRUE(st().update([&](store::WriteTxn& txn) -> std::expected<void, store::Error> {
    store::NewTask t;
    t.type = store::TaskType::kExtract;
    t.source = "a";
    auto id = st().tasks().enqueue(txn, t, old);
    if (!id) return std::unexpected(id.error());
    if (auto c = st().tasks().claim(txn, "x", std::chrono::hours(1), old); !c) {
      return std::unexpected(c.error());
    }
    if (auto ok = st().tasks().complete(txn, *id, "x", old); !ok) return ok;
    store::Run r;
    r.source = "a";
    r.kind = "extract";
    r.started_at = old;
    if (auto rid = st().runs().add(txn, r); !rid) return std::unexpected(rid.error());
    return st().metrics().record(txn, "a", "records", old, 5);
  }));
  fetcher_.respond(url_of("a"), fake_response(url_of("a"), items_page(2)));
  run(options());
  EXPECT_NE(log_text().find("pruned 3 task(s), run(s) and sample(s)"), std::string::npos)
      << log_text();
  EXPECT_EQ(count(store::TaskState::kDone), 1u);  // the new extraction's
  EXPECT_EQ(runs("a").size(), 1u);
}

}  // namespace
}  // namespace host::orchestrator
