// Internal to the engine: the state of the run in progress on this thread,
// and the rules for C functions that scripts call.
#pragma once

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "sandbox/engine/memory.h"
#include "sandbox/engine/runner.h"
#include "sandbox/html/document.h"

namespace sandbox::engine {

struct RunContext {
  const RunRequest* request = nullptr;
  MemoryBudget budget;
  std::int64_t cpu_start_ns = 0;
  std::int64_t cpu_limit_ns = 0;
  bool timed_out = false;
  bool forbidden = false;
  std::string forbidden_message;
  std::string log;
  bool log_truncated = false;
  // Documents parsed during the run; freed after the Lua state is closed, so
  // no node handle can ever point at freed memory.
  struct Document {
    html::XmlDocPtr doc;
    bool in_arena = false;  // parsed wholly in the parse arena: see forget_arena_document()
  };
  std::vector<Document> documents;
  int page_document_ref = LUA_NOREF;  // page:html()'s cached document
};

// The run in progress on this thread (one at a time per thread).
RunContext& current_run();
void set_current_run(RunContext* run);

std::int64_t thread_cpu_ns();

// Thrown by binding code to raise a Lua error with `message`; the trampoline
// below converts it once every C++ object in the binding has been destroyed,
// so no C++ exception crosses into Lua and no Lua error skips a destructor.
struct ScriptError {
  std::string message;
};

// Marks the run as having reached for something forbidden and raises.
[[noreturn]] void forbid(const std::string& what);

template <int (*F)(lua_State*)>
int guarded(lua_State* L) {
  char message[1024];
  {
    try {
      return F(L);
    } catch (const ScriptError& e) {
      std::snprintf(message, sizeof message, "%s", e.message.c_str());
    } catch (const std::bad_alloc&) {
      std::snprintf(message, sizeof message, "not enough memory");
    } catch (const std::exception& e) {
      std::snprintf(message, sizeof message, "%s", e.what());
    }
  }
  return luaL_error(L, "%s", message);
}

// Registers the page/document/node types and sdk natives (dom.cc, natives.cc).
void register_dom(lua_State* L);
// Pushes the page table for `page`.
void push_page(lua_State* L, const Page& page);
// sdk.json.decode (dom.cc).
lua_CFunction json_decode_function();
// Pushes a table of the C functions sdk.lua wraps (text, url, json).
void push_natives(lua_State* L);

// Serializes the value at `index` (serialize.cc). For records, enforces the
// output limits; returns false with `error` set on failure.
bool records_to_json(lua_State* L, int index, const Limits& limits, std::string& out,
                     std::uint64_t& count, Error& error);
// Serializes a plain value (the parser's description); non-serialisable
// parts become null instead of failing.
std::string value_to_json(lua_State* L, int index);

}  // namespace sandbox::engine
