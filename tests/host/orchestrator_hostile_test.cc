// The orchestrator against the hostile server: every misbehaviour ends as a
// recorded failure of the right kind, the host stays up, and a good source
// on the same server is unaffected.
#include <gtest/gtest.h>

#include <filesystem>

#include "host/fetch/curl_fetcher.h"
#include "host/orchestrator/orchestrator.h"
#include "tests/host/fetch_hostile_server.h"
#include "tests/host/fleet.h"

namespace host::orchestrator {
namespace {

// One record per page whatever it holds, so any page that arrives parses.
const char* kParser = R"(local sdk = require("sdk")
local P = sdk.BaseParser:extend {
  name = "any", schema = { size = { type = "integer", required = true } },
}
function P:parse(page) return { { size = #page.body } } end
return P
)";

TEST(OrchestratorHostile, EveryMisbehaviourIsARecordedFailureOfItsKind) {
  fetch::testing::HostileServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  // source -> (target, health failure kind or "ok", fetch kind in the message)
  struct Case {
    std::string target, kind, fetch_kind;
  };
  const std::map<std::string, Case> cases = {
      {"good", {"/ok", "ok", ""}},
      {"drip", {"/drip?every=200", "network", "timeout"}},
      {"hang", {"/hang", "network", "timeout"}},
      {"endless", {"/endless", "blocked", "too_large"}},
      {"bomb", {"/gzip-bomb", "blocked", "too_large"}},
      {"loop", {"/loop-a", "network", "redirect"}},
      {"outside", {"/redirect?to=" + server.url("/ok", "127.0.0.2"), "blocked", "blocked"}},
      {"png", {"/wrong-type", "blocked", "content_type"}},
      {"liar", {"/lying-type", "blocked", "content_type"}},
      {"binary", {"/binary", "blocked", "content_type"}},
      {"badutf8", {"/invalid-utf8", "ok", ""}},
      {"limited", {"/429?times=100&after=1", "http_status", "http_status"}},
      {"errors", {"/500?times=100", "http_status", "http_status"}},
      {"recovers", {"/500?times=1", "ok", ""}},
      {"robots", {"/private/page", "robots", "robots"}},
      {"reset", {"/reset", "network", "network"}},
      {"gone", {"/status?code=404", "http_status", "http_status"}},
  };

  testing::TempDir dir("sdp-hostile-orch");
  store::OpenOptions oo;
  oo.create_if_missing = true;
  auto st = store::Store::open(dir.path + "/data", oo);
  ASSERT_TRUE(st) << st.error().message;
  ASSERT_TRUE(st->update([&](store::WriteTxn& txn) -> std::expected<void, store::Error> {
    // Only 127.0.0.1 is allowed: the redirect to 127.0.0.2 must be refused.
    if (auto ok = testing::set_all(*st, txn,
                                   {{"fetch.allow_hosts", "127.0.0.1"},
                                    {"fetch.min_delay", "0"},
                                    {"fetch.max_per_host", "32"},
                                    {"fetch.retries", "1"},
                                    {"fetch.timeout", "2"},
                                    {"fetch.max_body", "1MiB"}});
        !ok) {
      return ok;
    }
    for (const auto& [name, c] : cases) {
      if (auto ok = testing::add_source(*st, txn, name, server.url(c.target), kParser); !ok) {
        return ok;
      }
    }
    return {};
  }));

  sandbox::SandboxOptions so;
  so.workers = 2;
  auto box = sandbox::Sandbox::create(so);
  ASSERT_TRUE(box);
  auto fetcher = fetch::make_curl_fetcher();
  ASSERT_TRUE(fetcher);
  Options opt;
  opt.workers = 2;
  opt.once = true;
  Orchestrator orch(*st, **fetcher, **box, opt);
  auto summary = orch.run();
  ASSERT_TRUE(summary) << summary.error();

  auto txn = st->read();
  for (const auto& [name, c] : cases) {
    auto runs = st->runs().recent_for_source(*txn, name, 10);
    ASSERT_TRUE(runs);
    ASSERT_EQ(runs->size(), 1u) << name;
    const store::Run& r = runs->front();
    if (c.kind == "ok") {
      EXPECT_EQ(r.state, store::RunState::kSucceeded) << name << ": " << r.message;
      EXPECT_EQ(*st->silver().count(*txn, name), 1u) << name;
      continue;
    }
    EXPECT_EQ(r.state, store::RunState::kFailed) << name;
    EXPECT_EQ(r.error_kind, c.kind) << name << ": " << r.message;
    EXPECT_TRUE(r.message.starts_with(c.fetch_kind + ":")) << name << ": " << r.message;
    auto h = st->health().get(*txn, name);
    ASSERT_TRUE(h && *h);
    EXPECT_EQ((*h)->state, store::HealthState::kDegraded) << name;
    EXPECT_FALSE((*h)->last_error.empty());
  }
  EXPECT_EQ(summary->progress.failed + summary->progress.done, cases.size());
}

}  // namespace
}  // namespace host::orchestrator
