// Limits hold per run, each with a default and an override, and name the
// limit when they stop a run.
#include <gtest/gtest.h>

#include "sandbox/limits.h"
#include "tests/sandbox/sandbox_fixture.h"

namespace sandbox::testing {
namespace {

TEST(SandboxLimits, DefaultsAreDocumentedValues) {
  const Limits l;
  EXPECT_EQ(l.memory_bytes, 256ull << 20);
  EXPECT_EQ(l.cpu_time, std::chrono::milliseconds(10'000));
}

TEST(SandboxLimits, MemoryErrorNamesTheLimit) {
  Limits l = test_limits();
  l.memory_bytes = 40ull << 20;
  const RunOutcome o = run_body("local s = 'x'; while true do s = s .. s end", "<p/>", l);
  ASSERT_EQ(kind_of(o), "memory");
  EXPECT_NE(o.error->message.find("40 MiB"), std::string::npos) << o.error->message;
}

TEST(SandboxLimits, MemoryLimitOverrideAllowsMore) {
  const std::string body = "local s = string.rep('x', 48 * 2^20); return { { a = tostring(#s) } }";
  Limits small = test_limits();
  small.memory_bytes = 32ull << 20;
  EXPECT_EQ(kind_of(run_body(body, "<p/>", small)), "memory");
  Limits big = test_limits();
  big.memory_bytes = 256ull << 20;
  EXPECT_EQ(kind_of(run_body(body, "<p/>", big)), "ok");
}

TEST(SandboxLimits, ParsedDocumentCountsAgainstMemory) {
  // A 4 MB page parses into a DOM far larger than 8 MiB.
  std::string html = "<html><body>";
  for (int i = 0; i < 100000; ++i) html += "<div class='c'>text</div>";
  html += "</body></html>";
  Limits l = test_limits();
  l.memory_bytes = 8ull << 20;
  const RunOutcome o = run_body("page:html(); return {}", html, l);
  EXPECT_EQ(kind_of(o), "memory") << (o.error ? o.error->message : "");
  expect_sandbox_healthy();
}

TEST(SandboxLimits, CpuErrorNamesTheLimit) {
  Limits l = test_limits();
  l.cpu_time = std::chrono::milliseconds(300);
  const RunOutcome o = run_body("while true do end", "<p/>", l);
  ASSERT_EQ(kind_of(o), "timeout");
  EXPECT_NE(o.error->message.find("300 ms"), std::string::npos) << o.error->message;
}

TEST(SandboxLimits, StuckCCallIsStoppedByTheProcessBoundary) {
  Limits l = test_limits();
  l.cpu_time = std::chrono::milliseconds(300);
  const RunOutcome o = run_body("local s = ('a'):rep(300000); s:find('.-.-.-.-.-x')", "<p/>", l);
  EXPECT_EQ(kind_of(o), "timeout");
  expect_sandbox_healthy();
}

TEST(SandboxLimits, RecordCountLimitOverride) {
  Limits l = test_limits();
  l.max_records = 5;
  const std::string body = "local t = {}; for i = 1, 6 do t[i] = { a = 'x' } end; return t";
  const RunOutcome o = run_body(body, "<p/>", l);
  ASSERT_EQ(kind_of(o), "output");
  EXPECT_NE(o.error->message.find("limit is 5"), std::string::npos) << o.error->message;
  l.max_records = 6;
  EXPECT_EQ(kind_of(run_body(body, "<p/>", l)), "ok");
}

TEST(SandboxLimits, OutputBytesLimit) {
  Limits l = test_limits();
  l.max_output_bytes = 10'000;
  const RunOutcome o =
      run_body("local t = {}; for i = 1, 1000 do t[i] = { a = string.rep('y', 50) } end; return t",
               "<p/>", l);
  EXPECT_EQ(kind_of(o), "output");
}

TEST(SandboxLimits, StringLengthLimit) {
  Limits l = test_limits();
  l.max_string_bytes = 100;
  EXPECT_EQ(kind_of(run_body("return { { a = string.rep('z', 101) } }", "<p/>", l)), "output");
  EXPECT_EQ(kind_of(run_body("return { { a = string.rep('z', 100) } }", "<p/>", l)), "ok");
}

TEST(SandboxLimits, PrintFloodIsTruncatedNotFatal) {
  Limits l = test_limits();
  l.max_log_bytes = 1000;
  const RunOutcome o =
      run_body("for i = 1, 10000 do print('line', i) end; return { { a = 'x' } }", "<p/>", l);
  ASSERT_TRUE(o.ok());
  EXPECT_LE(o.log.size(), 1100u);
  EXPECT_NE(o.log.find("[log truncated]"), std::string::npos);
}

TEST(SandboxLimits, UsageIsReported) {
  const RunOutcome o = run_body("local t = {}; for i = 1, 1e5 do t[i] = i end; return {}");
  ASSERT_TRUE(o.ok());
  EXPECT_GT(o.usage.peak_memory, 1'000'000u);
  EXPECT_GT(o.usage.wall_ms, 0.0);
}

TEST(ParseSize, AcceptsBinaryAndDecimalUnits) {
  EXPECT_EQ(parse_size("64MiB").value(), 64ull << 20);
  EXPECT_EQ(parse_size("1GiB").value(), 1ull << 30);
  EXPECT_EQ(parse_size("512 KiB").value(), 512ull << 10);
  EXPECT_EQ(parse_size("10MB").value(), 10'000'000u);
  EXPECT_EQ(parse_size("1000").value(), 1000u);
  EXPECT_EQ(parse_size("1.5GiB").value(), 3ull << 29);
}

TEST(ParseSize, RejectsGarbageWithTheAcceptedForms) {
  for (const char* bad : {"", "MiB", "12 parsecs", "-5MiB", "1e400"}) {
    auto r = parse_size(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().find("64MiB"), std::string::npos);
  }
}

TEST(ParseDuration, AcceptsSecondsAndUnits) {
  EXPECT_EQ(parse_duration("10").value(), std::chrono::milliseconds(10'000));
  EXPECT_EQ(parse_duration("2.5s").value(), std::chrono::milliseconds(2'500));
  EXPECT_EQ(parse_duration("500ms").value(), std::chrono::milliseconds(500));
  EXPECT_EQ(parse_duration("2m").value(), std::chrono::milliseconds(120'000));
  EXPECT_FALSE(parse_duration("soon"));
}

}  // namespace
}  // namespace sandbox::testing
