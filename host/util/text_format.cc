#include "host/util/text_format.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <iostream>

#include <nlohmann/json.hpp>

namespace host::util {

std::string relative_time(store::Time t, store::Time now) {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - t).count();
  const auto abs = secs < 0 ? -secs : secs;
  if (abs < 1) return "just now";
  std::string n;
  if (abs < 60) {
    n = std::to_string(abs) + "s";
  } else if (abs < 3600) {
    n = std::to_string(abs / 60) + "m";
  } else if (abs < 86400) {
    n = std::to_string(abs / 3600) + "h";
  } else {
    n = std::to_string(abs / 86400) + "d";
  }
  return secs < 0 ? "in " + n : n + " ago";
}

std::string relative_time(const std::optional<store::Time>& t, store::Time now) {
  return t ? relative_time(*t, now) : "never";
}

std::string one_line(std::string_view text, std::size_t max) {
  std::string flat;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) {
      flat += c;
    } else if (!flat.empty() && flat.back() != ' ') {
      flat += ' ';
    }
  }
  if (!flat.empty() && flat.back() == ' ') flat.pop_back();
  if (max == 0) return flat;
  auto starts_char = [&](std::size_t i) {
    return (static_cast<unsigned char>(flat[i]) & 0xC0) != 0x80;  // not a continuation byte
  };
  std::size_t chars = 0;
  for (std::size_t i = 0; i < flat.size(); ++i) chars += starts_char(i);
  if (chars <= max) return flat;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < flat.size(); ++i) {
    if (starts_char(i) && kept++ == max - 1) return flat.substr(0, i) + "…";
  }
  return flat;
}

void append_json_string(std::string& out, std::string_view text) {
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x80 && c != '"' && c != '\\';
  });
  if (plain) {
    out += '"';
    out += text;
    out += '"';
    return;
  }
  out += nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void print_table(const std::vector<std::vector<std::string>>& rows, std::string_view indent) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line(indent);
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  std::cout << out;
}

}  // namespace host::util
