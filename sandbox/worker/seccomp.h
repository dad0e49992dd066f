// The worker's system-call filter: the last line of the sandbox. A script
// has no way to make a system call; this filter makes sure that even a
// memory-corruption bug in LuaJIT or libxml2 cannot open files, start
// processes or reach the network.
#pragma once

#include <string>

namespace sandbox::worker {

// Installs the filter on every thread of the calling process. After it,
// file-opening calls fail with EACCES and anything outside the allow-list
// (execve, socket, fork, ptrace, ...) kills the process with SIGSYS.
// Returns an error message, or "" on success.
std::string install_syscall_filter();

}  // namespace sandbox::worker
