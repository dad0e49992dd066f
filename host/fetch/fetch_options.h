// Options of one fetch: the `fetch.*` settings (global, overridable per
// source through `host config`) and a few knobs that are not settings.
//
// The settings' names, units, defaults and descriptions are registered in
// host/config/registry.h (`host config` validates and stores them there);
// apply_fetch_setting() turns a stored value into this struct, and the parse_*
// helpers check the list-valued ones more closely than a generic list can.
#pragma once

#include <chrono>
#include <cstddef>
#include <expected>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace host::fetch {

inline constexpr std::string_view kDefaultUserAgent =
    "SmartDataPipeline/0.1 (+https://example.invalid/bot)";

// The media types fetched unless a source allows more: HTML, XHTML, XML,
// JSON, plain text and CSV (XML and JSON including their "+xml"/"+json"
// subtypes such as application/rss+xml and application/ld+json).
std::vector<std::string> default_content_types();

struct FetchOptions {
  // --- Settings -----------------------------------------------------------
  // fetch.timeout: the longest one HTTP exchange may take, from connecting to
  // the last byte. Each redirect hop and each retry gets its own.
  std::chrono::milliseconds timeout{30'000};
  // fetch.connect_timeout: the longest connecting (DNS, TCP, TLS) may take.
  std::chrono::milliseconds connect_timeout{10'000};
  // fetch.retries: retries after the first attempt, on network errors,
  // timeouts, HTTP 5xx and 429. Never on other 4xx.
  int retries = 3;
  // fetch.max_per_host: requests in flight to one host name at once.
  int max_per_host = 2;
  // fetch.min_delay: the least time between the starts of two requests to the
  // same host name.
  std::chrono::milliseconds min_delay{1'000};
  // fetch.robots: whether robots.txt is fetched and obeyed. Turning it off for
  // a source is logged once per fetcher.
  bool robots = true;
  // fetch.user_agent: sent with every request; its product token (the part
  // before the first '/') is the name matched against robots.txt groups.
  std::string user_agent{kDefaultUserAgent};
  // fetch.max_body: the largest body kept, counted after decompression; a
  // larger one (a gzip bomb too) is stopped as soon as it crosses the limit.
  std::size_t max_body = 10u << 20;
  // fetch.content_types: media-type patterns accepted: "type/subtype",
  // "type/*", "type/*+suffix" or "*/*".
  std::vector<std::string> content_types = default_content_types();
  // fetch.allow_private: connect to loopback, private, link-local, CGNAT and
  // other non-public addresses. Cloud metadata addresses (169.254.169.254,
  // fd00:ec2::254, ...) stay refused; only fetch.allow_hosts can allow them.
  bool allow_private = false;
  // fetch.allow_hosts: host names or IP literals (as written in URLs, without
  // port) that may connect to any address, private and metadata ones included.
  std::vector<std::string> allow_hosts;

  // --- Not settings: fixed policy and knobs for tests ------------------------
  // Redirects followed; each hop is checked like the first request.
  int max_redirects = 5;
  // The first retry waits about backoff_base (with jitter), each further retry
  // twice as long as the previous one.
  std::chrono::milliseconds backoff_base{1'000};
  // The longest wait before a retry. A Retry-After longer than this is not
  // waited for: the fetch fails with http_status instead.
  std::chrono::milliseconds max_retry_wait{60'000};
};

// Parsers of a setting's string value; each error says what is accepted.
// Durations: "30", "2.5s", "500ms", "2m" (a bare number is seconds).
std::expected<std::chrono::milliseconds, std::string> parse_fetch_duration(std::string_view text);
// Sizes: "10MiB", "512KiB", "1000000", "10MB".
std::expected<std::size_t, std::string> parse_fetch_size(std::string_view text);
// true/false, yes/no, on/off, 1/0.
std::expected<bool, std::string> parse_fetch_bool(std::string_view text);
// A whole number in [min, max].
std::expected<int, std::string> parse_fetch_count(std::string_view text, int min, int max);
// "text/html, application/json, image/*": comma-separated media-type
// patterns, lower-cased; parameters are not allowed. At least one.
std::expected<std::vector<std::string>, std::string> parse_content_types(std::string_view text);
// "example.com, 10.0.0.5, [fd00::1]": comma-separated host names or IP
// literals without scheme, port or path, lower-cased, IPv6 without brackets.
// Empty text is the empty list.
std::expected<std::vector<std::string>, std::string> parse_host_list(std::string_view text);
// Printable ASCII, 1..512 characters.
std::expected<std::string, std::string> parse_user_agent(std::string_view text);

// Parses `value` for setting `name` and stores it in `options`. The error
// names the setting ("fetch.timeout: invalid duration 'x': ..."); an unknown
// name is an error too. `options` is unchanged on error.
std::expected<void, std::string> apply_fetch_setting(FetchOptions& options, std::string_view name,
                                                     std::string_view value);

// The names of the fetch.* settings, in the order above.
std::span<const std::string_view> fetch_setting_names();

// The options for one source, from a function giving the effective stored
// value of each fetch.* setting (the source's override, else the global
// value, else the registry default; "" counts as unset for all but
// fetch.allow_hosts). A value that does not parse leaves its field at the
// default, and its error is appended to `problems` when given.
FetchOptions fetch_options_from(const std::function<std::string(std::string_view name)>& value_of,
                                std::vector<std::string>* problems = nullptr);

}  // namespace host::fetch
