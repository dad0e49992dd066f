// Deterministic hostile input for the scanners' tests: bytes drawn from an
// alphabet biased towards what the scanner under test cares about.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sandbox::testing {

inline std::string garbage_from(std::string_view alphabet, std::uint32_t seed, std::size_t n,
                                std::uint32_t salt) {
  std::string out;
  std::uint32_t x = seed * 2654435761u + salt;
  for (std::size_t i = 0; i < n; ++i) {  // xorshift32
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out += alphabet[x % alphabet.size()];
  }
  return out;
}

}  // namespace sandbox::testing
