#include "sandbox/text/url.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sandbox::text {
namespace {

using Byte = unsigned char;

bool is_alpha(Byte c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(Byte c) { return c >= '0' && c <= '9'; }
bool is_hex(Byte c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_control_or_space(Byte c) { return c <= 0x20 || c == 0x7F; }
char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Trims C0 controls and spaces at both ends (WHATWG's "C0 control or space").
std::string_view trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && static_cast<Byte>(s[b]) <= 0x20) ++b;
  while (e > b && static_cast<Byte>(s[e - 1]) <= 0x20) --e;
  return s.substr(b, e - b);
}

// Length of the scheme (without ':') at the start of `s`, 0 when there is none.
size_t scheme_length(std::string_view s) {
  if (s.empty() || !is_alpha(static_cast<Byte>(s[0]))) return 0;
  for (size_t i = 1; i < s.size(); ++i) {
    const Byte c = static_cast<Byte>(s[i]);
    if (c == ':') return i;
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return 0;
  }
  return 0;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower(c);
  return out;
}

// Lower-cases a host's letters but not the hex digits of "%XX" (RFC 3986
// section 6.2.2.1 wants those upper-case, and we change nothing we need not).
std::string lower_host(std::string_view s) {
  std::string out(s);
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '%' && i + 2 < out.size() && is_hex(static_cast<Byte>(out[i + 1])) &&
        is_hex(static_cast<Byte>(out[i + 2]))) {
      i += 2;
    } else {
      out[i] = to_lower(out[i]);
    }
  }
  return out;
}

bool is_special(std::string_view lower_scheme) {
  return lower_scheme == "http" || lower_scheme == "https";
}

// Appendix B of RFC 3986, on input already trimmed; no validation.
UrlParts split(std::string_view s) {
  UrlParts p;
  size_t i = 0;
  if (const size_t len = scheme_length(s)) {
    p.scheme = lower(s.substr(0, len));
    i = len + 1;
  }
  if (s.substr(i).starts_with("//")) {
    i += 2;
    size_t end = s.find_first_of("/?#", i);
    if (end == std::string_view::npos) end = s.size();
    const std::string_view authority = s.substr(i, end - i);
    i = end;
    p.has_authority = true;
    std::string_view host_port = authority;
    if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
      p.userinfo = authority.substr(0, at);
      host_port = authority.substr(at + 1);
    }
    size_t host_end = std::string_view::npos;
    if (host_port.starts_with('[')) {
      const size_t close = host_port.find(']');
      if (close != std::string_view::npos &&
          (close + 1 == host_port.size() || host_port[close + 1] == ':')) {
        host_end = close + 1;
      } else {
        host_end = host_port.size();  // odd input: keep it all as the host
      }
    } else {
      host_end = host_port.find(':');
      if (host_end == std::string_view::npos) host_end = host_port.size();
    }
    p.host = lower_host(host_port.substr(0, host_end));
    if (host_end < host_port.size()) p.port = host_port.substr(host_end + 1);
  }
  size_t end = s.find_first_of("?#", i);
  if (end == std::string_view::npos) end = s.size();
  p.path = s.substr(i, end - i);
  i = end;
  if (i < s.size() && s[i] == '?') {
    end = s.find('#', i + 1);
    if (end == std::string_view::npos) end = s.size();
    p.has_query = true;
    p.query = s.substr(i + 1, end - i - 1);
    i = end;
  }
  if (i < s.size() && s[i] == '#') {
    p.has_fragment = true;
    p.fragment = s.substr(i + 1);
  }
  return p;
}

