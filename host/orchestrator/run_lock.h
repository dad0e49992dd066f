// The run lock: at most one orchestrator works a store at a time.
//
// `host run` (and `host extract --wait` when it runs the task itself) holds
// an exclusive lock on DATA/run.lock for as long as it works; the file holds
// the holder's process id. The kernel drops the lock when the process dies,
// however it dies, so a holder of the lock knows that every IN_PROGRESS task
// it finds belongs to a run that is gone.
#pragma once

#include <sys/types.h>

#include <expected>
#include <filesystem>
#include <optional>
#include <string>

namespace host::orchestrator {

class RunLock {
 public:
  // Takes the lock without waiting. The error says who holds it ("a host run
  // (process 1234) is already working this store ...") or why it could not
  // be taken.
  static std::expected<RunLock, std::string> acquire(const std::filesystem::path& data_dir);
  // The process holding the lock, if any (without taking it).
  static std::optional<pid_t> holder(const std::filesystem::path& data_dir);

  RunLock(RunLock&& other) noexcept;
  RunLock& operator=(RunLock&& other) noexcept;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();

 private:
  explicit RunLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace host::orchestrator
