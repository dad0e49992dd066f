// The internal value codec round-trips and detects truncation.
#include "store/detail/codec.h"

#include <gtest/gtest.h>

#include <limits>

namespace store::detail {
namespace {

TEST(Codec, RoundTripsEveryFieldKind) {
  std::string out;
  Packer(out)
      .u8(200)
      .boolean(true)
      .varint(0)
      .varint(300)
      .varint(std::numeric_limits<std::uint64_t>::max())
      .svarint(-1)
      .svarint(std::numeric_limits<std::int64_t>::min())
      .time(from_micros(-123456))
      .opt_time(std::nullopt)
      .opt_time(from_micros(99))
      .f64(-2.5)
      .str("hello")
      .str(std::string("\0\1", 2));
  Unpacker u(out);
  EXPECT_EQ(u.u8(), 200);
  EXPECT_TRUE(u.boolean());
  EXPECT_EQ(u.varint(), 0u);
  EXPECT_EQ(u.varint(), 300u);
  EXPECT_EQ(u.varint(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(u.svarint(), -1);
  EXPECT_EQ(u.svarint(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(u.time(), from_micros(-123456));
  EXPECT_EQ(u.opt_time(), std::nullopt);
  EXPECT_EQ(u.opt_time(), std::optional<Time>(from_micros(99)));
  EXPECT_EQ(u.f64(), -2.5);
  EXPECT_EQ(u.str(), "hello");
  EXPECT_EQ(u.str(), std::string("\0\1", 2));
  EXPECT_TRUE(u.ok());
  EXPECT_TRUE(u.rest().empty());
}

TEST(Codec, TruncatedInputFailsInsteadOfReadingPastTheEnd) {
  std::string out;
  Packer(out).str("a long enough string");
  Unpacker u(std::string_view(out).substr(0, 5));
  EXPECT_EQ(u.str(), "");
  EXPECT_FALSE(u.ok());
  Unpacker v(std::string_view("\xff\xff", 2));
  v.varint();
  EXPECT_FALSE(v.ok());
}

TEST(Codec, Fixed64IsBigEndianAndChecksItsSize) {
  EXPECT_EQ(fixed64(258), std::string("\0\0\0\0\0\0\1\2", 8));
  EXPECT_EQ(read_fixed64(fixed64(12345)), std::optional<std::uint64_t>(12345));
  EXPECT_EQ(read_fixed64("short"), std::nullopt);
}

}  // namespace
}  // namespace store::detail
