// Decoding fetched text to UTF-8.
//
// A fetch returns the body as received (after content decoding), plus the
// Content-Type. HTML is decoded by the sandbox's parser (header charset,
// <meta>, then sniffing); to_utf8() does the same for every other allowed
// type (JSON, CSV, plain text, XML) and for HTML when a caller wants text.
//
// Invalid bytes never fail a fetch: a page that says UTF-8 but holds invalid
// sequences is returned as it came, and to_utf8() replaces each invalid
// sequence with U+FFFD.
//
// Pure functions; thread-safe (each call uses its own iconv handle).
#pragma once

#include "sandbox/text/utf8.h"

#include <string>
#include <string_view>

namespace host::fetch {

// The charset a body is in, as an iconv name ("UTF-8", "WINDOWS-1252",
// "UTF-16LE", "SHIFT_JIS", ...), in this order: a byte-order mark; the
// Content-Type charset parameter; for HTML a <meta> charset; for XML the
// encoding of the <?xml ...?> declaration; for JSON UTF-16/32 by its NUL
// pattern (RFC 4627); else UTF-8 when the bytes are valid UTF-8, else
// WINDOWS-1252. ISO-8859-1 and US-ASCII are read as WINDOWS-1252, as
// browsers do.
std::string detect_charset(std::string_view body, std::string_view content_type);

// `body` decoded from detect_charset() to UTF-8, without a byte-order mark.
// Invalid or undecodable sequences become U+FFFD; an unknown charset name
// falls back to sniffing (UTF-8 if valid, else WINDOWS-1252). The result is
// always valid UTF-8.
std::string to_utf8(std::string_view body, std::string_view content_type);

// Well-formedness checks and U+FFFD replacement (sandbox/text/utf8.h).
using sandbox::text::is_valid_utf8;
using sandbox::text::replace_invalid_utf8;

}  // namespace host::fetch
