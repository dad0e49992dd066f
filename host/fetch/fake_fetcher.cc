#include "host/fetch/fake_fetcher.h"

#include "host/fetch/content_type.h"

namespace host::fetch {

FetchResponse fake_response(std::string url, std::string body, std::string content_type) {
  FetchResponse r;
  r.url = std::move(url);
  r.status = 200;
  r.body = std::move(body);
  r.charset = charset_param(content_type);
  r.headers.emplace_back("Content-Type", content_type);
  r.content_type = std::move(content_type);
  r.address = "127.0.0.1";
  return r;
}

FetchError fake_error(FetchErrorKind kind, std::string message, std::string url, int status) {
  FetchError e;
  e.kind = kind;
  e.message = std::move(message);
  e.url = std::move(url);
  e.status = status;
  e.attempts = 1;
  return e;
}

FakeFetcher::FakeFetcher() : thread_([this] { run(); }) {}

FakeFetcher::~FakeFetcher() { shutdown(); }

void FakeFetcher::respond(const std::string& url, FetchResult result) {
  std::lock_guard lock(mutex_);
  responses_.insert_or_assign(url, std::move(result));
}

void FakeFetcher::set_handler(Handler handler) {
  std::lock_guard lock(mutex_);
  handler_ = std::move(handler);
}

std::vector<FetchRequest> FakeFetcher::requests() const {
  std::lock_guard lock(mutex_);
  return seen_;
}

void FakeFetcher::submit(FetchRequest request, FetchCallback on_done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      seen_.push_back(request);
      queue_.emplace_back(std::move(request), std::move(on_done));
      wake_.notify_one();
      return;
    }
  }
  if (on_done) {
    on_done(std::unexpected(
        fake_error(FetchErrorKind::kCancelled, "the fetcher is shut down", request.url)));
  }
}

void FakeFetcher::shutdown() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (std::this_thread::get_id() == thread_.get_id()) return;
  std::lock_guard lock(join_mutex_);
  if (thread_.joinable()) thread_.join();
}

void FakeFetcher::run() {
  while (true) {
    std::pair<FetchRequest, FetchCallback> item;
    FetchResult result;
    Handler handler;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) break;
      item = std::move(queue_.front());
      queue_.pop_front();
      if (auto it = responses_.find(item.first.url); it != responses_.end()) {
        result = it->second;
      } else if (handler_) {
        handler = handler_;
      } else {
        result = std::unexpected(
            fake_error(FetchErrorKind::kHttpStatus, "HTTP 404 (fake)", item.first.url, 404));
      }
    }
    if (handler) {
      try {
        result = handler(item.first);
      } catch (...) {
        result = std::unexpected(
            fake_error(FetchErrorKind::kNetwork, "the fake's handler threw", item.first.url));
      }
    }
    if (item.second) {
      try {
        item.second(std::move(result));
      } catch (...) {
      }
    }
  }
  // Shut down: whatever is still queued is cancelled.
  std::deque<std::pair<FetchRequest, FetchCallback>> rest;
  {
    std::lock_guard lock(mutex_);
    rest.swap(queue_);
  }
  for (auto& [request, on_done] : rest) {
    if (!on_done) continue;
    try {
      on_done(std::unexpected(
          fake_error(FetchErrorKind::kCancelled, "the fetcher is shut down", request.url)));
    } catch (...) {
    }
  }
}

}  // namespace host::fetch
