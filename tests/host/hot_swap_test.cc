// Hot swap under load: 100 sources extract continuously from a local site
// while one of them is promoted and rolled back 1,000 times. No run fails,
// every silver record names the version that really produced it, and no run
// mixes two versions.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "host/fetch/curl_fetcher.h"
#include "host/orchestrator/orchestrator.h"
#include "tests/host/fixture_site.h"
#include "tests/host/fleet.h"

namespace host::testing {
namespace {

constexpr int kSources = 100;
constexpr int kSwaps = 1000;
constexpr int kRecords = 20;

std::string page() { return tagged_page(kRecords); }

TEST(HotSwap, PromoteAndRollBackAThousandTimesUnderLoad) {
  FixtureSite site(
      [](std::string_view path) {
        if (path == "/robots.txt") return SiteResponse{404, "text/plain", ""};
        // The swapped source answers slowly, so swaps land while its runs are in flight.
        if (path == "/s/0") std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return SiteResponse{200, "text/html", page()};
      },
      16);
  ASSERT_TRUE(site.ok());

  TempDir dir("sdp-hotswap");
  store::OpenOptions oo;
  oo.create_if_missing = true;
  auto st = store::Store::open(dir.path + "/data", oo);
  ASSERT_TRUE(st) << st.error().message;

  // Sources s0..s99, each with version 1 ("A") active; s0 also has version 2 ("B").
  ASSERT_TRUE(st->update([&](store::WriteTxn& txn) -> std::expected<void, store::Error> {
    if (auto ok = set_all(*st, txn,
                          {{"fetch.allow_private", "true"},
                           {"fetch.min_delay", "0"},
                           {"fetch.max_per_host", "64"},
                           {"fetch.retries", "0"},
                           {"source.interval", "1"}});
        !ok) {
      return ok;
    }
    for (int i = 0; i < kSources; ++i) {
      if (auto ok = add_source(*st, txn, "s" + std::to_string(i),
                               site.url("/s/" + std::to_string(i)), tagged_parser("A"));
          !ok) {
        return ok;
      }
    }
    store::NewParserVersion b;
    b.script = tagged_parser("B");
    b.created_at = store::now();
    if (auto n = st->versions().add(txn, "s0", b); !n) return std::unexpected(n.error());
    return {};
  }));

  sandbox::SandboxOptions so;
  so.workers = 2;
  auto box = sandbox::Sandbox::create(so);
  ASSERT_TRUE(box) << box.error().message;
  auto fetcher = fetch::make_curl_fetcher();
  ASSERT_TRUE(fetcher);
  orchestrator::Options opt;
  opt.workers = 2;
  std::mutex log_mu;
  std::vector<std::string> failures;
  opt.log = [&](std::string_view line) {
    if (line.find("FAILED") != std::string_view::npos ||
        line.find("failed") != std::string_view::npos) {
      std::lock_guard lock(log_mu);
      failures.emplace_back(line);
    }
  };
  orchestrator::Orchestrator orch(*st, **fetcher, **box, opt);
  std::thread runner([&] {
    auto s = orch.run();
    EXPECT_TRUE(s) << s.error();
  });

  // Promotions, with the time each committed.
  std::vector<std::pair<store::Time, std::uint32_t>> promotions{{store::Time{}, 1}};
  std::atomic<bool> swapping{true};
  std::thread extra([&] {
    // Keep s0 busy: an explicit extraction whenever none is queued.
    while (swapping) {
      auto txn = st->read();
      auto c = st->tasks().list_for_source(*txn, "s0");
      bool queued = false;
      for (const auto& t : *c) {
        queued |= t.state == store::TaskState::kPending;
      }
      txn->abort();
      if (!queued) {
        auto ok = st->update([&](store::WriteTxn& w) {
          store::NewTask t;
          t.type = store::TaskType::kExtract;
          t.source = "s0";
          t.priority = 100;
          return st->tasks().enqueue(w, t, store::now());
        });
        EXPECT_TRUE(ok);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  for (int i = 0; i < kSwaps; ++i) {
    const std::uint32_t to = i % 2 == 0 ? 2 : 1;  // promote B, roll back to A, ...
    auto ok = st->update(
        [&](store::WriteTxn& txn) { return st->versions().promote(txn, "s0", to, store::now()); });
    ASSERT_TRUE(ok) << ok.error().message;
    promotions.emplace_back(store::now(), to);
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  swapping = false;
  extra.join();
  // Let the runs in flight finish, then stop.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  orch.stop();
  runner.join();

  {
    std::lock_guard lock(log_mu);
    EXPECT_TRUE(failures.empty()) << failures.size() << " failures, first: " << failures.front();
  }
  auto txn = st->read();
  ASSERT_TRUE(txn);
  // No run failed, on any source.
  auto recent = st->runs().recent(*txn, 1'000'000);
  ASSERT_TRUE(recent);
  std::size_t s0_runs = 0;
  std::map<std::uint64_t, std::uint32_t> version_of_snapshot;
  for (const auto& r : *recent) {
    EXPECT_EQ(r.state, store::RunState::kSucceeded) << r.source << ": " << r.message;
    if (r.source != "s0") continue;
    ++s0_runs;
    ASSERT_TRUE(r.parser_version && r.snapshot_id);
    version_of_snapshot[*r.snapshot_id] = *r.parser_version;
    // The version used was the active one at some moment between the run's
    // start and one second later.
    auto active_at = [&](store::Time t) {
      std::uint32_t v = 1;
      for (const auto& [at, to] : promotions) {
        if (at <= t) v = to;
      }
      return v;
    };
    bool seen = active_at(r.started_at) == *r.parser_version;
    for (const auto& [at, to] : promotions) {
      seen |= at > r.started_at && at <= r.started_at + std::chrono::seconds(1) &&
              to == *r.parser_version;
    }
    EXPECT_TRUE(seen) << "run " << r.id << " used version " << *r.parser_version;
  }
  EXPECT_GE(s0_runs, 20u) << "too few runs of s0 overlapped the swaps";
  // Every s0 record revision, current or past, says which script made it, and
  // that script is the version its lineage names; all records from one
  // snapshot (one run) come from one version.
  std::size_t revisions = 0;
  for (int i = 0; i < kRecords; ++i) {
    auto hist = st->silver().history(*txn, "s0", "r" + std::to_string(i));
    ASSERT_TRUE(hist);
    auto cur = st->silver().get(*txn, "s0", "r" + std::to_string(i));
    ASSERT_TRUE(cur && *cur);
    hist->push_back(**cur);
    for (const auto& rec : *hist) {
      ++revisions;
      const std::uint32_t v = rec.lineage.parser_version;
      EXPECT_EQ(rec.data["made_by"], v == 1 ? "A" : "B") << "record " << rec.key;
      auto it = version_of_snapshot.find(rec.lineage.snapshot_id);
      if (it != version_of_snapshot.end()) {
        EXPECT_EQ(it->second, v) << "snapshot " << rec.lineage.snapshot_id << " mixes versions";
      }
    }
  }
  EXPECT_GT(revisions, static_cast<std::size_t>(kRecords) * 10);
  // Every other source ran on version 1 only.
  for (int i = 1; i < kSources; i += 9) {
    auto rec = st->silver().get(*txn, "s" + std::to_string(i), "r0");
    ASSERT_TRUE(rec && *rec);
    EXPECT_EQ((*rec)->lineage.parser_version, 1u);
  }
  txn->abort();
  auto report = st->verify();
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->ok()) << report->damage.size();
}

}  // namespace
}  // namespace host::testing
