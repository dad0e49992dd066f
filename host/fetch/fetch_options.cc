#include "host/fetch/fetch_options.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "sandbox/limits.h"
#include "sandbox/text/ascii.h"

namespace host::fetch {
namespace {

using sandbox::text::to_lower;
using sandbox::text::trim;

std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> parts;
  while (true) {
    const std::size_t comma = text.find(',');
    parts.push_back(trim(text.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return parts;
}

// RFC 9110 token characters (type and subtype names).
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// "type/subtype", "type/*", "type/*+suffix" or "*/*".
bool valid_pattern(std::string_view p) {
  const std::size_t slash = p.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string_view type = p.substr(0, slash);
  const std::string_view sub = p.substr(slash + 1);
  auto name = [](std::string_view s) { return is_token(s) && s.find('*') == s.npos; };
  if (type == "*") return sub == "*";
  if (!name(type)) return false;
  if (sub == "*") return true;
  if (sub.starts_with("*+")) return name(sub.substr(2));
  return name(sub);
}

bool is_ip_literal(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

constexpr std::chrono::milliseconds kMaxDuration{24LL * 3600 * 1000};
constexpr std::size_t kMaxBodyLimit = std::size_t{1} << 30;

}  // namespace

std::vector<std::string> default_content_types() {
  return {"text/html",         "application/xhtml+xml", "application/xml",    "text/xml",
          "application/*+xml", "application/json",      "application/*+json", "text/plain",
          "text/csv"};
}

std::expected<std::chrono::milliseconds, std::string> parse_fetch_duration(std::string_view text) {
  auto d = sandbox::parse_duration(text);
  if (!d) return std::unexpected(d.error());
  if (*d > kMaxDuration) {
    return std::unexpected("duration '" + std::string(text) + "' is longer than a day");
  }
  return *d;
}

std::expected<std::size_t, std::string> parse_fetch_size(std::string_view text) {
  auto s = sandbox::parse_size(text);
  if (!s) return std::unexpected(s.error());
  if (*s == 0 || *s > kMaxBodyLimit) {
    return std::unexpected("size '" + std::string(text) + "' must be between 1 byte and 1GiB");
  }
  return static_cast<std::size_t>(*s);
}

std::expected<bool, std::string> parse_fetch_bool(std::string_view text) {
  const std::string v = to_lower(trim(text));
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  return std::unexpected("invalid boolean '" + std::string(text) +
                         "': use true or false (also yes/no, on/off, 1/0)");
}

std::expected<int, std::string> parse_fetch_count(std::string_view text, int min, int max) {
  const std::string_view s = trim(text);
  int value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || value < min || value > max) {
    return std::unexpected("invalid number '" + std::string(text) + "': use a whole number from " +
                           std::to_string(min) + " to " + std::to_string(max));
  }
  return value;
}

std::expected<std::vector<std::string>, std::string> parse_content_types(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view part : split_commas(text)) {
    if (part.empty()) continue;
    const std::string p = to_lower(part);
    const bool ok = valid_pattern(p);
    if (!ok) {
      return std::unexpected("invalid media type '" + std::string(part) +
                             "': use type/subtype patterns such as text/html, image/*, "
                             "application/*+json or */*, separated by commas");
    }
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  }
  if (out.empty()) {
    return std::unexpected("the content type list is empty: name at least one, e.g. text/html");
  }
  return out;
}

std::expected<std::vector<std::string>, std::string> parse_host_list(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view part : split_commas(text)) {
    if (part.empty()) continue;
    std::string h = to_lower(part);
    const std::string bad = "invalid host '" + std::string(part) + "': ";
    if (h.find("://") != std::string::npos || h.find_first_of("/?#@") != std::string::npos) {
      return std::unexpected(bad +
                             "write the host name or IP address only, e.g. example.com or "
                             "10.0.0.5, without scheme, path or credentials");
    }
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    if (h.find(':') != std::string::npos && !is_ip_literal(h)) {
      return std::unexpected(bad + "write the host without a port");
    }
    if (h.find('*') != std::string::npos) {
      return std::unexpected(bad + "wildcards are not supported; list each host");
    }
    const bool chars_ok = std::all_of(h.begin(), h.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
             c == ':';
    });
    if (!chars_ok || h.size() > 253) {
      return std::unexpected(bad +
                             "host names use letters, digits, '-' and '.' "
                             "(write internationalized names in their xn-- form)");
    }
    if (std::find(out.begin(), out.end(), h) == out.end()) out.push_back(h);
  }
  return out;
}

