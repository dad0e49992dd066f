// host status | history | revive, driven as a user would, over sources,
// health rows, runs and tasks seeded through the store API.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "store/store.h"
#include "tests/host/run_host.h"

namespace host::testing {
namespace {

// The line with each run of spaces made one: table rows compared without
// their column padding.
std::string squeeze(const std::string& line) {
  std::string out;
  for (char c : line) {
    if (c != ' ' || out.empty() || out.back() != ' ') out += c;
  }
  return out;
}

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;
using store::HealthState;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The line of `out` that contains `part`, or "".
std::string line_with(const std::string& out, const std::string& part) {
  for (const auto& line : lines(out)) {
    if (contains(line, part)) return line;
  }
  return "";
}

class StatusCommand : public HostCommandTest {
 protected:
  store::Store open() {
    store::OpenOptions options;
    options.create_if_missing = true;
    auto st = store::Store::open(data_, options);
    EXPECT_TRUE(st) << st.error().message;
    return std::move(*st);
  }

  // Runs fn(store, txn) in one write transaction.
  template <class Fn>
  void write(Fn fn) {
    store::Store st = open();
    auto r = st.update(
        [&](store::WriteTxn& txn) -> std::expected<void, store::Error> { return fn(st, txn); });
    ASSERT_TRUE(r) << r.error().message;
  }

  void add_source(const std::string& name, bool enabled = true, bool with_version = false) {
    write([&](store::Store& st, store::WriteTxn& txn) -> std::expected<void, store::Error> {
      store::Source src;
      src.name = name;
      src.url = "http://" + name + ".test/";
      src.enabled = enabled;
      src.created_at = src.updated_at = store::now();
      if (auto ok = st.sources().put(txn, src); !ok) return ok;
      if (!with_version) return {};
      store::NewParserVersion v;
      v.script = "return 1";
      v.created_at = store::now();
      auto n = st.versions().add(txn, name, v);
      if (!n) return std::unexpected(n.error());
      return st.versions().promote(txn, name, *n, store::now());
    });
  }

  void put_health(const std::string& name, HealthState state, std::uint32_t failures,
                  std::optional<store::Time> last_success, const std::string& error,
                  const std::string& reason) {
    write([&](store::Store& st, store::WriteTxn& txn) {
      store::SourceHealth h;
      h.source = name;
      h.state = state;
      h.failures_in_row = failures;
      h.last_success = last_success;
      if (!error.empty()) h.last_failure = store::now() - 1min;
      h.last_error = error;
      h.updated_at = store::now();
      return st.health().put(txn, h, reason);
    });
  }

  void enqueue(const std::string& name, store::TaskType type) {
    write([&](store::Store& st, store::WriteTxn& txn) -> std::expected<void, store::Error> {
      store::NewTask t;
      t.type = type;
      t.source = name;
      auto id = st.tasks().enqueue(txn, t, store::now());
      if (!id) return std::unexpected(id.error());
      return {};
    });
  }

  store::SourceHealth health(const std::string& name) {
    store::Store st = open();
    auto txn = st.read();
    auto h = st.health().get(*txn, name);
    EXPECT_TRUE(h && *h);
    return **h;
  }
  std::vector<store::HealthTransition> transitions(const std::string& name) {
    store::Store st = open();
    auto txn = st.read();
    auto t = st.health().transitions(*txn, name);
    EXPECT_TRUE(t);
    return *t;
  }

