#include "host/util/heap.h"

#include <malloc.h>

namespace host::util {

// glibc fixes the number of arenas the first time a thread needs one, so
// this only works before any thread other than main has allocated.
void tune_heap_for_long_run() { mallopt(M_ARENA_MAX, 1); }

}  // namespace host::util
