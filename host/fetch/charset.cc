#include "host/fetch/charset.h"

#include <iconv.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <memory>

#include "host/fetch/content_type.h"
#include "sandbox/html/document.h"
#include "sandbox/text/ascii.h"
#include "sandbox/text/utf8.h"

namespace host::fetch {
namespace {

using sandbox::text::to_upper;
using sandbox::text::utf8_sequence;

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

struct IconvCloser {
  using pointer = iconv_t;
  void operator()(iconv_t cd) const noexcept { iconv_close(cd); }
};
using IconvPtr = std::unique_ptr<void, IconvCloser>;

// A converter to UTF-8, or null when iconv does not know `from`.
IconvPtr open_iconv(const std::string& from) {
  iconv_t cd = iconv_open("UTF-8", from.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return nullptr;
  return IconvPtr(cd);
}

// Length of the valid UTF-8 sequence at the start of `s`, 0 if invalid.
// WHATWG's labels for what servers mean by these names.
std::string canonical(std::string name) {
  name = to_upper(name);
  if (name == "UTF8") return "UTF-8";
  if (name == "ISO-8859-1" || name == "ISO8859-1" || name == "LATIN1" || name == "LATIN-1" ||
      name == "US-ASCII" || name == "ASCII" || name == "CP1252" || name == "ISO_8859-1") {
    return "WINDOWS-1252";
  }
  if (name == "UTF-16") return "UTF-16LE";  // what an unmarked UTF-16 usually is
  return name;
}

std::string bom_charset(std::string_view body) {
  if (body.starts_with("\xEF\xBB\xBF")) return "UTF-8";
  if (body.starts_with(std::string_view("\xFF\xFE\x00\x00", 4))) return "UTF-32LE";
  if (body.starts_with(std::string_view("\x00\x00\xFE\xFF", 4))) return "UTF-32BE";
  if (body.starts_with("\xFF\xFE")) return "UTF-16LE";
  if (body.starts_with("\xFE\xFF")) return "UTF-16BE";
  return {};
}

std::size_t bom_length(std::string_view body, const std::string& charset) {
  if (charset == "UTF-8" && body.starts_with("\xEF\xBB\xBF")) return 3;
  if ((charset == "UTF-32LE" && body.starts_with(std::string_view("\xFF\xFE\x00\x00", 4))) ||
      (charset == "UTF-32BE" && body.starts_with(std::string_view("\x00\x00\xFE\xFF", 4)))) {
    return 4;
  }
  if ((charset == "UTF-16LE" && body.starts_with("\xFF\xFE")) ||
      (charset == "UTF-16BE" && body.starts_with("\xFE\xFF"))) {
    return 2;
  }
  return 0;
}

// encoding="..." of an <?xml ...?> declaration at the start of the body.
std::string xml_declared(std::string_view body) {
  if (!body.starts_with("<?xml")) return {};
  const std::string_view decl = body.substr(0, body.find("?>"));
  const std::size_t at = decl.find("encoding");
  if (at == std::string_view::npos) return {};
  std::size_t i = decl.find_first_of("\"'", at);
  if (i == std::string_view::npos) return {};
  const char quote = decl[i];
  const std::size_t end = decl.find(quote, i + 1);
  if (end == std::string_view::npos) return {};
  return std::string(decl.substr(i + 1, end - i - 1));
}

// RFC 4627 section 3: the NUL pattern of the first four bytes of JSON text.
std::string json_utf16_32(std::string_view b) {
  if (b.size() < 4) return {};
  const bool z0 = b[0] == 0, z1 = b[1] == 0, z2 = b[2] == 0, z3 = b[3] == 0;
  if (z0 && z1 && z2 && !z3) return "UTF-32BE";
  if (!z0 && z1 && z2 && z3) return "UTF-32LE";
  if (z0 && !z1 && z2 && !z3) return "UTF-16BE";
  if (!z0 && z1 && !z2 && z3) return "UTF-16LE";
  return {};
}

std::string sniffed(std::string_view body) {
  return is_valid_utf8(body) ? "UTF-8" : "WINDOWS-1252";
}

}  // namespace

std::string detect_charset(std::string_view body, std::string_view content_type) {
  if (std::string bom = bom_charset(body); !bom.empty()) return bom;
  const std::string media = media_type(content_type);
  if (media == "text/html" || media == "application/xhtml+xml") {
    return canonical(sandbox::html::sniff_charset(body, content_type));
  }
  if (std::string declared = charset_param(content_type); !declared.empty()) {
    return canonical(declared);
  }
  if (media == "application/xml" || media == "text/xml" || media.ends_with("+xml")) {
    if (std::string declared = xml_declared(body); !declared.empty()) return canonical(declared);
  }
  if (media == "application/json" || media.ends_with("+json")) {
    if (std::string wide = json_utf16_32(body); !wide.empty()) return wide;
    return "UTF-8";
  }
  return sniffed(body);
}

std::string to_utf8(std::string_view body, std::string_view content_type) {
  std::string charset = detect_charset(body, content_type);
  body.remove_prefix(bom_length(body, charset));
  if (charset == "UTF-8") return replace_invalid_utf8(body);
  IconvPtr cd = open_iconv(charset);
  if (!cd) {
    charset = sniffed(body);
    if (charset == "UTF-8") return replace_invalid_utf8(body);
    cd = open_iconv(charset);
    if (!cd) return replace_invalid_utf8(body);
  }
  std::string out;
  out.reserve(body.size() + body.size() / 2 + 16);
  char buf[16384];
  // iconv takes a non-const input pointer but does not write through it.
  char* in = const_cast<char*>(body.data());
  std::size_t in_left = body.size();
  while (in_left > 0) {
    char* o = buf;
    std::size_t o_left = sizeof buf;
    const std::size_t rc = iconv(cd.get(), &in, &in_left, &o, &o_left);
    out.append(buf, sizeof buf - o_left);
    if (rc != static_cast<std::size_t>(-1)) break;
    if (errno == E2BIG) continue;
    // EILSEQ (invalid) or EINVAL (truncated at the end): replace one byte.
    out += kReplacement;
    ++in;
    --in_left;
    iconv(cd.get(), nullptr, nullptr, nullptr, nullptr);  // reset shift state
  }
  char* o = buf;
  std::size_t o_left = sizeof buf;
  iconv(cd.get(), nullptr, nullptr, &o, &o_left);  // flush
  out.append(buf, sizeof buf - o_left);
  // iconv produces valid UTF-8; this guards against converters that do not.
  return is_valid_utf8(out) ? out : replace_invalid_utf8(out);
}

}  // namespace host::fetch
