// sdp-worker: the process that runs untrusted extractor scripts.
//
// The host starts it with one end of a socket pair on fd 3 and an empty
// environment. It prepares what runs need while it still may (libxml2's
// globals; pages are decoded with ICU, whose tables need no files), sets
// resource limits, moves to a thread with a 256 MiB stack (deep C recursion
// in LuaJIT then ends in a clean error instead of a crash), installs the
// system-call filter, and serves one request at a time: every run gets a
// fresh Lua state. If anything goes wrong beyond that (a stuck C call, a
// crash) the host kills this process and starts another.
#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <time.h>

#include <sched.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sandbox/engine/runner.h"
#include "sandbox/worker/protocol.h"
#include "sandbox/worker/seccomp.h"

namespace {

using sandbox::worker::kWorkerFd;

void* serve(void*) {
  const std::string filter_error = sandbox::worker::install_syscall_filter();
  if (!filter_error.empty()) {
    std::fprintf(stderr, "sdp-worker: cannot install the system-call filter: %s\n",
                 filter_error.c_str());
    std::_Exit(3);
  }
  char header[sandbox::worker::kHeaderSize];
  std::string payload;
  while (sandbox::worker::read_exact(kWorkerFd, header, sizeof header)) {
    std::uint64_t length = 0;
    if (!sandbox::worker::parse_frame_header(header, sandbox::worker::kRequestFrame, length) ||
        length > (1ull << 31)) {
      std::_Exit(4);
    }
    payload.resize(length);
    if (!sandbox::worker::read_exact(kWorkerFd, payload.data(), length)) break;
    sandbox::engine::RawResult result;
    if (auto request = sandbox::worker::decode_request(payload)) {
      result = sandbox::engine::run_script(*request);
    } else {
      result.error = {sandbox::ErrorKind::kInternal, "malformed request"};
    }
    const std::string body = sandbox::worker::encode_result(result);
    if (!sandbox::worker::write_all(
            kWorkerFd, sandbox::worker::frame_header(sandbox::worker::kResultFrame, body.size())) ||
        !sandbox::worker::write_all(kWorkerFd, body)) {
      break;
    }
  }
  return nullptr;
}

// Ends the worker when the host is gone (the worker is then reparented),
// even in the middle of a run.
std::atomic<bool> watcher_running{false};

void* watch_parent(void* arg) {
  const pid_t parent = static_cast<pid_t>(reinterpret_cast<std::intptr_t>(arg));
  watcher_running = true;
  const timespec period{0, 200'000'000};
  for (;;) {
    nanosleep(&period, nullptr);
    if (getppid() != parent) std::_Exit(0);
  }
  return nullptr;
}

// `sdp-worker --check-filter`: installs the filter, then tries what a
// compromised worker would; used by the tests to prove the filter holds.
int check_filter(const char* what) {
  const std::string error = sandbox::worker::install_syscall_filter();
  if (!error.empty()) return 3;
  if (std::strcmp(what, "open") == 0) {
    FILE* f = std::fopen("/etc/passwd", "r");
    return f == nullptr && errno == EACCES ? 0 : 1;
  }
  if (std::strcmp(what, "exec") == 0) {
    char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
    execv("/bin/true", argv);
    return 1;  // not reached: SIGSYS
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // _Exit, as when serving: exit-time hooks (LeakSanitizer's) would need
  // system calls the filter refuses.
  if (argc == 3 && std::strcmp(argv[1], "--check-filter") == 0) std::_Exit(check_filter(argv[2]));
  // Optional arguments:
  //   --address-space BYTES: the kernel-enforced ceiling under the per-run
  //     memory budget (not set under AddressSanitizer, which reserves
  //     terabytes of address space);
  //   --parent PID: the host that started us; if it is already gone (we
  //     were reparented before getting here), there is nobody to serve.
  const pid_t parent = getppid();
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--parent") == 0) {
      const auto expected = static_cast<pid_t>(std::strtol(argv[i + 1], nullptr, 10));
      if (expected != parent) std::_Exit(0);
    }
    if (std::strcmp(argv[i], "--address-space") == 0) {
#ifndef SDP_SANITIZED
      const rlim_t bytes = std::strtoull(argv[i + 1], nullptr, 10);
      const rlimit limit{bytes, bytes};
      setrlimit(RLIMIT_AS, &limit);
#endif
    }
  }
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  const rlimit no_files{16, 16};
  setrlimit(RLIMIT_NOFILE, &no_files);

  // Every run allocates and frees a Lua heap and the page's big buffers;
  // keep a few MiB of freed memory instead of returning it to the kernel at
  // every run, but not what one huge run needed. (The parsed page itself
  // lives in the parse arena, engine/memory.h.)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_TOP_PAD, 8 << 20);

  sandbox::engine::prepare_process();

  pthread_t watcher;
  if (pthread_create(&watcher, nullptr, watch_parent,
                     reinterpret_cast<void*>(static_cast<std::intptr_t>(parent))) != 0) {
    std::fprintf(stderr, "sdp-worker: cannot start the parent watcher\n");
    return 5;
  }
  // The filter goes on every thread at once (TSYNC); a thread still starting
  // up then would be killed by its own start-up calls. Wait until it runs.
  while (!watcher_running) sched_yield();

  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256u << 20);
  pthread_t thread;
  if (pthread_create(&thread, &attr, serve, nullptr) != 0) {
    std::fprintf(stderr, "sdp-worker: cannot start the run thread\n");
    return 5;
  }
  pthread_join(thread, nullptr);
  std::_Exit(0);
}
