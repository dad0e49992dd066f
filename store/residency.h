// Releasing the pages of the store that this process has mapped.
//
// LMDB reads through a shared, read-only memory map of data.mdb. Every page a
// process touches stays mapped into it, and counts in its resident set, until
// the process unmaps it; so the RSS of a long-running process follows the size
// of the store rather than what the process uses. The pages are clean copies
// of the kernel's page cache, not memory the process owns: dropping them from
// the map loses nothing, and the next read of one maps it again (a minor
// fault, no disk read while the page is cached).
#pragma once

#include <cstddef>
#include <expected>

#include "store/env.h"
#include "store/error.h"

namespace store {

// Unmaps every page of env's map from this process (madvise MADV_DONTNEED),
// holding a read transaction so that the map cannot move meanwhile. Safe while
// other threads read or write the store. Returns the size of the mappings
// released, in bytes.
// Errors: whatever begin_read() returns; kIo if the kernel refuses.
std::expected<std::size_t, Error> release_mapped_pages(const Env& env);

}  // namespace store
