// The process boundary: whatever a worker does (crash, hang, garbage, exit),
// the run fails with a clear error and the next run gets a fresh worker.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
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

// The pids of this process's children, from /proc.
std::set<pid_t> child_pids() {
  std::set<pid_t> pids;
  const pid_t self = ::getpid();
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == self) pids.insert(std::stoi(name));
  }
  return pids;
}

// The value of a line of /proc/PID/status ("SigBlk:\t0000..." -> "0000...").
std::string status_field(pid_t pid, const std::string& key) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(key, 0) == 0) {
      const auto start = line.find_first_not_of(" \t", key.size());
      return start == std::string::npos ? "" : line.substr(start);
    }
  }
  return "";
}

// The CPUs a process may run on, as /proc prints them ("0-3", "1").
std::string cpus_allowed(pid_t pid) { return status_field(pid, "Cpus_allowed_list:"); }

// Runs a one-record parser (so the worker has started, affinity and all)
// and returns the one child process that was not in `before`; -1 (with a
// failure recorded) if the run failed or there is not exactly one.
pid_t run_and_find_new_worker(Sandbox& box, const std::set<pid_t>& before) {
  const RunOutcome o = box.run(Script{"t.lua", parser_with("return { { a = 'x' } }")},
                               Page{"http://x.test/", 200, {}, "<p/>"}, test_limits());
  EXPECT_TRUE(o.ok()) << o.error->message;
  std::vector<pid_t> fresh;
  for (pid_t pid : child_pids()) {
    if (!before.contains(pid)) fresh.push_back(pid);
  }
  EXPECT_EQ(fresh.size(), 1u);
  return o.ok() && fresh.size() == 1 ? fresh[0] : -1;
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

TEST(SandboxWorker, RecordsAsTextTrustNothingTheWorkerWrites) {
  auto box = fake_sandbox();
  ASSERT_TRUE(box);
  Page page;
  page.url = "http://example.test/";
  for (const std::string records :
       {R"([{"a":"x"}, {"a" : "spaced"}])",    // valid, not as dump() writes it
        "[{\"a\":\"x\"},\n{\"a\":\"line\"}]",  // a newline between records
        R"([{"a":"x"},{"a":5},{"b":"y"}])",    // two break the schema
        R"([{"a":"x"},{"a":"unterminated}])",
        R"([{"a":"x"},{"a":"\u00e9\/"}])",  // escapes dump() does not make
        "[{\"a\":\"\xff\"}]",               // not UTF-8
        R"([{"a":"x"}]] trailing)", R"([{"a":1e999}])", "[]", "not json"}) {
    const std::string script = "records:" + records;
    const RunOutcome values = box->run(Script{"fake.lua", script}, page, Limits{});
    const RunOutcome text = box->run(Script{"fake.lua", script}, page, Limits{}, RecordForm::kText);
    ASSERT_EQ(values.ok(), text.ok()) << records;
    if (!values.ok()) {
      EXPECT_EQ(values.error->kind, text.error->kind) << records;
      continue;
    }
    ASSERT_EQ(values.records.size(), text.record_texts.size()) << records;
    for (std::size_t i = 0; i < values.records.size(); ++i) {
      EXPECT_EQ(text.record_texts[i],
                values.records[i].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
          << records;
      EXPECT_EQ(text.record_texts[i].find('\n'), std::string::npos) << records;
    }
    EXPECT_EQ(values.rejects.size(), text.rejects.size()) << records;
  }
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

TEST(SandboxWorker, WorkersRunOnTheCpuTheyArePinnedTo) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(::sched_getaffinity(0, sizeof set, &set), 0);
  int cpu = -1;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpu = c;  // the last allowed one: not always 0
  }
  ASSERT_GE(cpu, 0);
  const std::set<pid_t> before = child_pids();
  SandboxOptions options;
  options.cpu = cpu;
  auto box = Sandbox::create(options);
  ASSERT_TRUE(box) << box.error().message;
  const pid_t worker = run_and_find_new_worker(**box, before);
  ASSERT_GT(worker, 0);
  EXPECT_EQ(cpus_allowed(worker), std::to_string(cpu));
}

