#include "sandbox/html/document.h"

#include <libxml/encoding.h>

#include <algorithm>
#include <cctype>
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

// Names browsers treat as aliases; libxml2's iconv knows the canonical ones.
std::string canonical(std::string name) {
  name = to_upper(name);
  if (name == "UTF8") return "UTF-8";
  if (name == "LATIN1" || name == "ISO-8859-1" || name == "US-ASCII" || name == "ASCII")
    return "WINDOWS-1252";  // the WHATWG encoding standard maps these to windows-1252
  return name;
}

bool known_encoding(const std::string& name) {
  xmlCharEncodingHandlerPtr handler = xmlFindCharEncodingHandler(name.c_str());
  if (handler == nullptr) return false;
  xmlCharEncCloseFunc(handler);
  return true;
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
  const std::string encoding = sniff_charset(body, content_type);
  const std::string url_z(url);
  if (body.find_first_not_of(" \t\r\n\f") == std::string_view::npos) body = "<html></html>";
  htmlDocPtr doc =
      read_html(body.data(), static_cast<int>(std::min<std::size_t>(body.size(), 0x7fffffff)),
                url_z, encoding, kParseOptions);
  return XmlDocPtr(doc);
}

}  // namespace sandbox::html
