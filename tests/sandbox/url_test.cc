#include "sandbox/text/url.h"

#include <gtest/gtest.h>

#include "tests/sandbox/garbage.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sandbox::text {
namespace {

constexpr std::string_view kRfcBase = "http://a/b/c/d;p?q";

struct Case {
  std::string_view ref;
  std::string_view want;
};

// ---------------------------------------------------------------------------
// join_url(): RFC 3986 section 5.4

TEST(UrlJoin, Rfc3986NormalExamples) {
  constexpr Case kCases[] = {
      {"g:h", "g:h"},
      {"g", "http://a/b/c/g"},
      {"./g", "http://a/b/c/g"},
      {"g/", "http://a/b/c/g/"},
      {"/g", "http://a/g"},
      {"//g", "http://g"},
      {"?y", "http://a/b/c/d;p?y"},
      {"g?y", "http://a/b/c/g?y"},
      {"#s", "http://a/b/c/d;p?q#s"},
      {"g#s", "http://a/b/c/g#s"},
      {"g?y#s", "http://a/b/c/g?y#s"},
      {";x", "http://a/b/c/;x"},
      {"g;x", "http://a/b/c/g;x"},
      {"g;x?y#s", "http://a/b/c/g;x?y#s"},
      {"", "http://a/b/c/d;p?q"},
      {".", "http://a/b/c/"},
      {"./", "http://a/b/c/"},
      {"..", "http://a/b/"},
      {"../", "http://a/b/"},
      {"../g", "http://a/b/g"},
      {"../..", "http://a/"},
      {"../../", "http://a/"},
      {"../../g", "http://a/g"},
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(join_url(kRfcBase, c.ref), c.want) << "ref: \"" << c.ref << "\"";
  }
}

TEST(UrlJoin, Rfc3986AbnormalExamples) {
  constexpr Case kCases[] = {
      {"../../../g", "http://a/g"},
      {"../../../../g", "http://a/g"},
      {"/./g", "http://a/g"},
      {"/../g", "http://a/g"},
      {"g.", "http://a/b/c/g."},
      {".g", "http://a/b/c/.g"},
      {"g..", "http://a/b/c/g.."},
      {"..g", "http://a/b/c/..g"},
      {"./../g", "http://a/b/g"},
      {"./g/.", "http://a/b/c/g/"},
      {"g/./h", "http://a/b/c/g/h"},
      {"g/../h", "http://a/b/c/h"},
      {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
      {"g;x=1/../y", "http://a/b/c/y"},
      {"g?y/./x", "http://a/b/c/g?y/./x"},
      {"g?y/../x", "http://a/b/c/g?y/../x"},
      {"g#s/./x", "http://a/b/c/g#s/./x"},
      {"g#s/../x", "http://a/b/c/g#s/../x"},
      {"http:g", "http:g"},  // the strict reading
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(join_url(kRfcBase, c.ref), c.want) << "ref: \"" << c.ref << "\"";
  }
}

// ---------------------------------------------------------------------------
// join_url(): what scraping needs beyond the RFC examples

TEST(UrlJoin, EmptyRefGivesBaseWithoutFragment) {
  EXPECT_EQ(join_url("https://example.com/a/b?x=1#top", ""), "https://example.com/a/b?x=1");
  EXPECT_EQ(join_url("https://example.com/a/b#top", "  \n "), "https://example.com/a/b");
}

TEST(UrlJoin, BaseDotSegmentsAreRemovedToo) {
  EXPECT_EQ(join_url("http://h/a/./b/../c?x", ""), "http://h/a/c?x");
  EXPECT_EQ(join_url("http://h/a/./b/../c?x", "?y"), "http://h/a/c?y");
  EXPECT_EQ(join_url("http://h/a/./b/../c", "d"), "http://h/a/d");
}

TEST(UrlJoin, FragmentOnlyRefKeepsBaseQuery) {
  EXPECT_EQ(join_url("https://example.com/a?x=1#old", "#new"), "https://example.com/a?x=1#new");
}

TEST(UrlJoin, AbsoluteRefIsNormalised) {
  EXPECT_EQ(join_url("https://example.com/", "HTTP://Example.COM/a/./b/../c"),
            "http://example.com/a/c");
  EXPECT_EQ(join_url("not a base", "https://x.org/p q"), "https://x.org/p%20q");
  EXPECT_EQ(join_url("", "mailto:someone@example.com"), "mailto:someone@example.com");
}

TEST(UrlJoin, ProtocolRelativeRefTakesBaseScheme) {
  EXPECT_EQ(join_url("https://example.com/a/b", "//cdn.example.net/x.js"),
            "https://cdn.example.net/x.js");
  EXPECT_EQ(join_url("http://example.com/", "//CDN.Example.NET:8080/../x"),
            "http://cdn.example.net:8080/x");
}

TEST(UrlJoin, RelativeRefNeedsAbsoluteBase) {
  EXPECT_EQ(join_url("/relative/base", "g"), std::nullopt);
  EXPECT_EQ(join_url("", "g"), std::nullopt);
  EXPECT_EQ(join_url("example.com/a", "/g"), std::nullopt);
  EXPECT_EQ(join_url("", ""), std::nullopt);
}

TEST(UrlJoin, TrimsAndPercentEncodesLikeBrowsers) {
  constexpr std::string_view kBase = "https://example.com/dir/page.html";
  EXPECT_EQ(join_url(kBase, "  next page.html\n"), "https://example.com/dir/next%20page.html");
  EXPECT_EQ(join_url(kBase, "a b?q=x y#f g"), "https://example.com/dir/a%20b?q=x%20y#f%20g");
  // Tabs and newlines inside are dropped, as browsers do for href values;
  // spaces around them are kept (and encoded).
  EXPECT_EQ(join_url(kBase, "/long/\n\tpath"), "https://example.com/long/path");
  EXPECT_EQ(join_url(kBase, "/a\n  b"), "https://example.com/a%20%20b");
  // Non-ASCII is percent-encoded as UTF-8; existing escapes stay as they are.
  EXPECT_EQ(join_url(kBase, "/caf\xC3\xA9?q=%2f%20"), "https://example.com/caf%C3%A9?q=%2f%20");
  // Other control characters, quotes and angle brackets are encoded.
  EXPECT_EQ(join_url(kBase, std::string_view("/a\x01\"<>`\x7F", 8)),
            "https://example.com/a%01%22%3C%3E%60%7F");
  // A stray '%' is left alone.
  EXPECT_EQ(join_url(kBase, "100%"), "https://example.com/dir/100%");
}

TEST(UrlJoin, BackslashIsSlashForHttp) {
  EXPECT_EQ(join_url("https://example.com/a/b", "\\\\evil.example\\x"), "https://evil.example/x");
  EXPECT_EQ(join_url("https://example.com/a/b", "c\\d?e\\f"), "https://example.com/a/c/d?e\\f");
  // Not for other schemes.
  EXPECT_EQ(join_url("foo://example.com/a/b", "c\\d"), "foo://example.com/a/c\\d");
}

TEST(UrlJoin, OddHostsAreEncodedNotRefused) {
  // Such hosts cannot be fetched; is_http_url() says so.
  const auto spaced = join_url("http://example.com/", "http://exa mple.com:8 0/p");
  EXPECT_EQ(spaced, "http://exa%20mple.com:8%200/p");
  EXPECT_FALSE(is_http_url(*spaced));
  EXPECT_EQ(join_url("http://example.com/",
                     "//b\xC3\xBC"
                     "cher.example/"),
            "http://b\xC3\xBC"
            "cher.example/");
}

TEST(UrlJoin, DefaultPortsAreDropped) {
  EXPECT_EQ(join_url("http://example.com:80/a", "b"), "http://example.com/b");
  EXPECT_EQ(join_url("https://example.com:443/a", "b"), "https://example.com/b");
  EXPECT_EQ(join_url("https://example.com:80/a", "b"), "https://example.com:80/b");
  EXPECT_EQ(join_url("https://example.com:/a", "b"), "https://example.com/b");
}

TEST(UrlJoin, BaseWithoutPath) {
  EXPECT_EQ(join_url("https://example.com", "a/b"), "https://example.com/a/b");
  EXPECT_EQ(join_url("https://example.com", "?q"), "https://example.com?q");
}

TEST(UrlJoin, DotSegmentsCannotCreateAnAuthority) {
  // Without the "/." guard this would come back as foo://evil.
  EXPECT_EQ(join_url("foo:/a/b", "..//evil"), "foo:/.//evil");
  const auto reparsed = parse_url("foo:/.//evil");
  ASSERT_TRUE(reparsed);
  EXPECT_FALSE(reparsed->has_authority);
}

TEST(UrlJoin, UserinfoAndIpv6Hosts) {
  EXPECT_EQ(join_url("http://user:pw@Example.com/a/b", "c"), "http://user:pw@example.com/a/c");
  EXPECT_EQ(join_url("http://[::1]:8080/a/b", "../c"), "http://[::1]:8080/c");
}

TEST(UrlJoin, OverlongRefIsRefused) {
  EXPECT_EQ(join_url("https://example.com/", std::string(kMaxUrlLength + 1, 'a')), std::nullopt);
  EXPECT_TRUE(join_url("https://example.com/", std::string(kMaxUrlLength, 'a')).has_value());
}

// ---------------------------------------------------------------------------
// parse_url() and compose_url()

TEST(UrlParse, SplitsAllParts) {
  const auto p = parse_url("HTTPS://User:Pw@WWW.Example.COM:8443/a/B?x=1&y=2#Frag");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->scheme, "https");
  EXPECT_EQ(p->userinfo, "User:Pw");
  EXPECT_EQ(p->host, "www.example.com");
  EXPECT_EQ(p->port, "8443");
  EXPECT_EQ(p->path, "/a/B");
  EXPECT_EQ(p->query, "x=1&y=2");
  EXPECT_EQ(p->fragment, "Frag");
  EXPECT_TRUE(p->has_authority);
  EXPECT_TRUE(p->has_query);
  EXPECT_TRUE(p->has_fragment);
}

TEST(UrlParse, EmptyQueryIsNotAbsentQuery) {
  const auto empty = parse_url("http://a/b?");
  const auto absent = parse_url("http://a/b");
  ASSERT_TRUE(empty && absent);
  EXPECT_TRUE(empty->has_query);
  EXPECT_FALSE(absent->has_query);
  EXPECT_EQ(compose_url(*empty), "http://a/b?");
  EXPECT_EQ(compose_url(*absent), "http://a/b");
}

TEST(UrlParse, RelativeReferences) {
  const auto p = parse_url("../x/y?q#f");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->scheme, "");
  EXPECT_FALSE(p->has_authority);
  EXPECT_EQ(p->path, "../x/y");
  const auto net = parse_url("//Host.Example/p");
  ASSERT_TRUE(net);
  EXPECT_TRUE(net->has_authority);
  EXPECT_EQ(net->host, "host.example");
  EXPECT_EQ(net->path, "/p");
}

