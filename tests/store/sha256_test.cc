// SHA-256 matches the standard test vectors, in one piece or many.
#include "store/sha256.h"

#include <gtest/gtest.h>

namespace store {
namespace {

TEST(Sha256, MatchesKnownVectors) {
  EXPECT_EQ(to_hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, HasherEqualsOneShot) {
  std::string data(100'000, 'q');
  Sha256Hasher hasher;
  hasher.update(std::string_view(data).substr(0, 3));
  hasher.update(std::string_view(data).substr(3));
  EXPECT_EQ(hasher.finish(), sha256(data));
  hasher.update("abc");
  EXPECT_EQ(hasher.finish(), sha256("abc"));
}

TEST(Sha256, HexRoundTrips) {
  Sha256Digest d = sha256("x");
  EXPECT_EQ(parse_sha256_hex(to_hex(d)), std::optional<Sha256Digest>(d));
  EXPECT_EQ(parse_sha256_hex("zz"), std::nullopt);
  EXPECT_EQ(parse_sha256_hex(std::string(64, 'g')), std::nullopt);
}

}  // namespace
}  // namespace store
