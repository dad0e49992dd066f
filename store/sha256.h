// SHA-256 (OpenSSL EVP). Bronze bodies are addressed by the digest of their
// bytes; parser scripts and exports carry one too.
//
// Thread safety: the free functions are safe from any thread; a Sha256Hasher
// is used by one thread at a time.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace store {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::string_view bytes);

// Lower-case hex, 64 characters.
std::string to_hex(const Sha256Digest& digest);
// Inverse of to_hex (either case); nullopt unless exactly 64 hex digits.
std::optional<Sha256Digest> parse_sha256_hex(std::string_view hex);

// The digest as 32 raw bytes (the bronze_bodies key).
inline std::string_view as_bytes(const Sha256Digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

// Incremental hashing, for data that arrives in pieces (an export written
// record by record).
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(Sha256Hasher&&) noexcept;
  Sha256Hasher& operator=(Sha256Hasher&&) noexcept;

  void update(std::string_view bytes);
  // Returns the digest and starts over.
  Sha256Digest finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace store
