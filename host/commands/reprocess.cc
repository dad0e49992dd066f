// host reprocess SOURCE [--version V]: re-runs a parser version over the
// stored bronze snapshots and rebuilds the source's silver, fetching nothing.
#include <atomic>
#include <iostream>
#include <memory>
#include <thread>

#include "host/cli/cli.h"
#include "host/cli/open_store.h"
#include "host/config/effective.h"
#include "host/pipeline/silver_records.h"
#include "host/util/cpus.h"
#include "sandbox/sandbox.h"

namespace host::cli {
namespace {

struct ReprocessArgs {
  std::string source;
  std::uint32_t version = 0;
};

struct SnapshotJob {
  std::uint64_t id = 0;
  sandbox::Page page;
  store::Time fetched_at;
  sandbox::RunOutcome outcome;
};

int run_reprocess(const Globals& g, const ReprocessArgs& a) {
  auto st = open_store(g, StoreMode::kRead);
  if (!st) return fail(st.error());
  std::vector<SnapshotJob> jobs;
  store::ParserVersion version;
  sandbox::Limits limits;
  {
    auto txn = st->read();
    if (!txn) return fail(txn.error().message);
    auto src = st->sources().get(*txn, a.source);
    if (!src) return fail(src.error().message);
    if (!*src) return fail("no source named '" + a.source + "' ('host status' lists the sources)");
    auto v = a.version != 0 ? st->versions().get(*txn, a.source, a.version)
                            : st->versions().active(*txn, a.source);
    if (!v) return fail(v.error().message);
    if (!*v) {
      return fail(a.version != 0
                      ? "source '" + a.source + "' has no parser version " +
                            std::to_string(a.version) + " ('host versions " + a.source +
                            "' lists them)"
                      : "source '" + a.source +
                            "' has no active parser version; promote one or pass --version");
    }
    version = **v;
    limits = config::sandbox_limits(*st, *txn, a.source);
    auto scan = st->bronze().scan(*txn, a.source);
    if (!scan) return fail(scan.error().message);
    for (;;) {
      auto s = scan->next();
      if (!s) return fail("cannot read bronze snapshots: " + s.error().message);
      if (!*s) break;
      SnapshotJob job;
      job.id = (*s)->snapshot.id;
      job.fetched_at = (*s)->snapshot.fetched_at;
      job.page.url = (*s)->snapshot.url;
      job.page.status = (*s)->snapshot.status;
      for (const auto& h : (*s)->snapshot.headers) job.page.headers.emplace_back(h.name, h.value);
      job.page.body = std::string((*s)->body);
      jobs.push_back(std::move(job));
    }
  }
  if (jobs.empty()) {
    return fail("source '" + a.source + "' has no stored pages to reprocess");
  }
  const unsigned workers = std::max(
      1u, std::min<unsigned>(util::usable_cpu_count(), static_cast<unsigned>(jobs.size())));
  sandbox::SandboxOptions options;
  options.workers = workers;
  auto box = sandbox::Sandbox::create(options);
  if (!box) return fail(box.error().message);
  const sandbox::Script script{a.source + ".lua", version.script};
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < workers; ++t) {
    threads.emplace_back([&] {
      for (std::size_t i = next++; i < jobs.size(); i = next++) {
        jobs[i].outcome = (*box)->run(script, jobs[i].page, limits);
      }
    });
  }
  for (auto& t : threads) t.join();

  // Inputs must outlive the spans in the batches.
  std::vector<std::vector<store::RecordInput>> inputs;
  std::vector<store::SnapshotRecords> batches;
  std::size_t failed = 0;
  inputs.reserve(jobs.size());
  for (const auto& job : jobs) {
    if (!job.outcome.ok()) {
      ++failed;
      std::cerr << "snapshot " << job.id << " (" << job.page.url
                << "): " << sandbox::to_string(job.outcome.error->kind) << ": "
                << job.outcome.error->message << "\n";
      continue;
    }
    inputs.push_back(pipeline::to_record_inputs(job.outcome));
    store::Lineage lineage{job.id, version.number, store::now()};
    batches.push_back({lineage, inputs.back()});
  }
  if (batches.empty()) {
    return fail("version " + std::to_string(version.number) + " failed on every one of the " +
                std::to_string(jobs.size()) + " stored pages; silver was left unchanged");
  }
  auto stats = st->update(
      [&](store::WriteTxn& txn) { return st->silver().replace_source(txn, a.source, batches); });
  if (!stats) return fail("could not write silver: " + stats.error().message);
  std::cout << "reprocessed " << jobs.size() << " snapshot(s) of " << a.source << " with version "
            << version.number << ": " << stats->inserted << " inserted, " << stats->changed
            << " changed, " << stats->unchanged << " unchanged, " << stats->deleted << " deleted; "
            << failed << " snapshot(s) failed\n";
  return failed == 0 ? kExitOk : kExitFailed;
}

}  // namespace

Command register_reprocess(CLI::App& root, const Globals& globals) {
  auto a = std::make_shared<ReprocessArgs>();
  CLI::App* app = root.add_subcommand(
      "reprocess",
      "Re-run a parser version over the stored pages and rebuild the source's silver records "
      "(nothing is fetched)");
  app->add_option("source", a->source, "Source name")->required();
  app->add_option("--version", a->version, "Parser version (default: the active one)")
      ->check(CLI::PositiveNumber);
  return Command{app, [a, &globals] { return run_reprocess(globals, *a); }};
}

}  // namespace host::cli
