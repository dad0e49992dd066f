// Which URLs the fetcher accepts, how redirects resolve, and what of a URL
// may appear in messages.
#include <gtest/gtest.h>

#include "host/fetch/url.h"

namespace host::fetch {
namespace {

TEST(FetchUrl, HttpAndHttpsAreParsed) {
  const auto u = parse_http_url("  HTTPS://Example.COM/a/b?x=1#frag ");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/a/b?x=1");
  EXPECT_EQ(u->text.find('#'), std::string::npos);
  EXPECT_EQ(origin(*u), "https://example.com:443");

  const auto v6 = parse_http_url("http://[::1]:8080");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8080);
  EXPECT_EQ(v6->target, "/");
  EXPECT_EQ(origin(*v6), "http://[::1]:8080");
}

TEST(FetchUrl, OtherSchemesAreBlockedWithAClearMessage) {
  for (const char* url :
       {"file:///etc/passwd", "data:text/plain,hi", "ftp://example.com/", "javascript:alert(1)",
        "mailto:a@example.com", "gopher://x/", "dict://x/", "ldap://x/", "Ftp://x/"}) {
    const auto u = parse_http_url(url);
    ASSERT_FALSE(u) << url;
    EXPECT_EQ(u.error().kind, FetchErrorKind::kBlocked) << url;
    EXPECT_NE(u.error().message.find("only http:// and https://"), std::string::npos);
  }
}

TEST(FetchUrl, TextThatIsNotAnAbsoluteUrlIsInvalid) {
  for (const char* url :
       {"", "example.com", "/relative/path", "http://", "http://:80/", "http://exa mple.com/"}) {
    const auto u = parse_http_url(url);
    ASSERT_FALSE(u) << url;
    EXPECT_EQ(u.error().kind, FetchErrorKind::kInvalidRequest) << url;
  }
}

TEST(FetchUrl, LocationsResolveAgainstTheCurrentUrl) {
  const auto base = parse_http_url("http://example.com/a/b?q=1");
  ASSERT_TRUE(base);
  EXPECT_EQ(resolve_location(*base, "/c")->text, "http://example.com/c");
  EXPECT_EQ(resolve_location(*base, "d")->text, "http://example.com/a/d");
  EXPECT_EQ(resolve_location(*base, "//other.example/x")->host, "other.example");
  EXPECT_EQ(resolve_location(*base, "https://x.example/")->scheme, "https");
  EXPECT_EQ(resolve_location(*base, "file:///etc/passwd").error().kind, FetchErrorKind::kBlocked);
  EXPECT_EQ(resolve_location(*base, "javascript:alert(1)").error().kind, FetchErrorKind::kBlocked);
}

TEST(FetchUrl, RedactionDropsCredentialsQueryAndFragment) {
  EXPECT_EQ(redact_url("https://user:pw@example.com/p?api_key=s3cret#x"),
            "https://example.com/p?...");
  EXPECT_EQ(redact_url("http://example.com/p"), "http://example.com/p");
  EXPECT_EQ(redact_url("http://example.com/a\r\nb"), "http://example.com/a??b");
}

}  // namespace
}  // namespace host::fetch
