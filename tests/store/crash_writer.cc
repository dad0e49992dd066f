// A child process for the store's crash and multi-process tests. It writes
// numbered batches to a store, one transaction each, and prints
// "committed N" after each commit returns. Each batch touches most tables,
// so that a kill at any moment tests them all:
//   bronze: one page (every third batch repeats an earlier body: dedup),
//           then retention keeping 5 snapshots;
//   silver: kRecordsPerBatch records "b<N>-r<J>" plus kShared records
//           rewritten every batch (history), all with lineage to the page;
//           the records of batch N - kLiveBatches are erased, so that their
//           snapshot loses its pins and retention deletes it;
//   tasks:  one enqueued, claimed and completed; health, metrics, a run;
//   settings: "crash.last_batch" = N, the batch marker the test reads.
//
// Usage: store_crash_writer DIR SEED BATCHES [INITIAL_MAP_BYTES]
// BATCHES 0 means "until killed". It resumes after the last batch in DIR.
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "store/store.h"

namespace {

constexpr int kRecordsPerBatch = 20;
constexpr int kShared = 5;
constexpr std::uint64_t kLiveBatches = 10;
constexpr char kSource[] = "crash";

std::string body_for(std::uint64_t seed, std::uint64_t batch) {
  // Every third batch reuses the body of the batch before it.
  std::uint64_t key = batch % 3 == 0 && batch > 1 ? batch - 1 : batch;
  std::mt19937_64 rng(seed * 1'000'003 + key);
  std::string body(1024 + rng() % (48 * 1024), '\0');
  for (char& c : body) c = static_cast<char>('a' + rng() % 26);
  return body;
}

int fail(const store::Error& error) {
  std::fprintf(stderr, "store_crash_writer: %s\n", error.message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: store_crash_writer DIR SEED BATCHES [INITIAL_MAP_BYTES]\n");
    return 2;
  }
  std::string dir = argv[1];
  std::uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  std::uint64_t batches = std::strtoull(argv[3], nullptr, 10);
  store::OpenOptions options;
  options.create_if_missing = true;
  options.initial_map_size = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : std::size_t{1} << 20;
  auto opened = store::Store::open(dir, options);
  if (!opened) return fail(opened.error());
  store::Store& s = *opened;

  // The source's parser version 1, once.
  auto setup = s.update([&](store::WriteTxn& txn) -> std::expected<void, store::Error> {
    auto existing = s.versions().get(txn, kSource, 1);
    if (!existing) return std::unexpected(existing.error());
    if (*existing) return {};
    store::NewParserVersion v;
    v.script = "return {}";
    v.created_at = store::now();
    auto number = s.versions().add(txn, kSource, v);
    if (!number) return std::unexpected(number.error());
    return s.versions().promote(txn, kSource, *number, store::now());
  });
  if (!setup) return fail(setup.error());

  std::uint64_t first = 1;
  {
    auto txn = s.read();
    if (!txn) return fail(txn.error());
    auto last = s.settings().get(*txn, "crash.last_batch");
    if (!last) return fail(last.error());
    if (*last) first = std::stoull((*last)->value) + 1;
  }

  for (std::uint64_t b = first; batches == 0 || b < first + batches; ++b) {
    auto committed = s.update([&](store::WriteTxn& txn) -> std::expected<void, store::Error> {
      store::Time t = store::from_micros(static_cast<std::int64_t>(b) * 1000);
      store::FetchedPage page;
      page.source = kSource;
      page.url = "https://crash.test/" + std::to_string(b);
      page.fetched_at = t;
      page.status = 200;
      page.content_type = "text/html";
      page.body = body_for(seed, b);
      auto put = s.bronze().put(txn, page);
      if (!put) return std::unexpected(put.error());

      std::vector<store::RecordInput> records;
      for (int j = 0; j < kRecordsPerBatch; ++j) {
        records.push_back({"b" + std::to_string(b) + "-r" + std::to_string(j),
                           {{"batch", b}, {"j", j}, {"pad", std::string(100, 'x')}}});
      }
      for (int j = 0; j < kShared; ++j) {
        records.push_back({"shared-" + std::to_string(j), {{"batch", b}}});
      }
      store::Lineage lineage{put->id, 1, t};
      if (auto up = s.silver().upsert(txn, kSource, lineage, records); !up) {
        return std::unexpected(up.error());
      }
      if (b > kLiveBatches) {
        for (int j = 0; j < kRecordsPerBatch; ++j) {
          std::string key = "b" + std::to_string(b - kLiveBatches) + "-r" + std::to_string(j);
          if (auto erased = s.silver().erase(txn, kSource, key); !erased) {
            return std::unexpected(erased.error());
          }
        }
      }
      if (auto kept = s.bronze().apply_retention(txn, kSource, 5); !kept) {
        return std::unexpected(kept.error());
      }

      store::NewTask task;
      task.type = store::TaskType::kExtract;
      task.source = kSource;
      task.payload = std::to_string(b);
      if (auto id = s.tasks().enqueue(txn, task, t); !id) return std::unexpected(id.error());
      auto claimed = s.tasks().claim(txn, "crash-writer", std::chrono::seconds(30), t);
      if (!claimed) return std::unexpected(claimed.error());
      if (*claimed) {
        if (auto done = s.tasks().complete(txn, (*claimed)->id, "crash-writer", t); !done) {
          return std::unexpected(done.error());
        }
      }

      store::SourceHealth health;
      health.source = kSource;
      health.state = static_cast<store::HealthState>(b % 4);
      health.updated_at = t;
      if (auto h = s.health().put(txn, health, "batch " + std::to_string(b)); !h) {
        return std::unexpected(h.error());
      }
      if (auto m = s.metrics().record(txn, kSource, "records", t, kRecordsPerBatch); !m) {
        return std::unexpected(m.error());
      }
      store::Run run;
      run.source = kSource;
      run.kind = "extract";
      run.state = store::RunState::kSucceeded;
      run.started_at = t;
      run.snapshot_id = put->id;
      run.records = kRecordsPerBatch;
      if (auto r = s.runs().add(txn, run); !r) return std::unexpected(r.error());
      return s.settings().set(txn, "crash.last_batch", std::to_string(b), t);
    });
    if (!committed) return fail(committed.error());
    std::printf("committed %llu\n", static_cast<unsigned long long>(b));
    std::fflush(stdout);
  }
  return 0;
}
