// The registry of the host's settings: every knob a later feature reads
// (limits, intervals, politeness, LLM budgets) has one entry here with a
// type, a unit, a default and a description. Values live in the store
// (global, or overridden per source); this module validates them and turns
// them into typed values. An unknown name is an error, never ignored.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace host::config {

enum class SettingType { kSize, kDuration, kInteger, kNumber, kBoolean, kString, kList, kEnum };

struct SettingDef {
  std::string_view name;
  SettingType type;
  std::string_view unit;           // "bytes", "seconds", "records", "" ...
  std::string_view default_value;  // in the canonical form normalize() produces
  std::string_view description;
  double min = 0;                         // for integers and numbers (inclusive)
  double max = 0;                         // 0 = no upper bound
  std::vector<std::string_view> choices;  // for kEnum
  bool per_source = true;                 // may be overridden per source
};

// Every known setting, sorted by name.
const std::vector<SettingDef>& all_settings();

// The setting called `name`, or nullptr.
const SettingDef* find_setting(std::string_view name);

// "unknown setting 'fetch.timout'; did you mean 'fetch.timeout'? 'host config
// list' shows them all"
std::string unknown_setting_message(std::string_view name);

// Checks `value` against the setting's type and range and returns its
// canonical form ("64MiB" -> "67108864"). The error names the setting, says
// what was wrong and shows the accepted form.
std::expected<std::string, std::string> normalize(const SettingDef& def, std::string_view value);

// How the type is written, for help and errors ("a size such as 64MiB").
std::string_view accepted_form(SettingType type);
std::string_view type_name(SettingType type);

// Typed readers of a canonical value (as stored); they fall back to the
// default when the stored value is unreadable.
std::uint64_t as_size(const SettingDef& def, std::string_view value);
std::chrono::milliseconds as_duration(const SettingDef& def, std::string_view value);
std::int64_t as_integer(const SettingDef& def, std::string_view value);
double as_number(const SettingDef& def, std::string_view value);
bool as_boolean(const SettingDef& def, std::string_view value);
std::vector<std::string> as_list(std::string_view value);

}  // namespace host::config