std::expected<std::string, std::string> parse_user_agent(std::string_view text) {
  const std::string_view s = trim(text);
  const bool printable = std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f;
  });
  if (s.empty() || s.size() > 512 || !printable) {
    return std::unexpected("invalid user agent: use 1 to 512 printable ASCII characters, e.g. '" +
                           std::string(kDefaultUserAgent) + "'");
  }
  return std::string(s);
}

std::expected<void, std::string> apply_fetch_setting(FetchOptions& options, std::string_view name,
                                                     std::string_view value) {
  const std::string prefix = std::string(name) + ": ";
  auto fail = [&](const std::string& e) -> std::expected<void, std::string> {
    return std::unexpected(prefix + e);
  };
  if (name == "fetch.timeout" || name == "fetch.connect_timeout" || name == "fetch.min_delay") {
    auto d = parse_fetch_duration(value);
    if (!d) return fail(d.error());
    if (name == "fetch.min_delay") {
      options.min_delay = *d;
      return {};
    }
    if (d->count() <= 0) return fail("must be longer than 0");
    (name == "fetch.timeout" ? options.timeout : options.connect_timeout) = *d;
    return {};
  }
  if (name == "fetch.retries" || name == "fetch.max_per_host") {
    const bool retries = name == "fetch.retries";
    auto n = parse_fetch_count(value, retries ? 0 : 1, retries ? 20 : 64);
    if (!n) return fail(n.error());
    (retries ? options.retries : options.max_per_host) = *n;
    return {};
  }
  if (name == "fetch.robots" || name == "fetch.allow_private") {
    auto b = parse_fetch_bool(value);
    if (!b) return fail(b.error());
    (name == "fetch.robots" ? options.robots : options.allow_private) = *b;
    return {};
  }
  if (name == "fetch.user_agent") {
    auto ua = parse_user_agent(value);
    if (!ua) return fail(ua.error());
    options.user_agent = std::move(*ua);
    return {};
  }
  if (name == "fetch.max_body") {
    auto s = parse_fetch_size(value);
    if (!s) return fail(s.error());
    options.max_body = *s;
    return {};
  }
  if (name == "fetch.content_types") {
    auto t = parse_content_types(value);
    if (!t) return fail(t.error());
    options.content_types = std::move(*t);
    return {};
  }
  if (name == "fetch.allow_hosts") {
    auto h = parse_host_list(value);
    if (!h) return fail(h.error());
    options.allow_hosts = std::move(*h);
    return {};
  }
  std::string known;
  for (std::string_view n : fetch_setting_names())
    known += (known.empty() ? "" : ", ") + std::string(n);
  return std::unexpected("unknown setting '" + std::string(name) + "': the fetch settings are " +
                         known);
}

std::span<const std::string_view> fetch_setting_names() {
  static constexpr std::string_view kNames[] = {
      "fetch.timeout",       "fetch.connect_timeout", "fetch.retries",    "fetch.max_per_host",
      "fetch.min_delay",     "fetch.robots",          "fetch.user_agent", "fetch.max_body",
      "fetch.content_types", "fetch.allow_private",   "fetch.allow_hosts"};
  return kNames;
}

FetchOptions fetch_options_from(const std::function<std::string(std::string_view name)>& value_of,
                                std::vector<std::string>* problems) {
  FetchOptions options;
  for (std::string_view name : fetch_setting_names()) {
    const std::string value = value_of(name);
    if (value.empty() && name != "fetch.allow_hosts") continue;
    if (auto applied = apply_fetch_setting(options, name, value); !applied && problems) {
      problems->push_back(applied.error());
    }
  }
  return options;
}

}  // namespace host::fetch