  // Four sources, one per state; "fresh" has no health row yet.
  void seed_fleet() {
    add_source("books", true, true);
    add_source("fresh");
    add_source("quotes");
    add_source("shop");
    add_source("wiki", false);
    put_health("books", HealthState::kActive, 0, store::now() - 3min, "", "first run");
    put_health("quotes", HealthState::kDegraded, 2, store::now() - 2h,
               "timeout: the script used 2.0s of CPU time", "2 failures in a row");
    put_health("shop", HealthState::kQuarantined, 5, std::nullopt, "http 503 from shop.test",
               "5 failures in a row");
    put_health("wiki", HealthState::kDead, 40, store::now() - 72h, "schema: every record broke it",
               "failing for a week");
    enqueue("books", store::TaskType::kExtract);
    enqueue("shop", store::TaskType::kRepair);
  }
};

TEST_F(StatusCommand, WithoutAStoreSaysHowToAddASource) {
  const CommandResult r = host({"status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "no sources yet")) << r.out;
  EXPECT_TRUE(contains(r.out, "host add")) << r.out;
  const json j = host_json({"status", "--json"});
  EXPECT_EQ(j["totals"]["sources"], 0);
  EXPECT_EQ(j["sources"], json::array());
  EXPECT_FALSE(fs::exists(data_));
}

TEST_F(StatusCommand, AnEmptyStoreHasNoSourcesYet) {
  enqueue("ghost", store::TaskType::kScout);
  const CommandResult r = host({"status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "no sources yet")) << r.out;
}

TEST_F(StatusCommand, TotalsThenOneLinePerSource) {
  seed_fleet();
  const CommandResult r = host({"status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = lines(r.out);
  ASSERT_GE(out.size(), 8u) << r.out;
  EXPECT_EQ(out[0],
            "5 source(s):  ✅ 2 ACTIVE  ⚠️ 1 DEGRADED  🔒 1 QUARANTINED  💀 1 DEAD");
  EXPECT_EQ(out[1], "tasks: 2 pending, 0 in progress, 0 failed ('host tasks' lists them)");
  EXPECT_EQ(squeeze(line_with(r.out, "books")), "✅ books ACTIVE 0 3m ago") << r.out;
  // A source without a health row is new, hence ACTIVE, never succeeded.
  EXPECT_EQ(squeeze(line_with(r.out, "fresh")), "✅ fresh ACTIVE 0 never") << r.out;
  EXPECT_EQ(
      squeeze(line_with(r.out, "quotes")),
      "⚠️ quotes DEGRADED 2 2h ago the parser ran out of CPU time: the script used 2.0s of "
      "CPU…")
      << r.out;
  EXPECT_EQ(squeeze(line_with(r.out, "shop")), "🔒 shop QUARANTINED 5 never http 503 from shop.test")
      << r.out;
  EXPECT_TRUE(squeeze(line_with(r.out, "wiki"))
                  .starts_with("💀 wiki (disabled) DEAD 40 3d ago the records broke the parser's "
                               "schema"))
      << r.out;
}

TEST_F(StatusCommand, JsonHasExactlyTheDocumentedShape) {
  seed_fleet();
  const json j = host_json({"status", "--json"});
  ASSERT_EQ(j.size(), 2u);
  const json& totals = j["totals"];
  EXPECT_EQ(totals["sources"], 5);
  EXPECT_EQ(totals["ACTIVE"], 2);
  EXPECT_EQ(totals["DEGRADED"], 1);
  EXPECT_EQ(totals["QUARANTINED"], 1);
  EXPECT_EQ(totals["DEAD"], 1);
  EXPECT_EQ(totals.size(), 6u);
  EXPECT_EQ(
      totals["tasks"],
      json({{"PENDING", 2}, {"IN_PROGRESS", 0}, {"DONE", 0}, {"FAILED", 0}, {"CANCELLED", 0}}));
  ASSERT_EQ(j["sources"].size(), 5u);
  for (const json& s : j["sources"]) {
    EXPECT_EQ(s.size(), 10u) << s.dump();
    for (const char* key : {"name", "state", "failures_in_row", "last_success", "last_error",
                            "last_failure", "state_since", "url", "enabled", "active_version"}) {
      EXPECT_TRUE(s.contains(key)) << key;
    }
    for (const char* key : {"last_success", "last_failure", "state_since"}) {
      EXPECT_TRUE(s[key].is_null() || is_iso_time(s[key].get<std::string>())) << key;
    }
  }
  const json& books = j["sources"][0];
  EXPECT_EQ(books["name"], "books");
  EXPECT_EQ(books["active_version"], 1);
  EXPECT_EQ(books["url"], "http://books.test/");
  EXPECT_TRUE(books["enabled"]);
  const json& fresh = j["sources"][1];
  EXPECT_EQ(fresh["state"], "ACTIVE");
  EXPECT_TRUE(fresh["last_success"].is_null());
  EXPECT_TRUE(fresh["state_since"].is_null());
  EXPECT_TRUE(fresh["active_version"].is_null());
  const json& quotes = j["sources"][2];
  EXPECT_EQ(quotes["state"], "DEGRADED");
  EXPECT_EQ(quotes["failures_in_row"], 2);
  EXPECT_EQ(quotes["last_error"], "timeout: the script used 2.0s of CPU time");
  EXPECT_FALSE(j["sources"][4]["enabled"]);
}

TEST_F(StatusCommand, HistoryShowsTransitionsAndRunsNewestFirst) {
  seed_fleet();
  put_health("quotes", HealthState::kQuarantined, 5, store::now() - 2h, "runtime: boom",
             "5 failures in a row");
  write([&](store::Store& st, store::WriteTxn& txn) -> std::expected<void, store::Error> {
    for (int i = 0; i < 3; ++i) {
      store::Run run;
      run.source = "quotes";
      run.kind = "extract";
      run.state = i == 2 ? store::RunState::kFailed : store::RunState::kSucceeded;
      run.started_at = store::now() - std::chrono::minutes(10 - i);
      run.finished_at = run.started_at + std::chrono::milliseconds(1500);
      run.snapshot_id = 40 + i;
      run.parser_version = 3;
      run.records = i == 2 ? 0 : 20;
      run.rejects = i;
      if (i == 2) {
        run.error_kind = "runtime";
        run.message = "quotes.lua:12: attempt to index a nil value";
      }
      if (auto id = st.runs().add(txn, run); !id) return std::unexpected(id.error());
    }
    return {};
  });
  const CommandResult r = host({"history", "quotes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "DEGRADED -> QUARANTINED  5 failures in a row")) << r.out;
  EXPECT_LT(r.out.find("DEGRADED -> QUARANTINED"), r.out.find("(new) -> DEGRADED")) << r.out;
  EXPECT_TRUE(contains(r.out, "runtime: quotes.lua:12: attempt to index a nil value")) << r.out;
  EXPECT_TRUE(contains(r.out, "1.5s")) << r.out;
  EXPECT_LT(r.out.find(" failed "), r.out.find(" succeeded ")) << r.out;

  const json j = host_json({"history", "quotes", "--json", "--limit", "2"});
  EXPECT_EQ(j["source"], "quotes");
  EXPECT_EQ(j["health"]["state"], "QUARANTINED");
  ASSERT_EQ(j["transitions"].size(), 2u);
  EXPECT_EQ(j["transitions"][0]["from"], "DEGRADED");
  EXPECT_EQ(j["transitions"][0]["to"], "QUARANTINED");
  EXPECT_EQ(j["transitions"][0]["reason"], "5 failures in a row");
  EXPECT_TRUE(j["transitions"][1]["from"].is_null());
  ASSERT_EQ(j["runs"].size(), 2u);
  const json& run = j["runs"][0];
  EXPECT_EQ(run["id"], 3);
  EXPECT_EQ(run["state"], "failed");
  EXPECT_EQ(run["duration_ms"], 1500);
  EXPECT_EQ(run["parser_version"], 3);
  EXPECT_EQ(run["snapshot_id"], 42);
  EXPECT_EQ(run["rejects"], 2);
  EXPECT_EQ(run["error_kind"], "runtime");
  EXPECT_EQ(run["message"], "quotes.lua:12: attempt to index a nil value");
  EXPECT_EQ(host_json({"history", "quotes", "--json", "--limit", "0"})["runs"].size(), 3u);
}

TEST_F(StatusCommand, HistoryOfASourceWithNothingYet) {
  add_source("fresh");
  const CommandResult r = host({"history", "fresh"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "fresh: ACTIVE")) << r.out;
  EXPECT_TRUE(contains(r.out, "last success never")) << r.out;
  EXPECT_EQ(lines(r.out).back(), "  none");
}

TEST_F(StatusCommand, HistoryAndReviveOfAnUnknownSourceFail) {
  add_source("books");
  for (const char* cmd : {"history", "revive"}) {
    const CommandResult r = host({cmd, "nope"});
    EXPECT_EQ(r.exit_code, 1) << cmd;
    EXPECT_TRUE(contains(r.err, "no source named 'nope' ('host status' lists them)")) << r.err;
  }
  fs::remove_all(data_);
  EXPECT_EQ(host({"history", "nope"}).exit_code, 1);
  EXPECT_EQ(host({"history"}).exit_code, 2);
  add_source("books");
  EXPECT_EQ(host({"history", "books", "--limit", "-1"}).exit_code, 2);
}

TEST_F(StatusCommand, ReviveBringsAQuarantinedSourceBackAndRecordsIt) {
  seed_fleet();
  const CommandResult r = host({"revive", "shop", "--reason", "site is back"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "shop: QUARANTINED -> ACTIVE (revived by operator: site is back)"))
      << r.out;
  // Queued work is left alone, and shown.
  EXPECT_TRUE(contains(r.out, "1 task(s) queued for shop")) << r.out;
  EXPECT_TRUE(contains(r.out, "repair  PENDING")) << r.out;
  const store::SourceHealth h = health("shop");
  EXPECT_EQ(h.state, HealthState::kActive);
  EXPECT_EQ(h.failures_in_row, 0u);
  EXPECT_EQ(h.last_error, "http 503 from shop.test");
  const auto t = transitions("shop");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].from, HealthState::kQuarantined);
  EXPECT_EQ(t[0].to, HealthState::kActive);
  EXPECT_EQ(t[0].reason, "revived by operator: site is back");
  EXPECT_EQ(host_json({"status", "--json"})["totals"]["QUARANTINED"], 0);
}

TEST_F(StatusCommand, ReviveOfADeadSourceWithNothingQueued) {
  seed_fleet();
  const CommandResult r = host({"revive", "wiki"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "wiki: DEAD -> ACTIVE (revived by operator)")) << r.out;
  EXPECT_TRUE(contains(r.out, "nothing is queued for wiki")) << r.out;
  EXPECT_EQ(transitions("wiki")[0].reason, "revived by operator");
}

TEST_F(StatusCommand, ReviveOfADegradedSourceSaysSo) {
  seed_fleet();
  const CommandResult r = host({"revive", "quotes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "quotes: DEGRADED -> ACTIVE")) << r.out;
  EXPECT_EQ(health("quotes").failures_in_row, 0u);
}

TEST_F(StatusCommand, ReviveOfAnActiveSourceDoesNothing) {
  seed_fleet();
  for (const char* name : {"books", "fresh"}) {
    const CommandResult r = host({"revive", name});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(contains(r.out, "already ACTIVE; nothing to do")) << r.out;
  }
  EXPECT_EQ(transitions("books").size(), 1u);
  EXPECT_TRUE(transitions("fresh").empty());
}

}  // namespace
}  // namespace host::testing
