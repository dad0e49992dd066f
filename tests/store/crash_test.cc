// A writer process killed with SIGKILL at random moments never leaves a
// half-written batch, and never loses one it reported committed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <random>

#include "child_process.h"
#include "test_util.h"

namespace store {
namespace {

using testing::ChildProcess;
using testing::crash_writer_path;
using testing::must;
using testing::TempDir;

// Mirrors store_crash_writer.
constexpr int kRecordsPerBatch = 20;
constexpr int kShared = 5;
constexpr std::uint64_t kLiveBatches = 10;
constexpr int kKills = 60;

std::string record_key(std::uint64_t batch, int j) {
  return "b" + std::to_string(batch) + "-r" + std::to_string(j);
}

// Opens the store after a kill and checks it against what the writer
// reported. Returns the last committed batch.
std::uint64_t check_store(const std::filesystem::path& dir, std::uint64_t reported,
                          std::uint64_t checked_up_to) {
  // create_if_missing: an early kill may come before the store was created.
  auto s = must(Store::open(dir, testing::create_options()));
  VerifyReport report = must(s.verify());
  for (const Damage& d : report.damage) ADD_FAILURE() << d.item << ": " << d.description;
  auto txn = must(s.read());
  auto marker = must(s.settings().get(txn, "crash.last_batch"));
  std::uint64_t last = marker ? std::stoull(marker->value) : 0;
  // Every reported batch is there; at most one more (committed, killed
  // before it could print) may be.
  EXPECT_GE(last, reported);
  EXPECT_LE(last, reported + 1);
  // Each batch is all there or not at all.
  for (std::uint64_t b = checked_up_to + 1; b <= last; ++b) {
    bool live = b + kLiveBatches > last;
    for (int j = 0; j < kRecordsPerBatch; ++j) {
      auto r = must(s.silver().get(txn, "crash", record_key(b, j)));
      if (live) {
        EXPECT_TRUE(r && r->data["batch"] == b) << "batch " << b << " record " << j;
      } else {
        EXPECT_FALSE(r.has_value()) << "batch " << b << " should have been erased";
        EXPECT_EQ(must(s.silver().history(txn, "crash", record_key(b, j))).size(), 1u);
      }
    }
  }
  for (int j = 0; j < kRecordsPerBatch; ++j) {
    EXPECT_FALSE(must(s.silver().get(txn, "crash", record_key(last + 1, j))).has_value());
  }
  if (last > 0) {
    for (int j = 0; j < kShared; ++j) {
      auto shared = must(s.silver().get(txn, "crash", "shared-" + std::to_string(j)));
      EXPECT_TRUE(shared && shared->data["batch"] == last && shared->revision == last);
    }
  }
  EXPECT_EQ(must(s.silver().count(txn, "crash")),
            kRecordsPerBatch * std::min(last, kLiveBatches) + (last > 0 ? kShared : 0));
  EXPECT_EQ(must(s.tasks().counts(txn))[static_cast<std::size_t>(TaskState::kDone)], last);
  auto runs = must(s.runs().recent(txn, 1));
  EXPECT_EQ(runs.empty() ? 0 : runs[0].id, last);
  return last;
}

TEST(CrashTest, SigkillAtRandomMomentsNeverLosesOrHalfWritesABatch) {
  TempDir dir;
  std::filesystem::path store_dir = dir.path() / "store";
  // SDP_CRASH_SEED varies the kill times; the default keeps runs repeatable.
  const char* seed_env = std::getenv("SDP_CRASH_SEED");
  std::mt19937 rng(seed_env ? std::strtoul(seed_env, nullptr, 10) : 20240611);
  std::uniform_int_distribution<int> delay_ms(0, 80);
  std::uint64_t reported = 0;
  std::uint64_t checked_up_to = 0;
  int kills = 0;
  int unreported_commits = 0;  // kills that landed between a commit and its report
  for (int i = 0; i < kKills; ++i) {
    ChildProcess child(
        {crash_writer_path(), store_dir.string(), std::to_string(i), "0", "1048576"});
    auto note = [&](const std::string& line) {
      if (line.starts_with("committed "))
        reported = std::max<std::uint64_t>(reported, std::stoull(line.substr(10)));
    };
    // Odd rounds count the delay from the start, so that some kills land
    // while the child opens (or creates) the store; even rounds count it
    // from the child's first commit, so that most land among its writes,
    // however slow its start (sanitizer builds start slowly).
    if (i % 2 == 0) {
      if (auto first = child.read_line(std::chrono::seconds(20))) note(*first);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms(rng));
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      auto line = child.read_line(left);
      if (!line) break;
      note(*line);
    }
    child.kill_now();
    int status = child.wait();
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer exited on its own (status " << status << ")";
    ++kills;
    // Lines it printed before dying still count as reported.
    while (auto line = child.read_line(std::chrono::milliseconds(100))) note(*line);
    std::uint64_t last = check_store(store_dir, reported, checked_up_to);
    if (::testing::Test::HasFailure()) return;
    if (last > reported) ++unreported_commits;
    reported = last;  // the next child resumes after it
    checked_up_to = last;
  }
  std::cout << "[ crash    ] " << kills << " kills, " << reported << " batches committed, "
            << unreported_commits << " kills between a commit and its report\n";
  EXPECT_GE(kills, 50);
  // Past kLiveBatches, so that erasure and retention ran too.
  EXPECT_GT(reported, 2 * kLiveBatches) << "the writer should make progress between kills";
}

}  // namespace
}  // namespace store
