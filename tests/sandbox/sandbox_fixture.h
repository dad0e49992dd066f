// Shared helpers for the sandbox tests: one sandbox (two worker processes)
// for the whole binary, and a way to run a parse() body over some HTML.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "sandbox/sandbox.h"

namespace sandbox::testing {

inline Sandbox& shared_sandbox() {
  static std::unique_ptr<Sandbox> box = [] {
    SandboxOptions options;
    options.workers = 2;
    auto created = Sandbox::create(options);
    if (!created) {
      ADD_FAILURE() << created.error().message;
      std::abort();
    }
    return std::move(*created);
  }();
  return *box;
}

// Small limits keep the abuse tests quick.
inline Limits test_limits() {
  Limits l;
  l.memory_bytes = 64ull << 20;
  l.cpu_time = std::chrono::milliseconds(1000);
  return l;
}

// A parser whose schema accepts a string field `a` (and more), with `body`
// as the inside of parse(page).
inline std::string parser_with(const std::string& body) {
  return "local sdk = require('sdk')\n"
         "local P = sdk.BaseParser:extend{ name = 't', schema = { a = 'string', n = 'number' } }\n"
         "function P:parse(page)\n" +
         body +
         "\nend\n"
         "return P\n";
}

inline RunOutcome run_script(const std::string& source, const std::string& html = "<p>x</p>",
                             const Limits& limits = test_limits(),
                             const std::string& url = "http://example.test/page") {
  Page page;
  page.url = url;
  page.body = html;
  page.headers.emplace_back("Content-Type", "text/html");
  return shared_sandbox().run(Script{"t.lua", source}, page, limits);
}

inline RunOutcome run_body(const std::string& body, const std::string& html = "<p>x</p>",
                           const Limits& limits = test_limits()) {
  return run_script(parser_with(body), html, limits);
}

inline std::string kind_of(const RunOutcome& o) {
  return o.error ? std::string(to_string(o.error->kind)) : std::string("ok");
}

// The sandbox still serves a normal run after whatever came before.
inline void expect_sandbox_healthy() {
  const RunOutcome o = run_body("return { { a = 'alive' } }");
  ASSERT_TRUE(o.ok()) << o.error->message;
  ASSERT_EQ(o.records.size(), 1u);
  EXPECT_EQ(o.records[0]["a"], "alive");
}

}  // namespace sandbox::testing