TEST(UrlParse, OnlyValidSchemesAreSchemes) {
  const auto digit_first = parse_url("1a:b");
  ASSERT_TRUE(digit_first);
  EXPECT_EQ(digit_first->scheme, "");
  EXPECT_EQ(digit_first->path, "1a:b");
  const auto colon_in_path = parse_url("a/b:c");
  ASSERT_TRUE(colon_in_path);
  EXPECT_EQ(colon_in_path->scheme, "");
  const auto urn = parse_url("URN:ISBN:0451450523");
  ASSERT_TRUE(urn);
  EXPECT_EQ(urn->scheme, "urn");
  EXPECT_EQ(urn->path, "ISBN:0451450523");
}

TEST(UrlParse, AuthorityEdgeCases) {
  const auto last_at = parse_url("http://a@b@c.example/");
  ASSERT_TRUE(last_at);
  EXPECT_EQ(last_at->userinfo, "a@b");
  EXPECT_EQ(last_at->host, "c.example");
  const auto v6 = parse_url("http://[2001:DB8::1]:80/");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "[2001:db8::1]");
  EXPECT_EQ(v6->port, "80");
  const auto escaped = parse_url("http://EX%C3%A9.com/");
  ASSERT_TRUE(escaped);
  EXPECT_EQ(escaped->host, "ex%C3%A9.com");
  const auto stray = parse_url("http://A%%0FB%zZ/");  // only real escapes keep their case
  ASSERT_TRUE(stray);
  EXPECT_EQ(stray->host, "a%%0Fb%zz");
  const auto empty = parse_url("http:///path");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->has_authority);
  EXPECT_EQ(empty->host, "");
  EXPECT_EQ(empty->path, "/path");
}

