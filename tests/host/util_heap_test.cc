// host/util/heap.h: after tune_heap_for_long_run(), threads allocate from the
// main heap (which malloc_trim returns in full) instead of arenas of their own.
#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "host/util/heap.h"

namespace host::util {
namespace {

// The number of heaps glibc reports: the main heap and one per thread arena.
int heap_count() {
  char* text = nullptr;
  std::size_t size = 0;
  FILE* f = open_memstream(&text, &size);
  if (f == nullptr) return -1;
  malloc_info(0, f);
  std::fclose(f);
  int n = 0;
  for (const char* p = text; (p = std::strstr(p, "<heap nr=")) != nullptr; ++p) ++n;
  std::free(text);
  return n;
}

// Four threads allocate at once (each holds its block until all have one,
// so that glibc cannot hand one arena from thread to thread); exits with the
// number of heaps.
[[noreturn]] void allocate_on_threads_and_exit(bool tune) {
  if (tune) tune_heap_for_long_run();
  std::vector<std::thread> threads;
  std::vector<void*> blocks(4, nullptr);
  std::atomic<int> ready{0};
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    threads.emplace_back([&, i] {
      blocks[i] = std::malloc(64 << 10);
      std::memset(blocks[i], 1, 64 << 10);
      ++ready;
      while (ready.load() < static_cast<int>(blocks.size())) std::this_thread::yield();
    });
  }
  for (auto& t : threads) t.join();
  const int heaps = heap_count();
  for (void* b : blocks) std::free(b);
  std::_Exit(heaps);
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kGlibcMalloc = false;  // ASan brings its own allocator
#else
constexpr bool kGlibcMalloc = true;
#endif

TEST(UtilHeap, ThreadsOfALongRunAllocateFromTheMainHeap) {
  if (!kGlibcMalloc) GTEST_SKIP() << "needs glibc's malloc, not the sanitizer's";
  // A fresh process for each case: glibc fixes its arena limit the first
  // time a thread needs an arena, and this test binary has run threads.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(allocate_on_threads_and_exit(true), testing::ExitedWithCode(1), "");
  // The control: without it, the same threads get arenas of their own.
  EXPECT_EXIT(
      allocate_on_threads_and_exit(false),
      [](int status) { return WIFEXITED(status) && WEXITSTATUS(status) > 1; }, "");
}

}  // namespace
}  // namespace host::util
