// release_mapped_pages(): the pages of the store a process has read leave its
// resident set, and every value reads back the same afterwards.
#include "store/residency.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "test_util.h"

namespace store {
namespace {

using testing::must;
using testing::TempDir;

// RssFile from /proc/self/status, in KiB: file-backed resident pages (the
// store's map among them).
long rss_file_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("RssFile:", 0) == 0) return std::stol(line.substr(8));
  }
  return -1;
}

std::string value_of(int i) { return std::string(64 << 10, static_cast<char>('a' + i % 26)); }

TEST(ResidencyTest, ReleasingTheMapDropsReadPagesFromRssAndKeepsEveryValue) {
  TempDir dir;
  auto env = must(Env::open(dir.path()));
  Dbi dbi;
  {
    auto txn = must(env.begin_write());
    dbi = *must(env.open_dbi(txn, "t", true));
    for (int i = 0; i < 512; ++i) must(txn.put(dbi, "k" + std::to_string(i), value_of(i)));
    must(txn.commit());
  }
  auto read_all = [&] {
    auto txn = must(env.begin_read());
    for (int i = 0; i < 512; ++i) {
      auto v = must(txn.get(dbi, "k" + std::to_string(i)));
      ASSERT_TRUE(v.has_value());
      ASSERT_EQ(*v, value_of(i)) << "key k" << i;
    }
  };
  read_all();  // maps 32 MiB of values
  const long before = rss_file_kib();
  ASSERT_GT(before, 32 << 10);

  const auto map_size = must(release_mapped_pages(env));
  EXPECT_GE(map_size, std::size_t{32} << 20);
  const long after = rss_file_kib();
  EXPECT_LT(after, before - (30 << 10)) << "RssFile " << before << " KiB -> " << after << " KiB";

  read_all();  // the values come back from the page cache, unchanged
  EXPECT_GT(rss_file_kib(), after + (30 << 10));
}

TEST(ResidencyTest, WritesAfterAReleaseCommitAndReadBack) {
  TempDir dir;
  auto env = must(Env::open(dir.path()));
  auto txn = must(env.begin_write());
  Dbi dbi = *must(env.open_dbi(txn, "t", true));
  must(txn.put(dbi, "a", "1"));
  must(txn.commit());
  must(release_mapped_pages(env));
  {
    auto w = must(env.begin_write());
    must(w.put(dbi, "b", "2"));
    must(w.commit());
  }
  must(release_mapped_pages(env));
  auto r = must(env.begin_read());
  EXPECT_EQ(must(r.get(dbi, "a")).value_or(""), "1");
  EXPECT_EQ(must(r.get(dbi, "b")).value_or(""), "2");
}

}  // namespace
}  // namespace store
