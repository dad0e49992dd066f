#include "sandbox/sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <time.h>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <vector>

#include "sandbox/engine/runner.h"
#include "sandbox/record_text.h"
#include "sandbox/schema.h"
#include "sandbox/worker/protocol.h"

extern char** environ;

namespace sandbox {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// One live worker process and our end of its socket. Destroying it kills the
// process (it holds no state worth a graceful exit) and reaps it.
class WorkerProcess {
 public:
  WorkerProcess(pid_t pid, int fd) : pid_(pid), fd_(fd) {
    if (::clock_getcpuclockid(pid, &cpu_clock_) != 0) has_cpu_clock_ = false;
  }
  ~WorkerProcess() {
    if (fd_ >= 0) ::close(fd_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      reap();
    }
  }
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  int fd() const { return fd_; }
  pid_t pid() const { return pid_; }

  // True when the process has already ended (it is then reaped).
  bool exited() {
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return true;
    }
    return pid_ <= 0;
  }

  // Waits for the process to end and returns its wait status.
  int reap() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }
  void kill_now() { ::kill(pid_, SIGKILL); }

  // CPU time the process has used so far; nullopt if it cannot be read.
  std::optional<std::chrono::nanoseconds> cpu_time() const {
    timespec ts{};
    if (!has_cpu_clock_ || ::clock_gettime(cpu_clock_, &ts) != 0) return std::nullopt;
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  }

 private:
  pid_t pid_;
  int fd_;
  clockid_t cpu_clock_{};
  bool has_cpu_clock_ = true;
};

std::string signal_name(int sig) {
  switch (sig) {
    case SIGSEGV:
      return "SIGSEGV, a segmentation fault";
    case SIGBUS:
      return "SIGBUS";
    case SIGABRT:
      return "SIGABRT, an abort";
    case SIGILL:
      return "SIGILL";
    case SIGFPE:
      return "SIGFPE";
    case SIGKILL:
      return "SIGKILL";
    case SIGSYS:
      return "SIGSYS, a forbidden system call";
    default:
      return "signal " + std::to_string(sig);
  }
}

Error died_error(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    if (sig == SIGSYS) {
      return {ErrorKind::kForbidden,
              "the script made the sandbox attempt a forbidden system call; the run was stopped"};
    }
    return {ErrorKind::kCrash,
            "the sandbox process crashed (" + signal_name(sig) +
                ") while running the script; the host is unaffected. Very deep recursion "
                "through C functions (string.gsub callbacks, coroutines) can cause this"};
  }
  return {ErrorKind::kCrash, "the sandbox process exited unexpectedly (status " +
                                 std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                                 ") while running the script"};
}

}  // namespace

struct Sandbox::Impl {
  std::string worker_path;
  std::uint64_t address_space = 0;
  std::size_t max_workers = 1;
  int cpu = -1;

  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<WorkerProcess>> idle;
  std::size_t live = 0;

