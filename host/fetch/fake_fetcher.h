// A Fetcher that answers from a script instead of the network, for tests of
// code that fetches (the orchestrator, commands) and need no server.
//
// Thread safety: as Fetcher. Callbacks run on the fake's own thread, in the
// order requests were submitted, like the real fetcher's.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "host/fetch/fetcher.h"

namespace host::fetch {

// A 200 response with `body` for `url`.
FetchResponse fake_response(std::string url, std::string body,
                            std::string content_type = "text/html; charset=utf-8");
// A failure of `kind` for `url`.
FetchError fake_error(FetchErrorKind kind, std::string message, std::string url = {},
                      int status = 0);

class FakeFetcher final : public Fetcher {
 public:
  // Computes the answer to a request; runs on the fake's thread.
  using Handler = std::function<FetchResult(const FetchRequest&)>;

  FakeFetcher();
  ~FakeFetcher() override;
  FakeFetcher(const FakeFetcher&) = delete;
  FakeFetcher& operator=(const FakeFetcher&) = delete;

  // Answers requests for exactly `url` with `result` (every time).
  void respond(const std::string& url, FetchResult result);
  // Answers every URL without a respond() entry. Default: kHttpStatus 404.
  void set_handler(Handler handler);

  // The requests seen so far, in submission order.
  std::vector<FetchRequest> requests() const;

  void submit(FetchRequest request, FetchCallback on_done) override;
  void shutdown() override;

 private:
  void run();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<FetchRequest, FetchCallback>> queue_;
  std::map<std::string, FetchResult> responses_;
  Handler handler_;
  std::vector<FetchRequest> seen_;
  bool stopping_ = false;
  std::mutex join_mutex_;
  std::thread thread_;
};

}  // namespace host::fetch