TEST(UrlParse, TrimsButRefusesControlCharactersInside) {
  const auto p = parse_url(" \t http://a/b \n");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->path, "/b");
  EXPECT_EQ(parse_url("http://a/b\nc"), std::nullopt);
  EXPECT_EQ(parse_url(std::string_view("http://a/\0b", 11)), std::nullopt);
  EXPECT_EQ(parse_url("http://a/\x7F"), std::nullopt);
  EXPECT_TRUE(parse_url("http://a/b c"));  // a space is odd, not a control character
}

TEST(UrlParse, RefusesOverlongInput) {
  EXPECT_EQ(parse_url("http://a/" + std::string(kMaxUrlLength, 'x')), std::nullopt);
}

TEST(UrlParse, ComposeRoundTrips) {
  for (std::string_view url : {"http://a/b/c/d;p?q", "https://u@h:1/p?#", "mailto:x@y", "//h", "?q",
                               "#f", "", "a/b", "file:///etc/hosts", "http://[::1]/"}) {
    const auto p = parse_url(url);
    ASSERT_TRUE(p) << url;
    EXPECT_EQ(compose_url(*p), url);
  }
}

TEST(UrlParse, ComposeKeepsPartsSeparable) {
  UrlParts p;
  p.scheme = "http";
  p.host = "example.com";
  p.path = "no-leading-slash";
  EXPECT_EQ(compose_url(p), "http://example.com/no-leading-slash");
  UrlParts q;
  q.path = "//not-a-host/x";
  EXPECT_EQ(compose_url(q), "/.//not-a-host/x");
}