  std::expected<std::unique_ptr<WorkerProcess>, Error> spawn() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      return std::unexpected(Error{
          ErrorKind::kInternal,
          std::string("cannot create a socket pair for the sandbox: ") + std::strerror(errno)});
    }
    // The worker's end must become fd 3 without close-on-exec; dup2 onto
    // itself would keep the flag, so first move it off 3.
    if (sv[1] == worker::kWorkerFd) {
      const int moved = ::fcntl(sv[1], F_DUPFD_CLOEXEC, worker::kWorkerFd + 1);
      ::close(sv[1]);
      sv[1] = moved;
      if (moved < 0) {
        ::close(sv[0]);
        return std::unexpected(
            Error{ErrorKind::kInternal,
                  std::string("cannot start a sandbox worker: ") + std::strerror(errno)});
      }
    }
    const std::string space = std::to_string(address_space);
    const std::string parent = std::to_string(::getpid());
    std::vector<std::string> env_strings;
    for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
      if (const char* v = std::getenv(name)) env_strings.push_back(std::string(name) + "=" + v);
    }
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string path = worker_path;
    std::string space_flag = "--address-space";
    std::string parent_flag = "--parent";
    char* argv[] = {path.data(),
                    space_flag.data(),
                    const_cast<char*>(space.c_str()),
                    parent_flag.data(),
                    const_cast<char*>(parent.c_str()),
                    nullptr};

    // posix_spawn, not fork: glibc's shares our memory until the exec
    // (CLONE_VFORK), so starting a worker neither copies the host's page
    // tables nor leaves the host to take a copy-on-write fault on every page
    // it writes afterwards; both were milliseconds per worker here.
    // The worker gets its own process group (a Ctrl-C meant for the host
    // does not kill runs in flight: the host decides), no blocked signals
    // (the host blocks SIGINT/SIGTERM for its signal thread), /dev/null on
    // stdin and stdout, and no descriptor but its socket. (No
    // PR_SET_PDEATHSIG: it fires when the spawning *thread* ends; the worker
    // watches its parent itself, given as --parent.)
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&actions, sv[1], worker::kWorkerFd);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDWR, 0);
    posix_spawn_file_actions_adddup2(&actions, 0, 1);
    posix_spawn_file_actions_addclosefrom_np(&actions, worker::kWorkerFd + 1);
    sigset_t no_signals;
    sigemptyset(&no_signals);
    posix_spawnattr_setsigmask(&attr, &no_signals);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, path.c_str(), &actions, &attr, argv, envp.data());
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      ::close(sv[0]);
      ::close(sv[1]);
      return std::unexpected(
          Error{ErrorKind::kInternal,
                "cannot start the sandbox worker " + worker_path + ": " + std::strerror(rc)});
    }
    // Best effort, as the worker has only begun to load: a CPU that is not
    // allowed leaves it unpinned.
    if (cpu >= 0 && cpu < CPU_SETSIZE) {
      cpu_set_t cpus;
      CPU_ZERO(&cpus);
      CPU_SET(cpu, &cpus);
      (void)::sched_setaffinity(pid, sizeof cpus, &cpus);
    }
    ::close(sv[1]);
    return std::make_unique<WorkerProcess>(pid, sv[0]);
  }

  std::expected<std::unique_ptr<WorkerProcess>, Error> acquire() {
    {
      std::unique_lock lock(mu);
      for (;;) {
        cv.wait(lock, [&] { return !idle.empty() || live < max_workers; });
        if (idle.empty()) break;
        auto w = std::move(idle.back());
        idle.pop_back();
        if (!w->exited()) return w;
        --live;  // died while idle (killed from outside): replace it
      }
      ++live;
    }
    auto w = spawn();
    if (!w) {
      std::lock_guard lock(mu);
      --live;
      cv.notify_one();
    }
    return w;
  }

  void release(std::unique_ptr<WorkerProcess> w) {
    std::lock_guard lock(mu);
    if (w) {
      idle.push_back(std::move(w));
    } else {
      --live;
    }
    cv.notify_one();
  }

  // Sends one request and waits for the result, killing the worker at the
  // deadline. `w` is reset when the worker can no longer be used.
  std::expected<engine::RawResult, Error> exchange(std::unique_ptr<WorkerProcess>& w,
                                                   const std::string& request, const Limits& limits,
                                                   bool& sent) {
    sent = false;
    const int fd = w->fd();
    if (!worker::write_all(fd, worker::frame_header(worker::kRequestFrame, request.size())) ||
        !worker::write_all(fd, request)) {
      const int status = (w->kill_now(), w->reap());
      (void)status;
      w.reset();
      return std::unexpected(Error{ErrorKind::kInternal, "the sandbox worker is gone"});
    }
    sent = true;
    // The worker stops a Lua loop itself at the CPU limit. What it cannot
    // stop (a long C call) we stop by killing it once its CPU time passes the
    // limit plus a margin that lets its own clean error arrive first. CPU,
    // not wall time: on a loaded machine the two drift apart. The wall-clock
    // deadline only catches a worker that makes no progress at all.
    const auto grace = std::chrono::milliseconds(250) + limits.cpu_time / 10;
    const auto cpu_budget =
        std::chrono::duration_cast<std::chrono::nanoseconds>(limits.cpu_time + grace);
    const auto cpu_start = w->cpu_time();
    const auto deadline = Clock::now() + 3 * limits.cpu_time + std::chrono::seconds(2);
    auto kill_for_time = [&]() {
      w->kill_now();
      w->reap();
      w.reset();
      return std::unexpected(
          Error{ErrorKind::kTimeout,
                "CPU time limit of " + std::to_string(limits.cpu_time.count()) +
                    " ms exceeded (the script was stopped inside a long-running library call)"});
    };
    const std::uint64_t max_payload = limits.max_output_bytes + limits.max_log_bytes + (64u << 20);

    char header[worker::kHeaderSize];
    std::size_t have = 0;
    std::string payload;
    std::uint64_t length = 0;
    bool in_payload = false;
    for (;;) {
      const auto now = Clock::now();
      if (now >= deadline) return kill_for_time();
      if (cpu_start) {
        if (auto used = w->cpu_time(); used && *used - *cpu_start > cpu_budget) {
          return kill_for_time();
        }
      }
      pollfd p{fd, POLLIN, 0};
      const int wait_ms = static_cast<int>(std::min<std::int64_t>(
          50, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1));
      const int rc = ::poll(&p, 1, wait_ms);
      if (rc < 0 && errno == EINTR) continue;
      if (rc == 0) continue;
      ssize_t n = 0;
      if (!in_payload) {
        n = ::read(fd, header + have, sizeof header - have);
      } else {
        n = ::read(fd, payload.data() + have, payload.size() - have);
      }
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        const int status = w->reap();
        w.reset();
        return std::unexpected(died_error(status));
      }
      have += static_cast<std::size_t>(n);
      if (!in_payload && have == sizeof header) {
        if (!worker::parse_frame_header(header, worker::kResultFrame, length)) {
          w->kill_now();
          w->reap();
          w.reset();
          return std::unexpected(
              Error{ErrorKind::kInternal, "the sandbox worker sent a malformed reply"});
        }
        if (length > max_payload) {
          w->kill_now();
          w->reap();
          w.reset();
          return std::unexpected(
              Error{ErrorKind::kOutput, "the run's output passes the limit of " +
                                            std::to_string(limits.max_output_bytes) + " bytes"});
        }
        payload.resize(length);
        have = 0;
        in_payload = true;
      }
      if (in_payload && have == payload.size()) break;
    }
    auto result = worker::decode_result(payload);
    if (!result) {
      w->kill_now();
      w->reap();
      w.reset();
      return std::unexpected(
          Error{ErrorKind::kInternal, "the sandbox worker sent a malformed reply"});
    }
    return *result;
  }
};

