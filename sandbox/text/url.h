// URL helpers behind the SDK's sdk.url module (RFC 3986). Pure functions,
// linear time in the input, safe from any thread; they never throw (other than
// std::bad_alloc) and accept any bytes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sandbox::text {

// Inputs longer than this (after trimming) are refused.
inline constexpr std::size_t kMaxUrlLength = 64 * 1024;

struct UrlParts {
  std::string scheme;    // lower-cased, "" when relative
  std::string userinfo;  // "" when absent
  std::string host;      // ASCII letters lower-cased ("[::1]" keeps its brackets)
  std::string port;      // "" when absent
  std::string path;
  std::string query;     // without '?'; has_query tells "" from absent
  std::string fragment;  // without '#'
  bool has_authority = false;
  bool has_query = false;
  bool has_fragment = false;
};

// Splits a URL reference into its parts (RFC 3986 appendix B). Leading and
// trailing spaces and control characters are trimmed; never fails on odd
// input, but returns nullopt for strings with control characters (bytes below
// 0x20 and 0x7F) inside, or over kMaxUrlLength. A scheme is recognised only
// when it is syntactically one (a letter, then letters, digits, '+', '-',
// '.'), so "1a:b" is a relative path. In the authority the userinfo ends at
// the last '@' and the port starts at the first ':' outside "[...]", as in
// browsers. Nothing is decoded or validated: use is_http_url() for that.
std::optional<UrlParts> parse_url(std::string_view url);

// Recomposes parts (RFC 3986 section 5.3). An empty userinfo or port is left
// out. The authority is written when has_authority is set or host, userinfo or
// port is not empty. So that the result parses back to the same parts, a path
// that does not start with '/' gets one when there is an authority, and a path
// starting with "//" gets a "/." prefix when there is none.
std::string compose_url(const UrlParts& parts);

// Resolves `ref` against `base` (RFC 3986 section 5.2.2, strict: "http:g" is
// absolute, with the dot-segment removal of section 5.2.4) and returns the
// result recomposed. Dot segments are also removed from base's path when the
// result takes it whole (an empty or query-only `ref`), so that every result
// is normalised and joining it again changes nothing.
//
// As browsers do, both inputs are trimmed of spaces and control characters at
// the ends and of tabs and newlines inside, and for http and https a '\'
// before the query counts as '/'. Spaces, control characters, '"', '<', '>',
// '`' and bytes >= 0x7F (non-ASCII UTF-8) are percent-encoded everywhere but
// in the scheme and host; in the host only the ASCII ones are (IDN hosts stay
// UTF-8, with no IDNA conversion). Existing "%XX" and a stray '%' are left
// alone. An http port of 80, an https port of 443, or an empty port is dropped.
// The host is not checked: use is_http_url() on the result before fetching it.
//
// An empty `ref` gives `base` without its fragment; an absolute `ref` gives
// `ref` normalised as above, whatever `base` is; "//host/path" takes base's
// scheme. Returns nullopt when `ref` is relative and `base` is not absolute
// (no scheme, or refused by parse_url()), or when `ref` is over
// kMaxUrlLength.
std::optional<std::string> join_url(std::string_view base, std::string_view ref);

// True for an absolute http:// or https:// URL (scheme in any case) with a
// non-empty host, no spaces or control characters anywhere (no trimming
// either), a numeric port up to 65535 if any, no '%', '<', '>', '\', '^',
// '|', '"', '`', '{', '}' in the host, and brackets only around an IPv6
// literal.
bool is_http_url(std::string_view url);

}  // namespace sandbox::text
