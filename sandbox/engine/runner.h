// Runs one script over one page in the calling thread, in a fresh LuaJIT
// state. This is the inside of the sandbox: the worker process calls it for
// each request. Limits on memory and on CPU time spent in Lua are enforced
// here; a stuck C call, a crash or a C-stack overflow are left to the process
// boundary (see sandbox.h), so call this only inside a worker, or in tests
// with well-behaved scripts.
#pragma once

#include <cstdint>
#include <string>

#include "sandbox/error.h"
#include "sandbox/limits.h"
#include "sandbox/outcome.h"
#include "sandbox/page.h"

namespace sandbox::engine {

struct RunRequest {
  std::string script_name;  // shown in messages: "books.lua:12: ..."
  std::string script;       // Lua source text (bytecode is refused)
  Page page;
  Limits limits;
};

// The raw result, before the caller checks records against the schema. All
// JSON is text so it crosses the process boundary as is.
struct RawResult {
  bool ok = false;
  Error error;               // meaningful when !ok
  std::string parser_json;   // the parser's description, "null" if unknown
  std::string records_json;  // a JSON array of objects when ok
  std::uint64_t record_count = 0;
  std::string log;
  double cpu_ms = 0;
  std::uint64_t peak_memory = 0;
};

RawResult run_script(const RunRequest& request);

// Checks that the process has what runs need (libxml2 hooks installed).
// The worker calls it at start; run_script calls it too.
void prepare_process();

}  // namespace sandbox::engine