Sandbox::Sandbox(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Sandbox::~Sandbox() = default;

std::expected<std::string, Error> find_worker(const std::string& configured) {
  std::vector<fs::path> candidates;
  if (!configured.empty()) {
    candidates.emplace_back(configured);
  } else if (const char* env = std::getenv("SDP_WORKER"); env != nullptr && *env != '\0') {
    candidates.emplace_back(env);
  } else {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
      candidates.push_back(self.parent_path() / "sdp-worker");
      candidates.push_back(self.parent_path().parent_path() / "libexec" / "sdp" / "sdp-worker");
    }
  }
  for (const auto& c : candidates) {
    if (::access(c.c_str(), X_OK) == 0) return c.string();
  }
  std::string tried;
  for (const auto& c : candidates) tried += (tried.empty() ? "" : ", ") + c.string();
  return std::unexpected(Error{
      ErrorKind::kInternal, "the sandbox worker (sdp-worker) was not found (looked at: " + tried +
                                "); build the project with cmake, or set SDP_WORKER to its "
                                "path"});
}

std::expected<std::unique_ptr<Sandbox>, Error> Sandbox::create(const SandboxOptions& options) {
  auto path = find_worker(options.worker_path);
  if (!path) return std::unexpected(path.error());
  auto impl = std::make_unique<Impl>();
  impl->worker_path = *path;
  impl->max_workers = options.workers == 0 ? 1 : options.workers;
  impl->cpu = options.cpu;
  impl->address_space =
      options.address_space != 0 ? options.address_space : (4ull << 30) + Limits{}.memory_bytes;
  // Start one worker now so a broken install fails here, clearly.
  auto first = impl->acquire();
  if (!first) return std::unexpected(first.error());
  impl->release(std::move(*first));
  return std::unique_ptr<Sandbox>(new Sandbox(std::move(impl)));
}

