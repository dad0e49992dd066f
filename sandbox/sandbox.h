// The sandbox: runs an untrusted extractor script over a page, isolated in a
// worker process, and returns what it produced as a value.
//
// Guarantees (see docs/architecture.md for how each is enforced):
//  - A script sees a vetted subset of Lua plus the SDK; no files, processes,
//    network, bytecode, or other scripts' state. Every run starts from a
//    fresh Lua state.
//  - Memory, CPU time and output are bounded per run (Limits); reaching a
//    limit fails that run with an error naming the limit.
//  - Nothing a script does can crash or hang the calling process: a stuck C
//    call is ended by killing the worker at the deadline, and a crashed
//    worker fails only the run it was serving. Workers are replaced as needed.
//
// Thread safety: Sandbox::run may be called from many threads at once; up to
// `workers` runs proceed in parallel and the rest wait for a free worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>

#include "sandbox/error.h"
#include "sandbox/limits.h"
#include "sandbox/outcome.h"
#include "sandbox/page.h"

namespace sandbox {

struct Script {
  std::string name;    // shown in error messages ("books.lua:12: ..."); a base name
  std::string source;  // Lua source text
};

struct SandboxOptions {
  // Worker processes kept ready (and the most runs in parallel).
  std::size_t workers = 1;
  // The sdp-worker executable; empty: $SDP_WORKER, else beside the running
  // executable, else ../libexec/sdp/ relative to it.
  std::string worker_path;
  // Kernel-enforced address-space ceiling per worker, a backstop under the
  // per-run memory budget. 0: 4 GiB plus the default memory limit.
  std::uint64_t address_space = 0;
  // The CPU the workers are confined to (sched_setaffinity), or -1 for any
  // the calling process may use. A caller that runs one job per CPU pins
  // each job's thread and its sandbox's worker to the same CPU: the page and
  // the records then change hands within one CPU's cache, with no wake-up
  // sent across CPUs.
  int cpu = -1;
};

// How a run hands back the records that passed the schema.
enum class RecordForm {
  kParsed,  // RunOutcome::records, as JSON values
  kText,    // RunOutcome::record_texts, as JSON text: for callers that only
            // pass records on (host parse), it spares a parse and a dump
};

class Sandbox {
 public:
  // Finds the worker executable and checks that it starts. Errors are kInternal
  // with a message saying what to install or set.
  static std::expected<std::unique_ptr<Sandbox>, Error> create(const SandboxOptions& options);

  // Runs `script` over `page` within `limits`. Never throws; every failure is
  // in the outcome's error. Records that break the script's schema are moved
  // to `rejects`; if every record broke it, the run fails with kSchema.
  RunOutcome run(const Script& script, const Page& page, const Limits& limits,
                 RecordForm form = RecordForm::kParsed);

  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  struct Impl;

 private:
  explicit Sandbox(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Where the worker executable is, per SandboxOptions::worker_path's rules.
std::expected<std::string, Error> find_worker(const std::string& configured = "");

}  // namespace sandbox
