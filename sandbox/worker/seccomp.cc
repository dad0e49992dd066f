#include "sandbox/worker/seccomp.h"

#include <seccomp.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace sandbox::worker {
namespace {

struct FilterDeleter {
  void operator()(void* ctx) const noexcept { seccomp_release(static_cast<scmp_filter_ctx>(ctx)); }
};

// What a worker needs once it is serving requests: its socket, memory,
// threads' futexes, clocks, and what the sanitizers use when they report.
const char* const kAllowed[] = {
    "read", "write", "readv", "writev", "recvfrom", "sendto", "recvmsg", "sendmsg", "close", "mmap",
    "munmap", "mremap", "mprotect", "brk", "madvise", "futex", "exit", "exit_group", "rt_sigreturn",
    "rt_sigprocmask", "rt_sigaction", "sigaltstack", "clock_gettime", "clock_getres",
    "clock_nanosleep", "nanosleep", "gettimeofday", "time", "getrusage", "getpid", "getppid",
    "gettid", "tgkill", "sched_yield", "getrandom", "fstat", "newfstatat", "lseek",
    "restart_syscall", "prlimit64", "getrlimit", "sched_getaffinity", "mincore", "poll", "ppoll",
    "fcntl", "ioctl",
    // The sanitizers' runtime probes memory through a pipe; a pipe reaches
    // nothing outside the process, and RLIMIT_NOFILE bounds how many.
    "pipe", "pipe2",
    // Per-thread bookkeeping glibc does when a thread starts.
    "rseq", "set_robust_list",
#ifdef SDP_SANITIZED
    // ...and queries process state with prctl (sanitizer builds only).
    "prctl",
#endif
    nullptr};

// Looked-up files (a library probing for optional data, say) fail softly,
// so the library falls back instead of the run dying.
const char* const kDenied[] = {"open",      "openat",     "stat",     "lstat",      "access",
                               "faccessat", "faccessat2", "readlink", "readlinkat", "statx",
                               "statfs",    "fstatfs",    "uname",    nullptr};

}  // namespace

std::string install_syscall_filter() {
  std::unique_ptr<void, FilterDeleter> ctx(seccomp_init(SCMP_ACT_KILL_PROCESS));
  if (!ctx) return "seccomp_init failed";
  auto* c = static_cast<scmp_filter_ctx>(ctx.get());
  for (const char* const* name = kAllowed; *name != nullptr; ++name) {
    const int nr = seccomp_syscall_resolve_name(*name);
    if (nr == __NR_SCMP_ERROR) continue;
    if (const int rc = seccomp_rule_add(c, SCMP_ACT_ALLOW, nr, 0); rc != 0) {
      return std::string("seccomp_rule_add(") + *name + "): " + std::strerror(-rc);
    }
  }
  for (const char* const* name = kDenied; *name != nullptr; ++name) {
    const int nr = seccomp_syscall_resolve_name(*name);
    if (nr == __NR_SCMP_ERROR) continue;
    if (const int rc = seccomp_rule_add(c, SCMP_ACT_ERRNO(EACCES), nr, 0); rc != 0) {
      return std::string("seccomp_rule_add(") + *name + "): " + std::strerror(-rc);
    }
  }
  if (const int rc = seccomp_attr_set(c, SCMP_FLTATR_CTL_TSYNC, 1); rc != 0) {
    return std::string("seccomp TSYNC: ") + std::strerror(-rc);
  }
  if (const int rc = seccomp_load(c); rc != 0) {
    return std::string("seccomp_load: ") + std::strerror(-rc);
  }
  return {};
}

}  // namespace sandbox::worker
