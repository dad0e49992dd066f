// The page a parser reads: one fetched (or saved) HTTP response.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sandbox {

struct Page {
  std::string url;   // absolute URL the body was fetched from
  int status = 200;  // HTTP status
  // Response headers as received; names are matched case-insensitively and
  // shown to scripts lower-cased.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // raw bytes, in whatever charset the server sent
};

}  // namespace sandbox
