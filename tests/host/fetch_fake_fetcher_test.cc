// The fake Fetcher answers from its script, on its own thread, and behaves
// like the real one on shutdown.
#include <gtest/gtest.h>

#include <thread>

#include "host/fetch/fake_fetcher.h"

namespace host::fetch {
namespace {

TEST(FakeFetcher, AnswersScriptedUrlsAndFailsOthers) {
  FakeFetcher fake;
  fake.respond("https://example.com/", fake_response("https://example.com/", "<p>hi</p>"));
  fake.respond("https://example.com/down",
               std::unexpected(fake_error(FetchErrorKind::kTimeout, "too slow")));
  const FetchResult ok = fetch_blocking(fake, {"https://example.com/", {}, "s", {}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->body, "<p>hi</p>");
  EXPECT_EQ(ok->charset, "utf-8");
  EXPECT_EQ(fetch_blocking(fake, {"https://example.com/down", {}, "s", {}}).error().kind,
            FetchErrorKind::kTimeout);
  EXPECT_EQ(fetch_blocking(fake, {"https://example.com/other", {}, "s", {}}).error().status, 404);
  EXPECT_EQ(fake.requests().size(), 3u);
}

TEST(FakeFetcher, HandlerSeesTheRequestOnTheFakesThread) {
  FakeFetcher fake;
  std::thread::id handler_thread;
  fake.set_handler([&](const FetchRequest& r) -> FetchResult {
    handler_thread = std::this_thread::get_id();
    return fake_response(r.url, r.source);
  });
  const FetchResult r = fetch_blocking(fake, {"https://example.com/x", {}, "books", {}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "books");
  EXPECT_NE(handler_thread, std::this_thread::get_id());
}

TEST(FakeFetcher, SubmitAfterShutdownIsCancelled) {
  FakeFetcher fake;
  fake.shutdown();
  const FetchResult r = fetch_blocking(fake, {"https://example.com/", {}, "s", {}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, FetchErrorKind::kCancelled);
}

TEST(FetchErrorKind, NamesRoundTrip) {
  for (FetchErrorKind k :
       {FetchErrorKind::kNetwork, FetchErrorKind::kTimeout, FetchErrorKind::kHttpStatus,
        FetchErrorKind::kRobots, FetchErrorKind::kBlocked, FetchErrorKind::kTooLarge,
        FetchErrorKind::kContentType, FetchErrorKind::kRedirect, FetchErrorKind::kInvalidRequest,
        FetchErrorKind::kCancelled}) {
    FetchErrorKind back = FetchErrorKind::kNetwork;
    ASSERT_TRUE(parse_fetch_error_kind(to_string(k), back)) << to_string(k);
    EXPECT_EQ(back, k);
  }
  FetchErrorKind out;
  EXPECT_FALSE(parse_fetch_error_kind("nope", out));
}

}  // namespace
}  // namespace host::fetch
