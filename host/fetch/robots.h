// robots.txt (RFC 9309): parsing and matching.
//
// The fetcher keeps one RobotsRules per origin and user-agent token, for 24
// hours. What it does when robots.txt cannot be read follows RFC 9309 2.3.1:
// a 4xx (except 429) means no restrictions; a 5xx, 429 or an unreachable
// server means everything is disallowed until the file can be read again
// (the fetch fails with kind `robots`); more than five redirects means no
// restrictions.
//
// RobotsRules is an immutable value; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace host::fetch {

// RFC 9309 asks crawlers to parse at least 500 KiB; the rest is ignored.
inline constexpr std::size_t kRobotsMaxBytes = 512 * 1024;

class RobotsRules {
 public:
  // No rules at all: everything is allowed.
  RobotsRules() = default;

  // The rules of the groups that match `agent_token` (case-insensitive), else
  // those of the "*" groups, else none. Only the first kRobotsMaxBytes are read.
  static RobotsRules parse(std::string_view body, std::string_view agent_token);
  static RobotsRules allow_all() { return RobotsRules(); }
  static RobotsRules disallow_all();

  // Whether `target` (path and query, "/a/b?c=1") may be fetched: the longest
  // matching rule wins, allow wins a tie, no match allows. "/robots.txt" is
  // always allowed. Patterns support "*" and a final "$".
  bool allowed(std::string_view target) const;

  struct Rule {
    bool allow = false;
    std::string pattern;  // normalized percent-encoding
  };
  const std::vector<Rule>& rules() const { return rules_; }

 private:
  std::vector<Rule> rules_;
};

// The product token robots.txt groups are matched against: the user agent up
// to the first '/' or space, lower-cased ("SmartDataPipeline/0.1 (...)" ->
// "smartdatapipeline").
std::string robots_agent_token(std::string_view user_agent);

}  // namespace host::fetch
