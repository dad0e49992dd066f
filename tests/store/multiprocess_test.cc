// Two processes: one writes while this one reads.
#include <gtest/gtest.h>

#include "child_process.h"
#include "test_util.h"

namespace store {
namespace {

using testing::ChildProcess;
using testing::crash_writer_path;
using testing::must;
using testing::TempDir;

TEST(MultiProcess, ReaderSeesEveryBatchTheWriterReportsWhileTheMapGrows) {
  TempDir dir;
  std::filesystem::path store_dir = dir.path() / "store";
  auto s = must(Store::open(store_dir, testing::create_options(1 << 20)));
  std::size_t map_before = must(s.env().info()).map_size;
  // Enough that the data outgrows the first map for certain: 60 batches
  // ended 12 KiB past 1 MiB, so a run where retention freed pages in time
  // never needed a bigger map; 150 end about 600 KiB past it.
  constexpr int kBatches = 150;
  ChildProcess writer(
      {crash_writer_path(), store_dir.string(), "7", std::to_string(kBatches), "1048576"});
  int seen = 0;
  while (auto line = writer.read_line(std::chrono::seconds(30))) {
    ASSERT_TRUE(line->starts_with("committed ")) << *line;
    std::uint64_t batch = std::stoull(line->substr(10));
    auto txn = must(s.read());
    auto marker = must(s.settings().get(txn, "crash.last_batch"));
    ASSERT_TRUE(marker.has_value());
    EXPECT_GE(std::stoull(marker->value), batch);
    auto shared = must(s.silver().get(txn, "crash", "shared-0"));
    ASSERT_TRUE(shared.has_value());
    EXPECT_GE(shared->data["batch"].get<std::uint64_t>(), batch);
    ++seen;
  }
  int status = writer.wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "writer status " << status;
  EXPECT_EQ(seen, kBatches);
  // The writer grew the map; this process adopted the new size to read.
  EXPECT_GT(must(s.env().info()).map_size, map_before);
  EXPECT_TRUE(must(s.verify()).ok());
}

}  // namespace
}  // namespace store
