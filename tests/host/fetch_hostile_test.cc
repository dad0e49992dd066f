// Every misbehaviour of the hostile server ends as a failure of the right
// kind (or, for bad text, as a success whose text decodes), the fetcher stays
// alive, and the next request is served normally.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "host/fetch/charset.h"
#include "tests/host/fetch_test_support.h"

namespace host::fetch::testing {
namespace {

class FetchHostile : public FetchTest {
 protected:
  // After each hostile case the same fetcher still serves a good page.
  void TearDown() override {
    if (!fetcher_) return;
    const FetchResult after = get("/ok");
    EXPECT_EQ(kind_of(after), "ok") << "the fetcher did not survive";
  }
};

TEST_F(FetchHostile, SlowDripEndsAsTimeout) {
  FetchOptions o = fast_options();
  o.timeout = 1s;
  const FetchResult r = get("/drip?every=200", o);
  EXPECT_EQ(kind_of(r), "timeout");
  EXPECT_EQ(r.error().attempts, 1);
}

TEST_F(FetchHostile, SilentServerEndsAsTimeout) {
  FetchOptions o = fast_options();
  o.timeout = 1s;
  EXPECT_EQ(kind_of(get("/hang", o)), "timeout");
}

TEST_F(FetchHostile, TimeoutIsRetriedLikeANetworkError) {
  FetchOptions o = fast_options();
  o.timeout = 500ms;
  o.retries = 1;
  const FetchResult r = get("/hang", o);
  EXPECT_EQ(kind_of(r), "timeout");
  EXPECT_EQ(r.error().attempts, 2);
  EXPECT_EQ(server_.count("/hang"), 2);
}

TEST_F(FetchHostile, EndlessBodyIsStoppedAtMaxBody) {
  FetchOptions o = fast_options();
  o.max_body = 256 * 1024;
  o.timeout = 10s;  // the cap, not the clock, must stop it
  const FetchResult r = get("/endless", o);
  EXPECT_EQ(kind_of(r), "too_large");
  EXPECT_EQ(r.error().attempts, 1);
}

TEST_F(FetchHostile, GzipBombIsStoppedAfterDecompressingMaxBody) {
  FetchOptions o = fast_options();
  o.max_body = 1 << 20;
  o.timeout = 10s;
  const FetchResult r = get("/gzip-bomb", o);
  EXPECT_EQ(kind_of(r), "too_large");
}

TEST_F(FetchHostile, EndlessHeadersAreStopped) {
  FetchOptions o = fast_options();
  o.timeout = 10s;
  o.retries = 2;
  const FetchResult r = get("/endless-headers", o);
  EXPECT_EQ(kind_of(r), "too_large");
  EXPECT_EQ(server_.count("/endless-headers"), 1);  // not retried
}

TEST_F(FetchHostile, HugeHeaderLineIsStopped) {
  FetchOptions o = fast_options();
  o.retries = 2;
  EXPECT_EQ(kind_of(get("/huge-header-line", o)), "too_large");
  EXPECT_EQ(server_.count("/huge-header-line"), 1);
}

TEST_F(FetchHostile, AnnouncedHugeBodyIsRefusedBeforeDownloading) {
  FetchOptions o = fast_options();
  o.timeout = 10s;  // the server then goes silent: only an early refusal avoids a timeout
  EXPECT_EQ(kind_of(get("/huge-length", o)), "too_large");
}

TEST_F(FetchHostile, RedirectLoopIsARedirectFailure) {
  const FetchResult r = get("/loop-a");
  EXPECT_EQ(kind_of(r), "redirect");
  EXPECT_EQ(server_.count("/loop-a"), 1);
  EXPECT_EQ(server_.count("/loop-b"), 1);
}

TEST_F(FetchHostile, FiveRedirectsAreFollowedAndSixAreNot) {
  const FetchResult five = get("/chain?n=5");
  ASSERT_EQ(kind_of(five), "ok");
  EXPECT_EQ(five->redirects.size(), 5u);
  EXPECT_EQ(five->url, server_.url("/chain?n=0"));
  EXPECT_EQ(five->redirects.front(), server_.url("/chain?n=5"));

  const FetchResult six = get("/chain?n=6");
  EXPECT_EQ(kind_of(six), "redirect");
}

TEST_F(FetchHostile, WrongContentTypeIsRefused) {
  EXPECT_EQ(kind_of(get("/wrong-type")), "content_type");
  EXPECT_EQ(kind_of(get("/binary")), "content_type");
}

TEST_F(FetchHostile, SourceMayAllowMoreContentTypes) {
  FetchOptions o = fast_options();
  o.content_types = {"text/html", "image/*"};
  const FetchResult r = get("/wrong-type", o);
  ASSERT_EQ(kind_of(r), "ok");
  EXPECT_EQ(r->content_type, "image/png");
}

TEST_F(FetchHostile, BinaryBodyUnderATextTypeIsRefused) {
  EXPECT_EQ(kind_of(get("/lying-type")), "content_type");
  EXPECT_EQ(kind_of(get("/lying-small")), "content_type");
}

TEST_F(FetchHostile, UntypedBodyIsSniffed) {
  EXPECT_EQ(kind_of(get("/untyped-binary")), "content_type");
  const FetchResult text = get("/untyped-text");
  ASSERT_EQ(kind_of(text), "ok");
  EXPECT_EQ(text->content_type, "");
}

TEST_F(FetchHostile, InvalidUtf8IsNotAFetchFailureAndDecodesWithReplacements) {
  const FetchResult r = get("/invalid-utf8");
  ASSERT_EQ(kind_of(r), "ok");
  EXPECT_FALSE(is_valid_utf8(r->body));  // returned as received
  const std::string text = to_utf8(r->body, r->content_type);
  EXPECT_TRUE(is_valid_utf8(text));
  EXPECT_NE(text.find("\xEF\xBF\xBD"), std::string::npos);
  EXPECT_NE(text.find("ok</p>"), std::string::npos);
}

TEST_F(FetchHostile, DeclaredCharsetIsDecodedToUtf8) {
  const FetchResult csv = get("/latin1-csv");
  ASSERT_EQ(kind_of(csv), "ok");
  EXPECT_EQ(csv->charset, "iso-8859-1");
  EXPECT_EQ(to_utf8(csv->body, csv->content_type), "name,city\nRen\xC3\xA9,Z\xC3\xBCrich\n");

  const FetchResult json = get("/json-utf16");
  ASSERT_EQ(kind_of(json), "ok");
  EXPECT_EQ(to_utf8(json->body, json->content_type), "{\"name\":\"caf\xC3\xA9\"}");
}

TEST_F(FetchHostile, CompressedBodiesAreDecoded) {
  for (const char* target : {"/gzip", "/deflate"}) {
    const FetchResult r = get(target);
    ASSERT_EQ(kind_of(r), "ok") << target;
    EXPECT_NE(r->body.find("<p>ok</p>"), std::string::npos) << target;
  }
  const std::string accepted = server_.requests().back().header("accept-encoding");
  for (const char* coding : {"gzip", "deflate", "br"}) {
    EXPECT_NE(accepted.find(coding), std::string::npos) << coding;
  }
}

TEST_F(FetchHostile, TooManyRequestsWaitsForRetryAfter) {
  FetchOptions o = fast_options();
  o.retries = 2;
  const FetchResult r = get("/429?times=1&after=1", o);
  ASSERT_EQ(kind_of(r), "ok");
  EXPECT_EQ(r->attempts, 2);
  std::vector<std::chrono::steady_clock::time_point> starts;
  for (const auto& seen : server_.requests()) {
    if (seen.path == "/429") starts.push_back(seen.started);
  }
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_GE(starts[1] - starts[0], 800ms);  // Retry-After: 1 (slack for clock granularity)
}

TEST_F(FetchHostile, RetryAfterMayBeAnHttpDate) {
  FetchOptions o = fast_options();
  o.retries = 1;
  const FetchResult r = get("/429?times=1&after=date", o);
  ASSERT_EQ(kind_of(r), "ok");
  EXPECT_EQ(r->attempts, 2);
}

TEST_F(FetchHostile, RetryAfterLongerThanTheCapFailsWithoutWaiting) {
  FetchOptions o = fast_options();
  o.retries = 3;
  o.max_retry_wait = 5s;
  const FetchResult r = get("/429?times=1&after=3600", o);
  ASSERT_EQ(kind_of(r), "http_status");
  EXPECT_EQ(r.error().status, 429);
  EXPECT_EQ(r.error().attempts, 1);
}

TEST_F(FetchHostile, ServerErrorBurstIsRetriedUntilSuccess) {
  FetchOptions o = fast_options();
  o.retries = 3;
  const FetchResult r = get("/500?times=2", o);
  ASSERT_EQ(kind_of(r), "ok");
  EXPECT_EQ(r->attempts, 3);
  EXPECT_EQ(server_.count("/500"), 3);
}

TEST_F(FetchHostile, PersistentServerErrorFailsAfterTheRetries) {
  FetchOptions o = fast_options();
  o.retries = 2;
  const FetchResult r = get("/500?times=100", o);
  ASSERT_EQ(kind_of(r), "http_status");
  EXPECT_EQ(r.error().status, 500);
  EXPECT_EQ(r.error().attempts, 3);
  EXPECT_EQ(server_.count("/500"), 3);
}

TEST_F(FetchHostile, ClientErrorIsNotRetried) {
  FetchOptions o = fast_options();
  o.retries = 3;
  for (int code : {400, 403, 404, 410}) {
    const FetchResult r = get("/status?code=" + std::to_string(code), o);
    ASSERT_EQ(kind_of(r), "http_status");
    EXPECT_EQ(r.error().status, code);
    EXPECT_EQ(r.error().attempts, 1);
  }
  EXPECT_EQ(server_.count("/status"), 4);
}

TEST_F(FetchHostile, ResetMidBodyIsARetriedNetworkError) {
  FetchOptions o = fast_options();
  o.retries = 1;
  const FetchResult r = get("/reset", o);
  ASSERT_EQ(kind_of(r), "network");
  EXPECT_EQ(r.error().attempts, 2);
  EXPECT_EQ(server_.count("/reset"), 2);
}

TEST_F(FetchHostile, RefusedConnectionIsANetworkError) {
  // A port on 127.0.0.1 that nothing listens on: bind one, then close it.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/ok";
  FetchOptions o = fast_options();
  o.robots = false;
  EXPECT_EQ(kind_of(fetch_url(url, o)), "network");
}

TEST_F(FetchHostile, UnansweredConnectIsAConnectTimeout) {
  // A listener whose accept queue is full: Linux drops further SYNs, so a
  // connection to it is neither made nor refused.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    fillers.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    ::connect(fillers.back(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  FetchOptions o = fast_options();
  o.robots = false;
  o.connect_timeout = 300ms;
  o.timeout = 30s;
  const auto before = std::chrono::steady_clock::now();
  const FetchResult r =
      fetch_url("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/", o);
  EXPECT_EQ(kind_of(r), "timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - before, 10s);  // not the 30 s total timeout
  for (int fd : fillers) ::close(fd);
  ::close(listener);
}

TEST_F(FetchHostile, ResponseDescribesTheExchange) {
  FetchOptions o = fast_options();
  o.user_agent = "HostileTestBot/1.0";
  const FetchResult r = get("/ok", o);
  ASSERT_EQ(kind_of(r), "ok");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->url, server_.url("/ok"));
  EXPECT_EQ(r->address, "127.0.0.1");
  EXPECT_EQ(r->attempts, 1);
  EXPECT_TRUE(r->redirects.empty());
  EXPECT_EQ(r->charset, "utf-8");
  EXPECT_EQ(r->header("CONTENT-TYPE"), "text/html; charset=utf-8");
  EXPECT_GE(r->timings.total_ms, r->timings.first_byte_ms);
  EXPECT_GE(r->timings.elapsed_ms, 0.0);
  EXPECT_EQ(server_.requests().back().header("user-agent"), "HostileTestBot/1.0");
}

}  // namespace
}  // namespace host::fetch::testing
