// URLs as the fetcher sees them: only absolute http and https URLs are
// fetched; every other scheme (file:, data:, ftp:, javascript:, ...) is
// refused with a clear error, both when requested and when redirected to.
//
// Pure functions; thread-safe.
#pragma once

#include <expected>
#include <string>
#include <string_view>

#include "host/fetch/fetch_error.h"

namespace host::fetch {

struct Url {
  std::string text;    // normalized, without fragment: "https://example.com/a?b=1"
  std::string scheme;  // "http" or "https"
  std::string host;    // lower case; IPv6 literals without brackets
  int port = 0;        // explicit or the scheme's default
  std::string target;  // path and query as sent: "/a?b=1" ("/" at least)
};

// Parses an absolute http(s) URL. Errors: kBlocked for another scheme
// ("the URL scheme 'file:' is not allowed ..."), kInvalidRequest for text that
// is not a URL (no scheme, no host, bad characters).
std::expected<Url, FetchError> parse_http_url(std::string_view text);

// Resolves a Location header against the URL that sent it. Errors as for
// parse_http_url.
std::expected<Url, FetchError> resolve_location(const Url& base, std::string_view location);

// "https://example.com:443": what robots.txt and credentials are scoped to.
std::string origin(const Url& url);

// The URL with credentials, query and fragment removed, for messages and logs
// ("https://example.com/search?key=..." -> "https://example.com/search?...").
std::string redact_url(std::string_view url);

}  // namespace host::fetch
