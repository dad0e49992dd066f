// Every run starts from a clean state: nothing one run changes is visible to
// the next run of the same or another script.
#include <gtest/gtest.h>

#include "tests/sandbox/sandbox_fixture.h"

namespace sandbox::testing {
namespace {

// Runs `poison` several times (so both workers see it), then `probe`, which
// must return { a = "clean" }.
void expect_no_leak(const std::string& poison, const std::string& probe) {
  for (int i = 0; i < 4; ++i) {
    const RunOutcome p = run_body(poison);
    ASSERT_TRUE(p.ok()) << p.error->message;
  }
  for (int i = 0; i < 4; ++i) {
    const RunOutcome o = run_body(probe);
    ASSERT_TRUE(o.ok()) << o.error->message;
    ASSERT_EQ(o.records.size(), 1u);
    EXPECT_EQ(o.records[0]["a"], "clean");
  }
}

TEST(SandboxIsolation, GlobalsDoNotLeakBetweenRuns) {
  expect_no_leak("leaked = 'dirty'; return {}",
                 "return { { a = leaked == nil and 'clean' or 'dirty' } }");
}

TEST(SandboxIsolation, StringMetatableDoesNotLeak) {
  expect_no_leak("getmetatable('').__index = function() return 'dirty' end; return {}",
                 "return { { a = ('x'):upper() == 'X' and 'clean' or 'dirty' } }");
}

TEST(SandboxIsolation, EditedLibraryFunctionsDoNotLeak) {
  expect_no_leak(
      "string.upper = function() return 'dirty' end; table.insert = nil; return {}",
      "return { { a = (string.upper('x') == 'X' and table.insert) and 'clean' or 'dirty' } }");
}

TEST(SandboxIsolation, SdkModuleEditsDoNotLeak) {
  expect_no_leak(
      "local sdk = require('sdk'); sdk.text.price = function() return -1 end; sdk.dirty = true; "
      "return {}",
      "local sdk = require('sdk'); return { { a = (sdk.dirty == nil and "
      "sdk.text.price('$5') == 5) and 'clean' or 'dirty' } }");
}

TEST(SandboxIsolation, GlobalTableMetatableDoesNotLeak) {
  expect_no_leak("setmetatable(_G, { __index = function() return 'dirty' end }); return {}",
                 "return { { a = undefined_name == nil and 'clean' or 'dirty' } }");
}

TEST(SandboxIsolation, StoppedOrTunedGcDoesNotLeak) {
  // collectgarbage beyond "count" is refused, so the GC cannot be stopped at all.
  const RunOutcome o = run_body("collectgarbage('stop'); return {}");
  EXPECT_EQ(kind_of(o), "forbidden");
  expect_sandbox_healthy();
}

TEST(SandboxIsolation, NodeKeptInGlobalIsGoneNextRun) {
  expect_no_leak("kept_node = page:html(); return {}",
                 "return { { a = kept_node == nil and 'clean' or 'dirty' } }");
}

TEST(SandboxIsolation, MathRandomSeedDoesNotLeak) {
  // A seed set in one run does not carry into the next.
  const RunOutcome a = run_body("return { { n = math.random() } }");
  expect_no_leak("math.randomseed(42); return {}", "return { { a = 'clean' } }");
  const RunOutcome b = run_body("return { { n = math.random() } }");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a.records[0]["n"], b.records[0]["n"]);
}

}  // namespace
}  // namespace sandbox::testing
