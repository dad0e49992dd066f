#include "host/util/unified_diff.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace host::util {
namespace {

std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < s.size()) {
    std::size_t nl = s.find('\n', start);
    if (nl == std::string_view::npos) nl = s.size();
    out.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

enum class Op { kKeep, kDel, kAdd };

}  // namespace

std::string unified_diff(std::string_view a, std::string_view b, std::string_view a_name,
                         std::string_view b_name, int context) {
  if (a == b) return {};
  const auto la = split_lines(a);
  const auto lb = split_lines(b);
  const std::size_t n = la.size(), m = lb.size();
  std::vector<std::pair<Op, std::string_view>> ops;
  if (n > 20000 || m > 20000) {
    for (auto l : la) ops.emplace_back(Op::kDel, l);
    for (auto l : lb) ops.emplace_back(Op::kAdd, l);
  } else {
    // Longest common subsequence by dynamic programming (scripts are small).
    std::vector<std::uint32_t> lcs((n + 1) * (m + 1), 0);
    auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t& { return lcs[i * (m + 1) + j]; };
    for (std::size_t i = n; i-- > 0;) {
      for (std::size_t j = m; j-- > 0;) {
        at(i, j) = la[i] == lb[j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
      }
    }
    std::size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && la[i] == lb[j]) {
        ops.emplace_back(Op::kKeep, la[i]);
        ++i;
        ++j;
      } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {
        ops.emplace_back(Op::kDel, la[i++]);  // deletions first, as diff -u prints them
      } else {
        ops.emplace_back(Op::kAdd, lb[j++]);
      }
    }
  }
  std::string out = "--- " + std::string(a_name) + "\n+++ " + std::string(b_name) + "\n";
  const std::size_t total = ops.size();
  std::size_t k = 0;
  while (k < total) {
    // Find the next change.
    while (k < total && ops[k].first == Op::kKeep) ++k;
    if (k == total) break;
    std::size_t start = k >= static_cast<std::size_t>(context) ? k - context : 0;
    std::size_t end = k;
    // Extend while changes are within 2*context of each other.
    std::size_t last_change = k;
    while (end < total) {
      if (ops[end].first != Op::kKeep) last_change = end;
      if (end - last_change > static_cast<std::size_t>(2 * context)) break;
      ++end;
    }
    end = std::min(total, last_change + context + 1);
    // Line numbers at `start`.
    std::size_t a_line = 1, b_line = 1;
    for (std::size_t q = 0; q < start; ++q) {
      if (ops[q].first != Op::kAdd) ++a_line;
      if (ops[q].first != Op::kDel) ++b_line;
    }
    std::size_t a_count = 0, b_count = 0;
    std::string body;
    for (std::size_t q = start; q < end; ++q) {
      const char mark = ops[q].first == Op::kKeep ? ' ' : ops[q].first == Op::kDel ? '-' : '+';
      if (ops[q].first != Op::kAdd) ++a_count;
      if (ops[q].first != Op::kDel) ++b_count;
      body += mark;
      body.append(ops[q].second);
      body += '\n';
    }
    out += "@@ -" + std::to_string(a_count == 0 ? a_line - 1 : a_line) + "," +
           std::to_string(a_count) + " +" + std::to_string(b_count == 0 ? b_line - 1 : b_line) +
           "," + std::to_string(b_count) + " @@\n" + body;
    k = end;
  }
  return out;
}

}  // namespace host::util
