// Per-run resource limits. Every field has a default; a source may override
// any of them (the store keeps the overrides, the host fills this struct).
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace sandbox {

struct Limits {
  // Bytes the script may allocate: the Lua heap plus the parsed HTML/JSON
  // documents it asked for.
  std::uint64_t memory_bytes = 256ull << 20;
  // CPU time of one run, script and library calls included.
  std::chrono::milliseconds cpu_time{10'000};
  // Records one run may return.
  std::uint64_t max_records = 100'000;
  // Bytes of serialized (JSON) output one run may return.
  std::uint64_t max_output_bytes = 64ull << 20;
  // Length of any single string inside a record.
  std::uint64_t max_string_bytes = 1ull << 20;
  // Bytes of print() output kept for the author; the rest is dropped.
  std::uint64_t max_log_bytes = 64ull << 10;
};

// Parses "64MiB", "1GiB", "512KiB", "1000000", "10MB" (SI) into bytes.
// The error says what was wrong and shows the accepted forms.
std::expected<std::uint64_t, std::string> parse_size(std::string_view text);

// Parses "10", "2.5", "500ms", "10s", "2m" into milliseconds (a bare number is seconds).
std::expected<std::chrono::milliseconds, std::string> parse_duration(std::string_view text);

}  // namespace sandbox
