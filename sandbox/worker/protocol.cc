#include "sandbox/worker/protocol.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sandbox::worker {
namespace {

class Out {
 public:
  explicit Out(std::size_t reserve = 0) { s_.reserve(reserve); }
  void u64(std::uint64_t v) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
    s_.append(b, 8);
  }
  void str(std::string_view v) {
    u64(v.size());
    s_.append(v);
  }
  void f64(double v) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    u64(bits);
  }
  std::string take() { return std::move(s_); }

 private:
  std::string s_;
};

class In {
 public:
  explicit In(std::string_view s) : s_(s) {}
  bool u64(std::uint64_t& v) {
    if (s_.size() < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i)
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(s_[i])) << (8 * i);
    s_.remove_prefix(8);
    return true;
  }
  bool str(std::string& v) {
    std::uint64_t n = 0;
    if (!u64(n) || n > s_.size()) return false;
    v.assign(s_.data(), n);
    s_.remove_prefix(n);
    return true;
  }
  bool f64(double& v) {
    std::uint64_t bits = 0;
    if (!u64(bits)) return false;
    std::memcpy(&v, &bits, sizeof v);
    return true;
  }
  bool done() const { return s_.empty(); }

 private:
  std::string_view s_;
};

}  // namespace

std::string encode_request(std::string_view script_name, std::string_view script, const Page& page,
                           const Limits& limits) {
  std::size_t size =
      16 * 8 + script_name.size() + script.size() + page.url.size() + page.body.size();
  for (const auto& [k, v] : page.headers) size += 16 + k.size() + v.size();
  Out o(size);
  o.str(script_name);
  o.str(script);
  o.str(page.url);
  o.u64(static_cast<std::uint64_t>(static_cast<std::int64_t>(page.status)));
  o.u64(page.headers.size());
  for (const auto& [k, v] : page.headers) {
    o.str(k);
    o.str(v);
  }
  o.str(page.body);
  o.u64(limits.memory_bytes);
  o.u64(static_cast<std::uint64_t>(limits.cpu_time.count()));
  o.u64(limits.max_records);
  o.u64(limits.max_output_bytes);
  o.u64(limits.max_string_bytes);
  o.u64(limits.max_log_bytes);
  return o.take();
}

std::string encode_request(const engine::RunRequest& r) {
  return encode_request(r.script_name, r.script, r.page, r.limits);
}

std::optional<engine::RunRequest> decode_request(std::string_view payload) {
  In in(payload);
  engine::RunRequest r;
  std::uint64_t status = 0;
  std::uint64_t headers = 0;
  std::uint64_t cpu = 0;
  if (!in.str(r.script_name) || !in.str(r.script) || !in.str(r.page.url) || !in.u64(status) ||
      !in.u64(headers) || headers > 100'000)
    return std::nullopt;
  r.page.status = static_cast<int>(static_cast<std::int64_t>(status));
  for (std::uint64_t i = 0; i < headers; ++i) {
    std::string k;
    std::string v;
    if (!in.str(k) || !in.str(v)) return std::nullopt;
    r.page.headers.emplace_back(std::move(k), std::move(v));
  }
  if (!in.str(r.page.body) || !in.u64(r.limits.memory_bytes) || !in.u64(cpu) ||
      !in.u64(r.limits.max_records) || !in.u64(r.limits.max_output_bytes) ||
      !in.u64(r.limits.max_string_bytes) || !in.u64(r.limits.max_log_bytes) || !in.done())
    return std::nullopt;
  r.limits.cpu_time = std::chrono::milliseconds(static_cast<std::int64_t>(cpu));
  return r;
}

std::string encode_result(const engine::RawResult& r) {
  Out o;
  o.u64(r.ok ? 1 : 0);
  o.u64(static_cast<std::uint64_t>(r.error.kind));
  o.str(r.error.message);
  o.str(r.parser_json);
  o.str(r.records_json);
  o.u64(r.record_count);
  o.str(r.log);
  o.f64(r.cpu_ms);
  o.u64(r.peak_memory);
  return o.take();
}

std::optional<engine::RawResult> decode_result(std::string_view payload) {
  In in(payload);
  engine::RawResult r;
  std::uint64_t ok = 0;
  std::uint64_t kind = 0;
  if (!in.u64(ok) || !in.u64(kind) || !in.str(r.error.message) || !in.str(r.parser_json) ||
      !in.str(r.records_json) || !in.u64(r.record_count) || !in.str(r.log) || !in.f64(r.cpu_ms) ||
      !in.u64(r.peak_memory) || !in.done())
    return std::nullopt;
  if (kind > static_cast<std::uint64_t>(ErrorKind::kInput)) return std::nullopt;
  r.ok = ok != 0;
  r.error.kind = static_cast<ErrorKind>(kind);
  return r;
}

std::string frame_header(std::uint32_t type, std::uint64_t length) {
  char b[kHeaderSize];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(kMagic >> (8 * i));
  for (int i = 0; i < 4; ++i) b[4 + i] = static_cast<char>(type >> (8 * i));
  for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<char>(length >> (8 * i));
  return std::string(b, kHeaderSize);
}

bool parse_frame_header(const char* h, std::uint32_t expected_type, std::uint64_t& length) {
  auto byte = [&](int i) { return static_cast<std::uint64_t>(static_cast<unsigned char>(h[i])); };
  std::uint32_t magic = 0;
  std::uint32_t type = 0;
  for (int i = 0; i < 4; ++i) magic |= static_cast<std::uint32_t>(byte(i) << (8 * i));
  for (int i = 0; i < 4; ++i) type |= static_cast<std::uint32_t>(byte(4 + i) << (8 * i));
  length = 0;
  for (int i = 0; i < 8; ++i) length |= byte(8 + i) << (8 * i);
  return magic == kMagic && type == expected_type;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool read_exact(int fd, char* out, std::size_t n) {
  while (n > 0) {
    const ssize_t r = ::read(fd, out, n);
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (r == 0) return false;
    out += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

}  // namespace sandbox::worker
