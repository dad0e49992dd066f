#include "sandbox/engine/memory.h"

#include <libxml/HTMLparser.h>
#include <libxml/dict.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlmemory.h>
#include <malloc.h>
#include <sys/mman.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace sandbox::engine {
namespace {

thread_local MemoryBudget* current_budget = nullptr;

// The parse arena of one thread. Block layout: an 8-byte header holding the
// block's usable size, then the block, 16-byte aligned like malloc's. Usable
// sizes are 8 more than a multiple of 16, so every next header lands 8 bytes
// before a 16-byte boundary.
class Arena {
 public:
  static constexpr std::size_t kReserve = std::size_t{512} << 20;  // address space only
  static constexpr std::size_t kKeepResident = std::size_t{16} << 20;
  static constexpr std::size_t kChargeStep = std::size_t{64} << 10;
  static constexpr std::size_t kLargest = 1016;  // bigger blocks are never reused before reset
  static constexpr std::size_t kHeader = 8;

  ~Arena() {
    if (base_ != nullptr) ::munmap(base_, kReserve);
  }

  bool contains(const void* p) const {
    const auto* c = static_cast<const char*>(p);
    return base_ != nullptr && c >= base_ && c < base_ + kReserve;
  }

  static std::size_t usable(const void* p) {
    std::uint64_t size = 0;
    std::memcpy(&size, static_cast<const char*>(p) - kHeader, sizeof size);
    return size;
  }

  // A block of at least n bytes; nullptr with `refused` set when the budget
  // says no, nullptr alone when the arena cannot serve it (use malloc).
  void* allocate(std::size_t n, MemoryBudget* budget, bool& refused) {
    refused = false;
    if (!reserve() || n > kReserve) return nullptr;
    const std::size_t size = n <= 8 ? 8 : (n + 7) / 16 * 16 + 8;
    if (size <= kLargest) {
      if (void* p = free_.pop(size / 16)) return p;
    }
    return bump(size, budget, refused);
  }

  // Gives a block back for reuse by a block of the same size class. Blocks
  // freed after the parse (a document being torn down) just wait for reset.
  void release(void* p, bool parsing) {
    if (!parsing) return;
    const std::size_t size = usable(p);
    if (size <= kLargest) {
      free_.push(size / 16, p);
    }
  }

  void reset() {
    if (base_ == nullptr) return;
    if (high_water_ > kKeepResident) {
      ::madvise(base_ + kKeepResident, high_water_ - kKeepResident, MADV_DONTNEED);
    }
    top_ = kHeader;
    high_water_ = kHeader;
    charged_ = 0;
    free_.clear();
  }

  std::size_t used() const { return base_ == nullptr ? 0 : top_ - kHeader; }

 private:
  bool reserve() {
    if (base_ != nullptr) return true;
    if (failed_) return false;
    // Address space, not memory: pages are only used once touched. Under
    // the worker's RLIMIT_AS this may fail; then libxml2 just uses malloc.
    void* p = ::mmap(nullptr, kReserve, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      failed_ = true;
      return false;
    }
    base_ = static_cast<char*>(p);
    // Huge pages where the kernel allows them (THP "madvise" mode, Debian's
    // default): the first parse of a worker otherwise takes a page fault per
    // 4 KiB of tree, about 10 us each on a paravirtualised machine: a third
    // of the faults of a worker's first page here. Advice only: without THP
    // the arena works as before.
    ::madvise(base_, kReserve, MADV_HUGEPAGE);
    return true;
  }

  void* bump(std::size_t size, MemoryBudget* budget, bool& refused) {
    if (top_ + kHeader + size > kReserve) return nullptr;
    const std::size_t end = top_ + kHeader + size;
    if (budget != nullptr && end > charged_) {
      const std::size_t step = (end - charged_ + kChargeStep - 1) / kChargeStep * kChargeStep;
      if (!budget->charge(step)) {
        refused = true;
        return nullptr;
      }
      charged_ += step;
    }
    char* header = base_ + top_;
    const std::uint64_t size64 = size;
    std::memcpy(header, &size64, sizeof size64);
    top_ = end;
    if (top_ > high_water_) high_water_ = top_;
    return header + kHeader;
  }

