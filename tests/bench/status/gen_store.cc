// status_bench_store: fills a store with the fleet the status benchmark
// times the operator commands against (tests/bench/status/run.sh).
//
//   status_bench_store DIR [--sources N] [--tasks N]
//
// N sources (default 10,000), each with an active parser version; health
// rows in mixed states (about 80% ACTIVE, 10% DEGRADED, 5% QUARANTINED, 3%
// DEAD; 2% without a row, as new sources are) with a few transitions each
// and a last error; and a queue of N tasks (default 100,000): mostly
// PENDING, some IN_PROGRESS, FAILED, DONE and CANCELLED, of every type.
// DIR must not hold a store yet.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "store/store.h"

namespace {

using namespace std::chrono_literals;

std::string source_name(std::size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "source-%05zu", i);
  return buf;
}

std::expected<void, store::Error> add_sources(const store::Store& st, store::WriteTxn& txn,
                                              std::size_t n, store::Time now) {
  const store::HealthState states[] = {store::HealthState::kActive, store::HealthState::kDegraded,
                                       store::HealthState::kQuarantined, store::HealthState::kDead};
  for (std::size_t i = 0; i < n; ++i) {
    store::Source src;
    src.name = source_name(i);
    src.url = "https://" + src.name + ".example/catalogue/";
    src.enabled = i % 50 != 7;
    src.created_at = src.updated_at = now - 30 * 24h;
    if (auto ok = st.sources().put(txn, src); !ok) return ok;
    store::NewParserVersion v;
    v.script = "-- parser for " + src.name + "\nreturn require('sdk').BaseParser:extend{}\n";
    v.created_at = src.created_at;
    auto number = st.versions().add(txn, src.name, v);
    if (!number) return std::unexpected(number.error());
    if (auto ok = st.versions().promote(txn, src.name, *number, src.created_at); !ok) return ok;

    const std::size_t bucket = i % 100;
    if (bucket >= 98) continue;  // new: no health row yet
    const store::HealthState state = bucket < 80   ? states[0]
                                     : bucket < 90 ? states[1]
                                     : bucket < 95 ? states[2]
                                                   : states[3];
    // Its history: ACTIVE first, then each worse state up to the current one.
    store::SourceHealth h;
    h.source = src.name;
    h.last_success = now - std::chrono::minutes(5 + i % 600);
    for (std::size_t s = 0; s <= static_cast<std::size_t>(state); ++s) {
      h.state = states[s];
      h.failures_in_row = static_cast<std::uint32_t>(s * 3);
      if (s > 0) {
        h.last_failure = now - std::chrono::minutes(4 - s);
        h.last_error = "timeout: the script used 2.0s of CPU time (limit 2s) on page " +
                       std::to_string(i) + "; the page may have grown";
      }
      h.updated_at = now - std::chrono::hours(24 - 4 * s);
      if (auto ok = st.health().put(txn, h, s == 0 ? "first run" : "failures in a row"); !ok) {
        return ok;
      }
    }
  }
  return {};
}

std::expected<void, store::Error> add_tasks(const store::Store& st, store::WriteTxn& txn,
                                            std::size_t n, std::size_t sources, store::Time now) {
  const store::TaskType types[] = {store::TaskType::kExtract, store::TaskType::kExtract,
                                   store::TaskType::kExtract, store::TaskType::kScout,
                                   store::TaskType::kRepair,  store::TaskType::kValidate,
                                   store::TaskType::kBuild};
  for (std::size_t i = 0; i < n; ++i) {
    store::NewTask t;
    t.type = types[i % 7];
    t.source = source_name(i % sources);
    t.priority = static_cast<std::int32_t>(i % 10);
    t.payload = R"({"url":"https://)" + t.source + R"(.example/catalogue/page-)" +
                std::to_string(i) + R"(.html"})";
    if (i % 20 == 3) t.not_before = now + std::chrono::minutes(i % 120);
    auto id = st.tasks().enqueue(txn, t, now - std::chrono::seconds(n - i));
    if (!id) return std::unexpected(id.error());
  }
  // Claim 2% of them; of those, a quarter each are done, failed, cancelled
  // and still running.
  for (std::size_t i = 0; i < n / 50; ++i) {
    const std::string owner = "orchestrator-" + std::to_string(i % 4);
    auto claimed = st.tasks().claim(txn, owner, 10min, now);
    if (!claimed) return std::unexpected(claimed.error());
    if (!*claimed) break;
    const std::uint64_t id = (*claimed)->id;
    std::expected<void, store::Error> ok;
    switch (i % 4) {
      case 0:
        ok = st.tasks().complete(txn, id, owner, now);
        break;
      case 1:
        ok = st.tasks().fail(txn, id, owner, "http 503 from the site after 3 retries", now);
        break;
      case 2:
        ok = st.tasks().cancel(txn, id, now);
        break;
      default:
        break;
    }
    if (!ok) return ok;
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: status_bench_store DIR [--sources N] [--tasks N]\n");
    return 2;
  }
  std::size_t sources = 10'000;
  std::size_t tasks = 100'000;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--sources") == 0) {
      sources = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (std::strcmp(argv[i], "--tasks") == 0) {
      tasks = std::strtoull(argv[i + 1], nullptr, 10);
    } else {
      std::fprintf(stderr, "status_bench_store: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (sources == 0) {
    std::fprintf(stderr, "status_bench_store: --sources must be at least 1\n");
    return 2;
  }
  store::OpenOptions options;
  options.create_if_missing = true;
  auto st = store::Store::open(argv[1], options);
  if (!st) {
    std::fprintf(stderr, "status_bench_store: %s\n", st.error().message.c_str());
    return 1;
  }
  const store::Time now = store::now();
  auto r = st->update([&](store::WriteTxn& txn) { return add_sources(*st, txn, sources, now); });
  if (r)
    r = st->update([&](store::WriteTxn& txn) { return add_tasks(*st, txn, tasks, sources, now); });
  if (!r) {
    std::fprintf(stderr, "status_bench_store: %s\n", r.error().message.c_str());
    return 1;
  }
  std::printf("store at %s: %zu sources, %zu tasks\n", argv[1], sources, tasks);
  return 0;
}
