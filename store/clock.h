// Times in the store: microseconds since the Unix epoch, UTC.
#pragma once

#include <chrono>
#include <cstdint>

namespace store {

// Every time the store keeps has this precision; coarser inputs convert
// implicitly, finer ones must be cast (std::chrono::floor) by the caller.
using Time = std::chrono::sys_time<std::chrono::microseconds>;

// The current wall-clock time.
inline Time now() {
  return std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
}

inline std::int64_t to_micros(Time t) { return t.time_since_epoch().count(); }
inline Time from_micros(std::int64_t us) { return Time(std::chrono::microseconds(us)); }

}  // namespace store
