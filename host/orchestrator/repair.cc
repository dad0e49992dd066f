#include "host/orchestrator/repair.h"

#include <algorithm>

#include "host/pipeline/extraction.h"
#include "host/util/unified_diff.h"

namespace host::orchestrator {
namespace {

// Other versions worth trying, newest first.
constexpr std::size_t kMaxCandidates = 5;

}  // namespace

RepairResult recheck_repair(const RepairRequest& request) {
  RepairResult result;
  fetch::FetchRequest fr;
  fr.url = request.url;
  fr.options = request.fetch_options;
  fr.source = request.source;
  auto response = fetch::fetch_blocking(*request.fetcher, std::move(fr));
  if (!response) {
    result.message = "fetched the page again and it still fails: " + response.error().message;
    return result;
  }
  const sandbox::Page page = pipeline::to_page(*response);

  std::vector<store::ParserVersion> versions;
  {
    auto txn = request.store->read();
    if (!txn) {
      result.message = "could not read the store: " + txn.error().message;
      return result;
    }
    auto list = request.store->versions().list(*txn, request.source);
    if (!list) {
      result.message = "could not read the parser versions: " + list.error().message;
      return result;
    }
    versions = std::move(*list);
  }
  std::sort(versions.begin(), versions.end(),
            [](const auto& a, const auto& b) { return a.number > b.number; });
  const store::ParserVersion* active = nullptr;
  for (const auto& v : versions) {
    if (request.active_version && v.number == *request.active_version) active = &v;
  }

  std::string tried;
  if (active != nullptr) {
    const auto o =
        request.sandbox->run({request.source + ".lua", active->script}, page, request.limits);
    if (!pipeline::unusable(o)) {
      result.repaired = true;
      result.message = "the page was fetched again and the active version " +
                       std::to_string(active->number) + " parses it (" + pipeline::describe(o) +
                       "): the failure was transient";
      return result;
    }
    tried = "active version " + std::to_string(active->number) + ": " + pipeline::describe(o);
  }

  std::size_t candidates = 0;
  for (const auto& v : versions) {
    if (active != nullptr && v.number == active->number) continue;
    if (candidates++ == kMaxCandidates) break;
    const auto o = request.sandbox->run({request.source + ".lua", v.script}, page, request.limits);
    if (!pipeline::unusable(o) && o.rejects.empty()) {
      result.repaired = true;
      result.promote = v.number;
      if (active != nullptr) {
        result.diff = util::unified_diff(active->script, v.script,
                                         "version " + std::to_string(active->number),
                                         "version " + std::to_string(v.number));
      }
      result.message = "version " + std::to_string(v.number) + " parses the current page (" +
                       pipeline::describe(o) + ") where " +
                       (tried.empty() ? std::string("no active version did") : tried) +
                       "; rolling back to it";
      return result;
    }
    tried += (tried.empty() ? "" : "; ") + std::string("version ") + std::to_string(v.number) +
             ": " + pipeline::describe(o);
  }
  result.message = "no stored version parses the current page (" +
                   (tried.empty() ? std::string("the source has no versions") : tried) +
                   "); a new parser is needed: stage one with 'host stage " + request.source +
                   " FILE'";
  return result;
}

}  // namespace host::orchestrator
