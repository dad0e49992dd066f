#include "host/fetch/robots.h"

#include <cctype>
#include "sandbox/text/ascii.h"

namespace host::fetch {
namespace {

using sandbox::text::iequals;
using sandbox::text::trim;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

// One form for comparing paths and patterns (RFC 9309 2.2.2): unreserved
// characters decoded, other escapes upper-cased, non-ASCII bytes and
// spaces encoded. '*' and '$' pass through untouched.
std::string normalize(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      const auto decoded =
          static_cast<unsigned char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      if (unreserved(decoded)) {
        out += static_cast<char>(decoded);
      } else {
        out += '%';
        out += kHex[decoded >> 4];
        out += kHex[decoded & 15];
      }
      i += 2;
    } else if (c >= 0x80 || c <= 0x20 || c == 0x7f) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Whether `pattern` ('*' any run, final '$' end) matches a prefix of `path`
// (or all of it with '$'). Iterative, linear in |pattern| * |path| at worst.
bool matches(std::string_view pattern, std::string_view path) {
  bool anchored = false;
  if (!pattern.empty() && pattern.back() == '$') {
    anchored = true;
    pattern.remove_suffix(1);
  }
  std::size_t p = 0;
  std::size_t s = 0;
  std::size_t star = std::string_view::npos;
  std::size_t star_s = 0;
  while (true) {
    if (p == pattern.size()) {
      if (!anchored || s == path.size()) return true;
    } else if (pattern[p] == '*') {
      star = p++;
      star_s = s;
      continue;
    } else if (s < path.size() && pattern[p] == path[s]) {
      ++p;
      ++s;
      continue;
    }
    if (star == std::string_view::npos || star_s >= path.size()) return false;
    p = star + 1;
    s = ++star_s;
  }
}

}  // namespace

RobotsRules RobotsRules::disallow_all() {
  RobotsRules r;
  r.rules_.push_back({false, "/"});
  return r;
}

RobotsRules RobotsRules::parse(std::string_view body, std::string_view agent_token) {
  if (body.size() > kRobotsMaxBytes) body = body.substr(0, kRobotsMaxBytes);
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);
  std::vector<Rule> mine;
  std::vector<Rule> star;
  bool matched_mine = false;
  // The current group: which agents it names, and whether rules began.
  bool group_mine = false;
  bool group_star = false;
  bool in_rules = false;
  while (!body.empty()) {
    const std::size_t eol = body.find_first_of("\r\n");
    std::string_view line = body.substr(0, eol);
    body.remove_prefix(eol == std::string_view::npos ? body.size() : eol + 1);
    if (const auto hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = trim(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(key, "user-agent")) {
      if (in_rules) {
        group_mine = group_star = in_rules = false;
      }
      const std::string_view name = value.substr(0, value.find_first_of(" /"));
      if (name == "*") {
        group_star = true;
      } else if (!agent_token.empty() && iequals(name, agent_token)) {
        group_mine = matched_mine = true;
      }
    } else if (iequals(key, "allow") || iequals(key, "disallow")) {
      in_rules = true;
      if (value.empty()) continue;  // "Disallow:" with no path allows everything
      Rule rule{iequals(key, "allow"), normalize(value)};
      if (group_mine) mine.push_back(rule);
      if (group_star) star.push_back(std::move(rule));
    }
    // Sitemap, crawl-delay and unknown lines neither start nor end a group.
  }
  RobotsRules r;
  r.rules_ = matched_mine ? std::move(mine) : std::move(star);
  return r;
}

bool RobotsRules::allowed(std::string_view target) const {
  const std::string path = normalize(target.empty() ? std::string_view("/") : target);
  if (path == "/robots.txt") return true;
  std::size_t best = 0;
  bool best_allow = true;
  bool any = false;
  for (const Rule& rule : rules_) {
    if (!matches(rule.pattern, path)) continue;
    const std::size_t len = rule.pattern.size();
    if (!any || len > best || (len == best && rule.allow && !best_allow)) {
      best = len;
      best_allow = rule.allow;
      any = true;
    }
  }
  return best_allow;
}

std::string robots_agent_token(std::string_view user_agent) {
  std::string token(user_agent.substr(0, user_agent.find_first_of(" /")));
  for (char& c : token) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return token;
}

}  // namespace host::fetch
