// Key encodings sort bytewise in the order their values are scanned.
#include "store/keys.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace store {
namespace {

template <class T, class Encode>
void expect_order_preserved(std::vector<T> values, Encode encode) {
  std::sort(values.begin(), values.end());
  for (std::size_t i = 1; i < values.size(); ++i) {
    std::string a = encode(values[i - 1]);
    std::string b = encode(values[i]);
    if (values[i - 1] == values[i]) {
      EXPECT_EQ(a, b);
    } else {
      EXPECT_LT(a, b) << "values " << i - 1 << " and " << i;
    }
  }
}

TEST(Keys, UnsignedIntegersAreBigEndian) {
  EXPECT_EQ(KeyWriter().u32(0x01020304).bytes(), std::string("\x01\x02\x03\x04"));
  EXPECT_EQ(KeyWriter().u64(1).bytes(), std::string("\0\0\0\0\0\0\0\1", 8));
  std::vector<std::uint64_t> values = {0, 1, 255, 256, 65535, 1ull << 32, ~0ull};
  std::mt19937_64 rng(1);
  for (int i = 0; i < 1000; ++i) values.push_back(rng());
  expect_order_preserved(values, [](std::uint64_t v) { return KeyWriter().u64(v).take(); });
}

TEST(Keys, SignedIntegersAndTimesSortNegativesFirst) {
  std::vector<std::int64_t> values = {std::numeric_limits<std::int64_t>::min(), -1, 0, 1,
                                      std::numeric_limits<std::int64_t>::max()};
  std::mt19937_64 rng(2);
  for (int i = 0; i < 1000; ++i) values.push_back(static_cast<std::int64_t>(rng()));
  expect_order_preserved(values, [](std::int64_t v) { return KeyWriter().i64(v).take(); });
  EXPECT_LT(KeyWriter().time(from_micros(-5)).bytes(), KeyWriter().time(from_micros(3)).bytes());
}

TEST(Keys, DescendingIntegersSortLargestFirst) {
  std::vector<std::int32_t> values = {std::numeric_limits<std::int32_t>::min(), -7, 0, 7,
                                      std::numeric_limits<std::int32_t>::max()};
  std::sort(values.begin(), values.end());
  for (std::size_t i = 1; i < values.size(); ++i) {
    EXPECT_GT(KeyWriter().i32_desc(values[i - 1]).bytes(), KeyWriter().i32_desc(values[i]).bytes());
  }
}

TEST(Keys, StringsSortBytewiseAndNeverRunIntoTheNextComponent) {
  std::vector<std::string> values = {
      "",       "a",    std::string("a\0", 2), std::string("a\0b", 3), "ab", "b", "books",
      "books2", "\xff", std::string(3, '\0')};
  expect_order_preserved(values,
                         [](const std::string& v) { return KeyWriter().str(v).u64(7).take(); });
  // A source's prefix matches its own keys only.
  std::string books = KeyWriter().str("books").take();
  EXPECT_TRUE(KeyWriter().str("books").u64(1).bytes().starts_with(books));
  EXPECT_FALSE(KeyWriter().str("books2").u64(1).bytes().starts_with(books));
}

TEST(Keys, ReaderDecodesWhatWriterWrote) {
  std::string embedded("x\0y\0", 4);
  std::string key = KeyWriter()
                        .u8(9)
                        .str(embedded)
                        .i32_desc(-3)
                        .time(from_micros(-42))
                        .u32(7)
                        .u64(1ull << 40)
                        .take();
  KeyReader r(key);
  EXPECT_EQ(r.u8(), 9);
  EXPECT_EQ(r.str(), embedded);
  EXPECT_EQ(r.i32_desc(), -3);
  EXPECT_EQ(r.time(), from_micros(-42));
  EXPECT_EQ(r.u32(), 7u);
  EXPECT_EQ(r.u64(), 1ull << 40);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.at_end());
}

TEST(Keys, ReaderReportsTruncation) {
  KeyReader r(std::string_view("\x01\x02", 2));
  r.u32();
  EXPECT_FALSE(r.ok());
  KeyReader unterminated("abc");
  unterminated.str();
  EXPECT_FALSE(unterminated.ok());
}

TEST(Keys, PrefixEndBoundsEveryKeyWithThePrefix) {
  EXPECT_EQ(prefix_end("ab"), std::optional<std::string>("ac"));
  EXPECT_EQ(prefix_end("a\xff"), std::optional<std::string>("b"));
  EXPECT_EQ(prefix_end("\xff\xff"), std::nullopt);
  EXPECT_EQ(prefix_end(""), std::nullopt);
  std::string prefix = KeyWriter().str("src").take();
  std::string end = *prefix_end(prefix);
  EXPECT_LT(KeyWriter().str("src").u64(~0ull).bytes(), end);
  EXPECT_GE(KeyWriter().str("src0").bytes(), end);
}

}  // namespace
}  // namespace store
