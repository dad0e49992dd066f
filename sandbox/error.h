// The sandbox's error type: every failure of a run is one of these values,
// never an exception or a crash of the host.
#pragma once

#include <string>
#include <string_view>

namespace sandbox {

// What went wrong in a run. The names are part of the CLI's output and of the
// stored run outcomes, so they never change once released.
enum class ErrorKind {
  kSyntax,     // the script does not compile
  kRuntime,    // the script raised an error, or returned something unusable
  kTimeout,    // the CPU time limit was reached
  kMemory,     // the memory limit was reached
  kForbidden,  // the script reached for something the sandbox does not give
  kOutput,     // the output limits (records, bytes, string length) were reached
  kSchema,     // the parser's schema is invalid, or every record broke it
  kCrash,      // the interpreter process died (a LuaJIT bug, a C-stack overflow)
  kInternal,   // the host could not run the script at all (no worker, bad install)
  kInput,      // the page or the request itself is unusable (too large, unreadable)
};

// "syntax", "runtime", ... as printed by the CLI.
std::string_view to_string(ErrorKind kind);
// Inverse of to_string; returns false for an unknown name.
bool parse_error_kind(std::string_view name, ErrorKind& out);

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  // A sentence for a human: what happened, with the script's line where there
  // is one ("books.lua:12: attempt to index a nil value"), and what to do when
  // that is not obvious. Never contains host paths or addresses.
  std::string message;
};

}  // namespace sandbox
