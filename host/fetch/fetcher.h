// The Fetcher seam: how the rest of the host gets pages from the web.
//
// A Fetcher takes requests from any thread and answers each exactly once,
// through its callback, with a FetchResponse or a FetchError. The real one
// (make_curl_fetcher in curl_fetcher.h) runs many transfers from one thread
// with politeness, robots.txt, retries and the address guard; FakeFetcher
// (fake_fetcher.h) answers from a script, for tests that need no server.
//
// Start here; the other headers in host/fetch/ are details:
//   fetch_options.h  the fetch.* settings, defaults and parsers
//   fetch_error.h    FetchError and its kinds
//   curl_fetcher.h   the libcurl implementation
//   address_guard.h  which addresses may be connected to
//   url.h, robots.h, content_type.h, charset.h  the pieces, usable alone
#pragma once

#include <expected>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "host/fetch/fetch_error.h"
#include "host/fetch/fetch_options.h"

namespace host::fetch {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct FetchRequest {
  // An absolute http:// or https:// URL.
  std::string url;
  // The effective fetch.* settings of the source (global values with the
  // source's overrides applied).
  FetchOptions options;
  // The source the request is for; used in log lines (e.g. the notice that a
  // source does not check robots.txt). May be empty.
  std::string source;
  // Extra request headers ("Authorization", "Accept", ...). They are never
  // logged nor put in error messages. On a redirect to another origin
  // (scheme, host or port) every one of them except Accept and
  // Accept-Language is dropped. An "Accept" here replaces the default one.
  Headers headers;
};

// Milliseconds spent in each phase of the last HTTP exchange, each counted
// from the start of that exchange (as libcurl reports them), plus the whole
// fetch from submit() to the answer (queueing, robots.txt, retries and
// redirects included).
struct FetchTimings {
  double dns_ms = 0;
  double connect_ms = 0;
  double tls_ms = 0;
  double first_byte_ms = 0;
  double total_ms = 0;
  double elapsed_ms = 0;
};

struct FetchResponse {
  std::string url;           // the final URL, after redirects
  int status = 0;            // always 2xx
  Headers headers;           // of the final response, names as sent
  std::string body;          // as received after Content-Encoding is undone;
                             // not decoded to UTF-8 (see charset.h)
  std::string content_type;  // the Content-Type header, "" when absent (then
                             // the body was sniffed and is not binary)
  std::string charset;       // its charset parameter, lower-cased, or ""
  std::string address;       // the IP address the final response came from
  FetchTimings timings;
  int attempts = 1;                    // 1 + the retries made
  std::vector<std::string> redirects;  // URLs that answered with a redirect, in order

  // The value of header `name` (case-insensitive), the last if repeated.
  std::string header(std::string_view name) const;
};

using FetchResult = std::expected<FetchResponse, FetchError>;
using FetchCallback = std::function<void(FetchResult)>;

class Fetcher {
 public:
  virtual ~Fetcher() = default;

  // Queues a request; returns at once. `on_done` is called exactly once, on
  // the fetcher's own thread, with the outcome; it should be quick (hand
  // heavy work to another thread) and must not throw (an exception from it
  // is caught and dropped so that other sources are unaffected). It may call
  // submit(). After shutdown() it is called at once, on the calling thread,
  // with kind kCancelled.
  // Thread-safe.
  virtual void submit(FetchRequest request, FetchCallback on_done) = 0;

  // Aborts every transfer in flight and every queued request, whose callbacks
  // get kind kCancelled, and returns once they all ran. Idempotent; the
  // destructor calls it. Thread-safe; when called from a callback it only
  // starts the shutdown (the callbacks run after the callback returns).
  // REQUIRES: the Fetcher is not destroyed from one of its own callbacks.
  virtual void shutdown() = 0;
};

// Submits `request` and waits for its outcome. Must not be called from a
// fetcher callback (it would wait for itself).
FetchResult fetch_blocking(Fetcher& fetcher, FetchRequest request);

}  // namespace host::fetch
