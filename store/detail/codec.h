// Internal: the binary value format of the store's tables. Not part of the
// API; include only from store/*.cc.
//
// A value is a sequence of fields written in a fixed order: varints
// (LEB128), zigzag varints for signed numbers and times, length-prefixed
// strings, raw doubles. Every table value starts with a format byte so that a
// later schema can change a layout and still read the old one.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "store/clock.h"

namespace store::detail {

class Packer {
 public:
  explicit Packer(std::string& out) : out_(out) {}

  Packer& u8(std::uint8_t v) {
    out_.push_back(static_cast<char>(v));
    return *this;
  }
  Packer& boolean(bool v) { return u8(v ? 1 : 0); }
  Packer& varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
    return *this;
  }
  Packer& svarint(std::int64_t v) {
    return varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  Packer& time(Time t) { return svarint(to_micros(t)); }
  Packer& opt_time(const std::optional<Time>& t) {
    boolean(t.has_value());
    if (t) time(*t);
    return *this;
  }
  Packer& f64(double v) {
    auto bits = std::bit_cast<std::uint64_t>(v);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
    return *this;
  }
  Packer& str(std::string_view s) {
    varint(s.size());
    out_.append(s);
    return *this;
  }
  Packer& raw(std::string_view s) {
    out_.append(s);
    return *this;
  }

 private:
  std::string& out_;
};

// Reads what Packer wrote. A read past the end makes ok() false and returns
// zero / empty from then on; decoders check ok() once at the end.
class Unpacker {
 public:
  explicit Unpacker(std::string_view in) : in_(in) {}

  std::uint8_t u8() {
    if (in_.empty()) return fail<std::uint8_t>();
    auto v = static_cast<std::uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return v;
  }
  bool boolean() { return u8() != 0; }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) return fail<std::uint64_t>();
      auto b = static_cast<std::uint8_t>(in_[0]);
      in_.remove_prefix(1);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return fail<std::uint64_t>();
  }
  std::uint32_t varint32() {
    std::uint64_t v = varint();
    if (v > 0xffffffffu) return fail<std::uint32_t>();
    return static_cast<std::uint32_t>(v);
  }
  std::int64_t svarint() {
    std::uint64_t v = varint();
    return static_cast<std::int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }
  Time time() { return from_micros(svarint()); }
  std::optional<Time> opt_time() {
    if (!boolean()) return std::nullopt;
    return time();
  }
  double f64() {
    if (in_.size() < 8) return fail<double>();
    std::uint64_t bits = 0;
    for (int i = 7; i >= 0; --i) bits = (bits << 8) | static_cast<unsigned char>(in_[i]);
    in_.remove_prefix(8);
    return std::bit_cast<double>(bits);
  }
  std::string_view str() {
    std::uint64_t n = varint();
    if (n > in_.size()) return fail<std::string_view>();
    std::string_view out = in_.substr(0, n);
    in_.remove_prefix(n);
    return out;
  }
  std::string_view raw(std::size_t n) {
    if (n > in_.size()) return fail<std::string_view>();
    std::string_view out = in_.substr(0, n);
    in_.remove_prefix(n);
    return out;
  }
  std::string_view rest() {
    std::string_view out = in_;
    in_ = {};
    return out;
  }

  bool ok() const { return ok_; }

 private:
  template <class T>
  T fail() {
    ok_ = false;
    in_ = {};
    return T{};
  }
  std::string_view in_;
  bool ok_ = true;
};

// Fixed 8-byte big-endian numbers: counters and refcounts, which are rewritten
// in place often and benefit from a constant size.
inline std::string fixed64(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}
inline std::optional<std::uint64_t> read_fixed64(std::string_view in) {
  if (in.size() != 8) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : in) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

}  // namespace store::detail
