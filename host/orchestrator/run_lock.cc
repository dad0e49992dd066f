#include "host/orchestrator/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace host::orchestrator {
namespace {

std::filesystem::path lock_path(const std::filesystem::path& dir) { return dir / "run.lock"; }

std::optional<pid_t> read_pid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return std::nullopt;
  const long pid = std::strtol(buf, nullptr, 10);
  if (pid <= 0) return std::nullopt;
  return static_cast<pid_t>(pid);
}

}  // namespace

std::expected<RunLock, std::string> RunLock::acquire(const std::filesystem::path& data_dir) {
  const auto path = lock_path(data_dir);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return std::unexpected("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const auto pid = read_pid(fd);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return std::unexpected("a host run" +
                             (pid ? " (process " + std::to_string(*pid) + ")" : std::string()) +
                             " is already working the store in " + data_dir.string() +
                             "; stop it first (Ctrl-C or kill), or let it do the work");
    }
    return std::unexpected("cannot lock " + path.string() + ": " + std::strerror(err));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The pid is only informative; the lock itself is held.
  }
  return RunLock(fd);
}

std::optional<pid_t> RunLock::holder(const std::filesystem::path& data_dir) {
  const int fd = ::open(lock_path(data_dir).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<pid_t> who;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    who = read_pid(fd);
    if (!who) who = 0;
  } else {
    ::flock(fd, LOCK_UN);
  }
  ::close(fd);
  return who;
}

RunLock::RunLock(RunLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // closing drops the flock
}

}  // namespace host::orchestrator