// RFC 3986 section 5.2.4, in one pass: the input is consumed through an index
// and the output only ever loses what it gained, so the work is linear.
std::string remove_dot_segments(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  const auto drop_last_segment = [&out] {
    const size_t slash = out.rfind('/');
    out.erase(slash == std::string::npos ? 0 : slash);
  };
  size_t i = 0;
  while (i < in.size()) {
    const std::string_view rest = in.substr(i);
    if (rest.starts_with("../")) {  // A
      i += 3;
    } else if (rest.starts_with("./")) {  // A
      i += 2;
    } else if (rest.starts_with("/./")) {  // B: "/./" -> "/"
      i += 2;
    } else if (rest == "/.") {  // B: "/." -> "/"
      out += '/';
      i = in.size();
    } else if (rest.starts_with("/../")) {  // C: "/../" -> "/", drop a segment
      i += 3;
      drop_last_segment();
    } else if (rest == "/..") {  // C
      drop_last_segment();
      out += '/';
      i = in.size();
    } else if (rest == "." || rest == "..") {  // D
      i = in.size();
    } else {  // E: move the first segment, with its leading '/', to the output
      size_t end = in.find('/', i + 1);
      if (end == std::string_view::npos) end = in.size();
      out.append(in.substr(i, end - i));
      i = end;
    }
  }
  return out;
}

// RFC 3986 section 5.2.3.
std::string merge(const UrlParts& base, std::string_view ref_path) {
  if (base.has_authority && base.path.empty()) return "/" + std::string(ref_path);
  const size_t slash = base.path.rfind('/');
  if (slash == std::string::npos) return std::string(ref_path);
  return base.path.substr(0, slash + 1) + std::string(ref_path);
}

bool needs_encoding(Byte c) {
  return c <= 0x20 || c >= 0x7F || c == '"' || c == '<' || c == '>' || c == '`';
}

// Percent-encodes what needs_encoding() says, except non-ASCII bytes when
// `keep_non_ascii` (for hosts, which stay UTF-8).
std::string percent_encode(std::string_view s, bool keep_non_ascii = false) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const Byte c = static_cast<Byte>(ch);
    if (needs_encoding(c) && !(keep_non_ascii && c >= 0x80)) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += ch;
    }
  }
  return out;
}

// Trims, then drops tabs and newlines inside, as browsers do with href values.
std::string prepare(std::string_view s) {
  const std::string_view t = trim(s);
  std::string out;
  out.reserve(t.size());
  for (char c : t) {
    if (c != '\t' && c != '\n' && c != '\r') out += c;
  }
  return out;
}

// For http and https, browsers read '\' as '/' before the query.
void backslashes_to_slashes(std::string& s) {
  for (char& c : s) {
    if (c == '?' || c == '#') break;
    if (c == '\\') c = '/';
  }
}

bool valid_port(std::string_view port) {
  if (port.empty()) return true;
  if (port.size() > 5) return false;
  unsigned v = 0;
  for (char c : port) {
    if (!is_digit(static_cast<Byte>(c))) return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v <= 65535;
}

bool valid_ipv6_literal(std::string_view host) {
  if (host.size() < 3 || host.front() != '[' || host.back() != ']') return false;
  for (char ch : host.substr(1, host.size() - 2)) {
    const Byte c = static_cast<Byte>(ch);
    if (!is_hex(c) && c != ':' && c != '.') return false;
  }
  return true;
}

}  // namespace

std::optional<UrlParts> parse_url(std::string_view url) {
  const std::string_view s = trim(url);
  if (s.size() > kMaxUrlLength) return std::nullopt;
  for (char c : s) {
    if (static_cast<Byte>(c) < 0x20 || c == 0x7F) return std::nullopt;
  }
  return split(s);
}