// ---------------------------------------------------------------------------
// is_http_url()

TEST(UrlIsHttp, AcceptsHttpAndHttps) {
  EXPECT_TRUE(is_http_url("http://example.com"));
  EXPECT_TRUE(is_http_url("https://example.com/a?b#c"));
  EXPECT_TRUE(is_http_url("HTTPS://EXAMPLE.COM:8443/"));
  EXPECT_TRUE(is_http_url("http://[::1]:8080/"));
  EXPECT_TRUE(is_http_url("http://user@example.com/"));
  EXPECT_TRUE(
      is_http_url("https://b\xC3\xBC"
                  "cher.example/"));  // IDN hosts are not converted, only allowed
}

TEST(UrlIsHttp, RejectsOtherSchemesAndRelative) {
  EXPECT_FALSE(is_http_url("ftp://example.com/"));
  EXPECT_FALSE(is_http_url("javascript:alert(1)"));
  EXPECT_FALSE(is_http_url("//example.com/"));
  EXPECT_FALSE(is_http_url("/a/b"));
  EXPECT_FALSE(is_http_url("http:g"));
  EXPECT_FALSE(is_http_url("httpx://example.com/"));
}

TEST(UrlIsHttp, RejectsEmptyOrBadHost) {
  EXPECT_FALSE(is_http_url("http://"));
  EXPECT_FALSE(is_http_url("http:///path"));
  EXPECT_FALSE(is_http_url("http://user@/"));
  EXPECT_FALSE(is_http_url("http://exa<mple.com/"));
  EXPECT_FALSE(is_http_url("http://exa%20mple.com/"));
  EXPECT_FALSE(is_http_url("http://[not-v6]/"));
  EXPECT_FALSE(is_http_url("http://a]b/"));
}

TEST(UrlIsHttp, RejectsBadPorts) {
  EXPECT_FALSE(is_http_url("http://example.com:65536/"));
  EXPECT_FALSE(is_http_url("http://example.com:8o/"));
  EXPECT_FALSE(is_http_url("http://example.com:123456/"));
  EXPECT_TRUE(is_http_url("http://example.com:65535/"));
  EXPECT_TRUE(is_http_url("http://example.com:/"));
}

TEST(UrlIsHttp, RejectsSpacesAndControls) {
  EXPECT_FALSE(is_http_url("http://example.com/a b"));
  EXPECT_FALSE(is_http_url(" http://example.com/"));
  EXPECT_FALSE(is_http_url("http://example.com/\t"));
  EXPECT_FALSE(is_http_url("http://exa mple.com/"));
  EXPECT_FALSE(is_http_url(std::string_view("http://a/\0", 10)));
  EXPECT_FALSE(is_http_url("http://a/\x7F"));
}

TEST(UrlIsHttp, JoinedLinksPassWhenTheyShould) {
  const auto joined = join_url("https://example.com/a/", " b c\n");
  ASSERT_TRUE(joined);
  EXPECT_TRUE(is_http_url(*joined));
}

// ---------------------------------------------------------------------------
// Hostile input

std::string garbage(uint32_t seed, size_t n) {
  static constexpr std::string_view kAlphabet =
      "abh:/?#@[]%.\\ \t\n\x01\x7F\xC3\xA9\xFF-+1234567890ptsHTP";
  return sandbox::testing::garbage_from(kAlphabet, seed, n, 7);
}

TEST(UrlHostile, GarbageNeverCrashes) {
  // Run under ASan/UBSan; also checks that a joined URL is stable when joined
  // again as an absolute reference.
  for (uint32_t seed = 0; seed < 3000; ++seed) {
    const std::string base = (seed % 3 == 0) ? "http://a/b/c/d;p?q" : garbage(seed, seed % 30);
    const std::string ref = garbage(seed + 100000, (seed * 7) % 30);
    if (const auto p = parse_url(ref)) compose_url(*p);
    is_http_url(ref);
    const auto joined = join_url(base, ref);
    if (joined && parse_url(*joined) && parse_url(*joined)->scheme != "") {
      EXPECT_EQ(join_url("", *joined), joined) << "base: " << base << " ref: " << ref;
    }
  }
}

TEST(UrlHostile, DeepDotSegments) {
  std::string ref;
  for (int i = 0; i < 10000; ++i) ref += "a/../";
  ref += "x";
  EXPECT_EQ(join_url("http://h/", ref), "http://h/x");
  std::string up;
  for (int i = 0; i < 10000; ++i) up += "../";
  EXPECT_EQ(join_url("http://h/a/b", up + "y"), "http://h/y");
}

}  // namespace
}  // namespace sandbox::text
