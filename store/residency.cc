#include "store/residency.h"

#include <lmdb.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

namespace store {
namespace {

Error io_error(const std::string& what) {
  return Error{ErrorKind::kIo,
               "cannot release the store's mapped pages: " + what + ": " + std::strerror(errno)};
}

}  // namespace

std::expected<std::size_t, Error> release_mapped_pages(const Env& env) {
  // An open read transaction keeps Env from remapping (see "Map growth" in
  // env.h): madvise on an address that was unmapped and reused meanwhile
  // would drop someone else's memory.
  auto txn = env.begin_read();
  if (!txn) return std::unexpected(txn.error());
  // LMDB does not say where its map is (mdb_env_info's me_mapaddr is only
  // set with MDB_FIXEDMAP), so find the mappings of data.mdb by device and
  // inode in /proc/self/maps.
  mdb_filehandle_t fd = -1;
  if (const int rc = mdb_env_get_fd(env.handle(), &fd); rc != MDB_SUCCESS) {
    return std::unexpected(Error{ErrorKind::kInternal,
                                 std::string("cannot find the store's file: ") + mdb_strerror(rc)});
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) return std::unexpected(io_error("fstat"));
  std::unique_ptr<FILE, int (*)(FILE*)> maps(std::fopen("/proc/self/maps", "re"), &std::fclose);
  if (!maps) return std::unexpected(io_error("/proc/self/maps"));
  std::size_t released = 0;
  char line[4096];
  while (std::fgets(line, sizeof line, maps.get()) != nullptr) {
    std::uintptr_t start = 0;
    std::uintptr_t end = 0;
    unsigned major_dev = 0;
    unsigned minor_dev = 0;
    std::uint64_t inode = 0;
    char perms[8] = {};
    if (std::sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %*x %x:%x %" SCNu64, &start, &end, perms,
                    &major_dev, &minor_dev, &inode) != 6) {
      continue;
    }
    if (inode != st.st_ino || major_dev != major(st.st_dev) || minor_dev != minor(st.st_dev)) {
      continue;
    }
    // Only LMDB's own read-only shared map of the file: the pages are the
    // page cache's, and readers fault them back in. (Never a private or
    // writable mapping, whose pages could be the only copy.)
    if (perms[0] != 'r' || perms[1] != '-' || perms[3] != 's') continue;
    if (::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED) != 0) {
      return std::unexpected(io_error("madvise"));
    }
    released += end - start;
  }
  return released;
}

}  // namespace store
