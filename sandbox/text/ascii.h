// ASCII-only string helpers (no locale), shared by the sandbox and the host.
#pragma once

#include <string>
#include <string_view>

namespace sandbox::text {

constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
constexpr char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

inline std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

inline std::string to_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_upper(c);
  return out;
}

// Case-insensitive equality of ASCII letters.
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

namespace detail {
template <class Pred>
std::string_view trim_if(std::string_view s, Pred is_space) {
  while (!s.empty() && is_space(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && is_space(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}
}  // namespace detail

// Trims ASCII white space: space, \t, \n, \v, \f, \r.
inline std::string_view trim(std::string_view s) {
  return detail::trim_if(s, [](unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); });
}

// Trims HTTP's optional white space (RFC 9110): space and \t only.
inline std::string_view trim_ows(std::string_view s) {
  return detail::trim_if(s, [](unsigned char c) { return c == ' ' || c == '\t'; });
}

// Trims "C0 control or space" (WHATWG URL): every byte up to 0x20.
inline std::string_view trim_c0(std::string_view s) {
  return detail::trim_if(s, [](unsigned char c) { return c <= 0x20; });
}

}  // namespace sandbox::text