  char* base_ = nullptr;
  bool failed_ = false;
  std::size_t top_ = kHeader;
  std::size_t high_water_ = kHeader;
  std::size_t charged_ = 0;  // bytes of the current run's budget this arena holds
  FreeLists<kLargest / 16 + 1> free_;
};

thread_local Arena arena;
thread_local bool parsing = false;
// Allocations made while parsing that the arena could not serve.
thread_local std::uint64_t spills = 0;

void* malloc_charged(std::size_t size) {
  MemoryBudget* b = current_budget;
  if (b != nullptr && !b->fits(size)) return nullptr;
  void* p = std::malloc(size);
  if (b != nullptr && p != nullptr) b->add(malloc_usable_size(p));
  return p;
}

void* xml_malloc(std::size_t size) {
  if (parsing) {
    bool refused = false;
    if (void* p = arena.allocate(size, current_budget, refused)) return p;
    if (refused) return nullptr;
    ++spills;
  }
  return malloc_charged(size);
}

void xml_free(void* p) {
  if (p == nullptr) return;
  if (arena.contains(p)) {
    arena.release(p, parsing);
    return;
  }
  if (MemoryBudget* b = current_budget) b->release(malloc_usable_size(p));
  std::free(p);
}

void* xml_realloc(void* p, std::size_t size) {
  if (p == nullptr) return xml_malloc(size);
  if (arena.contains(p)) {
    const std::size_t old = Arena::usable(p);
    if (size <= old) return p;
    void* q = xml_malloc(size);
    if (q == nullptr) return nullptr;  // p is untouched
    std::memcpy(q, p, old);
    arena.release(p, parsing);
    return q;
  }
  if (parsing) ++spills;  // a malloc block that lives on in the parse
  MemoryBudget* b = current_budget;
  if (b == nullptr) return std::realloc(p, size);
  const std::size_t old = malloc_usable_size(p);
  if (size > old && !b->fits(size - old)) return nullptr;
  void* q = std::realloc(p, size);
  if (q == nullptr) return nullptr;  // p is untouched and still charged
  b->release(old);
  b->add(malloc_usable_size(q));
  return q;
}

char* xml_strdup(const char* s) {
  const std::size_t n = std::strlen(s) + 1;
  auto* p = static_cast<char*>(xml_malloc(n));
  if (p != nullptr) std::memcpy(p, s, n);
  return p;
}

}  // namespace

LuaHeap::~LuaHeap() {
  for (void* chunk : chunks_) std::free(chunk);
}

void* LuaHeap::allocate(std::size_t n) {
  if (n > kSmall) {
    if (!budget_->charge(n)) return nullptr;
    void* p = std::malloc(n);
    if (p == nullptr) budget_->release(n);
    return p;
  }
  const std::size_t cls = size_class(n);
  if (void* p = free_.pop(cls)) return p;
  const std::size_t size = cls * 16;
  if (top_ == nullptr || static_cast<std::size_t>(end_ - top_) < size) {
    if (!budget_->charge(kChunk)) return nullptr;
    void* chunk = std::malloc(kChunk);
    if (chunk == nullptr) {
      budget_->release(kChunk);
      return nullptr;
    }
    try {
      chunks_.push_back(chunk);
    } catch (...) {
      std::free(chunk);
      budget_->release(kChunk);
      return nullptr;
    }
    top_ = static_cast<char*>(chunk);
    end_ = top_ + kChunk;
  }
  void* p = top_;
  top_ += size;
  return p;
}

void LuaHeap::release(void* p, std::size_t n) {
  if (n > kSmall) {
    budget_->release(n);
    std::free(p);
    return;
  }
  free_.push(size_class(n), p);
}

void* LuaHeap::alloc(void* ud, void* ptr, std::size_t osize, std::size_t nsize) {
  auto* heap = static_cast<LuaHeap*>(ud);
  if (nsize == 0) {
    if (ptr != nullptr) heap->release(ptr, osize);
    return nullptr;
  }
  if (ptr == nullptr) return heap->allocate(nsize);
  if (osize > kSmall && nsize > kSmall) {
    if (nsize > osize && !heap->budget_->charge(nsize - osize)) return nullptr;
    void* q = std::realloc(ptr, nsize);
    if (q == nullptr) {
      if (nsize > osize) heap->budget_->release(nsize - osize);
      return nullptr;
    }
    if (nsize < osize) heap->budget_->release(osize - nsize);
    return q;
  }
  if (osize <= kSmall && nsize <= kSmall && size_class(osize) == size_class(nsize)) {
    return ptr;
  }
  void* q = heap->allocate(nsize);
  if (q == nullptr) return nullptr;  // ptr is untouched
  std::memcpy(q, ptr, osize < nsize ? osize : nsize);
  heap->release(ptr, osize);
  return q;
}

void install_xml_memory_hooks() {
  static std::once_flag once;
  std::call_once(once, [] {
    xmlMemSetup(xml_free, xml_malloc, xml_realloc, xml_strdup);
    xmlInitParser();
    // Whatever libxml2 sets up lazily on its first parse must not live in
    // an arena that is later emptied: parse once outside any arena.
    static const char kWarmUp[] = "<html><head><title>t</title></head><body><p>x</p></body></html>";
    xmlFreeDoc(htmlReadMemory(kWarmUp, sizeof kWarmUp - 1, "", "UTF-8",
                              HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                  HTML_PARSE_NONET | HTML_PARSE_COMPACT));
    xmlResetLastError();
  });
}

ScopedXmlArena::ScopedXmlArena() : previous_(parsing), spills_at_start_(spills) { parsing = true; }
ScopedXmlArena::~ScopedXmlArena() { parsing = previous_; }
bool ScopedXmlArena::all_in_arena() const { return spills == spills_at_start_; }

void forget_arena_document(xmlDoc* doc) {
  // The dictionary is the one part that grows after the parse (XPath
  // interns names in it), by malloc.
  if (doc != nullptr && doc->dict != nullptr) xmlDictFree(doc->dict);
}

void reset_xml_arena() {
  // libxml2 keeps a copy of the last parse error, its strings allocated
  // during the parse; drop it before the arena forgets them.
  xmlResetLastError();
  arena.reset();
}

std::size_t xml_arena_used() { return arena.used(); }

ScopedXmlBudget::ScopedXmlBudget(MemoryBudget* budget) : previous_(current_budget) {
  current_budget = budget;
}
ScopedXmlBudget::~ScopedXmlBudget() { current_budget = previous_; }

}  // namespace sandbox::engine
