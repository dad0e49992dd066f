#include "store/error.h"

#include <lmdb.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

namespace store {
namespace {

constexpr std::array<std::pair<ErrorKind, std::string_view>, 15> kNames{{
    {ErrorKind::kNotAStore, "not_a_store"},
    {ErrorKind::kSchemaTooNew, "schema_too_new"},
    {ErrorKind::kSchemaTooOld, "schema_too_old"},
    {ErrorKind::kCorrupt, "corrupt"},
    {ErrorKind::kNoSpace, "no_space"},
    {ErrorKind::kPermission, "permission"},
    {ErrorKind::kMapFull, "map_full"},
    {ErrorKind::kInUse, "in_use"},
    {ErrorKind::kNotFound, "not_found"},
    {ErrorKind::kConflict, "conflict"},
    {ErrorKind::kInvalidArgument, "invalid_argument"},
    {ErrorKind::kExists, "exists"},
    {ErrorKind::kResource, "resource"},
    {ErrorKind::kIo, "io"},
    {ErrorKind::kInternal, "internal"},
}};

ErrorKind kind_of(int rc) {
  switch (rc) {
    case MDB_MAP_FULL:
      return ErrorKind::kMapFull;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_PANIC:
      return ErrorKind::kCorrupt;
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
      return ErrorKind::kNotAStore;
    case MDB_READERS_FULL:
    case MDB_TXN_FULL:
    case MDB_DBS_FULL:
    case MDB_TLS_FULL:
    case MDB_CURSOR_FULL:
    case MDB_PAGE_FULL:
    case ENOMEM:
      return ErrorKind::kResource;
    case MDB_BAD_VALSIZE:
    case MDB_INCOMPATIBLE:
      return ErrorKind::kInvalidArgument;
    case MDB_KEYEXIST:
      return ErrorKind::kExists;
    case MDB_NOTFOUND:
    case ENOENT:
      return ErrorKind::kNotFound;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return ErrorKind::kNoSpace;
    case EACCES:
    case EPERM:
    case EROFS:
      return ErrorKind::kPermission;
    case MDB_MAP_RESIZED:
    case MDB_BAD_RSLOT:
    case MDB_BAD_TXN:
    case MDB_BAD_DBI:
    case EINVAL:
      return ErrorKind::kInternal;
    default:
      return ErrorKind::kIo;
  }
}

}  // namespace

std::string_view to_string(ErrorKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "internal";
}

Error error_from_code(int rc, std::string_view context) {
  Error error{kind_of(rc), std::string(context)};
  error.message += ": ";
  error.message += mdb_strerror(rc);  // covers errno values too
  switch (error.kind) {
    case ErrorKind::kNoSpace:
      error.message += rc == EFBIG
                           ? " (the data file reached the process's file size limit, ulimit -f; "
                             "the failed write left the store unchanged)"
                           : " (free some space and retry; the failed write left the store "
                             "unchanged)";
      break;
    case ErrorKind::kPermission:
      error.message += " (check the owner and mode of the store directory and its files)";
      break;
    default:
      break;
  }
  return error;
}

}  // namespace store
