// URL helpers behind the SDK's sdk.url module (RFC 3986).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sandbox::text {

struct UrlParts {
  std::string scheme;    // lower-cased, "" when relative
  std::string userinfo;  // "" when absent
  std::string host;      // lower-cased
  std::string port;      // "" when absent
  std::string path;
  std::string query;     // without '?'; has_query tells "" from absent
  std::string fragment;  // without '#'
  bool has_authority = false;
  bool has_query = false;
  bool has_fragment = false;
};

// Splits a URL reference into its parts (RFC 3986 appendix B). Leading and
// trailing whitespace is trimmed; never fails on odd input, but returns
// nullopt for strings with control characters or over 64 KiB.
std::optional<UrlParts> parse_url(std::string_view url);

// Recomposes parts (RFC 3986 section 5.3).
std::string compose_url(const UrlParts& parts);

// Resolves `ref` against `base` (RFC 3986 section 5.2, with dot-segment
// removal). Whitespace around `ref` is trimmed, and spaces inside are
// percent-encoded as browsers do. Returns nullopt when `base` is not absolute
// and `ref` is not absolute either.
std::optional<std::string> join_url(std::string_view base, std::string_view ref);

// True for an absolute http:// or https:// URL with a non-empty host.
bool is_http_url(std::string_view url);

}  // namespace sandbox::text
