// The CPUs this process may run on: what sizes the default number of
// parallel jobs and workers, and where `host parse` pins its jobs.
#pragma once

#include <vector>

namespace host::util {

// The CPUs this process may run on (sched_getaffinity: taskset, cgroup
// cpusets), in order; empty if that cannot be read.
std::vector<int> allowed_cpus();

// How many CPUs this process may use, as nproc counts them; at least 1.
unsigned usable_cpu_count();

// Pins the calling thread to `cpu`. Best effort: a thread that cannot be
// pinned runs where the kernel puts it.
void pin_current_thread(int cpu);

}  // namespace host::util
