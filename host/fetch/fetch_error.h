// The fetching layer's error type: every fetch ends as a response or as one
// of these values, never as an exception.
#pragma once

#include <string>
#include <string_view>

namespace host::fetch {

// Why a fetch failed. The names (to_string) are printed by the CLI and kept in
// stored run outcomes, so they never change once released.
enum class FetchErrorKind {
  kNetwork,         // DNS, connect, TLS, reset or broken transfer (retried)
  kTimeout,         // fetch.connect_timeout or fetch.timeout reached (retried)
  kHttpStatus,      // the server answered with a status other than 2xx/3xx
                    // (429 and 5xx are retried first; other 4xx are not)
  kRobots,          // robots.txt disallows the URL, or could not be read
  kBlocked,         // a scheme or an address the settings refuse (never retried)
  kTooLarge,        // the body (after decompression) or headers exceed fetch.max_body
  kContentType,     // a Content-Type not in fetch.content_types, or a body that
                    // is not what its type says (binary served as text)
  kRedirect,        // more than 5 redirects, a loop, or a Location that is unusable
  kInvalidRequest,  // the URL or a request header is malformed
  kCancelled,       // the fetcher shut down (Ctrl-C) before the fetch ended
};

// "network", "timeout", "http_status", "robots", "blocked", "too_large",
// "content_type", "redirect", "invalid_request", "cancelled".
std::string_view to_string(FetchErrorKind kind);
// Inverse of to_string; returns false for an unknown name.
bool parse_fetch_error_kind(std::string_view name, FetchErrorKind& out);

struct FetchError {
  FetchErrorKind kind = FetchErrorKind::kNetwork;
  // A sentence for a human: what happened and, where it is not obvious, which
  // setting to change ("... set fetch.allow_private=true or add the host to
  // fetch.allow_hosts"). URLs in it have their query and credentials removed;
  // request headers never appear in it.
  std::string message;
  // The HTTP status of the last response, 0 when there was none.
  int status = 0;
  // 1 + the retries made; 0 when no request was sent (a refused scheme,
  // robots.txt disallowing the URL, ...).
  int attempts = 0;
  // The URL (after redirects) the failure happened at, with its query: pass it
  // through redact_url() (url.h) before showing or storing it if the query
  // may hold a secret.
  std::string url;
};

}  // namespace host::fetch
