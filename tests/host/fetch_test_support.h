// A fixture for fetch tests: a hostile server on 127.0.0.1/127.0.0.2, a curl
// fetcher whose log lines are captured, and options with short timeouts so
// the whole suite runs in seconds. Nothing here reaches beyond 127.0.0.0/8.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "host/fetch/curl_fetcher.h"
#include "host/fetch/fetcher.h"
#include "tests/host/fetch_hostile_server.h"

namespace host::fetch::testing {

using namespace std::chrono_literals;

// Short timeouts, no retries, no delays; loopback allowed by name.
inline FetchOptions fast_options() {
  FetchOptions o;
  o.timeout = 2s;
  o.connect_timeout = 2s;
  o.retries = 0;
  o.max_per_host = 8;
  o.min_delay = 0ms;
  o.backoff_base = 10ms;
  o.allow_hosts = {"127.0.0.1"};
  return o;
}

// Log lines, collected from the fetcher thread.
class LogLines {
 public:
  void add(std::string_view line) {
    std::lock_guard lock(mutex_);
    lines_.emplace_back(line);
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

class FetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok()) << server_.error();
    start_fetcher({});
  }

  // (Re)starts the fetcher with `resolve` entries ("name:port:127.0.0.x").
  void start_fetcher(std::vector<std::string> resolve) {
    fetcher_.reset();
    CurlFetcherConfig config;
    config.log = [this](std::string_view line) { log_.add(line); };
    config.resolve = std::move(resolve);
    auto made = make_curl_fetcher(std::move(config));
    ASSERT_TRUE(made.has_value()) << made.error().message;
    fetcher_ = std::move(*made);
  }

  FetchResult get(const std::string& target, const FetchOptions& options = fast_options(),
                  Headers headers = {}) {
    return fetch_url(server_.url(target), options, std::move(headers));
  }

  FetchResult fetch_url(const std::string& url, const FetchOptions& options = fast_options(),
                        Headers headers = {}) {
    FetchRequest request{url, options, "test", std::move(headers)};
    return fetch_blocking(*fetcher_, std::move(request));
  }

  // GET http://<host>:<port><target>, for names mapped with start_fetcher().
  FetchResult get_named(const std::string& host, const FetchOptions& options = fast_options(),
                        const std::string& target = "/ok") {
    return fetch_url(server_.url(target, host), options);
  }

  std::string host_header(std::string_view ip = "127.0.0.1") const {
    return std::string(ip) + ":" + std::to_string(server_.port());
  }

  // Declared in this order so the fetcher stops before the server and log.
  HostileServer server_;
  LogLines log_;
  std::unique_ptr<Fetcher> fetcher_;
};

// The kind of a failed result, for readable assertions: "ok" on success.
inline std::string kind_of(const FetchResult& r) {
  return r ? "ok" : std::string(to_string(r.error().kind));
}

}  // namespace host::fetch::testing
