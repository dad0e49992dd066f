// The Lua heap of a run (sandbox/engine/memory.h): small blocks from chunks
// with per-size free lists, big ones from malloc, and the budget charged for
// what the heap holds.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "sandbox/engine/memory.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
}

namespace sandbox::engine {
namespace {

class LuaHeapTest : public ::testing::Test {
 protected:
  void SetUp() override { budget_.limit = std::int64_t{64} << 20; }

  void* alloc(void* p, std::size_t osize, std::size_t nsize) {
    return LuaHeap::alloc(&heap_, p, osize, nsize);
  }

  MemoryBudget budget_;
  LuaHeap heap_{&budget_};
};

TEST_F(LuaHeapTest, SmallBlocksChargeAWholeChunkAndAreReusedOnceFreed) {
  void* a = alloc(nullptr, 0, 40);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(budget_.used, 64 << 10);  // the first chunk
  void* b = alloc(nullptr, 0, 48);    // same 16-byte class as 40
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(budget_.used, 64 << 10);
  alloc(a, 40, 0);
  EXPECT_EQ(budget_.used, 64 << 10) << "a freed small block stays in the heap";
  EXPECT_EQ(alloc(nullptr, 0, 33), a) << "and is the next block of its size";
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b) % 16, 0u);
}

TEST_F(LuaHeapTest, BigBlocksAreChargedExactlyAndGivenBack) {
  void* big = alloc(nullptr, 0, 100000);
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(budget_.used, 100000);
  big = alloc(big, 100000, 300000);
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(budget_.used, 300000);
  alloc(big, 300000, 0);
  EXPECT_EQ(budget_.used, 0);
}

TEST_F(LuaHeapTest, ReallocKeepsTheContentAcrossSizeClassesAndKinds) {
  auto* p = static_cast<char*>(alloc(nullptr, 0, 20));
  ASSERT_NE(p, nullptr);
  std::memcpy(p, "0123456789abcdefghi", 20);
  EXPECT_EQ(alloc(p, 20, 30), p) << "still fits its 32-byte class";
  auto* q = static_cast<char*>(alloc(p, 30, 200));  // another class
  ASSERT_NE(q, nullptr);
  EXPECT_STREQ(q, "0123456789abcdefghi");
  auto* r = static_cast<char*>(alloc(q, 200, 5000));  // small to big
  ASSERT_NE(r, nullptr);
  EXPECT_STREQ(r, "0123456789abcdefghi");
  auto* s = static_cast<char*>(alloc(r, 5000, 24));  // big to small
  ASSERT_NE(s, nullptr);
  EXPECT_STREQ(s, "0123456789abcdefghi");
  alloc(s, 24, 0);
}

TEST_F(LuaHeapTest, AllocationsPastTheBudgetFailAndMarkItExceeded) {
  budget_.limit = 100 << 10;
  void* small = alloc(nullptr, 0, 16);  // charges a 64 KiB chunk
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(alloc(nullptr, 0, 50 << 10), nullptr);
  EXPECT_TRUE(budget_.exceeded);
  std::vector<void*> blocks;
  for (int i = 0; i < 5000; ++i) {
    void* p = alloc(nullptr, 0, 256);  // fills the chunk; the next one passes the limit
    if (p == nullptr) break;
    blocks.push_back(p);
  }
  EXPECT_EQ(blocks.size(), (64u << 10) / 256 - 1);
  EXPECT_LE(budget_.used, budget_.limit);
}

TEST_F(LuaHeapTest, ALuaStateRunsOnItAndClosesIntoIt) {
  lua_State* L = lua_newstate(LuaHeap::alloc, &heap_);
  ASSERT_NE(L, nullptr);
  luaL_openlibs(L);
  ASSERT_EQ(luaL_dostring(L,
                          "local t = {} for i = 1, 20000 do t[i] = ('x'):rep(i % 300) .. i end "
                          "return #table.concat(t)"),
            0)
      << lua_tostring(L, -1);
  EXPECT_GT(lua_tointeger(L, -1), 2'000'000);
  EXPECT_GT(budget_.peak, 2'000'000);
  lua_close(L);
}

}  // namespace
}  // namespace sandbox::engine
