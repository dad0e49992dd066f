// Ctrl-C and SIGTERM for long-running commands: the first asks for a
// graceful stop, the second ends the process at once.
//
// A SignalWatcher blocks SIGINT and SIGTERM in the thread that creates it
// (create it before any other thread, so every thread inherits the mask)
// and waits for them on a thread of its own, where `on_signal` runs with the
// signal's number and how many have arrived so far (1, 2, ...). Nothing runs
// in signal-handler context, so on_signal may lock, log and call stop().
#pragma once

#include <pthread.h>

#include <functional>
#include <thread>

namespace host::cli {

class SignalWatcher {
 public:
  explicit SignalWatcher(std::function<void(int signal, int count)> on_signal);
  ~SignalWatcher();  // stops waiting; restores the previous mask
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  std::function<void(int, int)> on_signal_;
  sigset_t old_mask_;
  std::thread thread_;
};

}  // namespace host::cli
