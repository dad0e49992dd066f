// The orchestrator: the host's daily work loop (`host run`).
//
// It takes tasks from the store's queue (highest priority, then oldest),
// creates extract tasks for sources whose interval is due, fetches
// concurrently through a Fetcher, runs parsers and other heavy work on
// worker threads, and writes every outcome (bronze, silver, runs, metrics,
// health, the task's end) in one store transaction per batch of results, so
// a task is never half done: it is DONE/FAILED together with what it
// produced, or still IN_PROGRESS and requeued on the next start.
//
//   Orchestrator o(store, fetcher, sandbox, options);
//   std::thread stopper([&] { wait_for_signal(); o.stop(); });
//   auto summary = o.run();
//
// Hot swap: an extraction reads the source's ACTIVE parser version when it
// starts and keeps it to the end, so a promotion committed by anyone (another
// process included) serves every run that starts after it, and a run never
// mixes two versions.
//
// Health: every extraction is judged by host/health/policy.h; a source that
// becomes QUARANTINED gets a repair task; repairs are limited by the circuit
// breaker (repair.max_per_day) and a source whose repairs are exhausted is
// DEAD until `host revive`.
//
// Stopping: stop() (from a signal handler's thread) makes run() stop taking
// tasks, let work in flight finish for up to `drain`, then cancel what is
// left and put those tasks back to PENDING; run() returns within about
// drain + 1 s. A crash at any moment loses nothing committed: the next run()
// (which must hold the store's run lock, see run_lock.h) puts every task it
// finds IN_PROGRESS back to PENDING first.
//
// One Orchestrator per store at a time (enforced by RunLock, not here).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "host/fetch/fetcher.h"
#include "host/orchestrator/repair.h"
#include "sandbox/sandbox.h"
#include "store/store.h"

namespace host::orchestrator {

struct Options {
  // Threads running parsers, validations and repairs (the sandbox should
  // have as many workers).
  unsigned workers = 2;
  // Tasks in flight at once (fetching, waiting for a worker, or running).
  unsigned max_in_flight = 64;
  // Drain what is due (scheduled sources, queued tasks whose time has come)
  // and return, instead of running until stop().
  bool once = false;
  // Only this task (host extract --wait without a running orchestrator):
  // nothing is scheduled, nothing else is claimed; run() returns when it ends.
  std::optional<std::uint64_t> only_task;
  // Whether to create extract tasks for sources whose interval is due.
  bool schedule = true;
  // The lease a claimed task gets; extended while the work lasts.
  std::chrono::milliseconds lease{std::chrono::minutes(5)};
  // After stop(): how long work in flight may take before it is cancelled.
  std::chrono::milliseconds drain{std::chrono::seconds(8)};
  // How often due sources are looked for.
  std::chrono::milliseconds schedule_every{std::chrono::milliseconds(500)};
  // The most results written in one transaction. Small enough that LMDB's
  // buffers for the dirty pages of the largest transaction, which it keeps
  // for reuse and never returns, stay small: measured in a soak, they level
  // off at 1.75 MiB with 16 and 1.2 MiB with 8 (64 let the heap creep up by
  // several MiB); the soak's throughput is the same.
  std::size_t max_batch = 8;
  // Receives one line per notable event (a task's end, a health
  // transition, a repair), from any thread; lines never hold a secret.
  std::function<void(std::string_view line)> log;
  // Repairs QUARANTINED sources; default: recheck_repair (repair.h).
  RepairFn repair;
};

// Live figures, readable from any thread while run() works.
struct Progress {
  std::uint64_t done = 0;       // tasks finished successfully
  std::uint64_t failed = 0;     // tasks finished in failure
  std::uint64_t requeued = 0;   // tasks put back (cancelled at stop, store errors)
  std::uint64_t in_flight = 0;  // claimed and not finished
  std::uint64_t queued = 0;     // PENDING in the store (as of the last look)
  std::uint64_t pages = 0;      // pages fetched and stored
  std::uint64_t records = 0;    // records written to silver
  double elapsed_s = 0;
};

struct Summary {
  Progress progress;
  // Tasks whose work could not be ended within the drain time; they were
  // put back to PENDING, but a worker thread may still be busy with them.
  // The caller should exit the process rather than wait for it.
  std::uint64_t abandoned = 0;
  std::uint64_t orphans_requeued = 0;  // IN_PROGRESS tasks of a previous run put back at start
};

class Orchestrator {
 public:
  // The store, fetcher and sandbox must outlive the orchestrator.
  Orchestrator(store::Store& store, fetch::Fetcher& fetcher, sandbox::Sandbox& sandbox,
               Options options);
  ~Orchestrator();
  Orchestrator(const Orchestrator&) = delete;
  Orchestrator& operator=(const Orchestrator&) = delete;

  // Works until stop() (or, with once/only_task, until done). Errors are for
  // what stops the whole loop (the store failing at start); everything about
  // one source or task is an outcome, logged and stored.
  std::expected<Summary, std::string> run();

  // Asks run() to stop gracefully. Thread-safe; idempotent.
  void stop();
  bool stopping() const;

  Progress progress() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A unique lease owner name for this process: "host:PID:RANDOM".
std::string make_owner_name();

}  // namespace host::orchestrator
