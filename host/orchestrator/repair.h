// Repairing a QUARANTINED source: the seam the Doctor plugs into, and the
// built-in repair that needs no LLM.
//
// A RepairFn runs on an orchestrator worker thread with everything it needs;
// it proposes, the orchestrator decides: it stores the repair with its diff,
// promotes the version the repair names (staged by the repair, or an older
// one), moves the source's health, and trips the circuit breaker.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "host/fetch/fetcher.h"
#include "sandbox/sandbox.h"
#include "store/store.h"

namespace host::orchestrator {

struct RepairRequest {
  const store::Store* store = nullptr;
  fetch::Fetcher* fetcher = nullptr;
  sandbox::Sandbox* sandbox = nullptr;
  std::string source;
  std::string url;
  fetch::FetchOptions fetch_options;
  sandbox::Limits limits;
  std::optional<std::uint32_t> active_version;
  std::string reason;  // why the source was quarantined (its last error)
};

struct RepairResult {
  // The source works again.
  bool repaired = false;
  // The version to make active (nullopt: keep the active one, e.g. the site
  // recovered by itself). A repair that writes a new script stages it first
  // and names it here.
  std::optional<std::uint32_t> promote;
  std::string diff;     // unified diff, active script -> repaired script
  std::string message;  // what was tried and found, for the operator
};

using RepairFn = std::function<RepairResult(const RepairRequest&)>;

// The built-in repair (no LLM): fetches the page again and runs the active
// version over it; if that works the failure was transient. Otherwise it
// tries the source's other versions, newest first, and proposes the first
// that returns valid records (a rollback). Otherwise the repair fails and
// says a new parser is needed.
RepairResult recheck_repair(const RepairRequest& request);

}  // namespace host::orchestrator
