#include "host/util/cpus.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <thread>

namespace host::util {

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return {};
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  return cpus;
}

unsigned usable_cpu_count() {
  const std::vector<int> cpus = allowed_cpus();
  if (!cpus.empty()) return static_cast<unsigned>(cpus.size());
  return std::max(1u, std::thread::hardware_concurrency());
}

void pin_current_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  (void)::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
}

}  // namespace host::util
