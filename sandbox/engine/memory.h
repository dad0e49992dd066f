// Memory accounting for one run: the Lua heap and libxml2's allocations both
// charge one budget, so a script cannot dodge its limit by asking for a huge
// DOM instead of a huge table.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sandbox::engine {

struct MemoryBudget {
  std::int64_t used = 0;
  std::int64_t peak = 0;
  std::int64_t limit = 0;
  bool exceeded = false;  // sticky: once hit, the run fails with kMemory

  // Reserves `bytes`; false (and `exceeded`) when that would pass the limit.
  bool charge(std::size_t bytes) {
    if (used + static_cast<std::int64_t>(bytes) > limit) {
      exceeded = true;
      return false;
    }
    used += static_cast<std::int64_t>(bytes);
    if (used > peak) peak = used;
    return true;
  }
  // True when `bytes` more would stay within the limit; marks `exceeded` if not.
  bool fits(std::size_t bytes) {
    if (used + static_cast<std::int64_t>(bytes) > limit) {
      exceeded = true;
      return false;
    }
    return true;
  }
  // Records `bytes` already allocated (rounding can overshoot by a little).
  void add(std::size_t bytes) {
    used += static_cast<std::int64_t>(bytes);
    if (used > peak) peak = used;
  }
  void release(std::size_t bytes) {
    used -= static_cast<std::int64_t>(bytes);
    if (used < 0) used = 0;  // blocks allocated before the run began
  }
};

// The lua_Alloc that charges `ud` (a MemoryBudget*).
void* lua_budget_alloc(void* ud, void* ptr, std::size_t osize, std::size_t nsize);

// Routes libxml2's allocator through the budget made current by
// ScopedXmlBudget on this thread. Call once per process before any libxml2
// use (the worker does so first thing). Idempotent.
void install_xml_memory_hooks();

// Makes `budget` the one libxml2 allocations on this thread charge, for the
// scope's lifetime.
class ScopedXmlBudget {
 public:
  explicit ScopedXmlBudget(MemoryBudget* budget);
  ~ScopedXmlBudget();
  ScopedXmlBudget(const ScopedXmlBudget&) = delete;
  ScopedXmlBudget& operator=(const ScopedXmlBudget&) = delete;

 private:
  MemoryBudget* previous_;
};

}  // namespace sandbox::engine
