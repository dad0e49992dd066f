// The libcurl Fetcher: one thread running a curl multi loop.
//
// What every fetch goes through, per hop (the request and each redirect):
//  1. the URL must be http(s) (else kBlocked);
//  2. robots.txt of the origin is fetched (through these same steps, at the
//     front of the host's queue; concurrent requests share one fetch), cached
//     for 24 h per origin, user-agent token and address policy, and obeyed
//     (else kRobots) unless options.robots is false. A robots.txt that cannot
//     be read (5xx, 429, network) disallows the origin for 5 minutes (RFC
//     9309), failing its fetches with kRobots; 4xx or too many redirects
//     mean no restrictions;
//  3. politeness: it waits until its host (by name) has fewer than
//     options.max_per_host requests in flight and options.min_delay has
//     passed since the last start there; waiting requests block nothing else;
//  4. the address guard checks every address connected to (address_guard.h),
//     on new and reused connections (else kBlocked);
//  5. the response: 3xx follows Location (at most options.max_redirects, no
//     loops, else kRedirect); 429 and 5xx are retried, as are network errors
//     and timeouts, with exponential backoff and jitter, honouring
//     Retry-After (which also holds back the whole host); other statuses fail
//     with kHttpStatus at once;
//  6. a 2xx body is decoded (gzip, deflate, br) and capped at
//     options.max_body, checked as it arrives (kTooLarge, without downloading
//     the rest); its Content-Type must match options.content_types and the
//     body must not be binary under a textual type (kContentType).
//
// No proxy is used, whatever the environment says; no cookies are kept.
#pragma once

#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "host/fetch/fetcher.h"

namespace host::fetch {

struct CurlFetcherConfig {
  // Receives one line per notable event, on the fetcher thread: retries,
  // a source that does not check robots.txt. Lines hold URLs without query
  // or credentials and never a request header. Default: nothing is logged.
  std::function<void(std::string_view line)> log;
  // Requests in flight across all hosts at once.
  int max_in_flight = 64;
  // "host:port:address" entries for CURLOPT_RESOLVE: names answered without
  // DNS (tests map names to 127.0.0.x with them). The address guard still
  // checks the address.
  std::vector<std::string> resolve;
};

// Starts the fetcher's thread. Fails only when libcurl or the thread cannot
// be set up (kNetwork, with the reason).
std::expected<std::unique_ptr<Fetcher>, FetchError> make_curl_fetcher(
    CurlFetcherConfig config = {});

}  // namespace host::fetch
