// How the host's heap is tuned for the kind of process it is. glibc's malloc
// settings are process-wide, so the command that owns the process picks them.
#pragma once

namespace host::util {

// For `host run`, before its first thread starts: every thread allocates
// from the one main heap instead of an arena of its own. A long run frees
// its memory on other threads than the ones that allocated it (page bodies,
// results), in bursts; each thread arena kept the high-water of its bursts
// at its top, which malloc_trim does not return, so the host's memory crept
// upward for as long as the run lasted while its live bytes stayed flat
// (tests/bench/orchestrator/README.md). On the main heap, the run's
// periodic malloc_trim returns the free top and every free page; what it
// cannot return is a page that a live block still sits in. Throughput was
// unchanged: the threads wait on the network, the sandbox and the disk.
void tune_heap_for_long_run();

}  // namespace host::util
