// Drop-in scripts: a parser file placed in the scripts directory is staged,
// validated and (if it passes) promoted without anyone running a command.
//
// A drop-in is a top-level `*.lua` file of the directory (subdirectories
// such as scripts/examples/ are not scanned). Its file name names its source:
// `books.lua` is for source `books`, so even a file that does not load is
// recorded against its source. For each drop-in, a scan:
//   - skips it if its content equals some version of the source (compared by
//     SHA-256; an unchanged size and mtime is trusted without reading the
//     file, so a scan of an unchanged directory reads no file);
//   - skips it, logging once per content, if there is no such source (it
//     must be added with `host add` first);
//   - otherwise stages it (author human, note "drop-in FILE", origin its
//     absolute path), validates it (validate_version: a script that does not
//     load, or declares another `source`, fails a check) and stores the
//     report; if it passed and the setting dropin.mode is "promote" (the
//     default), promotes it in the same transaction as the report. A version
//     that fails stays staged with its report, so `host versions` shows why;
//     a failing drop-in never replaces the active version. It is not promoted
//     either if another version became active while it was validated.
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/sandbox.h"
#include "store/sha256.h"
#include "store/store.h"

namespace host::lifecycle {

// Receives one line per event worth an operator's attention (a version
// staged, promoted or failed; an unknown source; an error), without a
// trailing newline. Unchanged files log nothing. May be empty (no logging).
using LogFn = std::function<void(std::string_view line)>;

enum class DropinAction {
  kUnchanged,      // identical to an existing version of its source: nothing done
  kUnknownSource,  // no source by the file's name: skipped
  kPromoted,       // staged, passed validation, now active
  kStaged,         // staged and passed, not promoted (dropin.mode is "stage", or the
                   // active version changed during validation)
  kFailed,         // staged, failed validation (or could not be validated): stays staged
  kError,          // the file could not be read or the store failed; retried next scan
};

// "unchanged", "unknown-source", "promoted", "staged", "failed", "error".
std::string_view to_string(DropinAction action);

struct DropinOutcome {
  std::filesystem::path file;  // as found in the directory
  std::string source;          // the file's stem
  DropinAction action = DropinAction::kUnchanged;
  std::uint32_t version = 0;  // the version staged or matched; 0 if none
  std::string detail;         // one sentence for a human: what happened, and why
};

struct DropinScan {
  std::vector<DropinOutcome> files;  // every drop-in, by file name

  // True when no file had kError.
  bool ok() const;
};

// What a scan remembers between scans: per file, its size, mtime and digest,
// so unchanged files are neither read nor staged again. Start with an empty
// one; a new cache (a restart) costs one read of each file, not new versions.
// Not thread-safe: one cache per scanning thread.
class DropinCache {
 public:
  DropinCache() = default;

 private:
  struct Entry {
    std::filesystem::file_time_type mtime{};
    std::uintmax_t size = 0;
    store::Sha256Digest sha{};
    bool handled = false;  // a version with this content exists
    bool unknown = false;  // the source did not exist
    bool logged = false;   // `unknown` was logged for this content
    std::uint32_t version = 0;
    std::string last_error;  // logged once until it changes
  };
  std::map<std::string, Entry> entries_;

  friend std::expected<DropinScan, std::string> scan_dropins(store::Store&, sandbox::Sandbox&,
                                                             const std::filesystem::path&,
                                                             DropinCache&, const LogFn&);
};

// Scans `dir` once, as described at the top of this file. The error is for a
// directory that is missing or cannot be listed ("the scripts directory
// 'scripts' does not exist; create it or pass --scripts DIR"); failures of
// single files are outcomes (kError), and the scan goes on with the others.
// Validation runs the sandbox (seconds per changed file); an unchanged
// directory costs a stat per file and one store read per unknown source.
// Thread safety: callable from any thread with its own `cache`; `store` and
// `box` may be shared with other threads. Two processes scanning the same
// directory stage a file once (the stage re-checks the digest in its write
// transaction).
std::expected<DropinScan, std::string> scan_dropins(store::Store& store, sandbox::Sandbox& box,
                                                    const std::filesystem::path& dir,
                                                    DropinCache& cache, const LogFn& log);

}  // namespace host::lifecycle
