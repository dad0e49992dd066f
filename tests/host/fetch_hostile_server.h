// A small HTTP/1.1 server that misbehaves on purpose, for the fetch tests.
//
// It listens on 127.0.0.1 and 127.0.0.2 at the same ephemeral port (Linux
// routes all of 127.0.0.0/8 to the loopback interface), serves one request
// per connection from a thread of its own, and records every request it
// parses. It never connects anywhere. The implementation is in
// fetch_hostile_server_test.cc, so the tests/host/*_test.cc glob compiles it
// into host_tests together with the server's own checks.
//
// Routes (query parameters in brackets):
//   /robots.txt             set_robots() (default: 200, "Disallow: /private")
//   /ok [hold=ms]           200 text/html, after holding the request `hold` ms
//   /private/...            200 text/html (robots.txt disallows it)
//   /hang                   reads the request and never answers
//   /drip [every=ms]        200 with Content-Length 100000, one byte every `every` ms (200)
//   /endless                200 text/plain without length, bytes until the client leaves
//   /endless-headers        200, then header lines without end
//   /huge-header-line       200 with one 200 KB header line
//   /huge-length            200 announcing a 10 GiB body, then silence
//   /gzip-bomb              200 text/html, gzip: 50 MB of spaces in about 50 KB
//   /gzip, /deflate         200 text/html, a small page gzip- or zlib-encoded
//   /loop-a, /loop-b        302 to each other
//   /chain [n=N]            302 to /chain?n=N-1 ... n=0 answers 200
//   /redirect [to=URL]      302 to URL (percent-decoded)
//   /wrong-type             200 image/png, a PNG
//   /lying-type             200 "text/html" but 4 KB of binary (NULs)
//   /lying-small            200 "text/html" but 64 bytes of binary
//   /untyped-binary         200 without Content-Type, binary
//   /untyped-text           200 without Content-Type, an HTML page
//   /binary                 200 application/octet-stream
//   /invalid-utf8           200 text/html; charset=utf-8 with invalid sequences
//   /latin1-csv             200 text/csv; charset=iso-8859-1
//   /json-utf16             200 application/json in UTF-16LE without a charset
//   /429 [times=N, after=S|date]  429 + Retry-After for the first N hits of this target, then 200
//   /500 [times=N]          500 for the first N hits of this target, then 200
//   /status [code=C]        status C with a small body
//   /reset                  200 with Content-Length 100000, 1000 bytes, then a TCP reset
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace host::fetch::testing {

struct SeenRequest {
  std::string local_address;  // the listener: "127.0.0.1" or "127.0.0.2"
  std::string method;
  std::string target;  // "/path?query"
  std::string path;    // "/path"
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::steady_clock::time_point started;  // when the request was parsed

  // The value of header `name` (case-insensitive), "" if absent.
  std::string header(std::string_view name) const;
};

class HostileServer {
 public:
  // Binds and starts serving; check ok() (error() says why not).
  HostileServer();
  // Stops accepting, unblocks and joins every connection thread.
  ~HostileServer();
  HostileServer(const HostileServer&) = delete;
  HostileServer& operator=(const HostileServer&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  int port() const { return port_; }

  // "http://127.0.0.1:PORT/ok" for url("/ok"); `host` may be a name mapped to
  // 127.0.0.x with CURLOPT_RESOLVE.
  std::string url(std::string_view target, std::string_view host = "127.0.0.1") const;

  // What /robots.txt answers.
  void set_robots(int status, std::string body);

  // Every request parsed so far, in order.
  std::vector<SeenRequest> requests() const;
  // Requests for `path` (without query), optionally only on one listener.
  int count(std::string_view path, std::string_view local_address = {}) const;
  // The most requests served at once for one Host header value; a request
  // counts from its parsing until just before its response is sent (for
  // /ok; other routes until the connection is done).
  int max_concurrent(std::string_view host_header) const;

  // 50 MB of spaces, gzip-compressed (built once per process).
  static const std::string& gzip_bomb();

 private:
  struct Connection {
    int fd = -1;
    std::thread thread;
  };

  void accept_loop();
  void serve(int fd, std::string local_address);
  // Sleeps up to `d`; false when the server is stopping.
  bool pause(std::chrono::milliseconds d);
  int hit(const std::string& target);

  std::string error_;
  int port_ = 0;
  int listeners_[2] = {-1, -1};
  int wake_[2] = {-1, -1};  // a pipe that ends the accept loop

  mutable std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<SeenRequest> seen_;
  std::map<std::string, int> hits_;  // per target, for /429 and /500
  std::map<std::string, int> active_;
  std::map<std::string, int> max_active_;
  int robots_status_ = 200;
  std::string robots_body_ = "User-agent: *\nDisallow: /private\n";
  std::thread acceptor_;
};

}  // namespace host::fetch::testing
