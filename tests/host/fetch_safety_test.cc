// The fetcher only speaks http(s), only to addresses the settings allow
// (checked on the address actually connected to, so neither redirects nor
// DNS answers get around it), and never leaks credentials.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/host/fetch_test_support.h"

namespace host::fetch::testing {
namespace {

using FetchSafety = FetchTest;

TEST_F(FetchSafety, NonHttpSchemesAreRefusedWithoutTraffic) {
  for (const char* url :
       {"file:///etc/passwd", "data:text/html,<p>hi</p>", "ftp://127.0.0.1/x",
        "javascript:alert(1)", "gopher://127.0.0.1/", "ws://127.0.0.1/", "FILE:///etc/passwd"}) {
    const FetchResult r = fetch_url(url);
    ASSERT_EQ(kind_of(r), "blocked") << url;
    EXPECT_EQ(r.error().attempts, 0) << url;
  }
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(FetchSafety, MalformedUrlsAreInvalidRequests) {
  for (const char* url : {"", "example.com/page", "http://", "http://exa mple.com/", "//x/y"}) {
    EXPECT_EQ(kind_of(fetch_url(url)), "invalid_request") << url;
  }
}

TEST_F(FetchSafety, MalformedHeaderIsAnInvalidRequest) {
  const FetchResult r = get("/ok", fast_options(), {{"X-Evil", "a\r\nInjected: yes"}});
  EXPECT_EQ(kind_of(r), "invalid_request");
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(FetchSafety, LoopbackIsRefusedByDefault) {
  FetchOptions o = fast_options();
  o.allow_hosts.clear();
  const FetchResult r = get("/ok", o);
  ASSERT_EQ(kind_of(r), "blocked");
  EXPECT_NE(r.error().message.find("fetch.allow_hosts"), std::string::npos);
  EXPECT_TRUE(server_.requests().empty());  // not even robots.txt was asked for
}

TEST_F(FetchSafety, AllowPrivateSettingAllowsLoopback) {
  FetchOptions o = fast_options();
  o.allow_hosts.clear();
  o.allow_private = true;
  EXPECT_EQ(kind_of(get("/ok", o)), "ok");
}

TEST_F(FetchSafety, RedirectToPrivateAddressIsRefused) {
  const std::string target = "http://127.0.0.2:" + std::to_string(server_.port()) + "/ok";
  const FetchResult r = get("/redirect?to=" + target);
  ASSERT_EQ(kind_of(r), "blocked");
  EXPECT_EQ(server_.count("/redirect", "127.0.0.1"), 1);
  EXPECT_EQ(server_.count("/ok", "127.0.0.2"), 0);
  EXPECT_EQ(server_.count("/robots.txt", "127.0.0.2"), 0);
}

TEST_F(FetchSafety, RedirectToAnotherSchemeIsRefused) {
  for (const char* to : {"file:///etc/passwd", "javascript:alert(1)", "ftp://127.0.0.1/"}) {
    const FetchResult r = get(std::string("/redirect?to=") + to);
    EXPECT_EQ(kind_of(r), "blocked") << to;
  }
}

TEST_F(FetchSafety, DnsAnswerPointingToAPrivateAddressIsRefused) {
  // rebind.test resolves to 127.0.0.2; only the literal 127.0.0.1 is allowed.
  start_fetcher({"rebind.test:" + std::to_string(server_.port()) + ":127.0.0.2"});
  const FetchResult r = get_named("rebind.test");
  ASSERT_EQ(kind_of(r), "blocked");
  EXPECT_NE(r.error().message.find("127.0.0.2"), std::string::npos);
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(FetchSafety, AllowListedNameMayConnectToAPrivateAddress) {
  start_fetcher({"intranet.test:" + std::to_string(server_.port()) + ":127.0.0.2"});
  FetchOptions o = fast_options();
  o.allow_hosts = {"intranet.test"};
  const FetchResult r = get_named("intranet.test", o);
  ASSERT_EQ(kind_of(r), "ok");
  EXPECT_EQ(r->address, "127.0.0.2");
  EXPECT_EQ(server_.count("/ok", "127.0.0.2"), 1);
}

TEST_F(FetchSafety, AuthorizationIsNeverLoggedNorPutInErrors) {
  const std::string secret = "sk-test-5ecret-value";
  FetchOptions o = fast_options();
  o.retries = 1;
  std::vector<FetchResult> results;
  for (const char* target : {"/500?times=9", "/status?code=401", "/loop-a", "/drip?every=300"}) {
    FetchOptions opt = o;
    opt.timeout = 1s;
    results.push_back(get(target, opt, {{"Authorization", "Bearer " + secret}}));
  }
  results.push_back(get("/500?times=9&api_key=" + secret, o));
  for (const auto& r : results) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message.find(secret), std::string::npos) << r.error().message;
  }
  const auto lines = log_.lines();
  EXPECT_FALSE(lines.empty());  // the retries were logged
  for (const auto& line : lines) EXPECT_EQ(line.find(secret), std::string::npos) << line;
  // The header itself did reach the server it was meant for.
  const auto seen = server_.requests();
  const auto first =
      std::find_if(seen.begin(), seen.end(), [](const SeenRequest& q) { return q.path == "/500"; });
  ASSERT_NE(first, seen.end());
  EXPECT_EQ(first->header("authorization"), "Bearer " + secret);
}

TEST_F(FetchSafety, CredentialsAreNotForwardedToAnotherOrigin) {
  FetchOptions o = fast_options();
  o.allow_hosts = {"127.0.0.1", "127.0.0.2"};
  const std::string target = "http://127.0.0.2:" + std::to_string(server_.port()) + "/ok";
  const FetchResult r = get("/redirect?to=" + target, o,
                            {{"Authorization", "Bearer abc"}, {"Accept-Language", "de"}});
  ASSERT_EQ(kind_of(r), "ok");
  ASSERT_EQ(r->redirects.size(), 1u);
  for (const auto& seen : server_.requests()) {
    if (seen.path == "/redirect") {
      EXPECT_EQ(seen.header("authorization"), "Bearer abc");
    }
    if (seen.local_address == "127.0.0.2" && seen.path == "/ok") {
      EXPECT_EQ(seen.header("authorization"), "");
      EXPECT_EQ(seen.header("accept-language"), "de");
    }
  }
}

}  // namespace
}  // namespace host::fetch::testing
