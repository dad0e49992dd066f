// Memory accounting for one run: the Lua heap and libxml2's allocations both
// charge one budget, so a script cannot dodge its limit by asking for a huge
// DOM instead of a huge table.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include <libxml/tree.h>

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

// Free blocks of up to `Classes` size classes, each list threaded through
// the blocks themselves (their first 8 bytes hold the next one). Shared by
// the parse arena and the Lua heap.
template <std::size_t Classes>
class FreeLists {
 public:
  void* pop(std::size_t cls) {
    void* p = head_[cls];
    if (p != nullptr) std::memcpy(&head_[cls], p, sizeof(void*));
    return p;
  }
  void push(std::size_t cls, void* p) {
    std::memcpy(p, &head_[cls], sizeof(void*));
    head_[cls] = p;
  }
  void clear() { head_.fill(nullptr); }

 private:
  std::array<void*, Classes> head_{};
};

// The Lua heap of one run, charged to `budget`. Blocks up to 256 bytes come
// from 64 KiB chunks with a free list per 16-byte size class; bigger ones
// from malloc. A fresh Lua state makes about a thousand small blocks and a
// parser's run tens of thousands, all freed together by lua_close. The
// budget is charged for what the heap holds: a whole chunk when one is
// added (a freed small block waits for reuse, it is not given back), the
// exact size of a big block. Destroy it after lua_close.
class LuaHeap {
 public:
  explicit LuaHeap(MemoryBudget* budget) : budget_(budget) {}
  ~LuaHeap();
  LuaHeap(const LuaHeap&) = delete;
  LuaHeap& operator=(const LuaHeap&) = delete;

  // The lua_Alloc; `ud` is the LuaHeap.
  static void* alloc(void* ud, void* ptr, std::size_t osize, std::size_t nsize);

 private:
  static constexpr std::size_t kSmall = 256;
  static constexpr std::size_t kChunk = std::size_t{64} << 10;

  // The 16-byte class of a small block of n bytes.
  static std::size_t size_class(std::size_t n) { return (n + 15) / 16; }
  void* allocate(std::size_t n);
  void release(void* p, std::size_t n);

  MemoryBudget* budget_;
  std::vector<void*> chunks_;
  char* top_ = nullptr;  // the free part of the newest chunk
  char* end_ = nullptr;
  FreeLists<kSmall / 16 + 1> free_;
};

// Routes libxml2's allocator through the budget made current by
// ScopedXmlBudget on this thread. Call once per process before any libxml2
// use (the worker does so first thing). Idempotent.
void install_xml_memory_hooks();

// While alive, libxml2's allocations on this thread come from the thread's
// parse arena: a bump region with per-size free lists for blocks under
// 1 KiB, charged to the current budget as it grows, and emptied in one step
// by reset_xml_arena(). Parsing a page makes tens of thousands of small
// blocks (nodes, names, text) that all die together with the document;
// taking them from an arena instead of malloc makes the parse about a third
// faster. Bigger blocks (text buffers, the input copy) are not reused before
// the reset: a parse frees only a few. Wrap only the parse: a script's later
// calls allocate and free repeatedly, and the arena only reuses blocks of the
// sizes it has seen.
class ScopedXmlArena {
 public:
  ScopedXmlArena();
  ~ScopedXmlArena();
  ScopedXmlArena(const ScopedXmlArena&) = delete;
  ScopedXmlArena& operator=(const ScopedXmlArena&) = delete;

  // True when every allocation in the scope so far came from the arena
  // (false if its address space ran out, or a malloc block was grown).
  bool all_in_arena() const;

 private:
  bool previous_;
  std::uint64_t spills_at_start_;
};

// Lets go of a document that was parsed wholly in the arena (all_in_arena())
// without walking its tree: frees its dictionary, the one part that grows by
// malloc after the parse, and leaves every other block to reset_xml_arena().
// Freeing the tree node by node costs more than the tree took to build.
void forget_arena_document(xmlDoc* doc);

// Empties this thread's parse arena. Call once no document parsed in it
// exists any more (the end of a run): every block it handed out becomes
// invalid. Keeps the first few MiB resident for the next run and returns the
// rest to the kernel.
void reset_xml_arena();

// Bytes of this thread's parse arena in use, for tests.
std::size_t xml_arena_used();

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
