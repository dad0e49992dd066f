#include "sandbox/error.h"

#include <array>
#include <utility>

namespace sandbox {
namespace {
constexpr std::array<std::pair<ErrorKind, std::string_view>, 10> kNames{{
    {ErrorKind::kSyntax, "syntax"},
    {ErrorKind::kRuntime, "runtime"},
    {ErrorKind::kTimeout, "timeout"},
    {ErrorKind::kMemory, "memory"},
    {ErrorKind::kForbidden, "forbidden"},
    {ErrorKind::kOutput, "output"},
    {ErrorKind::kSchema, "schema"},
    {ErrorKind::kCrash, "crash"},
    {ErrorKind::kInternal, "internal"},
    {ErrorKind::kInput, "input"},
}};
}  // namespace

std::string_view to_string(ErrorKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "internal";
}

bool parse_error_kind(std::string_view name, ErrorKind& out) {
  for (const auto& [k, n] : kNames) {
    if (n == name) {
      out = k;
      return true;
    }
  }
  return false;
}

}  // namespace sandbox
