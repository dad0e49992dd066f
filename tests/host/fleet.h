// Sources for the orchestrator's tests: a parser whose records say which
// script made them, a page for it, and adding sources straight to a store.
#pragma once

#include <cstdlib>
#include <expected>
#include <filesystem>
#include <string>
#include <utility>

#include "store/store.h"

namespace host::testing {

// Reads <li id="..."> items; every record carries made_by = `tag`, so the
// data says which version produced it.
inline std::string tagged_parser(const std::string& tag = "A") {
  return R"(local sdk = require("sdk")
local P = sdk.BaseParser:extend {
  name = "items",
  schema = { id = { type = "string", required = true }, made_by = { type = "string" } },
  key = { "id" },
}
function P:parse(page)
  local out = {}
  for _, li in ipairs(page:html():css("li")) do
    out[#out + 1] = { id = li:attr("id"), made_by = ")" +
         tag + R"(" }
  end
  return out
end
return P
)";
}

// A page with `n` items r0..r(n-1) for tagged_parser.
inline std::string tagged_page(int n) {
  std::string html = "<ul>";
  for (int i = 0; i < n; ++i) html += "<li id=\"r" + std::to_string(i) + "\">x</li>";
  return html + "</ul>";
}

// Adds source `name` at `url` with `script` as its active version 1.
inline std::expected<void, store::Error> add_source(const store::Store& st, store::WriteTxn& txn,
                                                    const std::string& name, const std::string& url,
                                                    const std::string& script) {
  const store::Time now = store::now();
  store::Source s;
  s.name = name;
  s.url = url;
  s.created_at = s.updated_at = now;
  if (auto ok = st.sources().put(txn, s); !ok) return ok;
  store::NewParserVersion v;
  v.script = script;
  v.created_at = now;
  auto n = st.versions().add(txn, name, v);
  if (!n) return std::unexpected(n.error());
  return st.versions().promote(txn, name, *n, now);
}

// Sets global settings, each a {name, value} pair.
inline std::expected<void, store::Error> set_all(
    const store::Store& st, store::WriteTxn& txn,
    std::initializer_list<std::pair<const char*, const char*>> settings) {
  for (const auto& [k, v] : settings) {
    if (auto ok = st.settings().set(txn, k, v, store::now()); !ok) return ok;
  }
  return {};
}

// A temporary directory, removed with everything in it at scope exit.
struct TempDir {
  std::string path;
  explicit TempDir(const char* prefix) {
    std::string tmpl = std::string("/tmp/") + prefix + "-XXXXXX";
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace host::testing
