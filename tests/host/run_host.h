// Runs the built `host` binary as a user would and captures what it prints.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace host::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline CommandResult run_host(const std::vector<std::string>& args,
                              const std::vector<std::string>& extra_env = {}) {
  char out_path[] = "/tmp/sdp-host-out-XXXXXX";
  char err_path[] = "/tmp/sdp-host-err-XXXXXX";
  const int out_fd = mkstemp(out_path);
  const int err_fd = mkstemp(err_path);
  std::vector<std::string> argv_s{std::string(SDP_BIN_DIR) + "/host"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    const int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    for (const auto& e : extra_env) putenv(const_cast<char*>(e.c_str()));
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  close(out_fd);
  close(err_fd);
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  unlink(out_path);
  unlink(err_path);
  return r;
}

// "2026-11-22T07:13:14Z", the time format every command prints (checked
// without std::regex: GCC 12 at -O1 warns inside <regex>).
inline bool is_iso_time(const std::string& s) {
  static const std::string shape = "dddd-dd-ddTdd:dd:ddZ";
  if (s.size() != shape.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool digit = s[i] >= '0' && s[i] <= '9';
    if (shape[i] == 'd' ? !digit : s[i] != shape[i]) return false;
  }
  return true;
}

inline std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// A `host` process running in the background (host run), to signal, kill
// and wait for.
class BackgroundHost {
 public:
  explicit BackgroundHost(const std::vector<std::string>& args) {
    char out_path[] = "/tmp/sdp-bg-out-XXXXXX";
    char err_path[] = "/tmp/sdp-bg-err-XXXXXX";
    const int out_fd = mkstemp(out_path);
    const int err_fd = mkstemp(err_path);
    out_path_ = out_path;
    err_path_ = err_path;
    std::vector<std::string> argv_s{std::string(SDP_BIN_DIR) + "/host"};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out_fd, 1);
      dup2(err_fd, 2);
      const int devnull = open("/dev/null", O_RDONLY);
      dup2(devnull, 0);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out_fd);
    close(err_fd);
  }
  ~BackgroundHost() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    unlink(out_path_.c_str());
    unlink(err_path_.c_str());
  }
  BackgroundHost(const BackgroundHost&) = delete;
  BackgroundHost& operator=(const BackgroundHost&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const { kill(pid_, sig); }
  std::string out() const { return slurp(out_path_); }
  std::string err() const { return slurp(err_path_); }

  // Waits until `pred(out())` holds, up to `limit`; false on timeout.
  template <class Pred>
  bool wait_for_output(Pred pred, std::chrono::milliseconds limit) const {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (pred(out())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred(out());
  }

  // Waits for the process to end, up to `limit`; nullopt if it is still running.
  std::optional<CommandResult> wait(std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    for (;;) {
      int status = 0;
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        reaped_ = true;
        CommandResult c;
        c.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        c.out = out();
        c.err = err();
        return c;
      }
      if (std::chrono::steady_clock::now() >= until) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::string out_path_, err_path_;
};

// The fixture of the command tests: a temporary directory (removed after
// the test) with the store at DIR/data, and `host` run against it.
class HostCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sdp-cmd-XXXXXX";
    dir_ = mkdtemp(tmpl);
    data_ = dir_ + "/data";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `host --data DIR/data ARGS...`.
  CommandResult host(std::vector<std::string> args) {
    args.insert(args.begin(), {"--data", data_});
    return run_host(args);
  }
  // The same, which must succeed.
  void must(std::vector<std::string> args) {
    const CommandResult r = host(args);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  // The same, which must succeed and print one JSON document.
  nlohmann::json host_json(std::vector<std::string> args) {
    const CommandResult r = host(std::move(args));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  }

  std::string dir_;
  std::string data_;
};

}  // namespace host::testing
