// Opening the store from a command, with messages that say what to do.
#pragma once

#include <expected>
#include <string>

#include "host/cli/cli.h"
#include "store/store.h"

namespace host::cli {

enum class StoreMode {
  kRead,   // must exist
  kWrite,  // created if missing
};

// Opens the store at globals.data_dir. The error is a sentence for the user:
// "no store at './data' (run a command that writes, e.g. 'host add', or pass
// --data DIR)".
std::expected<store::Store, std::string> open_store(const Globals& globals, StoreMode mode);

// True when there is no store at all yet (the directory is missing or empty):
// read-only commands then show defaults instead of failing.
bool store_missing(const Globals& globals);

}  // namespace host::cli
