#include "sandbox/engine/memory.h"

#include <libxml/parser.h>
#include <libxml/xmlmemory.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace sandbox::engine {
namespace {

thread_local MemoryBudget* current_budget = nullptr;

void* xml_malloc(std::size_t size) {
  MemoryBudget* b = current_budget;
  if (b != nullptr && !b->fits(size)) return nullptr;
  void* p = std::malloc(size);
  if (b != nullptr && p != nullptr) b->add(malloc_usable_size(p));
  return p;
}

void xml_free(void* p) {
  if (p == nullptr) return;
  if (MemoryBudget* b = current_budget) b->release(malloc_usable_size(p));
  std::free(p);
}

void* xml_realloc(void* p, std::size_t size) {
  MemoryBudget* b = current_budget;
  if (b == nullptr) return std::realloc(p, size);
  const std::size_t old = p ? malloc_usable_size(p) : 0;
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

void* lua_budget_alloc(void* ud, void* ptr, std::size_t osize, std::size_t nsize) {
  auto* b = static_cast<MemoryBudget*>(ud);
  if (nsize == 0) {
    b->release(osize);
    std::free(ptr);
    return nullptr;
  }
  const std::size_t old = ptr ? osize : 0;
  if (nsize > old && !b->charge(nsize - old)) return nullptr;
  void* q = std::realloc(ptr, nsize);
  if (q == nullptr) {
    if (nsize > old) b->release(nsize - old);
    return nullptr;
  }
  if (nsize < old) b->release(old - nsize);
  return q;
}

void install_xml_memory_hooks() {
  static std::once_flag once;
  std::call_once(once, [] {
    xmlMemSetup(xml_free, xml_malloc, xml_realloc, xml_strdup);
    xmlInitParser();
  });
}

ScopedXmlBudget::ScopedXmlBudget(MemoryBudget* budget) : previous_(current_budget) {
  current_budget = budget;
}
ScopedXmlBudget::~ScopedXmlBudget() { current_budget = previous_; }

}  // namespace sandbox::engine
