#include "host/fetch/content_type.h"

#include <algorithm>
#include <array>
#include <cctype>
#include "sandbox/text/ascii.h"

namespace host::fetch {
namespace {

using sandbox::text::to_lower;
using sandbox::text::trim;

bool pattern_matches(std::string_view pattern, std::string_view media) {
  if (pattern == "*/*") return true;
  const std::size_t ps = pattern.find('/');
  const std::size_t ms = media.find('/');
  if (ps == std::string_view::npos || ms == std::string_view::npos) return false;
  if (pattern.substr(0, ps) != media.substr(0, ms)) return false;
  const std::string_view psub = pattern.substr(ps + 1);
  const std::string_view msub = media.substr(ms + 1);
  if (psub == "*") return true;
  if (psub.starts_with("*+")) {  // "*+xml" matches "rss+xml" (not "xml" itself)
    const std::string_view suffix = psub.substr(1);
    return msub.size() > suffix.size() && msub.ends_with(suffix);
  }
  return psub == msub;
}

}  // namespace

std::string media_type(std::string_view content_type) {
  return to_lower(trim(content_type.substr(0, content_type.find(';'))));
}

std::string charset_param(std::string_view content_type) {
  std::size_t semi = content_type.find(';');
  while (semi != std::string_view::npos) {
    std::string_view rest = content_type.substr(semi + 1);
    const std::size_t next = rest.find(';');
    const std::string_view param = trim(rest.substr(0, next));
    const std::size_t eq = param.find('=');
    if (eq != std::string_view::npos && to_lower(trim(param.substr(0, eq))) == "charset") {
      std::string_view value = trim(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return to_lower(trim(value));
    }
    semi = next == std::string_view::npos ? next : semi + 1 + next;
  }
  return {};
}

bool media_type_allowed(std::string_view media, const std::vector<std::string>& patterns) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return pattern_matches(p, media); });
}

bool is_textual(std::string_view media) {
  return media.starts_with("text/") || media == "application/json" || media == "application/xml" ||
         media == "application/xhtml+xml" || media == "application/javascript" ||
         media == "application/ecmascript" || media.ends_with("+json") || media.ends_with("+xml");
}

bool looks_binary(std::string_view prefix) {
  prefix = prefix.substr(0, std::min(prefix.size(), kSniffBytes));
  // Byte-order marks of UTF-16 and UTF-32 text (which is full of NULs).
  for (std::string_view bom : {std::string_view("\xFF\xFE", 2), std::string_view("\xFE\xFF", 2),
                               std::string_view("\x00\x00\xFE\xFF", 4)}) {
    if (prefix.starts_with(bom)) return false;
  }
  static constexpr std::array<std::string_view, 14> kSignatures{
      {std::string_view("\x89PNG\r\n\x1a\n", 8), "GIF87a", "GIF89a", "\xFF\xD8\xFF", "%PDF-",
       std::string_view("PK\x03\x04", 4), "\x1F\x8B",
       "\x7F"
       "ELF",
       "BZh",
       "\xFD"
       "7zXZ",
       "7z\xBC\xAF\x27\x1C", "Rar!", "wOFF", "OggS"}};
  for (std::string_view sig : kSignatures) {
    if (prefix.starts_with(sig)) return true;
  }
  if (prefix.size() >= 12 && prefix.starts_with("RIFF")) return true;    // WebP, WAV, AVI
  if (prefix.size() >= 8 && prefix.substr(4, 4) == "ftyp") return true;  // MP4, HEIC
  // NULs only in every second (UTF-16) or only outside every fourth (UTF-32)
  // byte: text in a wide encoding without a byte-order mark.
  std::size_t nuls_by_position[4] = {};
  std::size_t controls = 0;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const auto c = static_cast<unsigned char>(prefix[i]);
    if (c == 0) ++nuls_by_position[i % 4];
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1b) ++controls;
  }
  const std::size_t even = nuls_by_position[0] + nuls_by_position[2];
  const std::size_t odd = nuls_by_position[1] + nuls_by_position[3];
  if (even + odd == 0) return controls * 10 > prefix.size();
  if (prefix.size() < 4) return true;
  // Dense, too: at least half of the positions of the NUL lanes are NUL.
  const bool utf16 = (even == 0) != (odd == 0) && (even + odd) * 4 >= prefix.size();
  int lanes_without_nul = 0;
  for (std::size_t n : nuls_by_position) lanes_without_nul += n == 0 ? 1 : 0;
  const bool utf32 = lanes_without_nul == 1 && (even + odd) * 8 >= prefix.size() * 3;
  return !(utf16 || utf32);
}

}  // namespace host::fetch
