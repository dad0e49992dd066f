#include "sandbox/html/document.h"

#include <libxml/xmlmemory.h>
#include <unicode/ucnv.h>
#include <unicode/ucnv_cb.h>

#include <algorithm>
#include <cctype>
#include <expected>
#include <iterator>
#include <memory>
#include <string>

#include "sandbox/html/tree_builder.h"
#include "sandbox/text/ascii.h"
#include "sandbox/text/utf8.h"

namespace sandbox::html {
namespace {

using text::is_valid_utf8;
using text::to_lower;
using text::to_upper;

// Value of "charset=" in a header or meta content attribute, unquoted.
std::string charset_param(std::string_view s) {
  const std::string l = to_lower(s);
  const auto pos = l.find("charset");
  if (pos == std::string::npos) return {};
  std::size_t i = pos + 7;
  while (i < l.size() && (l[i] == ' ' || l[i] == '\t')) ++i;
  if (i >= l.size() || l[i] != '=') return {};
  ++i;
  while (i < l.size() && (l[i] == ' ' || l[i] == '\t' || l[i] == '"' || l[i] == '\'')) ++i;
  std::size_t end = i;
  while (end < l.size() && (std::isalnum(static_cast<unsigned char>(l[end])) || l[end] == '-' ||
                            l[end] == '_' || l[end] == ':' || l[end] == '.'))
    ++end;
  return std::string(s.substr(i, end - i));
}

// Names browsers treat as aliases, mapped to the charset they mean.
std::string canonical(std::string name) {
  name = to_upper(name);
  if (name == "UTF8") return "UTF-8";
  if (name == "LATIN1" || name == "ISO-8859-1" || name == "US-ASCII" || name == "ASCII")
    return "WINDOWS-1252";  // the WHATWG encoding standard maps these to windows-1252
  return name;
}

struct ConverterCloser {
  void operator()(UConverter* c) const noexcept { ucnv_close(c); }
};
using ConverterPtr = std::unique_ptr<UConverter, ConverterCloser>;

ConverterPtr open_converter(const char* name) {
  UErrorCode status = U_ZERO_ERROR;
  ConverterPtr c(ucnv_open(name, &status));
  return U_SUCCESS(status) ? std::move(c) : nullptr;
}

bool known_encoding(const std::string& name) {
  return name == "UTF-8" || open_converter(name.c_str()) != nullptr;
}

// ICU's substitution callback writes U+001A for a bad byte in some
// single-byte charsets; browsers show U+FFFD.
void substitute_replacement(const void*, UConverterToUnicodeArgs* args, const char*, int32_t,
                            UConverterCallbackReason reason, UErrorCode* status) {
  if (reason > UCNV_IRREGULAR) return;  // reset, close, clone: nothing to write
  static const UChar kReplacement = 0xFFFD;
  *status = U_ZERO_ERROR;
  ucnv_cbToUWriteUChars(args, &kReplacement, 1, 0, status);
}

struct XmlFree {
  void operator()(char* p) const noexcept { xmlFree(p); }
};
using XmlBuffer = std::unique_ptr<char, XmlFree>;

enum class DecodeFailure { kUnknownCharset, kOutOfMemory };
struct Decoded {
  XmlBuffer text;
  std::size_t length = 0;
};

// `body` decoded from `charset` to UTF-8, in a buffer from xmlMalloc so that
// the run's memory budget pays for it.
std::expected<Decoded, DecodeFailure> decode_to_utf8(std::string_view body,
                                                     const std::string& charset) {
  ConverterPtr from = open_converter(charset.c_str());
  ConverterPtr to = open_converter("UTF-8");
  if (!from || !to) return std::unexpected(DecodeFailure::kUnknownCharset);
  UErrorCode status = U_ZERO_ERROR;
  ucnv_setToUCallBack(from.get(), substitute_replacement, nullptr, nullptr, nullptr, &status);
  // Every input byte gives at most three bytes of UTF-8 (a lone byte that
  // becomes U+FFFD); a four-byte sequence at most four.
  if (body.size() > (std::size_t{1} << 31) / 3) return std::unexpected(DecodeFailure::kOutOfMemory);
  const std::size_t capacity = body.size() * 3 + 16;
  Decoded out{XmlBuffer(static_cast<char*>(xmlMalloc(capacity)))};
  if (!out.text) return std::unexpected(DecodeFailure::kOutOfMemory);
  char* target = out.text.get();
  const char* source = body.data();
  UChar pivot[1024];
  UChar* pivot_source = pivot;
  UChar* pivot_target = pivot;
  ucnv_convertEx(to.get(), from.get(), &target, out.text.get() + capacity, &source,
                 body.data() + body.size(), pivot, &pivot_source, &pivot_target,
                 pivot + std::size(pivot), true, true, &status);
  if (U_FAILURE(status)) return std::unexpected(DecodeFailure::kUnknownCharset);
  out.length = static_cast<std::size_t>(target - out.text.get());
  return out;
}

// Looks for <meta charset=...> or <meta http-equiv content="...charset=...">
// in the first 1024 bytes, the way the HTML prescan does (simplified).
std::string meta_charset(std::string_view body) {
  const std::string head = to_lower(body.substr(0, std::min<std::size_t>(body.size(), 1024)));
  std::size_t pos = 0;
  while ((pos = head.find("<meta", pos)) != std::string::npos) {
    const auto end = head.find('>', pos);
    const std::string_view tag(head.data() + pos,
                               (end == std::string::npos ? head.size() : end) - pos);
    std::string cs = charset_param(tag);
    if (!cs.empty()) return cs;
    pos += 5;
  }
  return {};
}

}  // namespace

std::string sniff_charset(std::string_view body, std::string_view content_type) {
  if (body.size() >= 3 && body.substr(0, 3) == "\xEF\xBB\xBF") return "UTF-8";
  if (body.size() >= 2 && (body.substr(0, 2) == "\xFF\xFE")) return "UTF-16LE";
  if (body.size() >= 2 && (body.substr(0, 2) == "\xFE\xFF")) return "UTF-16BE";
  for (std::string candidate : {charset_param(content_type), meta_charset(body)}) {
    if (candidate.empty()) continue;
    candidate = canonical(candidate);
    // A page that declares UTF-16 in ASCII-compatible markup is lying (the
    // HTML standard says to read it as UTF-8).
    if (candidate.rfind("UTF-16", 0) == 0) return "UTF-8";
    if (known_encoding(candidate)) return candidate;
  }
  return is_valid_utf8(body) ? "UTF-8" : "WINDOWS-1252";
}

XmlDocPtr parse_html(std::string_view body, std::string_view content_type, std::string_view url) {
  std::string encoding = sniff_charset(body, content_type);
  const std::string url_z(url);
  if (body.find_first_not_of(" \t\r\n\f") == std::string_view::npos) body = "<html></html>";
  // We decode, not libxml2: its decoders are iconv's, which loads a module
  // per charset from disk, and a sandbox worker may not open files. ICU's
  // tables are in memory. libxml2 then reads UTF-8.
  std::expected<Decoded, DecodeFailure> decoded;
  if (encoding != "UTF-8") {
    decoded = decode_to_utf8(body, encoding);
    if (decoded) {
      body = std::string_view(decoded->text.get(), decoded->length);
      encoding = "UTF-8";
    } else if (decoded.error() == DecodeFailure::kOutOfMemory) {
      return nullptr;
    }
  }
  htmlDocPtr doc =
      read_html(body.data(), static_cast<int>(std::min<std::size_t>(body.size(), 0x7fffffff)),
                url_z, encoding, kParseOptions);
  return XmlDocPtr(doc);
}

}  // namespace sandbox::html
