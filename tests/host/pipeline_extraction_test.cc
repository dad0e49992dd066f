// The steps one extraction passes a fetched page through: the parser run
// and the bronze snapshot, each handing the page's body on instead of
// copying it.
#include "host/pipeline/extraction.h"

#include <gtest/gtest.h>

#include "host/pipeline/silver_records.h"
#include "tests/host/fleet.h"
#include "tests/sandbox/sandbox_fixture.h"

namespace host::pipeline {
namespace {

using host::testing::tagged_page;
using host::testing::tagged_parser;
using sandbox::testing::shared_sandbox;

fetch::FetchResponse response_with(std::string body) {
  fetch::FetchResponse r;
  r.url = "https://shop.example.test/list";
  r.status = 200;
  r.headers = {{"Content-Type", "text/html; charset=utf-8"}, {"X-Id", "7"}};
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(body);
  return r;
}

TEST(PipelineRunParser, TheScriptSeesTheBodyAndTheResponseGetsItBack) {
  const std::string body = tagged_page(3);
  auto response = response_with(body);
  const sandbox::Script script{"items.lua", tagged_parser()};
  const auto outcome = run_parser(shared_sandbox(), script, response, sandbox::Limits{});
  ASSERT_TRUE(outcome.ok()) << outcome.error->message;
  ASSERT_EQ(outcome.records.size(), 3u);
  EXPECT_EQ(outcome.records[2]["id"], "r2");
  EXPECT_EQ(response.body, body);
  EXPECT_EQ(response.url, "https://shop.example.test/list");
}

TEST(PipelineRunParser, AFailedRunStillGivesTheBodyBack) {
  auto response = response_with("<p>page</p>");
  const sandbox::Script script{"bad.lua", "error('boom')"};
  const auto outcome = run_parser(shared_sandbox(), script, response, sandbox::Limits{});
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(response.body, "<p>page</p>");
}

TEST(PipelineToFetchedPage, TheSnapshotTakesTheResponsesFields) {
  auto response = response_with("<p>page</p>");
  response.timings.total_ms = 12.5;
  const auto at = store::now();
  const auto page = to_fetched_page("shop", std::move(response), at);
  EXPECT_EQ(page.source, "shop");
  EXPECT_EQ(page.url, "https://shop.example.test/list");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.fetched_at, at);
  ASSERT_EQ(page.headers.size(), 2u);
  EXPECT_EQ(page.headers[1].name, "X-Id");
  EXPECT_EQ(page.headers[1].value, "7");
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(page.body, "<p>page</p>");
  EXPECT_EQ(page.timings.total, std::chrono::microseconds(12500));
}

TEST(PipelineRecordInputs, MovingAndCopyingGiveTheSameInputs) {
  sandbox::RunOutcome outcome;
  outcome.parser = {{"name", "items"},
                    {"schema", {{"id", {{"type", "string"}, {"required", true}}}}},
                    {"key", {"id"}}};
  outcome.records = {{{"id", "a"}, {"n", 1}}, {{"id", "b"}, {"n", 2}}};
  const auto copied = to_record_inputs(outcome);
  ASSERT_EQ(outcome.records.size(), 2u);
  EXPECT_EQ(outcome.records[0]["id"], "a");  // untouched by the copying form
  const auto moved = to_record_inputs(std::move(outcome));
  ASSERT_EQ(copied.size(), 2u);
  ASSERT_EQ(moved.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(copied[i].key, moved[i].key);
    EXPECT_EQ(copied[i].data, moved[i].data);
  }
  EXPECT_NE(copied[0].key, copied[1].key);
}

}  // namespace
}  // namespace host::pipeline
