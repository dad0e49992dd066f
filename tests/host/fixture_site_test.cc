#include "tests/host/fixture_site.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>

#include "host/fetch/curl_fetcher.h"

namespace host::testing {

FixtureSite::FixtureSite(Handler handler, int threads) : handler_(std::move(handler)) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener_ < 0) return;
  int one = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener_, 512) != 0 || ::pipe2(wake_, O_CLOEXEC) != 0) {
    return;
  }
  socklen_t len = sizeof addr;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  for (int i = 0; i < threads; ++i) pool_.emplace_back([this] { worker(); });
  acceptor_ = std::thread([this] { accept_loop(); });
}

FixtureSite::~FixtureSite() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (wake_[1] >= 0) {
    const char c = 'x';
    [[maybe_unused]] auto n = ::write(wake_[1], &c, 1);
  }
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& t : pool_) t.join();
  for (int fd : pending_) ::close(fd);
  for (int fd : {listener_, wake_[0], wake_[1]}) {
    if (fd >= 0) ::close(fd);
  }
}

std::string FixtureSite::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

void FixtureSite::accept_loop() {
  for (;;) {
    pollfd fds[2] = {{listener_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents != 0) return;
    const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    {
      std::lock_guard lock(mu_);
      pending_.push_back(fd);
    }
    cv_.notify_one();
  }
}

void FixtureSite::worker() {
  for (;;) {
    int fd = -1;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (stopping_) return;
      fd = pending_.front();
      pending_.pop_front();
    }
    serve(fd);
    ::close(fd);
  }
}

void FixtureSite::serve(int fd) {
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string request;
  char buf[4096];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < 65536) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    request.append(buf, static_cast<std::size_t>(n));
  }
  ++requests_;
  const auto sp1 = request.find(' ');
  const auto sp2 = request.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) return;
  const std::string path = request.substr(sp1 + 1, sp2 - sp1 - 1);
  SiteResponse r = handler_(path);
  std::string out = "HTTP/1.1 " + std::to_string(r.status) +
                    " X\r\nContent-Type: " + r.content_type +
                    "\r\nContent-Length: " + std::to_string(r.body.size()) +
                    "\r\nConnection: close\r\n\r\n" + r.body;
  std::size_t sent = 0;
  while (sent < out.size()) {
    const ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

namespace {

TEST(FixtureSite, AnswersThroughTheRealFetcher) {
  FixtureSite site([](std::string_view path) {
    if (path == "/robots.txt") return SiteResponse{404, "text/plain", "no"};
    return SiteResponse{200, "text/html", "<p>" + std::string(path) + "</p>"};
  });
  ASSERT_TRUE(site.ok());
  auto f = fetch::make_curl_fetcher();
  ASSERT_TRUE(f);
  fetch::FetchRequest req;
  req.url = site.url("/s/1");
  req.options.allow_private = true;
  req.options.min_delay = std::chrono::milliseconds(0);
  auto r = fetch::fetch_blocking(**f, req);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "<p>/s/1</p>");
  EXPECT_EQ(site.requests(), 2u);  // robots.txt, then the page
}

}  // namespace
}  // namespace host::testing
