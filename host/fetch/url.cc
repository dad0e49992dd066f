#include "host/fetch/url.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>
#include "host/fetch/curl_lib.h"
#include "sandbox/text/ascii.h"

namespace host::fetch {
namespace {

using sandbox::text::to_lower;
using sandbox::text::trim_c0;

struct CurlUrlDeleter {
  void operator()(CURLU* u) const noexcept { curl::lib().url_cleanup(u); }
};
using CurlUrlPtr = std::unique_ptr<CURLU, CurlUrlDeleter>;

struct CurlFreeDeleter {
  void operator()(char* p) const noexcept { curl::lib().free(p); }
};
using CurlString = std::unique_ptr<char, CurlFreeDeleter>;

// The RFC 3986 scheme of `text` ("" when it has none), lower-cased.
std::string scheme_of(std::string_view text) {
  if (text.empty() || !std::isalpha(static_cast<unsigned char>(text[0]))) return {};
  for (std::size_t i = 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ':') return to_lower(text.substr(0, i));
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return {};
    }
  }
  return {};
}

FetchError error(FetchErrorKind kind, std::string message, std::string_view url) {
  FetchError e;
  e.kind = kind;
  e.message = std::move(message);
  e.url = std::string(url);
  return e;
}

FetchError scheme_error(const std::string& scheme, std::string_view url) {
  return error(FetchErrorKind::kBlocked,
               "the URL scheme '" + scheme +
                   ":' is not allowed: only http:// and https:// URLs "
                   "are fetched",
               url);
}

std::string get_part(CURLU* u, CURLUPart part, unsigned flags = 0) {
  char* raw = nullptr;
  if (curl::lib().url_get(u, part, &raw, flags) != CURLUE_OK || raw == nullptr) return {};
  CurlString owned(raw);
  return owned.get();
}

std::expected<Url, FetchError> from_handle(CURLU* u, std::string_view original) {
  Url url;
  url.scheme = to_lower(get_part(u, CURLUPART_SCHEME));
  if (url.scheme != "http" && url.scheme != "https")
    return std::unexpected(scheme_error(url.scheme, original));
  url.host = to_lower(get_part(u, CURLUPART_HOST));
  if (url.host.size() > 2 && url.host.front() == '[' && url.host.back() == ']') {
    url.host = url.host.substr(1, url.host.size() - 2);
  }
  if (url.host.empty()) {
    return std::unexpected(error(FetchErrorKind::kInvalidRequest,
                                 "'" + redact_url(original) + "' has no host name", original));
  }
  const std::string port = get_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
  std::from_chars(port.data(), port.data() + port.size(), url.port);
  curl::lib().url_set(u, CURLUPART_FRAGMENT, nullptr, 0);
  url.target = get_part(u, CURLUPART_PATH);
  if (url.target.empty()) url.target = "/";
  if (const std::string query = get_part(u, CURLUPART_QUERY); !query.empty()) {
    url.target += "?" + query;
  }
  url.text = get_part(u, CURLUPART_URL);
  if (url.text.empty()) {
    return std::unexpected(error(FetchErrorKind::kInvalidRequest,
                                 "'" + redact_url(original) + "' is not a valid URL", original));
  }
  return url;
}

}  // namespace

std::expected<Url, FetchError> parse_http_url(std::string_view text) {
  const std::string_view t = trim_c0(text);
  const std::string scheme = scheme_of(t);
  if (scheme.empty()) {
    return std::unexpected(error(
        FetchErrorKind::kInvalidRequest,
        "'" + redact_url(t) + "' is not an absolute URL: write it with http:// or https://", text));
  }
  if (scheme != "http" && scheme != "https") return std::unexpected(scheme_error(scheme, text));
  if (curl::load() == nullptr) {
    return std::unexpected(error(FetchErrorKind::kNetwork, curl::load_error(), text));
  }
  CurlUrlPtr u(curl::lib().url());
  if (!u) return std::unexpected(error(FetchErrorKind::kNetwork, "out of memory", text));
  const std::string z(t);
  if (const CURLUcode rc = curl::lib().url_set(u.get(), CURLUPART_URL, z.c_str(), 0);
      rc != CURLUE_OK) {
    return std::unexpected(error(
        FetchErrorKind::kInvalidRequest,
        "'" + redact_url(t) + "' is not a valid URL (" + curl::lib().url_strerror(rc) + ")", text));
  }
  return from_handle(u.get(), text);
}

std::expected<Url, FetchError> resolve_location(const Url& base, std::string_view location) {
  const std::string_view loc = trim_c0(location);
  const std::string scheme = scheme_of(loc);
  if (!scheme.empty() && scheme != "http" && scheme != "https") {
    return std::unexpected(scheme_error(scheme, location));
  }
  if (curl::load() == nullptr) {
    return std::unexpected(error(FetchErrorKind::kNetwork, curl::load_error(), location));
  }
  CurlUrlPtr u(curl::lib().url());
  if (!u) return std::unexpected(error(FetchErrorKind::kNetwork, "out of memory", location));
  if (curl::lib().url_set(u.get(), CURLUPART_URL, base.text.c_str(), 0) != CURLUE_OK) {
    return std::unexpected(error(FetchErrorKind::kInvalidRequest, "bad base URL", base.text));
  }
  const std::string z(loc);
  if (const CURLUcode rc = curl::lib().url_set(u.get(), CURLUPART_URL, z.c_str(),
                                               CURLU_URLENCODE | CURLU_ALLOW_SPACE);
      loc.empty() || rc != CURLUE_OK) {
    return std::unexpected(error(FetchErrorKind::kInvalidRequest,
                                 "the Location '" + redact_url(loc) + "' is not a valid URL",
                                 location));
  }
  return from_handle(u.get(), location);
}

std::string origin(const Url& url) {
  const bool v6 = url.host.find(':') != std::string::npos;
  return url.scheme + "://" + (v6 ? "[" + url.host + "]" : url.host) + ":" +
         std::to_string(url.port);
}

std::string redact_url(std::string_view url) {
  std::string out(url.substr(0, std::min<std::size_t>(url.size(), 2048)));
  if (const auto hash = out.find('#'); hash != std::string::npos) out.resize(hash);
  if (const auto q = out.find('?'); q != std::string::npos) out = out.substr(0, q) + "?...";
  // Credentials: "scheme://user:pass@host" -> "scheme://host".
  if (const auto sep = out.find("://"); sep != std::string::npos) {
    const auto authority_end = out.find_first_of("/?", sep + 3);
    const auto at = out.rfind('@', authority_end == std::string::npos ? out.npos : authority_end);
    if (at != std::string::npos && at > sep) out.erase(sep + 3, at - sep - 2);
  }
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

}  // namespace host::fetch