std::string compose_url(const UrlParts& parts) {
  std::string out;
  if (!parts.scheme.empty()) {
    out += parts.scheme;
    out += ':';
  }
  const bool authority =
      parts.has_authority || !parts.host.empty() || !parts.userinfo.empty() || !parts.port.empty();
  if (authority) {
    out += "//";
    if (!parts.userinfo.empty()) {
      out += parts.userinfo;
      out += '@';
    }
    out += parts.host;
    if (!parts.port.empty()) {
      out += ':';
      out += parts.port;
    }
    if (!parts.path.empty() && parts.path.front() != '/') out += '/';
  } else if (parts.path.starts_with("//")) {
    out += "/.";
  }
  out += parts.path;
  if (parts.has_query) {
    out += '?';
    out += parts.query;
  }
  if (parts.has_fragment) {
    out += '#';
    out += parts.fragment;
  }
  return out;
}

std::optional<std::string> join_url(std::string_view base, std::string_view ref) {
  if (trim(ref).size() > kMaxUrlLength) return std::nullopt;
  std::string ref_text = prepare(ref);
  const std::string_view ref_scheme(ref_text.data(), scheme_length(ref_text));

  std::optional<UrlParts> b;
  if (trim(base).size() <= kMaxUrlLength) {
    std::string base_text = prepare(base);
    if (scheme_length(base_text) != 0) {
      if (is_special(lower(std::string_view(base_text).substr(0, scheme_length(base_text))))) {
        backslashes_to_slashes(base_text);
      }
      b = split(base_text);
    }
  }
  const bool special =
      ref_scheme.empty() ? (b && is_special(b->scheme)) : is_special(lower(ref_scheme));
  if (special) backslashes_to_slashes(ref_text);
  const UrlParts r = split(ref_text);

  // RFC 3986 section 5.2.2 (strict).
  UrlParts t;
  if (!r.scheme.empty()) {
    t = r;
    t.path = remove_dot_segments(r.path);
  } else {
    if (!b) return std::nullopt;
    if (r.has_authority) {
      t.has_authority = true;
      t.userinfo = r.userinfo;
      t.host = r.host;
      t.port = r.port;
      t.path = remove_dot_segments(r.path);
      t.has_query = r.has_query;
      t.query = r.query;
    } else {
      if (r.path.empty()) {
        // The RFC copies the base path as it is; removing its dot segments
        // too keeps every result normalised, so joining it again is a no-op.
        t.path = remove_dot_segments(b->path);
        t.has_query = r.has_query || b->has_query;
        t.query = r.has_query ? r.query : b->query;
      } else {
        t.path = remove_dot_segments(r.path.front() == '/' ? std::string_view(r.path)
                                                           : std::string_view(merge(*b, r.path)));
        t.has_query = r.has_query;
        t.query = r.query;
      }
      t.has_authority = b->has_authority;
      t.userinfo = b->userinfo;
      t.host = b->host;
      t.port = b->port;
    }
    t.scheme = b->scheme;
  }
  t.has_fragment = r.has_fragment;
  t.fragment = r.fragment;

  if ((t.scheme == "http" && t.port == "80") || (t.scheme == "https" && t.port == "443")) {
    t.port.clear();
  }
  t.userinfo = percent_encode(t.userinfo);
  t.host = percent_encode(t.host, /*keep_non_ascii=*/true);
  t.port = percent_encode(t.port);
  t.path = percent_encode(t.path);
  t.query = percent_encode(t.query);
  t.fragment = percent_encode(t.fragment);
  return compose_url(t);
}

bool is_http_url(std::string_view url) {
  if (url.size() > kMaxUrlLength) return false;
  for (char c : url) {
    if (is_control_or_space(static_cast<Byte>(c))) return false;
  }
  const UrlParts p = split(url);
  if (!is_special(p.scheme) || !p.has_authority || p.host.empty() || !valid_port(p.port)) {
    return false;
  }
  if (p.host.front() == '[') return valid_ipv6_literal(p.host);
  for (char c : p.host) {
    switch (c) {
      case '%':
      case '<':
      case '>':
      case '\\':
      case '^':
      case '|':
      case '"':
      case '`':
      case '{':
      case '}':
      case '[':
      case ']':
        return false;
      default:
        break;
    }
  }
  return true;
}

}  // namespace sandbox::text
