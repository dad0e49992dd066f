#include "host/fetch/curl_fetcher.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <system_error>
#include <thread>
#include <utility>

#include "host/fetch/address_guard.h"
#include "host/fetch/content_type.h"
#include "host/fetch/curl_lib.h"
#include "host/fetch/robots.h"
#include "host/fetch/url.h"
#include "sandbox/text/ascii.h"

namespace host::fetch {
namespace {

using sandbox::text::iequals;
using sandbox::text::trim_ows;

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// --- Owners of libcurl handles ----------------------------------------------

struct CurlEasyDeleter {
  void operator()(CURL* easy) const noexcept { curl::lib().easy_cleanup(easy); }
};
using CurlEasyPtr = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlMultiDeleter {
  void operator()(CURLM* multi) const noexcept { curl::lib().multi_cleanup(multi); }
};
using CurlMultiPtr = std::unique_ptr<CURLM, CurlMultiDeleter>;

struct CurlSlistDeleter {
  void operator()(curl_slist* list) const noexcept { curl::lib().slist_free_all(list); }
};
using CurlSlistPtr = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// Appends a copy of `line`; false when out of memory (the list is kept).
bool slist_append(CurlSlistPtr& list, const std::string& line) {
  curl_slist* grown = curl::lib().slist_append(list.get(), line.c_str());
  if (grown == nullptr) return false;
  (void)list.release();  // `grown` is the same list, now one longer
  list.reset(grown);
  return true;
}

// --- Constants ----------------------------------------------------------------

// Below libcurl's own limit (300 KiB), so that this check is the one that fires.
constexpr std::size_t kMaxHeaderBytes = 256u << 10;
constexpr std::chrono::hours kRobotsTtl{24};
// How long a robots.txt that could not be read (5xx, 429, unreachable) keeps
// the origin disallowed before it is asked for again.
constexpr std::chrono::minutes kRobotsRetryAfter{5};
// Cached robots.txt entries above which expired ones are dropped.
constexpr std::size_t kRobotsPruneAt = 1024;
constexpr std::string_view kDefaultAccept =
    "text/html,application/xhtml+xml,application/xml;q=0.9,application/json;q=0.9,"
    "text/plain;q=0.8,text/csv;q=0.8,*/*;q=0.1";

// --- Small helpers --------------------------------------------------------------

std::string find_header(const Headers& headers, std::string_view name) {
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    if (iequals(it->first, name)) return it->second;
  }
  return {};
}

std::string duration_text(milliseconds d) {
  if (d.count() < 1000) return std::to_string(d.count()) + " ms";
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

std::string size_text(std::size_t n) {
  if (n >= (1u << 20) && n % (1u << 20) == 0) return std::to_string(n >> 20) + " MiB";
  if (n >= 1024 && n % 1024 == 0) return std::to_string(n >> 10) + " KiB";
  return std::to_string(n) + " bytes";
}

FetchError make_error(FetchErrorKind kind, std::string message, int status = 0) {
  FetchError e;
  e.kind = kind;
  e.message = std::move(message);
  e.status = status;
  return e;
}

// RFC 9110 field-name: a token.
bool valid_header_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool valid_header_value(std::string_view value) {
  return std::none_of(value.begin(), value.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// Retry-After: delay-seconds or an HTTP-date (RFC 9110 10.2.3).
std::optional<milliseconds> parse_retry_after(std::string_view value) {
  value = trim_ows(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    std::int64_t seconds = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || ptr != value.data() + value.size()) {
      return milliseconds(std::int64_t{1} << 40);  // absurdly long: more than any cap
    }
    return milliseconds(std::min<std::int64_t>(seconds, std::int64_t{1} << 30) * 1000);
  }
  const std::string date(value);
  const std::time_t when = curl::lib().getdate(date.c_str(), nullptr);
  if (when == -1) return std::nullopt;
  const std::time_t now = std::time(nullptr);
  return milliseconds(std::max<std::int64_t>(0, static_cast<std::int64_t>(when - now)) * 1000);
}

// --- Jobs and transfers ---------------------------------------------------------

enum class JobState { kNew, kWaitingRobots, kQueued, kInFlight, kTimer };

struct Job;

// One HTTP exchange: one hop of one attempt. The callbacks below fill it on
// the fetcher thread while libcurl runs the transfer.
struct Transfer {
  Job* job = nullptr;
  const FetchOptions* options = nullptr;
  std::string host;  // the URL's host, for the address guard
  CurlEasyPtr easy;
  CurlSlistPtr request_headers;
  char error[CURL_ERROR_SIZE] = {};

  // The response (the last one, when 1xx interim responses came first).
  int status = 0;
  bool headers_done = false;
  Headers headers;
  std::size_t header_bytes = 0;
  std::string body;

  std::size_t body_cap = 0;
  bool truncate = false;               // robots.txt: keep the first body_cap bytes, no failure
  bool truncated = false;              // ... and that happened
  bool check_content = true;           // Content-Type and binary sniffing apply
  bool sniff = false;                  // the body must not look binary
  bool sniffed = false;                // looks_binary() already ran on the first bytes
  bool stopped_after_headers = false;  // a non-2xx answer: its body is not read

  std::optional<FetchError> failure;  // a callback stopped the transfer for this
  std::string refused;                // the address guard refused a socket
};

struct Job {
  std::uint64_t id = 0;
  FetchRequest request;
  FetchCallback on_done;
  Clock::time_point submitted;

  bool is_robots = false;  // an internal fetch of robots.txt
  std::string robots_key;  // ... filling this cache entry

  Url first;  // as requested
  Url url;    // the current hop
  std::vector<std::string> redirects;
  std::set<std::string> seen;
  int retries_used = 0;
  bool started = false;  // a transfer was started at least once

  JobState state = JobState::kNew;
  std::string host_key;  // the host queue it waits in or runs on
  std::unique_ptr<Transfer> transfer;
};

// The most a body's buffer is sized to up front, from its Content-Length.
constexpr std::uint64_t kReserveBodyUpTo = std::uint64_t{1} << 20;

// --- libcurl callbacks: noexcept, nothing thrown crosses into libcurl -----------

bool check_headers(Transfer& t) {
  if (t.status < 200 || t.status > 299) {
    t.stopped_after_headers = true;
    return false;
  }
  const std::string content_type = find_header(t.headers, "content-type");
  if (!t.truncate) {
    const std::string length = find_header(t.headers, "content-length");
    std::uint64_t announced = 0;
    auto [ptr, ec] = std::from_chars(length.data(), length.data() + length.size(), announced);
    if (!length.empty() && ec == std::errc() && announced > t.body_cap) {
      t.failure = make_error(FetchErrorKind::kTooLarge,
                             "the server announced a body of " + std::to_string(announced) +
                                 " bytes, more than fetch.max_body (" + size_text(t.body_cap) + ")",
                             t.status);
      return false;
    }
    // One buffer of the announced size instead of a string doubling its way
    // up (16, 32, 64, 128 KiB for a 100 KB page): the fewer short-lived
    // blocks, the fewer holes left in the heap for long-lived ones to pin.
    // Compressed bodies outgrow it and grow as before; past 1 MiB too, so
    // that a server announcing more than it sends cannot make every
    // transfer hold fetch.max_body.
    if (ec == std::errc() && announced > t.body.capacity()) {
      t.body.reserve(std::min<std::uint64_t>(announced, kReserveBodyUpTo));
    }
  }
  if (t.check_content) {
    const std::string media = media_type(content_type);
    if (!media.empty() && !media_type_allowed(media, t.options->content_types)) {
      t.failure = make_error(FetchErrorKind::kContentType,
                             "the server sent Content-Type '" + media +
                                 "', which is not accepted; add it to fetch.content_types for "
                                 "this source if its pages are meant to be read",
                             t.status);
      return false;
    }
    t.sniff = media.empty() || is_textual(media);
  }
  return true;
}

FetchError binary_body_error(const Transfer& t) {
  const std::string media = media_type(find_header(t.headers, "content-type"));
  return make_error(FetchErrorKind::kContentType,
                    media.empty()
                        ? "the server sent no Content-Type and the body is binary data"
                        : "the server says the body is '" + media + "' but it is binary data",
                    t.status);
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) noexcept {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * count;
  try {
    t->header_bytes += len;
    if (t->header_bytes > kMaxHeaderBytes) {
      t->failure = make_error(FetchErrorKind::kTooLarge,
                              "the response headers are larger than " + size_text(kMaxHeaderBytes),
                              t->status);
      return 0;
    }
    std::string_view line(data, len);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.starts_with("HTTP/")) {  // a new response (after 1xx, or the first)
      const std::size_t space = line.find(' ');
      t->status = 0;
      if (space != std::string_view::npos && line.size() >= space + 4) {
        std::from_chars(line.data() + space + 1, line.data() + space + 4, t->status);
      }
      t->headers_done = false;
      t->headers.clear();
      return len;
    }
    if (t->headers_done) return len;  // trailers
    if (line.empty()) {
      if (t->status < 200) return len;  // an interim response ends
      t->headers_done = true;
      return check_headers(*t) ? len : 0;
    }
    if ((line.front() == ' ' || line.front() == '\t') && !t->headers.empty()) {
      t->headers.back().second += " " + std::string(trim_ows(line));  // obsolete line folding
      return len;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return len;
    t->headers.emplace_back(std::string(trim_ows(line.substr(0, colon))),
                            std::string(trim_ows(line.substr(colon + 1))));
    return len;
  } catch (...) {
    t->failure = make_error(FetchErrorKind::kNetwork, "out of memory while reading headers");
    return 0;
  }
}

std::size_t on_write(char* data, std::size_t size, std::size_t count, void* user) noexcept {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * count;
  try {
    const std::size_t room = t->body_cap - std::min(t->body_cap, t->body.size());
    if (len > room) {
      if (t->truncate) {
        t->body.append(data, room);
        t->truncated = true;
      } else {
        t->failure = make_error(FetchErrorKind::kTooLarge,
                                "the body is larger than fetch.max_body (" +
                                    size_text(t->body_cap) + ") after decompression",
                                t->status);
      }
      return CURL_WRITEFUNC_ERROR;
    }
    t->body.append(data, len);
    if (t->sniff && !t->sniffed && t->body.size() >= kSniffBytes) {
      t->sniffed = true;
      if (looks_binary(t->body)) {
        t->failure = binary_body_error(*t);
        return CURL_WRITEFUNC_ERROR;
      }
    }
    return len;
  } catch (...) {
    t->failure = make_error(FetchErrorKind::kNetwork, "out of memory while reading the body");
    return CURL_WRITEFUNC_ERROR;
  }
}

curl_socket_t on_open_socket(void* user, curlsocktype purpose, curl_sockaddr* address) noexcept {
  auto* t = static_cast<Transfer*>(user);
  try {
    if (purpose != CURLSOCKTYPE_IPCXN || address == nullptr) return CURL_SOCKET_BAD;
    const sockaddr* sa = &address->addr;
    std::string text = address_text(sa);
    if (text.empty()) text = "an address of an unknown family";
    if (auto refused = check_address(classify(sa), text, t->host, *t->options)) {
      t->refused = std::move(*refused);
      return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  } catch (...) {
    return CURL_SOCKET_BAD;
  }
}

// Runs before each request is sent, on new and reused connections alike.
int on_prereq(void* user, char* primary_ip, char* /*local_ip*/, int /*primary_port*/,
              int /*local_port*/) noexcept {
  auto* t = static_cast<Transfer*>(user);
  try {
    const std::string ip = primary_ip != nullptr ? primary_ip : "";
    if (auto refused = check_address(classify(ip), ip, t->host, *t->options)) {
      t->failure = make_error(FetchErrorKind::kBlocked, std::move(*refused));
      return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
  } catch (...) {
    return CURL_PREREQFUNC_ABORT;
  }
}

// --- Per-host politeness and the robots.txt cache ------------------------------

struct HostQueue {
  int in_flight = 0;
  Clock::time_point next_start{};  // min_delay and Retry-After hold starts until then
  std::deque<std::uint64_t> waiting;
};

struct RobotsEntry {
  enum class State { kFetching, kReady, kUnavailable, kBlocked };
  State state = State::kFetching;
  std::string token;
  RobotsRules rules;
  FetchError failure;  // kUnavailable, kBlocked
  Clock::time_point expires{};
  std::vector<std::uint64_t> waiters;
};

// What libcurl reports about a finished exchange.
struct ExchangeInfo {
  int status = 0;
  std::string address;
  FetchTimings timings;
  bool connected = false;
};

// --- The fetcher ------------------------------------------------------------------

class CurlFetcher final : public Fetcher {
 public:
  CurlFetcher(CurlFetcherConfig config, CurlMultiPtr multi, CurlSlistPtr resolve)
      : config_(std::move(config)),
        multi_(std::move(multi)),
        resolve_(std::move(resolve)),
        rng_(std::random_device{}()) {}

  ~CurlFetcher() override { shutdown(); }

  CurlFetcher(const CurlFetcher&) = delete;
  CurlFetcher& operator=(const CurlFetcher&) = delete;

  // Starts the thread; throws std::system_error when it cannot.
  void start() {
    thread_ = std::thread([this] { run(); });
    thread_id_ = thread_.get_id();
  }

  void submit(FetchRequest request, FetchCallback on_done) override {
    {
      std::lock_guard lock(mutex_);
      if (!stopping_) {
        incoming_.emplace_back(std::move(request), std::move(on_done));
        curl::lib().multi_wakeup(multi_.get());
        return;
      }
    }
    if (!on_done) return;
    try {
      on_done(std::unexpected(cancelled_error(request.url)));
    } catch (...) {
      // Dropped, as on the fetcher thread (without logging: this is not it).
    }
  }

  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      if (!stopping_) {
        stopping_ = true;
        curl::lib().multi_wakeup(multi_.get());
      }
    }
    if (std::this_thread::get_id() == thread_id_) return;  // from a callback
    std::lock_guard lock(join_mutex_);
    if (thread_.joinable()) thread_.join();
  }

 private:
  static FetchError cancelled_error(const std::string& url) {
    FetchError e = make_error(FetchErrorKind::kCancelled,
                              "the fetch was cancelled because the fetcher is shutting down");
    e.url = url;
    return e;
  }

  void deliver(FetchCallback& callback, FetchResult result) {
    try {
      callback(std::move(result));
    } catch (...) {
      log("fetch: a completion callback threw an exception; it was ignored");
    }
  }

  void log(const std::string& line) {
    if (!config_.log) return;
    try {
      config_.log(line);
    } catch (...) {
    }
  }

  // --- The loop -------------------------------------------------------------------

  void run() {
    while (true) {
      std::vector<std::pair<FetchRequest, FetchCallback>> incoming;
      bool stop = false;
      {
        std::lock_guard lock(mutex_);
        incoming.swap(incoming_);
        stop = stopping_;
      }
      if (stop) {
        cancel_all(incoming);
        return;
      }
      for (auto& [request, on_done] : incoming) accept(std::move(request), std::move(on_done));

      fire_timers(Clock::now());
      dispatch(Clock::now());
      int running = 0;
      curl::lib().multi_perform(multi_.get(), &running);
      int queued = 0;
      while (CURLMsg* msg = curl::lib().multi_info_read(multi_.get(), &queued)) {
        if (msg->msg == CURLMSG_DONE) on_exchange_done(msg->easy_handle, msg->data.result);
      }
      dispatch(Clock::now());
      flush_completions();

      const Clock::time_point now = Clock::now();
      const auto wait = std::chrono::ceil<milliseconds>(next_wake(now) - now);
      curl::lib().multi_poll(multi_.get(), nullptr, 0,
                             static_cast<int>(std::clamp<std::int64_t>(wait.count(), 0, 1000)),
                             nullptr);
    }
  }

  Clock::time_point next_wake(Clock::time_point now) const {
    Clock::time_point wake = now + milliseconds(1000);
    if (!timers_.empty()) wake = std::min(wake, timers_.begin()->first);
    for (const auto& [name, host] : hosts_) {
      if (!host.waiting.empty() && host.next_start > now) wake = std::min(wake, host.next_start);
    }
    return wake;
  }

  void cancel_all(std::vector<std::pair<FetchRequest, FetchCallback>>& incoming) {
    for (auto& [id, job] : jobs_) {
      if (job->transfer) {
        curl::lib().multi_remove_handle(multi_.get(), job->transfer->easy.get());
        job->transfer.reset();
      }
    }
    for (auto& [id, job] : jobs_) {
      if (!job->is_robots && job->on_done) {
        completions_.emplace_back(std::move(job->on_done),
                                  std::unexpected(cancelled_error(job->request.url)));
      }
    }
    jobs_.clear();
    timers_.clear();
    hosts_.clear();
    robots_.clear();
    for (auto& [request, on_done] : incoming) {
      if (on_done)
        completions_.emplace_back(std::move(on_done),
                                  std::unexpected(cancelled_error(request.url)));
    }
    flush_completions();
  }

  void flush_completions() {
    while (!completions_.empty()) {
      auto batch = std::move(completions_);
      completions_.clear();
      for (auto& [callback, result] : batch) deliver(callback, std::move(result));
    }
  }

  // --- A job's way through --------------------------------------------------------

  void accept(FetchRequest request, FetchCallback on_done) {
    auto owned = std::make_unique<Job>();
    Job& job = *owned;
    job.id = next_id_++;
    job.submitted = Clock::now();
    job.request = std::move(request);
    job.on_done = std::move(on_done);
    jobs_.emplace(job.id, std::move(owned));

    for (const auto& [name, value] : job.request.headers) {
      if (!valid_header_name(name) || !valid_header_value(value)) {
        fail(job, make_error(FetchErrorKind::kInvalidRequest,
                             "the request header '" + redact_header_name(name) +
                                 "' is malformed (a header name is a single token and a value "
                                 "may not contain line breaks)"));
        return;
      }
    }
    auto url = parse_http_url(job.request.url);
    if (!url) {
      fail(job, url.error());
      return;
    }
    job.first = job.url = *url;
    job.seen.insert(url->text);
    advance(job);
  }

  static std::string redact_header_name(std::string_view name) {
    std::string out(name.substr(0, 64));
    for (char& c : out) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    return out;
  }

  // The job is about to request job.url: robots.txt first, then its host's queue.
  void advance(Job& job) {
    const FetchOptions& o = job.request.options;
    if (!job.is_robots && !o.robots) {
      if (robots_off_logged_.insert(job.request.source).second) {
        log("fetch: source '" + job.request.source +
            "' does not check robots.txt (fetch.robots=false for this source)");
      }
    }
    if (job.is_robots || !o.robots) {
      enqueue(job);
      return;
    }
    const std::string token = robots_agent_token(o.user_agent);
    // Sources whose settings treat this host's addresses differently must not
    // share an entry: one of them may be refused where the other is not.
    const bool listed =
        std::find(o.allow_hosts.begin(), o.allow_hosts.end(), job.url.host) != o.allow_hosts.end();
    const std::string key = token + " " + origin(job.url) + (listed ? " listed" : "") +
                            (o.allow_private ? " private" : "");
    auto it = robots_.find(key);
    if (it == robots_.end() ||
        (it->second.state != RobotsEntry::State::kFetching && Clock::now() >= it->second.expires)) {
      start_robots(job, key, token);
      return;
    }
    if (it->second.state == RobotsEntry::State::kFetching) {
      it->second.waiters.push_back(job.id);
      job.state = JobState::kWaitingRobots;
      return;
    }
    apply_robots(job, it->second);
  }

  void apply_robots(Job& job, const RobotsEntry& entry) {
    switch (entry.state) {
      case RobotsEntry::State::kReady:
        if (entry.rules.allowed(job.url.target)) {
          enqueue(job);
        } else {
          fail(job,
               make_error(FetchErrorKind::kRobots, "robots.txt of " + origin(job.url) +
                                                       " disallows " + redact_url(job.url.text) +
                                                       " for user agent '" + entry.token + "'"));
        }
        return;
      case RobotsEntry::State::kUnavailable:
      case RobotsEntry::State::kBlocked:
        fail(job, entry.failure);
        return;
      case RobotsEntry::State::kFetching:
        return;  // not reached: waiters are answered once the fetch ends
    }
  }

  void start_robots(Job& job, const std::string& key, const std::string& token) {
    auto owned = std::make_unique<Job>();
    Job& robots = *owned;
    robots.id = next_id_++;
    robots.submitted = Clock::now();
    robots.is_robots = true;
    robots.robots_key = key;
    robots.request.source = job.request.source;
    robots.request.options = job.request.options;
    robots.request.options.robots = false;
    robots.request.options.content_types = {"*/*"};
    robots.request.options.max_body = kRobotsMaxBytes;
    const bool v6 = job.url.host.find(':') != std::string::npos;
    robots.request.url = job.url.scheme + "://" + (v6 ? "[" + job.url.host + "]" : job.url.host) +
                         ":" + std::to_string(job.url.port) + "/robots.txt";
    auto url = parse_http_url(robots.request.url);
    if (robots_.size() >= kRobotsPruneAt) prune_robots();
    RobotsEntry& entry = robots_[key];
    entry = RobotsEntry{};
    entry.token = token;
    entry.waiters.push_back(job.id);
    job.state = JobState::kWaitingRobots;
    if (!url) {  // cannot happen for a URL that parsed; fail the waiter cleanly
      robots_.erase(key);
      fail(job, url.error());
      return;
    }
    robots.first = robots.url = *url;
    robots.seen.insert(url->text);
    jobs_.emplace(robots.id, std::move(owned));
    enqueue(robots);
  }

  // Drops expired entries, so that a long crawl over many sites does not
  // keep every robots.txt it ever read.
  void prune_robots() {
    const Clock::time_point now = Clock::now();
    std::erase_if(robots_, [&](const auto& item) {
      return item.second.state != RobotsEntry::State::kFetching && now >= item.second.expires;
    });
  }

  void robots_done(const Job& robots, const FetchResult& result) {
    auto it = robots_.find(robots.robots_key);
    if (it == robots_.end()) return;
    RobotsEntry& entry = it->second;
    const Clock::time_point now = Clock::now();
    const std::string where = origin(robots.first);
    if (result) {
      entry.state = RobotsEntry::State::kReady;
      entry.rules = RobotsRules::parse(result->body, entry.token);
      entry.expires = now + kRobotsTtl;
    } else {
      const FetchError& err = result.error();
      const bool client_error = err.kind == FetchErrorKind::kHttpStatus && err.status >= 400 &&
                                err.status < 500 && err.status != 429;
      // A redirect of robots.txt to somewhere refused says nothing about the
      // origin's own addresses: the pages are checked on their own.
      const bool refused_redirect =
          err.kind == FetchErrorKind::kBlocked && !robots.redirects.empty();
      if (client_error || err.kind == FetchErrorKind::kRedirect || refused_redirect) {
        // RFC 9309 2.3.1.2-3: unavailable (4xx) or too many redirects: no rules.
        entry.state = RobotsEntry::State::kReady;
        entry.rules = RobotsRules::allow_all();
        entry.expires = now + kRobotsTtl;
      } else if (err.kind == FetchErrorKind::kBlocked ||
                 err.kind == FetchErrorKind::kInvalidRequest ||
                 err.kind == FetchErrorKind::kCancelled) {
        entry.state = RobotsEntry::State::kBlocked;
        entry.failure = err;
        entry.failure.message = "robots.txt of " + where + ": " + err.message;
        entry.failure.url.clear();
        entry.failure.attempts = 0;
        entry.expires = now;  // asked again by the next fetch
      } else {
        // RFC 9309 2.3.1.4: unreachable (5xx, 429, network): assume complete disallow.
        entry.state = RobotsEntry::State::kUnavailable;
        entry.failure = make_error(
            FetchErrorKind::kRobots,
            "robots.txt of " + where + " could not be read (" + err.message +
                "); until it can, RFC 9309 says to treat the site as disallowed, so fetches "
                "there fail for the next " +
                std::to_string(kRobotsRetryAfter.count()) +
                " minutes. Try again later, or set fetch.robots=false for this source if you "
                "are allowed to crawl it",
            err.status);
        entry.expires = now + kRobotsRetryAfter;
      }
    }
    const std::vector<std::uint64_t> waiters = std::move(entry.waiters);
    entry.waiters.clear();
    const RobotsEntry snapshot = entry;
    for (std::uint64_t id : waiters) {
      auto job = jobs_.find(id);
      if (job != jobs_.end() && job->second->state == JobState::kWaitingRobots) {
        apply_robots(*job->second, snapshot);
      }
    }
  }

  void enqueue(Job& job) {
    job.state = JobState::kQueued;
    job.host_key = job.url.host;
    HostQueue& host = hosts_[job.host_key];
    if (job.is_robots) {
      host.waiting.push_front(job.id);
    } else {
      host.waiting.push_back(job.id);
    }
  }

  void fire_timers(Clock::time_point now) {
    while (!timers_.empty() && timers_.begin()->first <= now) {
      const std::uint64_t id = timers_.begin()->second;
      timers_.erase(timers_.begin());
      auto it = jobs_.find(id);
      if (it != jobs_.end() && it->second->state == JobState::kTimer) advance(*it->second);
    }
  }

  void dispatch(Clock::time_point now) {
    for (auto it = hosts_.begin(); it != hosts_.end();) {
      HostQueue& host = it->second;
      while (!host.waiting.empty() && in_flight_ < std::max(1, config_.max_in_flight)) {
        auto job_it = jobs_.find(host.waiting.front());
        if (job_it == jobs_.end() || job_it->second->state != JobState::kQueued) {
          host.waiting.pop_front();
          continue;
        }
        Job& job = *job_it->second;
        const FetchOptions& o = job.request.options;
        if (host.in_flight >= std::max(1, o.max_per_host) || now < host.next_start) break;
        host.waiting.pop_front();
        host.next_start = now + std::max(milliseconds(0), o.min_delay);
        start_exchange(job, host);
      }
      if (host.waiting.empty() && host.in_flight == 0 && now >= host.next_start) {
        it = hosts_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void start_exchange(Job& job, HostQueue& host) {
    const FetchOptions& o = job.request.options;
    auto t = std::make_unique<Transfer>();
    t->job = &job;
    t->options = &o;
    t->host = job.url.host;
    t->body_cap = std::max<std::size_t>(1, o.max_body);
    t->truncate = job.is_robots;
    t->check_content = !job.is_robots;
    t->easy.reset(curl::lib().easy_init());
    if (!t->easy) {
      fail(job, make_error(FetchErrorKind::kNetwork,
                           "libcurl could not start a transfer "
                           "(out of memory)"));
      return;
    }
    const bool same_origin = origin(job.url) == origin(job.first);
    bool has_accept = false;
    bool ok = true;
    for (const auto& [name, value] : job.request.headers) {
      const bool accept = iequals(name, "accept");
      if (!same_origin && !accept && !iequals(name, "accept-language")) continue;
      has_accept = has_accept || accept;
      ok = ok && slist_append(t->request_headers, name + ": " + value);
    }
    if (!has_accept)
      ok = ok && slist_append(t->request_headers, "Accept: " + std::string(kDefaultAccept));

    CURL* e = t->easy.get();
    CURLcode rc = CURLE_OK;
    auto set = [&](CURLoption option, auto value) {
      if (rc == CURLE_OK) rc = curl::lib().easy_setopt(e, option, value);
    };
    const auto ms = [](milliseconds d) {
      return static_cast<long>(std::max<std::int64_t>(1, d.count()));
    };
    set(CURLOPT_URL, job.url.text.c_str());
    set(CURLOPT_PRIVATE, static_cast<void*>(t.get()));
    set(CURLOPT_ERRORBUFFER, t->error);
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    set(CURLOPT_FOLLOWLOCATION, 0L);
    set(CURLOPT_HTTPGET, 1L);
    set(CURLOPT_PROXY, "");  // never a proxy from the environment
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_QUICK_EXIT, 1L);       // a pending DNS lookup does not delay shutdown
    set(CURLOPT_ACCEPT_ENCODING, "");  // every decoder libcurl has: gzip, deflate, br
    set(CURLOPT_USERAGENT, o.user_agent.c_str());
    set(CURLOPT_HTTPHEADER, t->request_headers.get());
    set(CURLOPT_CONNECTTIMEOUT_MS, ms(o.connect_timeout));
    set(CURLOPT_TIMEOUT_MS, ms(o.timeout));
    set(CURLOPT_HEADERFUNCTION, static_cast<curl_write_callback>(&on_header));
    set(CURLOPT_HEADERDATA, static_cast<void*>(t.get()));
    set(CURLOPT_WRITEFUNCTION, static_cast<curl_write_callback>(&on_write));
    set(CURLOPT_WRITEDATA, static_cast<void*>(t.get()));
    set(CURLOPT_OPENSOCKETFUNCTION, static_cast<curl_opensocket_callback>(&on_open_socket));
    set(CURLOPT_OPENSOCKETDATA, static_cast<void*>(t.get()));
    set(CURLOPT_PREREQFUNCTION, static_cast<curl_prereq_callback>(&on_prereq));
    set(CURLOPT_PREREQDATA, static_cast<void*>(t.get()));
    if (resolve_) set(CURLOPT_RESOLVE, resolve_.get());
    if (!ok || rc != CURLE_OK) {
      fail(job, make_error(FetchErrorKind::kNetwork,
                           std::string("libcurl could not set up the transfer: ") +
                               (ok ? curl::lib().easy_strerror(rc) : "out of memory")));
      return;
    }
    if (const CURLMcode mc = curl::lib().multi_add_handle(multi_.get(), e); mc != CURLM_OK) {
      fail(job, make_error(FetchErrorKind::kNetwork,
                           std::string("libcurl could not start the transfer: ") +
                               curl::lib().multi_strerror(mc)));
      return;
    }
    job.transfer = std::move(t);
    job.state = JobState::kInFlight;
    job.started = true;
    ++host.in_flight;
    ++in_flight_;
  }

  void on_exchange_done(CURL* easy, CURLcode code) {
    void* priv = nullptr;
    curl::lib().easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
    auto* raw = static_cast<Transfer*>(priv);
    if (raw == nullptr || raw->job == nullptr) return;
    Job& job = *raw->job;
    curl::lib().multi_remove_handle(multi_.get(), easy);
    const std::unique_ptr<Transfer> t = std::move(job.transfer);
    --in_flight_;
    if (auto host = hosts_.find(job.host_key); host != hosts_.end()) --host->second.in_flight;

    ExchangeInfo info;
    long status = 0;
    curl::lib().easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    info.status = t->status != 0 ? t->status : static_cast<int>(status);
    char* ip = nullptr;
    if (curl::lib().easy_getinfo(easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip != nullptr) {
      info.address = ip;
    }
    auto us = [&](CURLINFO what) {
      curl_off_t v = 0;
      curl::lib().easy_getinfo(easy, what, &v);
      return static_cast<double>(v) / 1000.0;
    };
    info.timings.dns_ms = us(CURLINFO_NAMELOOKUP_TIME_T);
    info.timings.connect_ms = us(CURLINFO_CONNECT_TIME_T);
    info.timings.tls_ms = us(CURLINFO_APPCONNECT_TIME_T);
    info.timings.first_byte_ms = us(CURLINFO_STARTTRANSFER_TIME_T);
    info.timings.total_ms = us(CURLINFO_TOTAL_TIME_T);
    info.connected = info.timings.connect_ms > 0 || raw->header_bytes > 0;
    handle_outcome(job, *t, code, info);
  }

  void handle_outcome(Job& job, Transfer& t, CURLcode code, const ExchangeInfo& info) {
    if (t.failure) {
      FetchError e = std::move(*t.failure);
      if (e.status == 0) e.status = info.status;
      fail(job, std::move(e));
      return;
    }
    if (t.truncated) {
      succeed(job, t, info);
      return;
    }
    if (code != CURLE_OK && !t.stopped_after_headers) {
      auto [error, retryable] = curl_failure(code, job, t, info);
      if (!(retryable && schedule_retry(job, error, std::nullopt))) fail(job, std::move(error));
      return;
    }
    const int status = info.status;
    const std::string where = redact_url(job.url.text);
    if (status >= 200 && status <= 299) {
      if (t.sniff && !t.sniffed && looks_binary(t.body)) {
        fail(job, binary_body_error(t));
        return;
      }
      succeed(job, t, info);
      return;
    }
    if (status >= 300 && status <= 399 && status != 304) {
      const std::string location = find_header(t.headers, "location");
      if (!location.empty()) {
        follow_redirect(job, location, status);
        return;
      }
    }
    FetchError error = make_error(
        FetchErrorKind::kHttpStatus,
        where + " answered HTTP " + std::to_string(status) + status_hint(status), status);
    if (status == 429 || status >= 500) {
      const auto retry_after = parse_retry_after(find_header(t.headers, "retry-after"));
      if (schedule_retry(job, error, retry_after)) return;
    }
    fail(job, std::move(error));
  }

  static std::string status_hint(int status) {
    switch (status) {
      case 401:
      case 403:
        return " (access refused: check the source's credentials, or whether the site allows "
               "automated access)";
      case 404:
      case 410:
        return " (no such page: check the URL)";
      case 429:
        return " (too many requests: the site is rate limiting; raise fetch.min_delay)";
      default:
        return status >= 500
                   ? " (a server error)"
                   : (status >= 300 && status < 400 ? " (a redirect without a usable Location)"
                                                    : "");
    }
  }

  std::pair<FetchError, bool> curl_failure(CURLcode code, const Job& job, const Transfer& t,
                                           const ExchangeInfo& info) const {
    const FetchOptions& o = job.request.options;
    const std::string where = redact_url(job.url.text);
    const std::string detail = t.error[0] != '\0' ? t.error : curl::lib().easy_strerror(code);
    const std::string host = "'" + job.url.host + "' (port " + std::to_string(job.url.port) + ")";
    if (code == CURLE_OUT_OF_MEMORY && t.status != 0 && !t.headers_done) {
      // libcurl 7.88 reports a header line over its 100 KiB limit this way.
      return {make_error(FetchErrorKind::kTooLarge,
                         "a response header of " + where + " is longer than 100 KiB", t.status),
              false};
    }
    switch (code) {
      case CURLE_COULDNT_CONNECT:
        if (!t.refused.empty()) return {make_error(FetchErrorKind::kBlocked, t.refused), false};
        return {
            make_error(FetchErrorKind::kNetwork, "could not connect to " + host + ": " + detail),
            true};
      case CURLE_COULDNT_RESOLVE_HOST:
        return {make_error(FetchErrorKind::kNetwork,
                           "could not resolve host '" + job.url.host + "': check the URL"),
                true};
      case CURLE_OPERATION_TIMEDOUT:
        if (!info.connected) {
          return {make_error(FetchErrorKind::kTimeout, "no connection to " + host + " within " +
                                                           duration_text(o.connect_timeout) +
                                                           " (fetch.connect_timeout)"),
                  true};
        }
        return {make_error(FetchErrorKind::kTimeout,
                           where + " did not answer completely within " + duration_text(o.timeout) +
                               " (fetch.timeout)",
                           info.status),
                true};
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_ISSUER_ERROR:
      case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return {make_error(FetchErrorKind::kNetwork,
                           "the TLS certificate of " + host + " could not be verified: " + detail),
                false};
      case CURLE_FILESIZE_EXCEEDED:
        return {make_error(FetchErrorKind::kTooLarge,
                           "the body is larger than fetch.max_body (" + size_text(o.max_body) + ")",
                           info.status),
                false};
      case CURLE_BAD_CONTENT_ENCODING:
        return {make_error(FetchErrorKind::kNetwork,
                           "the body of " + where +
                               " could not be decoded (broken "
                               "Content-Encoding): " +
                               detail,
                           info.status),
                false};
      case CURLE_UNSUPPORTED_PROTOCOL:
        return {make_error(FetchErrorKind::kNetwork,
                           "the answer of " + host + " is not HTTP: " + detail),
                false};
      case CURLE_URL_MALFORMAT:
        return {make_error(FetchErrorKind::kInvalidRequest, "'" + where + "' is not a valid URL"),
                false};
      case CURLE_OUT_OF_MEMORY:
        return {make_error(FetchErrorKind::kNetwork, "out of memory"), false};
      default:
        return {make_error(FetchErrorKind::kNetwork,
                           "the transfer of " + where + " failed: " + detail, info.status),
                true};
    }
  }

  // Schedules another attempt at job.url after a backoff; false when the
  // retries are used up or the server asks for a longer wait than allowed
  // (the error's message then says so).
  bool schedule_retry(Job& job, FetchError& error, std::optional<milliseconds> retry_after) {
    const FetchOptions& o = job.request.options;
    if (job.retries_used >= o.retries) {
      if (o.retries > 0) {
        error.message += " (after " + std::to_string(job.retries_used + 1) + " attempts)";
      }
      return false;
    }
    const milliseconds cap = std::max(milliseconds(1), o.max_retry_wait);
    if (retry_after && *retry_after > cap) {
      error.message += "; it asked to retry after " + duration_text(*retry_after) +
                       ", longer than the fetcher waits (" + duration_text(cap) + ")";
      return false;
    }
    // Exponential backoff with "equal jitter": half fixed, half random.
    const std::int64_t base = std::max<std::int64_t>(1, o.backoff_base.count());
    const std::int64_t full =
        std::min<std::int64_t>(cap.count(), base << std::min(job.retries_used, 30));
    std::uniform_int_distribution<std::int64_t> jitter(0, full / 2);
    milliseconds delay(full - full / 2 + jitter(rng_));
    const Clock::time_point now = Clock::now();
    if (retry_after) {
      delay = std::max(delay, *retry_after);
      HostQueue& host = hosts_[job.url.host];  // hold back the whole host
      host.next_start = std::max(host.next_start, now + *retry_after);
    }
    ++job.retries_used;
    log("fetch: retrying " + redact_url(job.url.text) + " in " + duration_text(delay) +
        " (attempt " + std::to_string(job.retries_used + 1) + " of " +
        std::to_string(o.retries + 1) + "): " + error.message);
    job.state = JobState::kTimer;
    timers_.emplace(now + delay, job.id);
    return true;
  }

  void follow_redirect(Job& job, const std::string& location, int status) {
    const FetchOptions& o = job.request.options;
    const std::string from = redact_url(job.url.text);
    auto next = resolve_location(job.url, location);
    if (!next) {
      FetchError e = next.error();
      if (e.kind == FetchErrorKind::kBlocked) {
        e.message = from + " redirected to a URL that is not allowed: " + e.message;
      } else {
        e.kind = FetchErrorKind::kRedirect;
        e.message = from + " redirected to an invalid Location: " + e.message;
      }
      e.status = status;
      e.url.clear();
      fail(job, std::move(e));
      return;
    }
    if (static_cast<int>(job.redirects.size()) >= o.max_redirects) {
      fail(job, make_error(FetchErrorKind::kRedirect,
                           "more than " + std::to_string(o.max_redirects) +
                               " redirects; the last went from " + from + " to " +
                               redact_url(next->text),
                           status));
      return;
    }
    if (job.seen.contains(next->text)) {
      fail(job, make_error(FetchErrorKind::kRedirect,
                           "redirect loop: " + from + " redirects back to " +
                               redact_url(next->text) + ", which was already visited",
                           status));
      return;
    }
    job.redirects.push_back(job.url.text);
    job.seen.insert(next->text);
    job.url = *next;
    job.state = JobState::kNew;
    advance(job);
  }

  void succeed(Job& job, Transfer& t, const ExchangeInfo& info) {
    FetchResponse r;
    r.url = job.url.text;
    r.status = info.status;
    r.content_type = find_header(t.headers, "content-type");
    r.charset = charset_param(r.content_type);
    r.headers = std::move(t.headers);
    r.body = std::move(t.body);
    r.address = info.address;
    r.timings = info.timings;
    r.timings.elapsed_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - job.submitted).count();
    r.attempts = job.retries_used + 1;
    r.redirects = job.redirects;
    finish(job, std::move(r));
  }

  void fail(Job& job, FetchError error) {
    if (error.url.empty()) error.url = job.url.text.empty() ? job.request.url : job.url.text;
    error.attempts = job.retries_used + (job.started ? 1 : 0);
    finish(job, std::unexpected(std::move(error)));
  }

  // Ends a job: its callback is queued (run by flush_completions), or for a
  // robots.txt fetch, the jobs waiting for it move on.
  void finish(Job& job, FetchResult result) {
    auto it = jobs_.find(job.id);
    if (it == jobs_.end()) return;
    const std::unique_ptr<Job> owned = std::move(it->second);
    jobs_.erase(it);
    if (owned->is_robots) {
      robots_done(*owned, result);
    } else if (owned->on_done) {
      completions_.emplace_back(std::move(owned->on_done), std::move(result));
    }
  }

  // Shared with submitting threads.
  std::mutex mutex_;
  std::vector<std::pair<FetchRequest, FetchCallback>> incoming_;
  bool stopping_ = false;
  std::mutex join_mutex_;
  std::thread thread_;
  std::thread::id thread_id_;

  // Owned by the fetcher thread once it runs. multi_ is declared before the
  // jobs so that every easy handle is gone before the multi handle is.
  CurlFetcherConfig config_;
  CurlMultiPtr multi_;
  CurlSlistPtr resolve_;
  std::map<std::uint64_t, std::unique_ptr<Job>> jobs_;
  std::uint64_t next_id_ = 1;
  std::map<std::string, HostQueue> hosts_;
  std::multimap<Clock::time_point, std::uint64_t> timers_;
  std::map<std::string, RobotsEntry> robots_;
  std::set<std::string> robots_off_logged_;
  std::vector<std::pair<FetchCallback, FetchResult>> completions_;
  int in_flight_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace

std::expected<std::unique_ptr<Fetcher>, FetchError> make_curl_fetcher(CurlFetcherConfig config) {
  if (curl::load() == nullptr) {
    return std::unexpected(make_error(FetchErrorKind::kNetwork, curl::load_error()));
  }
  static std::once_flag once;
  static CURLcode global = CURLE_OK;
  std::call_once(once, [] { global = curl::lib().global_init(CURL_GLOBAL_DEFAULT); });
  if (global != CURLE_OK) {
    return std::unexpected(make_error(
        FetchErrorKind::kNetwork,
        std::string("libcurl could not be initialized: ") + curl::lib().easy_strerror(global)));
  }
  CurlMultiPtr multi(curl::lib().multi_init());
  if (!multi) {
    return std::unexpected(make_error(FetchErrorKind::kNetwork,
                                      "libcurl could not create a multi handle (out of memory)"));
  }
  CurlSlistPtr resolve;
  for (const std::string& entry : config.resolve) {
    if (!slist_append(resolve, entry)) {
      return std::unexpected(make_error(FetchErrorKind::kNetwork, "out of memory"));
    }
  }
  auto fetcher =
      std::make_unique<CurlFetcher>(std::move(config), std::move(multi), std::move(resolve));
  try {
    fetcher->start();
  } catch (const std::system_error& e) {
    return std::unexpected(make_error(
        FetchErrorKind::kNetwork, std::string("could not start the fetcher thread: ") + e.what()));
  }
  return std::unique_ptr<Fetcher>(std::move(fetcher));
}

}  // namespace host::fetch
