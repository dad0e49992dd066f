// Small formatting helpers shared by the commands that print tables and
// hand-written JSON (status, history, tasks).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/clock.h"

namespace host::util {

// "3m ago", "in 4m", "just now"; "never" for nullopt.
std::string relative_time(store::Time t, store::Time now);
std::string relative_time(const std::optional<store::Time>& t, store::Time now);

// `text` on one line (runs of whitespace become one space), at most `max`
// characters (UTF-8 aware), "…" when cut; max 0: no limit.
std::string one_line(std::string_view text, std::size_t max);

// Appends `text` as a JSON string; invalid UTF-8 is replaced (U+FFFD).
void append_json_string(std::string& out, std::string_view text);

// Prints rows with columns padded to their widest cell (in bytes), each
// line prefixed by `indent`, trailing spaces trimmed.
void print_table(const std::vector<std::vector<std::string>>& rows, std::string_view indent = "");

}  // namespace host::util
