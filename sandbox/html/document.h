// An owned, parsed HTML document (libxml2's lenient HTML parser).
#pragma once

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include <memory>
#include <string>
#include <string_view>

namespace sandbox::html {

struct XmlDocDeleter {
  void operator()(xmlDoc* doc) const noexcept { xmlFreeDoc(doc); }
};
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocDeleter>;

// libxml2's options for every page: recover from any markup, never touch
// the network, print nothing.
inline constexpr int kParseOptions = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                     HTML_PARSE_NOWARNING | HTML_PARSE_NONET | HTML_PARSE_COMPACT;

// Picks the charset to decode `body` with: the charset parameter of the
// Content-Type header if given and known, else a <meta charset> or
// <meta http-equiv> in the first 1024 bytes, else UTF-8 when the bytes are
// valid UTF-8, else windows-1252 (what browsers assume). Returns a name
// ICU's converters understand, upper-cased ("UTF-8", "WINDOWS-1252", ...).
std::string sniff_charset(std::string_view body, std::string_view content_type);

// Parses `body` leniently (recover, no network, no errors printed) and decodes
// it to UTF-8 with ICU (bytes invalid in the charset become U+FFFD). Never
// fails on bad markup; returns nullptr only when memory ran out, or the body
// is empty (an empty document is returned as "<html></html>" instead, so
// callers always get a tree).
XmlDocPtr parse_html(std::string_view body, std::string_view content_type, std::string_view url);

// The document's root element (<html>), or nullptr.
inline xmlNode* root_element(xmlDoc* doc) { return doc ? xmlDocGetRootElement(doc) : nullptr; }

}  // namespace sandbox::html
