// The hostile server of the fetch tests (fetch_hostile_server.h), and checks
// that it misbehaves as promised, seen through plain sockets rather than the
// fetcher, so a fetch test failing means the fetcher and not the server.
#include "tests/host/fetch_hostile_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cctype>
#include <cstring>
#include <ctime>

namespace host::fetch::testing {

namespace {

using std::chrono::milliseconds;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

// Query parameter `name` of `target`, "" if absent.
std::string param(std::string_view target, std::string_view name) {
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

int int_param(std::string_view target, std::string_view name, int fallback) {
  const std::string v = param(target, name);
  return v.empty() ? fallback : std::stoi(v);
}

// Compresses `total` bytes of `fill` (gzip when `gzip`, else zlib format).
std::string compress(std::string_view data, std::size_t repeat, bool gzip) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, gzip ? 15 + 16 : 15, 9, Z_DEFAULT_STRATEGY);
  std::string out;
  char buf[65536];
  for (std::size_t i = 0; i <= repeat; ++i) {
    const bool last = i == repeat;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = last ? 0 : static_cast<uInt>(data.size());
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
      out.append(buf, sizeof buf - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  return out;
}

const std::string kPage =
    "<!doctype html><html><head><title>ok</title></head><body><p>ok</p></body></html>";

std::string png_bytes(std::size_t size) {
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  while (png.size() < size) png += std::string("\0\x01\x02\xff", 4);
  return png;
}

std::string http_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string response(int status, std::string_view reason, std::string_view body,
                     std::vector<std::string> headers = {}) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  for (const auto& h : headers) r += h + "\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  r += body;
  return r;
}

int listen_on(const char* ip, int port, std::string& error) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = "socket: " + std::string(std::strerror(errno));
    return -1;
  }
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, ip, &addr.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 128) != 0) {
    error = std::string("bind/listen on ") + ip + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::string SeenRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return v;
  }
  return {};
}

const std::string& HostileServer::gzip_bomb() {
  static const std::string bomb = compress(std::string(1 << 20, ' '), 50, true);
  return bomb;
}

HostileServer::HostileServer() {
  for (int attempt = 0; attempt < 20 && port_ == 0; ++attempt) {
    error_.clear();
    const int first = listen_on("127.0.0.1", 0, error_);
    if (first < 0) return;
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    getsockname(first, reinterpret_cast<sockaddr*>(&addr), &len);
    const int port = ntohs(addr.sin_port);
    const int second = listen_on("127.0.0.2", port, error_);
    if (second < 0) {
      ::close(first);
      continue;
    }
    listeners_[0] = first;
    listeners_[1] = second;
    port_ = port;
  }
  if (port_ == 0) return;
  if (::pipe2(wake_, O_CLOEXEC) != 0) {
    error_ = "pipe: " + std::string(std::strerror(errno));
    return;
  }
  acceptor_ = std::thread([this] { accept_loop(); });
}

HostileServer::~HostileServer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (wake_[1] >= 0) {
    const char byte = 0;
    (void)::write(wake_[1], &byte, 1);
  }
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::unique_ptr<Connection>> connections;
  {
    std::lock_guard lock(mutex_);
    connections.swap(connections_);
  }
  for (auto& c : connections) {
    {
      std::lock_guard lock(mutex_);
      if (c->fd >= 0) ::shutdown(c->fd, SHUT_RDWR);  // unblocks a handler in recv or send
    }
    if (c->thread.joinable()) c->thread.join();
  }
  for (int fd : {listeners_[0], listeners_[1], wake_[0], wake_[1]}) {
    if (fd >= 0) ::close(fd);
  }
}

std::string HostileServer::url(std::string_view target, std::string_view host) const {
  return "http://" + std::string(host) + ":" + std::to_string(port_) + std::string(target);
}

void HostileServer::set_robots(int status, std::string body) {
  std::lock_guard lock(mutex_);
  robots_status_ = status;
  robots_body_ = std::move(body);
}

std::vector<SeenRequest> HostileServer::requests() const {
  std::lock_guard lock(mutex_);
  return seen_;
}

int HostileServer::count(std::string_view path, std::string_view local_address) const {
  std::lock_guard lock(mutex_);
  int n = 0;
  for (const auto& r : seen_) {
    if (r.path == path && (local_address.empty() || r.local_address == local_address)) ++n;
  }
  return n;
}

