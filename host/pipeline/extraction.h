// The pieces of one extraction shared by the orchestrator, repairs and
// commands: turning a fetch into a sandbox page and a bronze snapshot, and
// naming why an extraction failed.
#pragma once

#include <string>
#include <string_view>

#include "host/fetch/fetcher.h"
#include "host/health/policy.h"
#include "sandbox/sandbox.h"
#include "store/bronze.h"

namespace host::pipeline {

// The page a parser sees for a fetched response (the body as received: the
// sandbox decodes its charset).
sandbox::Page to_page(const fetch::FetchResponse& response);

// Runs `script` over a fetched response. The body is lent to the sandbox's
// page for the run and given back, so that an extraction holds one copy of
// a page (up to fetch.max_body) and not one per stage it passes through.
sandbox::RunOutcome run_parser(sandbox::Sandbox& box, const sandbox::Script& script,
                               fetch::FetchResponse& response, const sandbox::Limits& limits);

// The bronze snapshot of a fetched response, which it takes apart: its URL,
// headers, content type and body are moved into the snapshot.
store::FetchedPage to_fetched_page(std::string_view source, fetch::FetchResponse&& response,
                                   store::Time fetched_at);

// The health failure kind of a failed fetch or a failed parser run.
health::FailureKind failure_of(const fetch::FetchError& error);
health::FailureKind failure_of(const sandbox::Error& error);

// What a run returned, in a few words: "runtime: books.lua:3: boom",
// "no records", "all 12 records rejected; first: ...", "20 records".
std::string describe(const sandbox::RunOutcome& outcome);

// The failure of a run that succeeded but is not usable: no records at all.
// nullopt when the run is usable.
std::optional<health::FailureKind> unusable(const sandbox::RunOutcome& outcome);

}  // namespace host::pipeline