RunOutcome Sandbox::run(const Script& script, const Page& page, const Limits& limits,
                        RecordForm form) {
  const auto started = Clock::now();
  RunOutcome outcome;
  auto finish = [&]() -> RunOutcome {
    outcome.usage.wall_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    return std::move(outcome);
  };

  const std::string encoded = worker::encode_request(fs::path(script.name).filename().string(),
                                                     script.source, page, limits);

  std::expected<engine::RawResult, Error> raw = std::unexpected(Error{});
  // A worker that died while idle is only noticed when we write to it; then
  // the request was never run, and one retry on a fresh worker is safe.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto w = impl_->acquire();
    if (!w) {
      outcome.error = w.error();
      return finish();
    }
    bool sent = false;
    raw = impl_->exchange(*w, encoded, limits, sent);
    impl_->release(std::move(*w));
    if (raw || sent) break;
  }
  if (!raw) {
    outcome.error = raw.error();
    return finish();
  }
  outcome.usage.cpu_ms = raw->cpu_ms;
  outcome.usage.peak_memory = raw->peak_memory;
  outcome.log = std::move(raw->log);
  outcome.parser = nlohmann::json::parse(raw->parser_json, nullptr, false);
  if (outcome.parser.is_discarded()) outcome.parser = nullptr;
  if (!raw->ok) {
    outcome.error = raw->error;
    return finish();
  }
  auto schema = Schema::from_description(outcome.parser);
  if (!schema) {
    outcome.error = schema.error();
    return finish();
  }
  const Error unreadable{ErrorKind::kInternal, "the sandbox worker sent unreadable records"};
  if (form == RecordForm::kText) {
    const auto texts = split_json_array(raw->records_json);
    if (!texts) {
      outcome.error = unreadable;
      return finish();
    }
    for (std::size_t i = 0; i < texts->size(); ++i) {
      const std::string_view text = (*texts)[i];
      if (passes_as_written(*schema, text)) {
        outcome.record_texts.emplace_back(text);
        continue;
      }
      nlohmann::json record = nlohmann::json::parse(text, nullptr, false);
      if (record.is_discarded()) {
        outcome.record_texts.clear();
        outcome.rejects.clear();
        outcome.error = unreadable;
        return finish();
      }
      if (auto rejected = schema->check(record, i)) {
        outcome.rejects.push_back(std::move(*rejected));
      } else {
        outcome.record_texts.push_back(
            record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      }
    }
  } else {
    nlohmann::json records = nlohmann::json::parse(raw->records_json, nullptr, false);
    if (!records.is_array()) {
      outcome.error = unreadable;
      return finish();
    }
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (auto rejected = schema->check(records[i], i)) {
        outcome.rejects.push_back(std::move(*rejected));
      } else {
        outcome.records.push_back(std::move(records[i]));
      }
    }
  }
  if (outcome.records.empty() && outcome.record_texts.empty() && !outcome.rejects.empty()) {
    outcome.error = Error{ErrorKind::kSchema, "all " + std::to_string(outcome.rejects.size()) +
                                                  " records broke the schema; the first: " +
                                                  outcome.rejects.front().to_string()};
  }
  return finish();
}

}  // namespace sandbox