int HostileServer::max_concurrent(std::string_view host_header) const {
  std::lock_guard lock(mutex_);
  auto it = max_active_.find(std::string(host_header));
  return it == max_active_.end() ? 0 : it->second;
}

bool HostileServer::pause(milliseconds d) {
  std::unique_lock lock(mutex_);
  return !stop_cv_.wait_for(lock, d, [this] { return stopping_; });
}

int HostileServer::hit(const std::string& target) {
  std::lock_guard lock(mutex_);
  return ++hits_[target];
}

void HostileServer::accept_loop() {
  while (true) {
    pollfd fds[3] = {{listeners_[0], POLLIN, 0}, {listeners_[1], POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[2].revents != 0) return;
    for (int i = 0; i < 2; ++i) {
      if ((fds[i].revents & POLLIN) == 0) continue;
      const int fd = ::accept4(listeners_[i], nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      const timeval five{5, 0};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
      std::lock_guard lock(mutex_);
      if (stopping_) {
        ::close(fd);
        return;
      }
      auto c = std::make_unique<Connection>();
      c->fd = fd;
      const std::string local = i == 0 ? "127.0.0.1" : "127.0.0.2";
      Connection* raw = c.get();
      c->thread = std::thread([this, raw, local] {
        serve(raw->fd, local);
        std::lock_guard closing(mutex_);  // close here: a RST or FIN goes out now
        ::close(raw->fd);
        raw->fd = -1;
      });
      connections_.push_back(std::move(c));
    }
  }
}

void HostileServer::serve(int fd, std::string local_address) {
  // Read the request head.
  std::string head;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    head.append(buf, static_cast<std::size_t>(n));
  }
  SeenRequest req;
  req.local_address = local_address;
  req.started = std::chrono::steady_clock::now();
  {
    const std::size_t eol = head.find("\r\n");
    const std::string line = head.substr(0, eol);
    const std::size_t s1 = line.find(' ');
    const std::size_t s2 = line.find(' ', s1 + 1);
    req.method = line.substr(0, s1);
    req.target = line.substr(s1 + 1, s2 - s1 - 1);
    req.path = req.target.substr(0, req.target.find('?'));
    std::size_t pos = eol + 2;
    while (pos < head.size()) {
      const std::size_t end = head.find("\r\n", pos);
      if (end == std::string::npos || end == pos) break;
      const std::string h = head.substr(pos, end - pos);
      const std::size_t colon = h.find(':');
      if (colon != std::string::npos) {
        std::size_t v = colon + 1;
        while (v < h.size() && h[v] == ' ') ++v;
        req.headers.emplace_back(h.substr(0, colon), h.substr(v));
      }
      pos = end + 2;
    }
  }
  const std::string host_header = req.header("host");
  const std::string target = req.target;
  const std::string path = req.path;
  {
    std::lock_guard lock(mutex_);
    seen_.push_back(req);
    const int now_active = ++active_[host_header];
    max_active_[host_header] = std::max(max_active_[host_header], now_active);
  }
  // A request counts as served from its parsing until just before its
  // response goes out, so the count never includes a request the client
  // already considers finished.
  struct Leave {
    HostileServer* server;
    std::string host;
    bool left = false;
    void now() {
      if (left) return;
      left = true;
      std::lock_guard lock(server->mutex_);
      --server->active_[host];
    }
    ~Leave() { now(); }
  } leave{this, host_header};

  const std::string html = "Content-Type: text/html; charset=utf-8";
  if (path == "/robots.txt") {
    int status = 0;
    std::string body;
    {
      std::lock_guard lock(mutex_);
      status = robots_status_;
      body = robots_body_;
    }
    send_all(fd, response(status, "Robots", body, {"Content-Type: text/plain"}));
  } else if (path == "/ok" || path.starts_with("/private")) {
    if (!pause(milliseconds(int_param(target, "hold", 0)))) return;
    leave.now();
    send_all(fd, response(200, "OK", kPage, {html}));
  } else if (path == "/hang") {
    pause(milliseconds(30'000));
  } else if (path == "/drip") {
    const milliseconds every(int_param(target, "every", 200));
    if (!send_all(fd, "HTTP/1.1 200 OK\r\n" + html + "\r\nContent-Length: 100000\r\n\r\n")) return;
    for (int i = 0; i < 100000; ++i) {
      if (!pause(every) || !send_all(fd, "a")) return;
    }
  } else if (path == "/endless") {
    if (!send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")) {
      return;
    }
    const std::string chunk(16384, 'a');
    for (int i = 0; i < 1'000'000 && send_all(fd, chunk); ++i) {
      if (!pause(milliseconds(0))) return;
    }
  } else if (path == "/endless-headers") {
    if (!send_all(fd, "HTTP/1.1 200 OK\r\n")) return;
    const std::string line = "X-Junk: " + std::string(1000, 'j') + "\r\n";
    for (int i = 0; i < 1'000'000 && send_all(fd, line); ++i) {
    }
  } else if (path == "/huge-header-line") {
    send_all(fd, "HTTP/1.1 200 OK\r\nX-Junk: " + std::string(200'000, 'j') + "\r\n\r\n");
  } else if (path == "/huge-length") {
    if (!send_all(fd,
                  "HTTP/1.1 200 OK\r\n" + html + "\r\nContent-Length: 10737418240\r\n\r\n<html>")) {
      return;
    }
    pause(milliseconds(30'000));
  } else if (path == "/gzip-bomb") {
    send_all(fd, response(200, "OK", gzip_bomb(), {html, "Content-Encoding: gzip"}));
  } else if (path == "/gzip" || path == "/deflate") {
    const bool gzip = path == "/gzip";
    send_all(fd, response(200, "OK", compress(kPage, 1, gzip),
                          {html, gzip ? "Content-Encoding: gzip" : "Content-Encoding: deflate"}));
  } else if (path == "/loop-a" || path == "/loop-b") {
    send_all(fd, response(302, "Found", "",
                          {path == "/loop-a" ? "Location: /loop-b" : "Location: /loop-a"}));
  } else if (path == "/chain") {
    const int n = int_param(target, "n", 0);
    if (n <= 0) {
      send_all(fd, response(200, "OK", kPage, {html}));
    } else {
      send_all(fd, response(302, "Found", "", {"Location: /chain?n=" + std::to_string(n - 1)}));
    }
  } else if (path == "/redirect") {
    send_all(fd, response(302, "Found", "moved", {"Location: " + param(target, "to"), html}));
  } else if (path == "/wrong-type") {
    send_all(fd, response(200, "OK", png_bytes(2048), {"Content-Type: image/png"}));
  } else if (path == "/lying-type") {
    send_all(fd, response(200, "OK", png_bytes(4096), {html}));
  } else if (path == "/lying-small") {
    send_all(fd, response(200, "OK", png_bytes(64), {html}));
  } else if (path == "/untyped-binary") {
    send_all(fd, response(200, "OK", png_bytes(2048)));
  } else if (path == "/untyped-text") {
    send_all(fd, response(200, "OK", kPage));
  } else if (path == "/binary") {
    send_all(fd, response(200, "OK", png_bytes(2048), {"Content-Type: application/octet-stream"}));
  } else if (path == "/invalid-utf8") {
    send_all(fd,
             response(200, "OK", "<html><body><p>caf\xC3 \xFF\xFE ok</p></body></html>", {html}));
  } else if (path == "/latin1-csv") {
    send_all(fd, response(200, "OK", "name,city\nRen\xE9,Z\xFCrich\n",
                          {"Content-Type: text/csv; charset=iso-8859-1"}));
  } else if (path == "/json-utf16") {
    const std::string json = R"({"name":"caf)"
                             "\xC3\xA9"
                             R"("})";
    std::string utf16;  // ASCII plus one U+00E9, as UTF-16LE
    for (std::size_t i = 0; i < json.size(); ++i) {
      if (static_cast<unsigned char>(json[i]) == 0xC3) {
        utf16 += std::string("\xE9\x00", 2);
        ++i;
      } else {
        utf16 += json[i];
        utf16 += '\0';
      }
    }
    send_all(fd, response(200, "OK", utf16, {"Content-Type: application/json"}));
  } else if (path == "/429") {
    const std::string after = param(target, "after");
    const std::string retry_after =
        after == "date" ? http_date(std::time(nullptr) + 2) : (after.empty() ? "1" : after);
    if (hit(target) <= int_param(target, "times", 1)) {
      send_all(fd, response(429, "Too Many Requests", "slow down",
                            {"Retry-After: " + retry_after, "Content-Type: text/plain"}));
    } else {
      send_all(fd, response(200, "OK", kPage, {html}));
    }
  } else if (path == "/500") {
    if (hit(target) <= int_param(target, "times", 1)) {
      send_all(fd, response(500, "Internal Server Error", "oops", {"Content-Type: text/plain"}));
    } else {
      send_all(fd, response(200, "OK", kPage, {html}));
    }
  } else if (path == "/status") {
    send_all(fd, response(int_param(target, "code", 404), "Status", "status page", {html}));
  } else if (path == "/reset") {
    if (!send_all(fd, "HTTP/1.1 200 OK\r\n" + html + "\r\nContent-Length: 100000\r\n\r\n" +
                          std::string(1000, 'a'))) {
      return;
    }
    pause(milliseconds(50));
    const linger abort_close{1, 0};  // close() now sends RST, not FIN
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof abort_close);
  } else {
    send_all(fd, response(404, "Not Found", "no such route", {html}));
  }
}

// --- The server's own checks (plain sockets, no fetcher) ----------------------

namespace {

// Sends a GET to 127.0.0.x:port and returns everything read until the peer
// closes, errors, or `limit` bytes.
std::string raw_get(const char* ip, int port, const std::string& target, std::size_t limit,
                    bool* reset = nullptr) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, ip, &addr.sin_addr);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + ip + "\r\n\r\n";
    send_all(fd, req);
    char buf[16384];
    while (out.size() < limit) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0 && reset != nullptr) *reset = errno == ECONNRESET;
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

TEST(HostileServer, ListensOnTwoLoopbackAddressesAtOnePort) {
  HostileServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  EXPECT_NE(raw_get("127.0.0.1", server.port(), "/ok", 1 << 20).find("200 OK"), std::string::npos);
  EXPECT_NE(raw_get("127.0.0.2", server.port(), "/ok", 1 << 20).find("200 OK"), std::string::npos);
  EXPECT_EQ(server.count("/ok", "127.0.0.1"), 1);
  EXPECT_EQ(server.count("/ok", "127.0.0.2"), 1);
}

TEST(HostileServer, GzipBombInflatesToFiftyMegabytes) {
  const std::string& bomb = HostileServer::gzip_bomb();
  EXPECT_LT(bomb.size(), 200u * 1024);
  z_stream z{};
  ASSERT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bomb.data()));
  z.avail_in = static_cast<uInt>(bomb.size());
  std::string out(1 << 20, '\0');
  std::size_t total = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    rc = inflate(&z, Z_NO_FLUSH);
    total += out.size() - z.avail_out;
  }
  inflateEnd(&z);
  EXPECT_EQ(rc, Z_STREAM_END);
  EXPECT_EQ(total, 50u << 20);
}

