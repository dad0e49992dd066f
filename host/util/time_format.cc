#include "host/util/time_format.h"

#include <ctime>

#include "sandbox/limits.h"

namespace host::util {

std::string format_time(store::Time t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  const std::time_t tt = static_cast<std::time_t>(secs.time_since_epoch().count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::expected<store::Time, std::string> parse_time(std::string_view text, store::Time now) {
  const std::string bad = "invalid time '" + std::string(text) +
                          "': use an ISO 8601 date or date-time (2026-11-22, "
                          "2026-11-22T04:49:47Z) or a duration ago (24h, 7d, 90m)";
  if (auto ago = sandbox::parse_duration(text);
      ago && !text.empty() && text.find('-') == std::string_view::npos) {
    return now - std::chrono::duration_cast<std::chrono::microseconds>(*ago);
  }
  std::tm tm{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(text, 0, 4, y) || text.size() < 10 || text[4] != '-' || !digits(text, 5, 2, mo) ||
      text[7] != '-' || !digits(text, 8, 2, d) || mo < 1 || mo > 12 || d < 1 || d > 31) {
    return std::unexpected(bad);
  }
  std::size_t pos = 10;
  int offset_minutes = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != ' ') return std::unexpected(bad);
    if (!digits(text, pos + 1, 2, h) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !digits(text, pos + 4, 2, mi) || h > 23 || mi > 59) {
      return std::unexpected(bad);
    }
    pos += 6;
    if (pos < text.size() && text[pos] == ':') {
      if (!digits(text, pos + 1, 2, sec) || sec > 60) return std::unexpected(bad);
      pos += 3;
      if (pos < text.size() && text[pos] == '.') {
        ++pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
      }
    }
    if (pos < text.size() && text[pos] == 'Z') {
      ++pos;
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
      int oh = 0, om = 0;
      if (!digits(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
          !digits(text, pos + 4, 2, om)) {
        return std::unexpected(bad);
      }
      offset_minutes = (text[pos] == '+' ? 1 : -1) * (oh * 60 + om);
      pos += 6;
    }
    if (pos != text.size()) return std::unexpected(bad);
  }
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  const std::time_t t = timegm(&tm);
  return store::Time(std::chrono::seconds(t) - std::chrono::minutes(offset_minutes));
}

}  // namespace host::util
