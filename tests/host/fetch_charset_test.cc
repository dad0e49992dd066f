// Content types, binary sniffing and decoding to UTF-8.
#include <gtest/gtest.h>

#include "host/fetch/charset.h"
#include "host/fetch/content_type.h"
#include "host/fetch/fetch_options.h"

namespace host::fetch {
namespace {

TEST(ContentType, MediaTypeAndCharsetAreExtracted) {
  EXPECT_EQ(media_type(" Text/HTML ; charset=UTF-8"), "text/html");
  EXPECT_EQ(charset_param("text/html; charset=UTF-8"), "utf-8");
  EXPECT_EQ(charset_param("text/html; q=1; Charset=\"ISO-8859-1\""), "iso-8859-1");
  EXPECT_EQ(charset_param("text/html"), "");
  EXPECT_EQ(media_type(""), "");
}

TEST(ContentType, DefaultListAllowsTextFormatsOnly) {
  const auto allowed = default_content_types();
  for (const char* ok :
       {"text/html", "application/xhtml+xml", "application/xml", "text/xml", "application/json",
        "text/plain", "text/csv", "application/rss+xml", "application/ld+json"}) {
    EXPECT_TRUE(media_type_allowed(ok, allowed)) << ok;
  }
  for (const char* no : {"image/png", "application/octet-stream", "application/pdf",
                         "text/javascript", "application/zip", "video/mp4"}) {
    EXPECT_FALSE(media_type_allowed(no, allowed)) << no;
  }
  EXPECT_TRUE(media_type_allowed("image/png", {"image/*"}));
  EXPECT_TRUE(media_type_allowed("anything/else", {"*/*"}));
}

TEST(ContentType, BinaryIsTellFromText) {
  EXPECT_TRUE(looks_binary(std::string("\x89PNG\r\n\x1a\n", 8)));
  EXPECT_TRUE(looks_binary("%PDF-1.7\n"));
  EXPECT_TRUE(looks_binary(std::string("abc\0def", 7)));
  EXPECT_TRUE(looks_binary("\x1F\x8B\x08"));
  EXPECT_TRUE(looks_binary(std::string(100, '\x01')));
  EXPECT_FALSE(looks_binary("<!doctype html><p>caf\xC3\xA9</p>"));
  EXPECT_FALSE(looks_binary("name,city\nRen\xE9,Z\xFCrich\n"));
  EXPECT_FALSE(looks_binary(std::string("\xFF\xFE{\0}\0", 6)));      // UTF-16LE JSON
  EXPECT_FALSE(looks_binary(std::string("{\0\"\0a\0\"\0}\0", 10)));  // no byte-order mark
  EXPECT_FALSE(looks_binary(std::string("\0{\0\"\0a\0\"\0}", 10)));  // UTF-16BE
  EXPECT_FALSE(looks_binary(std::string("{\0\0\0}\0\0\0", 8)));      // UTF-32LE
  EXPECT_FALSE(looks_binary(""));
}

TEST(Charset, ValidUtf8PassesThroughAndInvalidBytesAreReplaced) {
  EXPECT_EQ(to_utf8("caf\xC3\xA9", "text/plain; charset=utf-8"), "caf\xC3\xA9");
  EXPECT_EQ(to_utf8("a\xFF"
                    "b",
                    "text/plain; charset=utf-8"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(replace_invalid_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
  EXPECT_EQ(replace_invalid_utf8("\xED\xA0\x80"),
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));    // above U+10FFFF
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));
}

TEST(Charset, DeclaredCharsetsAreConverted) {
  EXPECT_EQ(to_utf8("Ren\xE9", "text/csv; charset=iso-8859-1"), "Ren\xC3\xA9");
  EXPECT_EQ(to_utf8("\x93quoted\x94", "text/plain; charset=windows-1252"),
            "\xE2\x80\x9Cquoted\xE2\x80\x9D");
  EXPECT_EQ(to_utf8("\x82\xA0", "text/plain; charset=shift_jis"), "\xE3\x81\x82");  // あ
  EXPECT_EQ(to_utf8("\xC1", "text/plain; charset=koi8-r"), "\xD0\xB0");             // а
}

TEST(Charset, ByteOrderMarksWinAndAreRemoved) {
  EXPECT_EQ(to_utf8("\xEF\xBB\xBFhi", "text/plain; charset=iso-8859-1"), "hi");
  EXPECT_EQ(to_utf8(std::string("\xFF\xFEh\0i\0", 6), "text/plain"), "hi");
  EXPECT_EQ(to_utf8(std::string("\xFE\xFF\0h\0i", 6), "application/json"), "hi");
}

TEST(Charset, UndeclaredTextIsSniffed) {
  EXPECT_EQ(to_utf8("caf\xC3\xA9", "text/plain"), "caf\xC3\xA9");
  EXPECT_EQ(to_utf8("caf\xE9", "text/plain"), "caf\xC3\xA9");  // not UTF-8: windows-1252
  EXPECT_EQ(to_utf8(std::string("{\0}\0", 4), "application/json"), "{}");  // RFC 4627
  EXPECT_EQ(to_utf8("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xE9</a>", "text/xml"),
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xC3\xA9</a>");
  EXPECT_EQ(to_utf8("<meta charset=\"windows-1251\"><p>\xE0</p>", "text/html"),
            "<meta charset=\"windows-1251\"><p>\xD0\xB0</p>");
}

TEST(Charset, UnknownCharsetFallsBackToSniffing) {
  EXPECT_EQ(to_utf8("caf\xC3\xA9", "text/plain; charset=x-made-up"), "caf\xC3\xA9");
  EXPECT_EQ(to_utf8("caf\xE9", "text/plain; charset=x-made-up"), "caf\xC3\xA9");
}

TEST(Charset, TruncatedMultibyteInputEndsWithAReplacement) {
  const std::string out = to_utf8("ab\x82", "text/plain; charset=shift_jis");
  EXPECT_TRUE(is_valid_utf8(out));
  EXPECT_EQ(out, "ab\xEF\xBF\xBD");
}

}  // namespace
}  // namespace host::fetch
