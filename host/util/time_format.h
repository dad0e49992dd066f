// Times as users type and read them.
#pragma once

#include <expected>
#include <string>
#include <string_view>

#include "store/clock.h"

namespace host::util {

// "2026-11-22T04:49:47Z" (UTC, seconds).
std::string format_time(store::Time t);

// Parses an ISO 8601 date or date-time ("2026-11-22", "2026-11-22T04:49",
// "2026-11-22T04:49:47Z", "2026-11-22 04:49:47+01:00"), or a duration ago
// ("24h", "7d", "90m" mean that long before `now`). The error shows both forms.
std::expected<store::Time, std::string> parse_time(std::string_view text, store::Time now);

}  // namespace host::util
