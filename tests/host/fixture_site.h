// A small, well-behaved web site on 127.0.0.1 for orchestrator and command
// tests: each request is answered by a handler the test sets, from a fixed
// pool of threads (one request per connection). It never connects anywhere.
// The implementation is in fixture_site_test.cc (compiled into host_tests by
// the tests/host/*_test.cc glob, with the site's own checks).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace host::testing {

struct SiteResponse {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
};

class FixtureSite {
 public:
  // Answers a request for `path` ("/s/7?x=1"); called from pool threads.
  using Handler = std::function<SiteResponse(std::string_view path)>;

  explicit FixtureSite(Handler handler, int threads = 8);
  ~FixtureSite();
  FixtureSite(const FixtureSite&) = delete;
  FixtureSite& operator=(const FixtureSite&) = delete;

  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  // "http://127.0.0.1:PORT" + path.
  std::string url(std::string_view path) const;
  std::uint64_t requests() const { return requests_.load(); }

 private:
  void accept_loop();
  void worker();
  void serve(int fd);

  Handler handler_;
  int listener_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::atomic<std::uint64_t> requests_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> pending_;
  bool stopping_ = false;
  std::thread acceptor_;
  std::vector<std::thread> pool_;
};

}  // namespace host::testing
