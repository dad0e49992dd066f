// Content-Type handling: which media types a fetch accepts, and a sniffer
// that catches binary bodies served under a textual type (or under none).
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace host::fetch {

// The media type of a Content-Type value, lower-cased, without parameters:
// "Text/HTML; charset=UTF-8" -> "text/html". "" when empty.
std::string media_type(std::string_view content_type);

// The charset parameter, lower-cased and unquoted; "" when absent.
std::string charset_param(std::string_view content_type);

// Whether `media` (as from media_type) matches one of `patterns`
// ("type/subtype", "type/*", "type/*+suffix", "*/*").
bool media_type_allowed(std::string_view media, const std::vector<std::string>& patterns);

// Whether a media type names text a parser can read: text/*, JSON, XML,
// XHTML and their +json/+xml subtypes, JavaScript.
bool is_textual(std::string_view media);

// How many leading bytes of a body looks_binary() needs to decide.
inline constexpr std::size_t kSniffBytes = 1024;

// Whether the start of a body is binary rather than text: a known binary
// signature (PNG, JPEG, GIF, PDF, ZIP, gzip, ELF, ...), NUL bytes, or many
// control characters. A UTF-16/UTF-32 byte-order mark makes it text, and so
// do NULs that fall in the pattern of UTF-16 or UTF-32 text without one.
bool looks_binary(std::string_view prefix);

}  // namespace host::fetch
