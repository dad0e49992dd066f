#include "host/fetch/fetch_error.h"

#include <array>
#include <utility>

namespace host::fetch {
namespace {

constexpr std::array<std::pair<FetchErrorKind, std::string_view>, 10> kNames{{
    {FetchErrorKind::kNetwork, "network"},
    {FetchErrorKind::kTimeout, "timeout"},
    {FetchErrorKind::kHttpStatus, "http_status"},
    {FetchErrorKind::kRobots, "robots"},
    {FetchErrorKind::kBlocked, "blocked"},
    {FetchErrorKind::kTooLarge, "too_large"},
    {FetchErrorKind::kContentType, "content_type"},
    {FetchErrorKind::kRedirect, "redirect"},
    {FetchErrorKind::kInvalidRequest, "invalid_request"},
    {FetchErrorKind::kCancelled, "cancelled"},
}};

}  // namespace

std::string_view to_string(FetchErrorKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "network";
}

bool parse_fetch_error_kind(std::string_view name, FetchErrorKind& out) {
  for (const auto& [k, n] : kNames) {
    if (n == name) {
      out = k;
      return true;
    }
  }
  return false;
}

}  // namespace host::fetch
