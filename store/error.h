// The store's error type. Every fallible call in store/ returns
// std::expected<T, store::Error>; nothing in store/ throws past its API.
//
// A lookup that finds nothing is not an error: lookups return
// std::expected<std::optional<T>, Error> and an empty optional means "absent".
// ErrorKind::kNotFound is reserved for operations on a thing that must exist
// (completing a task id that is not in the store, promoting an unknown
// parser version).
#pragma once

#include <string>
#include <string_view>

namespace store {

// What went wrong. The names (see to_string) are stable: the CLI prints them
// and tests check them.
enum class ErrorKind {
  kNotAStore,        // the directory or file is not a store of ours
  kSchemaTooNew,     // written by a newer binary; this one must not touch it
  kSchemaTooOld,     // needs a migration, but the store was opened read-only
  kCorrupt,          // a value or page that cannot be decoded: damaged data
  kNoSpace,          // ENOSPC, EDQUOT or EFBIG: nothing was written
  kPermission,       // EACCES, EPERM, EROFS
  kMapFull,          // the map could not grow (limit reached, or busy readers)
  kInUse,            // the store is open in another process (restore refuses)
  kNotFound,         // an operation named a thing that does not exist
  kConflict,         // a lost task lease, an invalid state transition
  kInvalidArgument,  // bad input from the caller (an empty source name, a too-long key)
  kExists,           // the target exists and overwriting was not asked for
  kResource,         // a fixed LMDB limit: reader slots, open databases, dirty pages
  kIo,               // any other operating-system error (EIO, ...)
  kInternal,         // a bug: an LMDB code that should not happen here
};

// "not_a_store", "schema_too_new", ... as printed by the CLI.
std::string_view to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  // A sentence for a human operator: what failed, on what (a path, a source,
  // an id), and what to do when that is not obvious.
  std::string message;
};

// Maps an LMDB return code or errno value to an Error; `context` says what
// was being done ("opening /var/lib/sdp", "committing"). Used by the store's
// own code; public so that callers using Env directly get the same messages.
Error error_from_code(int rc, std::string_view context);

}  // namespace store