TEST(SandboxWorker, ACpuThatCannotBeUsedLeavesTheWorkerUnpinned) {
  const std::set<pid_t> before = child_pids();
  SandboxOptions options;
  options.cpu = 1000;  // no such CPU here: the worker runs anywhere
  auto box = Sandbox::create(options);
  ASSERT_TRUE(box) << box.error().message;
  const pid_t worker = run_and_find_new_worker(**box, before);
  ASSERT_GT(worker, 0);
  EXPECT_EQ(cpus_allowed(worker), cpus_allowed(::getpid()));
}

TEST(SandboxWorker, WorkerStartsWithNoBlockedSignalsAndOnlyItsSocket) {
  // The host blocks SIGINT and SIGTERM for its signal thread; a worker must
  // not inherit that, nor any descriptor of the host's.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &block, &old), 0);
  const int stray = ::open("/dev/zero", O_RDONLY);  // not close-on-exec
  const std::set<pid_t> before = child_pids();
  auto box = Sandbox::create(SandboxOptions{});
  ASSERT_TRUE(box) << box.error().message;
  const pid_t worker = run_and_find_new_worker(**box, before);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::close(stray);
  ASSERT_GT(worker, 0);
  EXPECT_EQ(status_field(worker, "SigBlk:"), "0000000000000000");
  std::set<std::string> fds;
  const std::string dir = "/proc/" + std::to_string(worker) + "/fd";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    fds.insert(entry.path().filename());
  }
  EXPECT_EQ(fds, (std::set<std::string>{"0", "1", "2", "3"}));
  EXPECT_EQ(std::filesystem::read_symlink(dir + "/0"), "/dev/null");
  EXPECT_EQ(std::filesystem::read_symlink(dir + "/1"), "/dev/null");
  EXPECT_EQ(std::filesystem::read_symlink(dir + "/3").string().rfind("socket:", 0), 0u);
}

#ifdef SDP_WORKER_LINKED_STATICALLY
TEST(SandboxWorker, TheWorkerMapsNoSharedLibraryButTheCLibrary) {
  // Its start-up cost is mostly the dynamic loader's (sandbox/CMakeLists.txt).
  const std::set<pid_t> before = child_pids();
  auto box = Sandbox::create(SandboxOptions{});
  ASSERT_TRUE(box) << box.error().message;
  const pid_t worker = run_and_find_new_worker(**box, before);
  ASSERT_GT(worker, 0);
  std::ifstream maps("/proc/" + std::to_string(worker) + "/maps");
  std::set<std::string> libraries;
  for (std::string line; std::getline(maps, line);) {
    const auto slash = line.rfind('/');
    if (slash != std::string::npos && line.find(".so", slash) != std::string::npos) {
      libraries.insert(line.substr(slash + 1));
    }
  }
  ASSERT_FALSE(libraries.empty());
  for (const std::string& lib : libraries) {
    const bool c_library =
        lib.starts_with("libc.so") || lib.starts_with("libm.so") || lib.starts_with("ld-linux");
    EXPECT_TRUE(c_library) << lib;
  }
}
#endif

TEST(SandboxWorker, WorkerWhoseHostIsAlreadyGoneExitsAtOnce) {
  // Started for a host that is not its parent (the host died and the worker
  // was reparented before it ran), the worker must not wait on its socket.
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  // Built before fork: other threads of this test binary may hold malloc's lock.
  const std::string path = std::string(SDP_BIN_DIR) + "/sdp-worker";
  const char* argv[] = {path.c_str(), "--parent", "1", nullptr};
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(sv[1], 3);
    ::execv(path.c_str(), const_cast<char**>(argv));
    ::_exit(127);
  }
  ::close(sv[1]);
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 500 && done == 0; ++i) {  // up to 5 s; we keep the socket open
    done = ::waitpid(pid, &status, WNOHANG);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (done == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  ::close(sv[0]);
  ASSERT_EQ(done, pid) << "the worker waited for a host that is not its parent";
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
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
