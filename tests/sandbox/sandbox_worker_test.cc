// The process boundary: whatever a worker does (crash, hang, garbage, exit),
// the run fails with a clear error and the next run gets a fresh worker.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "sandbox/sandbox.h"
#include "tests/sandbox/sandbox_fixture.h"

namespace sandbox::testing {
namespace {

std::unique_ptr<Sandbox> fake_sandbox() {
  SandboxOptions options;
  options.worker_path = std::string(SDP_BIN_DIR) + "/sandbox_fake_worker";
  auto box = Sandbox::create(options);
  EXPECT_TRUE(box) << (box ? "" : box.error().message);
  return box ? std::move(*box) : nullptr;
}

RunOutcome run_mode(Sandbox& box, const std::string& mode, int cpu_ms = 300) {
  Limits limits;
  limits.cpu_time = std::chrono::milliseconds(cpu_ms);
  return box.run(Script{"t.lua", mode}, Page{"http://x.test/", 200, {}, "<p/>"}, limits);
}

void expect_fake_healthy(Sandbox& box) {
  const RunOutcome o = run_mode(box, "ok");
  ASSERT_TRUE(o.ok()) << o.error->message;
  EXPECT_EQ(o.records.at(0)["a"], "alive");
}

TEST(SandboxWorker, SegfaultFailsOnlyThatRun) {
  auto box = fake_sandbox();
  ASSERT_TRUE(box);
  const RunOutcome o = run_mode(*box, "segfault");
  ASSERT_EQ(kind_of(o), "crash");
#ifndef SDP_SANITIZED  // AddressSanitizer catches the signal and exits instead
  EXPECT_NE(o.error->message.find("SIGSEGV"), std::string::npos) << o.error->message;
#endif
  expect_fake_healthy(*box);
}

TEST(SandboxWorker, AbortFailsOnlyThatRun) {
  auto box = fake_sandbox();
  ASSERT_TRUE(box);
  EXPECT_EQ(kind_of(run_mode(*box, "abort")), "crash");
  expect_fake_healthy(*box);
}

TEST(SandboxWorker, UnexpectedExitIsACrash) {
  auto box = fake_sandbox();
  ASSERT_TRUE(box);
  EXPECT_EQ(kind_of(run_mode(*box, "exit")), "crash");
  expect_fake_healthy(*box);
}

TEST(SandboxWorker, SpinningWorkerIsKilledAtTheCpuLimit) {
  auto box = fake_sandbox();
  ASSERT_TRUE(box);
  EXPECT_EQ(kind_of(run_mode(*box, "spin")), "timeout");
  expect_fake_healthy(*box);
}

TEST(SandboxWorker, SleepingWorkerIsKilledAtTheWallDeadline) {
  auto box = fake_sandbox();
  ASSERT_TRUE(box);
  EXPECT_EQ(kind_of(run_mode(*box, "hang", 100)), "timeout");
  expect_fake_healthy(*box);
}

TEST(SandboxWorker, GarbageReplyIsAnInternalError) {
  auto box = fake_sandbox();
  ASSERT_TRUE(box);
  EXPECT_EQ(kind_of(run_mode(*box, "garbage")), "internal");
  expect_fake_healthy(*box);
}

TEST(SandboxWorker, OversizedReplyIsRefusedBeforeReading) {
  auto box = fake_sandbox();
  ASSERT_TRUE(box);
  EXPECT_EQ(kind_of(run_mode(*box, "huge")), "output");
  expect_fake_healthy(*box);
}

TEST(SandboxWorker, MissingWorkerIsAClearError) {
  SandboxOptions options;
  options.worker_path = "/nonexistent/sdp-worker";
  auto box = Sandbox::create(options);
  ASSERT_FALSE(box);
  EXPECT_EQ(box.error().kind, ErrorKind::kInternal);
  EXPECT_NE(box.error().message.find("SDP_WORKER"), std::string::npos);
}

int run_check_filter(const std::string& what) {
  const std::string cmd = std::string(SDP_BIN_DIR) + "/sdp-worker --check-filter " + what;
  return std::system(cmd.c_str());
}

TEST(SandboxWorker, SyscallFilterDeniesFileOpening) {
  const int status = run_check_filter("open");
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(SandboxWorker, SyscallFilterKillsOnExec) {
  const int status = run_check_filter("exec");
  // system() reports a child killed by a signal as 128+signal via the shell.
  const bool killed = (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) ||
                      (WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGSYS);
  EXPECT_TRUE(killed) << "status " << status;
}

TEST(SandboxWorker, ParallelRunsFromManyThreads) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (run_body("return { { a = 'x' } }").ok()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 60);
}

}  // namespace
}  // namespace sandbox::testing
