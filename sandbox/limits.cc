#include "sandbox/limits.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <string>
#include "sandbox/text/ascii.h"

namespace sandbox {
namespace {

using text::iequals;
using text::trim;

// Splits "12.5MiB" into 12.5 and "MiB".
bool split_number(std::string_view s, double& value, std::string_view& unit) {
  std::size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + i, value);
  if (ec != std::errc() || ptr != s.data() + i) return false;
  unit = trim(s.substr(i));
  return true;
}

}  // namespace

std::expected<std::uint64_t, std::string> parse_size(std::string_view text) {
  const std::string_view s = trim(text);
  const std::string bad = "invalid size '" + std::string(text) +
                          "': use a number of bytes with an optional unit, e.g. 512KiB, "
                          "64MiB, 1GiB, 10MB or 1000000";
  double value = 0;
  std::string_view unit;
  if (!split_number(s, value, unit)) return std::unexpected(bad);
  struct Unit {
    std::string_view name;
    double factor;
  };
  static constexpr Unit kUnits[] = {
      {"", 1},
      {"b", 1},
      {"k", 1024.0},
      {"kib", 1024.0},
      {"kb", 1e3},
      {"m", 1048576.0},
      {"mib", 1048576.0},
      {"mb", 1e6},
      {"g", 1073741824.0},
      {"gib", 1073741824.0},
      {"gb", 1e9},
      {"t", 1099511627776.0},
      {"tib", 1099511627776.0},
      {"tb", 1e12},
  };
  for (const Unit& u : kUnits) {
    if (iequals(unit, u.name)) {
      const double bytes = value * u.factor;
      if (!std::isfinite(bytes) || bytes > 1.8e19) return std::unexpected(bad + " (too large)");
      return static_cast<std::uint64_t>(std::llround(bytes));
    }
  }
  return std::unexpected(bad);
}

std::expected<std::chrono::milliseconds, std::string> parse_duration(std::string_view text) {
  const std::string_view s = trim(text);
  const std::string bad = "invalid duration '" + std::string(text) +
                          "': use seconds with an optional unit, e.g. 10, 2.5s, 500ms, 5m, 1h";
  double value = 0;
  std::string_view unit;
  if (!split_number(s, value, unit)) return std::unexpected(bad);
  double ms = 0;
  if (unit.empty() || iequals(unit, "s")) {
    ms = value * 1000;
  } else if (iequals(unit, "ms")) {
    ms = value;
  } else if (iequals(unit, "m") || iequals(unit, "min")) {
    ms = value * 60'000;
  } else if (iequals(unit, "h")) {
    ms = value * 3'600'000;
  } else if (iequals(unit, "d")) {
    ms = value * 86'400'000;
  } else {
    return std::unexpected(bad);
  }
  if (!std::isfinite(ms) || ms > 1e15) return std::unexpected(bad + " (too large)");
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(ms)));
}

}  // namespace sandbox
