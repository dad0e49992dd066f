// Politeness, robots.txt, many transfers at once, and shutdown: the fetcher
// is a good citizen towards each host, and one bad host or source never holds
// back the others.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "tests/host/fetch_test_support.h"

namespace host::fetch::testing {
namespace {

// Collects results of asynchronous submits.
class Results {
 public:
  FetchCallback callback(std::string name) {
    return [this, name](FetchResult r) {
      std::lock_guard lock(mutex_);
      order_.push_back(name);
      results_.emplace(name, std::move(r));
      cv_.notify_all();
    };
  }
  // Waits until `n` results arrived (at most a minute).
  bool wait_for(std::size_t n) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(60), [&] { return results_.size() >= n; });
  }
  const FetchResult& at(const std::string& name) const { return results_.at(name); }
  std::vector<std::string> order() const {
    std::lock_guard lock(mutex_);
    return order_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::string, FetchResult> results_;
  std::vector<std::string> order_;
};

std::vector<std::chrono::steady_clock::time_point> starts_of(const HostileServer& server,
                                                             std::string_view path,
                                                             std::string_view listener = {}) {
  std::vector<std::chrono::steady_clock::time_point> starts;
  for (const auto& seen : server.requests()) {
    if (seen.path == path && (listener.empty() || seen.local_address == listener)) {
      starts.push_back(seen.started);
    }
  }
  return starts;
}

using FetchPoliteness = FetchTest;

TEST_F(FetchPoliteness, InFlightRequestsPerHostNeverExceedTheLimit) {
  FetchOptions o = fast_options();
  o.max_per_host = 2;
  o.robots = false;
  Results results;
  for (int i = 0; i < 6; ++i) {
    fetcher_->submit({server_.url("/ok?hold=300&i=" + std::to_string(i)), o, "s", {}},
                     results.callback("r" + std::to_string(i)));
  }
  ASSERT_TRUE(results.wait_for(6));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(kind_of(results.at("r" + std::to_string(i))), "ok");
  EXPECT_EQ(server_.max_concurrent(host_header()), 2);
}

TEST_F(FetchPoliteness, MinDelaySpacesRequestsToOneHost) {
  FetchOptions o = fast_options();
  o.min_delay = 300ms;
  o.max_per_host = 4;
  Results results;
  for (int i = 0; i < 4; ++i) {
    fetcher_->submit({server_.url("/ok?i=" + std::to_string(i)), o, "s", {}},
                     results.callback("r" + std::to_string(i)));
  }
  ASSERT_TRUE(results.wait_for(4));
  auto starts = starts_of(server_, "/ok");
  ASSERT_EQ(starts.size(), 4u);
  std::sort(starts.begin(), starts.end());
  for (std::size_t i = 1; i < starts.size(); ++i) {
    EXPECT_GE(starts[i] - starts[i - 1], 250ms) << "between request " << i - 1 << " and " << i;
  }
}

TEST_F(FetchPoliteness, WaitingForOneHostDoesNotHoldBackAnother) {
  FetchOptions slow = fast_options();
  slow.min_delay = 400ms;
  slow.allow_hosts = {"127.0.0.1", "127.0.0.2"};
  Results results;
  for (int i = 0; i < 3; ++i) {
    fetcher_->submit({server_.url("/ok?a=" + std::to_string(i)), slow, "a", {}},
                     results.callback("a" + std::to_string(i)));
  }
  // Submitted last, to another host: must not queue behind host A's delays.
  fetcher_->submit({server_.url("/ok?b", "127.0.0.2"), slow, "b", {}}, results.callback("b"));
  ASSERT_TRUE(results.wait_for(4));
  EXPECT_EQ(kind_of(results.at("b")), "ok");
  const auto order = results.order();
  EXPECT_LT(std::find(order.begin(), order.end(), "b") - order.begin(),
            std::find(order.begin(), order.end(), "a2") - order.begin());
}

TEST_F(FetchPoliteness, TwentyHostileRequestsEndWithTheirKindsAndAGoodSourceIsUnaffected) {
  FetchOptions o = fast_options();
  o.max_per_host = 32;
  o.timeout = 1500ms;
  o.max_body = 512 * 1024;
  const std::vector<std::pair<std::string, std::string>> hostile = {
      {"/drip?every=200", "timeout"},
      {"/hang", "timeout"},
      {"/endless", "too_large"},
      {"/gzip-bomb", "too_large"},
      {"/endless-headers", "too_large"},
      {"/huge-length", "too_large"},
      {"/loop-a", "redirect"},
      {"/chain?n=9", "redirect"},
      {"/wrong-type", "content_type"},
      {"/lying-type", "content_type"},
      {"/lying-small", "content_type"},
      {"/untyped-binary", "content_type"},
      {"/binary", "content_type"},
      {"/500?times=99", "http_status"},
      {"/status?code=404", "http_status"},
      {"/429?times=9&after=3600", "http_status"},
      {"/reset", "network"},
      {"/private/secret", "robots"},
      {"/redirect?to=file:///etc/passwd", "blocked"},
      {"/redirect?to=http://127.0.0.2:" + std::to_string(server_.port()) + "/ok", "blocked"},
  };
  ASSERT_EQ(hostile.size(), 20u);
  Results results;
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    fetcher_->submit({server_.url(hostile[i].first), o, "hostile", {}},
                     results.callback("h" + std::to_string(i)));
  }
  // A well-behaved source on another host, submitted after all of them.
  FetchOptions good = fast_options();
  good.allow_hosts = {"127.0.0.2"};
  fetcher_->submit({server_.url("/ok", "127.0.0.2"), good, "good", {}}, results.callback("good"));
  ASSERT_TRUE(results.wait_for(hostile.size() + 1));

