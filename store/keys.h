// Key encodings. Every LMDB database in the store compares keys bytewise
// (memcmp, shorter first on a tie), so keys are built so that bytewise order
// is the order in which they are scanned:
//   - unsigned integers are big-endian;
//   - signed integers and times are big-endian with the sign bit flipped, so
//     negative values sort before positive ones;
//   - "descending" integers are bitwise-inverted, so larger values come first;
//   - strings are escaped and terminated (0x00 -> 00 FF, end -> 00 01), so a
//     string component sorts bytewise, never runs into the next component,
//     and the encoding of a prefix tuple is a byte prefix of every key that
//     starts with it ("books" never matches "books2").
// KeyReader decodes what KeyWriter wrote. Both are plain values with no
// shared state; use one per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/clock.h"

namespace store {

class KeyWriter {
 public:
  KeyWriter() = default;

  KeyWriter& u8(std::uint8_t v) {
    buf_.push_back(static_cast<char>(v));
    return *this;
  }
  KeyWriter& u32(std::uint32_t v) { return be(v, 4); }
  KeyWriter& u64(std::uint64_t v) { return be(v, 8); }
  KeyWriter& i64(std::int64_t v) { return be(static_cast<std::uint64_t>(v) ^ (1ull << 63), 8); }
  // Larger values sort first.
  KeyWriter& i32_desc(std::int32_t v) {
    return be(~(static_cast<std::uint32_t>(v) ^ (1u << 31)) & 0xffffffffu, 4);
  }
  KeyWriter& time(Time t) { return i64(to_micros(t)); }
  KeyWriter& str(std::string_view s) {
    escaped(s);
    buf_.append("\0\1", 2);
    return *this;
  }
  // The escaped bytes of s without the terminator. Low level: the caller
  // appends its own terminator (a 00 byte followed by anything but FF), as
  // silver does for keys too long to store whole.
  KeyWriter& escaped(std::string_view s) {
    for (char c : s) {
      buf_.push_back(c);
      if (c == '\0') buf_.push_back('\xff');
    }
    return *this;
  }
  // Appends bytes as they are (fixed-size components such as digests, or a
  // component that is last in the key).
  KeyWriter& raw(std::string_view s) {
    buf_.append(s);
    return *this;
  }

  const std::string& bytes() const { return buf_; }
  std::string take() { return std::move(buf_); }
  // Empties the writer, keeping its buffer for reuse.
  KeyWriter& clear() {
    buf_.clear();
    return *this;
  }

 private:
  KeyWriter& be(std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) buf_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
  std::string buf_;
};

// Reads components in the order they were written. A read past the end or of
// a malformed component makes ok() false and returns zero / empty; check ok()
// once after the last read.
class KeyReader {
 public:
  explicit KeyReader(std::string_view key) : in_(key) {}

  std::uint8_t u8() { return static_cast<std::uint8_t>(be(1)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(be(4)); }
  std::uint64_t u64() { return be(8); }
  std::int64_t i64() { return static_cast<std::int64_t>(be(8) ^ (1ull << 63)); }
  std::int32_t i32_desc() {
    return static_cast<std::int32_t>(~static_cast<std::uint32_t>(be(4)) ^ (1u << 31));
  }
  Time time() { return from_micros(i64()); }
  std::string str() {
    std::string out;
    for (std::size_t i = 0; i < in_.size(); ++i) {
      char c = in_[i];
      if (c != '\0') {
        out.push_back(c);
        continue;
      }
      if (i + 1 >= in_.size()) break;
      if (in_[i + 1] == '\1') {
        in_.remove_prefix(i + 2);
        return out;
      }
      if (in_[i + 1] != '\xff') break;
      out.push_back('\0');
      ++i;
    }
    ok_ = false;
    return {};
  }
  std::string_view raw(std::size_t n) {
    if (in_.size() < n) {
      ok_ = false;
      return {};
    }
    std::string_view out = in_.substr(0, n);
    in_.remove_prefix(n);
    return out;
  }

  std::string_view rest() const { return in_; }
  bool at_end() const { return in_.empty(); }
  bool ok() const { return ok_; }

 private:
  std::uint64_t be(std::size_t n) {
    if (in_.size() < n) {
      ok_ = false;
      in_ = {};
      return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(in_[i]);
    in_.remove_prefix(n);
    return v;
  }
  std::string_view in_;
  bool ok_ = true;
};

// The smallest key that is greater than every key starting with `prefix`, or
// nullopt when there is none (the prefix is empty or all 0xFF). Range scans
// use it as an exclusive upper bound and to start a reverse scan.
inline std::optional<std::string> prefix_end(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    auto& back = out.back();
    if (static_cast<unsigned char>(back) != 0xff) {
      back = static_cast<char>(static_cast<unsigned char>(back) + 1);
      return out;
    }
    out.pop_back();
  }
  return std::nullopt;
}

}  // namespace store