TEST(HostileServer, ResetRouteEndsWithATcpReset) {
  HostileServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  bool reset = false;
  const std::string got = raw_get("127.0.0.1", server.port(), "/reset", 1 << 20, &reset);
  EXPECT_TRUE(reset);
  EXPECT_LT(got.size(), 100000u);
}

TEST(HostileServer, FiveHundredBurstThenSuccess) {
  HostileServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  EXPECT_NE(raw_get("127.0.0.1", server.port(), "/500?times=2", 1 << 20).find(" 500 "),
            std::string::npos);
  EXPECT_NE(raw_get("127.0.0.1", server.port(), "/500?times=2", 1 << 20).find(" 500 "),
            std::string::npos);
  EXPECT_NE(raw_get("127.0.0.1", server.port(), "/500?times=2", 1 << 20).find(" 200 "),
            std::string::npos);
}

TEST(HostileServer, StopsWhileAClientIsStillReading) {
  auto server = std::make_unique<HostileServer>();
  ASSERT_TRUE(server->ok()) << server->error();
  std::thread client([port = server->port()] { raw_get("127.0.0.1", port, "/drip", 1 << 20); });
  while (server->count("/drip") == 0) std::this_thread::sleep_for(milliseconds(5));
  server.reset();  // must return although /drip would go on for minutes
  client.join();
}

}  // namespace
}  // namespace host::fetch::testing