  for (std::size_t i = 0; i < hostile.size(); ++i) {
    EXPECT_EQ(kind_of(results.at("h" + std::to_string(i))), hostile[i].second) << hostile[i].first;
  }
  EXPECT_EQ(kind_of(results.at("good")), "ok");
  // The good source did not wait for the slow hostile ones to time out.
  const auto order = results.order();
  const auto pos = [&](const std::string& name) {
    return std::find(order.begin(), order.end(), name) - order.begin();
  };
  EXPECT_LT(pos("good"), pos("h0"));  // the drip
  EXPECT_LT(pos("good"), pos("h1"));  // the hang
}

using FetchRobots = FetchTest;

TEST_F(FetchRobots, DisallowedPathIsNeverRequested) {
  const FetchResult r = get("/private/page");
  ASSERT_EQ(kind_of(r), "robots");
  EXPECT_EQ(r.error().attempts, 0);
  EXPECT_EQ(server_.count("/private/page"), 0);
  EXPECT_EQ(kind_of(get("/ok")), "ok");
}

TEST_F(FetchRobots, RobotsTxtIsFetchedOncePerOrigin) {
  for (int i = 0; i < 4; ++i) EXPECT_EQ(kind_of(get("/ok?i=" + std::to_string(i))), "ok");
  EXPECT_EQ(server_.count("/robots.txt"), 1);
}

TEST_F(FetchRobots, ConcurrentFirstRequestsShareOneRobotsFetch) {
  Results results;
  for (int i = 0; i < 5; ++i) {
    fetcher_->submit({server_.url("/ok?i=" + std::to_string(i)), fast_options(), "s", {}},
                     results.callback("r" + std::to_string(i)));
  }
  ASSERT_TRUE(results.wait_for(5));
  EXPECT_EQ(server_.count("/robots.txt"), 1);
}

TEST_F(FetchRobots, UnreadableRobotsTxtDisallowsForNow) {
  server_.set_robots(503, "");
  FetchOptions o = fast_options();
  o.retries = 1;
  const FetchResult r = get("/ok", o);
  ASSERT_EQ(kind_of(r), "robots");
  EXPECT_EQ(server_.count("/ok"), 0);
  EXPECT_EQ(server_.count("/robots.txt"), 2);   // robots.txt itself was retried
  EXPECT_EQ(kind_of(get("/ok", o)), "robots");  // remembered, not asked again
  EXPECT_EQ(server_.count("/robots.txt"), 2);
}

TEST_F(FetchRobots, MissingRobotsTxtAllowsEverything) {
  server_.set_robots(404, "");
  EXPECT_EQ(kind_of(get("/private/page")), "ok");
}

TEST_F(FetchRobots, GroupForOurUserAgentWins) {
  server_.set_robots(200,
                     "User-agent: *\nDisallow:\n\n"
                     "User-agent: PickyBot\nDisallow: /ok\n");
  FetchOptions picky = fast_options();
  picky.user_agent = "PickyBot/2.0 (+https://example.invalid)";
  EXPECT_EQ(kind_of(get("/ok", picky)), "robots");
  EXPECT_EQ(kind_of(get("/ok")), "ok");  // another agent: the "*" group
}

TEST_F(FetchRobots, TurningRobotsOffIsLoggedOncePerSource) {
  FetchOptions o = fast_options();
  o.robots = false;
  EXPECT_EQ(kind_of(get("/private/page", o)), "ok");
  EXPECT_EQ(kind_of(get("/private/other", o)), "ok");
  EXPECT_EQ(server_.count("/robots.txt"), 0);
  const auto lines = log_.lines();
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& l) { return l.find("'test'") != l.npos; }),
            1);
}

using FetchShutdown = FetchTest;

TEST_F(FetchShutdown, AbortsTransfersInFlightAndCancelsQueuedOnes) {
  FetchOptions o = fast_options();
  o.timeout = 60s;
  o.max_per_host = 2;
  Results results;
  for (int i = 0; i < 5; ++i) {
    fetcher_->submit({server_.url("/hang?i=" + std::to_string(i)), o, "s", {}},
                     results.callback("r" + std::to_string(i)));
  }
  while (server_.count("/hang") < 2) std::this_thread::sleep_for(10ms);
  const auto before = std::chrono::steady_clock::now();
  fetcher_->shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 10s);  // far below the 60 s timeout
  ASSERT_TRUE(results.wait_for(5));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(kind_of(results.at("r" + std::to_string(i))), "cancelled");
  }
}

TEST_F(FetchShutdown, SubmitAfterShutdownIsCancelledAtOnce) {
  fetcher_->shutdown();
  fetcher_->shutdown();  // idempotent
  Results results;
  fetcher_->submit({server_.url("/ok"), fast_options(), "s", {}}, results.callback("late"));
  ASSERT_TRUE(results.wait_for(1));
  EXPECT_EQ(kind_of(results.at("late")), "cancelled");
  fetcher_.reset();
}

TEST_F(FetchShutdown, CallbacksMaySubmitAndMayThrow) {
  Results results;
  Fetcher* fetcher = fetcher_.get();
  const std::string second = server_.url("/ok?second");
  fetcher_->submit({server_.url("/ok?first"), fast_options(), "s", {}},
                   [&, fetcher, second](FetchResult) {
                     fetcher->submit({second, fast_options(), "s", {}}, results.callback("second"));
                     throw std::runtime_error("a careless callback");
                   });
  ASSERT_TRUE(results.wait_for(1));
  EXPECT_EQ(kind_of(results.at("second")), "ok");
  EXPECT_EQ(kind_of(get("/ok?third")), "ok");
}

}  // namespace
}  // namespace host::fetch::testing
