#include "host/config/registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "sandbox/limits.h"
#include "sandbox/text/ascii.h"

namespace host::config {
namespace {

using sandbox::text::to_lower;
using sandbox::text::trim;

using T = SettingType;

std::vector<SettingDef> make_registry() {
  std::vector<SettingDef> r = {
      // Sandbox limits (per run).
      {"sandbox.max_memory",
       T::kSize,
       "bytes",
       "268435456",
       "Memory a parser may use per page: its Lua heap plus the parsed documents",
       1 << 20,
       0,
       {}},
      {"sandbox.timeout",
       T::kDuration,
       "seconds",
       "10",
       "CPU time a parser may use per page",
       0.01,
       3600,
       {}},
      {"sandbox.max_records",
       T::kInteger,
       "records",
       "100000",
       "Records a parser may return per page",
       1,
       0,
       {}},
      {"sandbox.max_output",
       T::kSize,
       "bytes",
       "67108864",
       "Serialized output a parser may return per page",
       1024,
       0,
       {}},
      {"sandbox.max_string",
       T::kSize,
       "bytes",
       "1048576",
       "Length of any one string in a record",
       16,
       0,
       {}},
      // Fetching.
      {"fetch.timeout",
       T::kDuration,
       "seconds",
       "30",
       "Total time for one HTTP request",
       0.1,
       3600,
       {}},
      {"fetch.connect_timeout",
       T::kDuration,
       "seconds",
       "10",
       "Time to establish a connection",
       0.1,
       600,
       {}},
      {"fetch.retries",
       T::kInteger,
       "attempts",
       "3",
       "Retries on network errors, 5xx and 429 (with exponential backoff and jitter)",
       0,
       20,
       {}},
      {"fetch.max_per_host",
       T::kInteger,
       "requests",
       "2",
       "Requests in flight to one host at a time",
       1,
       64,
       {}},
      {"fetch.min_delay",
       T::kDuration,
       "seconds",
       "1",
       "Minimum time between two requests to one host",
       0,
       3600,
       {}},
      {"fetch.robots",
       T::kBoolean,
       "",
       "true",
       "Fetch and honour robots.txt (turning it off for a source is logged)",
       0,
       0,
       {}},
      {"fetch.user_agent",
       T::kString,
       "",
       "SmartDataPipeline/0.1 (+https://example.invalid/bot)",
       "User-Agent header sent with every request",
       0,
       0,
       {}},
      {"fetch.max_body",
       T::kSize,
       "bytes",
       "10485760",
       "Largest response body accepted, after decompression",
       1024,
       0,
       {}},
      {"fetch.content_types",
       T::kList,
       "",
       "text/html,application/xhtml+xml,application/xml,text/xml,application/*+xml,"
       "application/json,application/*+json,text/plain,text/csv",
       "Content types accepted (comma-separated)",
       0,
       0,
       {}},
      {"fetch.allow_private",
       T::kBoolean,
       "",
       "false",
       "Allow fetching from loopback, private and link-local addresses (cloud metadata "
       "addresses need fetch.allow_hosts)",
       0,
       0,
       {}},
      {"fetch.allow_hosts",
       T::kList,
       "",
       "",
       "Hosts allowed to resolve to private addresses (comma-separated)",
       0,
       0,
       {}},
      // Scheduling and health.
      {"source.interval",
       T::kDuration,
       "seconds",
       "3600",
       "How often a source is extracted",
       1,
       0,
       {}},
      {"health.quarantine_after",
       T::kInteger,
       "failures",
       "3",
       "Consecutive failures that quarantine a source",
       1,
       100,
       {}},
      {"health.quality_drop",
       T::kNumber,
       "ratio",
       "0.5",
       "A run with fewer records than this share of the previous run's degrades the source",
       0,
       1,
       {}},
      {"repair.retry_after",
       T::kDuration,
       "seconds",
       "3600",
       "Wait before another repair attempt after one fails",
       0,
       0,
       {}},
      {"repair.max_per_day",
       T::kInteger,
       "repairs",
       "3",
       "Repair attempts per source per day (the circuit breaker)",
       0,
       100,
       {}},
      // Store.
      {"store.bronze_keep",
       T::kInteger,
       "snapshots",
       "20",
       "Bronze snapshots kept per source (plus any a silver record points to)",
       1,
       100000,
       {}},
      {"store.history_keep",
       T::kDuration,
       "seconds",
       "2592000",
       "How long finished tasks, runs and metric samples are kept (host run prunes older ones)",
       3600,
       0,
       {},
       false},
      // Extractor lifecycle.
      {"validate.snapshots",
       T::kInteger,
       "snapshots",
       "5",
       "Stored snapshots a new version is validated against",
       1,
       1000,
       {}},
      {"validate.min_schema_ratio",
       T::kNumber,
       "ratio",
       "0.95",
       "Share of records that must pass the schema",
       0,
       1,
       {}},
      {"validate.count_tolerance",
       T::kNumber,
       "ratio",
       "0.8",
       "Records a new version must return, relative to the active version",
       0,
       1,
       {}},
      {"dropin.mode",
       T::kEnum,
       "",
       "promote",
       "What a dropped-in script becomes when it validates",
       0,
       0,
       {"promote", "stage"},
       false},
      // LLM.
      {"llm.endpoint",
       T::kString,
       "",
       "",
       "OpenAI-compatible or Ollama endpoint; empty: heuristics only",
       0,
       0,
       {},
       false},
      {"llm.model", T::kString, "", "", "Model name to request", 0, 0, {}, false},
      {"llm.max_calls_per_day",
       T::kInteger,
       "calls",
       "100",
       "LLM calls per day across all sources",
       0,
       0,
       {},
       false},
  };
  std::sort(r.begin(), r.end(),
            [](const SettingDef& a, const SettingDef& b) { return a.name < b.name; });
  return r;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string format_number(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, p);
}

}  // namespace

const std::vector<SettingDef>& all_settings() {
  static const std::vector<SettingDef> registry = make_registry();
  return registry;
}

const SettingDef* find_setting(std::string_view name) {
  for (const SettingDef& d : all_settings()) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

std::string unknown_setting_message(std::string_view name) {
  const SettingDef* best = nullptr;
  std::size_t best_distance = 4;
  for (const SettingDef& d : all_settings()) {
    const std::size_t dist = edit_distance(name, d.name);
    if (dist < best_distance) {
      best_distance = dist;
      best = &d;
    }
  }
  std::string message = "unknown setting '" + std::string(name) + "'";
  if (best != nullptr) message += "; did you mean '" + std::string(best->name) + "'?";
  return message + " ('host config list' shows every setting)";
}

std::string_view type_name(SettingType type) {
  switch (type) {
    case T::kSize:
      return "size";
    case T::kDuration:
      return "duration";
    case T::kInteger:
      return "integer";
    case T::kNumber:
      return "number";
    case T::kBoolean:
      return "boolean";
    case T::kString:
      return "string";
    case T::kList:
      return "list";
    case T::kEnum:
      return "choice";
  }
  return "string";
}

std::string_view accepted_form(SettingType type) {
  switch (type) {
    case T::kSize:
      return "a size such as 10MiB, 512KiB, 1GiB or a number of bytes";
    case T::kDuration:
      return "a duration such as 30 (seconds), 500ms, 2.5s, 10m or 1h";
    case T::kInteger:
      return "a whole number";
    case T::kNumber:
      return "a number such as 0.8";
    case T::kBoolean:
      return "true or false";
    case T::kString:
      return "any text";
    case T::kList:
      return "comma-separated values, or an empty string for none";
    case T::kEnum:
      return "one of the listed choices";
  }
  return "";
}

std::expected<std::string, std::string> normalize(const SettingDef& def, std::string_view raw) {
  const std::string_view value = trim(raw);
  const std::string name(def.name);
  auto bad = [&](const std::string& why) -> std::unexpected<std::string> {
    std::string form(accepted_form(def.type));
    if (def.type == T::kEnum) {
      form = "one of:";
      for (auto c : def.choices) form += " " + std::string(c);
    }
    return std::unexpected("invalid value '" + std::string(raw) + "' for " + name + ": " + why +
                           "; expected " + form);
  };
  auto check_range = [&](double v) -> std::optional<std::string> {
    if (v < def.min) return "it must be at least " + format_number(def.min);
    if (def.max > 0 && v > def.max) return "it must be at most " + format_number(def.max);
    return std::nullopt;
  };
  switch (def.type) {
    case T::kSize: {
      auto bytes = sandbox::parse_size(value);
      if (!bytes) return bad("not a size");
      if (auto why = check_range(static_cast<double>(*bytes))) return bad(*why + " bytes");
      return std::to_string(*bytes);
    }
    case T::kDuration: {
      auto ms = sandbox::parse_duration(value);
      if (!ms) return bad("not a duration");
      const double seconds = static_cast<double>(ms->count()) / 1000.0;
      if (auto why = check_range(seconds)) return bad(*why + " seconds");
      return format_number(seconds);
    }
    case T::kInteger: {
      std::int64_t v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || p != value.data() + value.size() || value.empty()) {
        return bad("not a whole number");
      }
      if (auto why = check_range(static_cast<double>(v))) return bad(*why);
      return std::to_string(v);
    }
    case T::kNumber: {
      double v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || p != value.data() + value.size() || value.empty() ||
          !std::isfinite(v)) {
        return bad("not a number");
      }
      if (auto why = check_range(v)) return bad(*why);
      return format_number(v);
    }
    case T::kBoolean: {
      const std::string l = to_lower(value);
      if (l == "true" || l == "yes" || l == "on" || l == "1") return std::string("true");
      if (l == "false" || l == "no" || l == "off" || l == "0") return std::string("false");
      return bad("not a boolean");
    }
    case T::kString:
      if (value.size() > 4096) return bad("longer than 4096 bytes");
      for (char c : value) {
        if (static_cast<unsigned char>(c) < 0x20) return bad("it contains a control character");
      }
      return std::string(value);
    case T::kList: {
      std::string out;
      for (const std::string& item : as_list(value)) {
        for (char c : item) {
          if (static_cast<unsigned char>(c) < 0x20) return bad("it contains a control character");
        }
        if (!out.empty()) out += ',';
        out += item;
      }
      return out;
    }
    case T::kEnum: {
      const std::string l = to_lower(value);
      for (auto c : def.choices) {
        if (c == l) return l;
      }
      return bad("not a known choice");
    }
  }
  return bad("unsupported type");
}

namespace {
std::string canonical_or_default(const SettingDef& def, std::string_view value) {
  auto n = normalize(def, value);
  if (n) return std::move(*n);
  return std::string(def.default_value);
}
}  // namespace

std::uint64_t as_size(const SettingDef& def, std::string_view value) {
  const std::string n = canonical_or_default(def, value);
  return std::stoull(n);
}

std::chrono::milliseconds as_duration(const SettingDef& def, std::string_view value) {
  const std::string n = canonical_or_default(def, value);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(std::stod(n) * 1000)));
}

std::int64_t as_integer(const SettingDef& def, std::string_view value) {
  const std::string n = canonical_or_default(def, value);
  return std::stoll(n);
}

double as_number(const SettingDef& def, std::string_view value) {
  const std::string n = canonical_or_default(def, value);
  return std::stod(n);
}

bool as_boolean(const SettingDef& def, std::string_view value) {
  const std::string n = canonical_or_default(def, value);
  return n == "true";
}

std::vector<std::string> as_list(std::string_view value) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    const std::string_view item = trim(value.substr(start, comma - start));
    if (!item.empty()) out.emplace_back(item);
    start = comma + 1;
  }
  return out;
}

}  // namespace host::config
