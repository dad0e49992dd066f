#include "sandbox/engine/runner.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <luajit.h>
#include <lualib.h>
}

#include <time.h>

#include <cstring>
#include <limits>
#include <memory>
#include <string_view>

#include "sandbox/engine/context.h"

namespace sandbox::embedded {
extern const std::string_view kSdkLua;
}

namespace sandbox::engine {
namespace {

thread_local RunContext* g_run = nullptr;

// How many VM instructions pass between two looks at the clock: rare enough
// to cost under 1%, often enough to stop a loop within a few milliseconds.
constexpr int kHookEvery = 10'000;

void cpu_hook(lua_State* L, lua_Debug*) {
  RunContext& run = current_run();
  if (!run.timed_out && thread_cpu_ns() - run.cpu_start_ns > run.cpu_limit_ns) {
    run.timed_out = true;
    // Sticky: from now on every instruction raises again, so a pcall loop
    // cannot swallow the limit.
    lua_sethook(L, cpu_hook, LUA_MASKCOUNT, 1);
  }
  if (run.timed_out) luaL_error(L, "CPU time limit exceeded");
}

constexpr const char* kNoEscape =
    "' is not available in the sandbox: extractors cannot read files, run programs, load code "
    "or reach the network; use the page object and the sdk module";
constexpr const char* kOnlyClock =
    "' is not available in the sandbox (only os.time, os.date, os.clock and os.difftime are)";

struct Forbidden {
  const char* name;
  const char* reason;
};
const Forbidden kForbiddenGlobals[] = {
    {"io", kNoEscape},         {"debug", kNoEscape},    {"ffi", kNoEscape},
    {"jit", kNoEscape},        {"package", kNoEscape},  {"load", kNoEscape},
    {"loadstring", kNoEscape}, {"loadfile", kNoEscape}, {"dofile", kNoEscape},
    {"getfenv", kNoEscape},    {"setfenv", kNoEscape},  {"newproxy", kNoEscape},
    {"module", kNoEscape},     {"gcinfo", kNoEscape},   {nullptr, nullptr}};
const Forbidden kForbiddenOs[] = {{"execute", kOnlyClock},   {"exit", kOnlyClock},
                                  {"getenv", kOnlyClock},    {"remove", kOnlyClock},
                                  {"rename", kOnlyClock},    {"tmpname", kOnlyClock},
                                  {"setlocale", kOnlyClock}, {nullptr, nullptr}};
const Forbidden kForbiddenString[] = {
    {"dump", "' is not available in the sandbox: bytecode is never loaded"}, {nullptr, nullptr}};

// __index of a library table (or _G): called only for names that are not
// there. Upvalue 1: the table's prefix ("" or "os."); upvalue 2: a light
// userdata pointing at its Forbidden list.
int forbidden_index(lua_State* L) {
  const char* name = lua_tostring(L, 2);
  const auto* list = static_cast<const Forbidden*>(lua_touserdata(L, lua_upvalueindex(2)));
  for (; name != nullptr && list->name != nullptr; ++list) {
    if (std::strcmp(list->name, name) == 0) {
      forbid(std::string("'") + lua_tostring(L, lua_upvalueindex(1)) + name + list->reason);
    }
  }
  return 0;
}

int sandbox_require(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  if (std::strcmp(name, "sdk") != 0) {
    forbid(std::string("module '") + name +
           "' is not available in the sandbox; only require(\"sdk\") is");
  }
  lua_getfield(L, LUA_REGISTRYINDEX, "sdp.sdk");
  return 1;
}

int sandbox_collectgarbage(lua_State* L) {
  const char* opt = luaL_optstring(L, 1, "collect");
  if (std::strcmp(opt, "count") != 0) {
    forbid(std::string("collectgarbage(\"") + opt +
           "\") is not available in the sandbox; only collectgarbage(\"count\") is");
  }
  lua_pushnumber(L, static_cast<lua_Number>(lua_gc(L, LUA_GCCOUNT, 0)) +
                        static_cast<lua_Number>(lua_gc(L, LUA_GCCOUNTB, 0)) / 1024.0);
  return 1;
}

// print(): kept for the author (shown by `host parse`), bounded.
int sandbox_print(lua_State* L) {
  RunContext& run = current_run();
  const int n = lua_gettop(L);
  std::string line;
  for (int i = 1; i <= n; ++i) {
    if (i > 1) line += '\t';
    std::size_t len = 0;
    const int t = lua_type(L, i);
    if (t == LUA_TSTRING || t == LUA_TNUMBER) {
      const char* s = lua_tolstring(L, i, &len);
      line.append(s, len);
    } else if (t == LUA_TBOOLEAN) {
      line += lua_toboolean(L, i) ? "true" : "false";
    } else if (t == LUA_TNIL) {
      line += "nil";
    } else {
      line += lua_typename(L, t);
    }
  }
  line += '\n';
  const std::size_t room =
      run.request->limits.max_log_bytes > run.log.size()
          ? static_cast<std::size_t>(run.request->limits.max_log_bytes - run.log.size())
          : 0;
  if (line.size() > room) {
    run.log.append(line, 0, room);
    run.log_truncated = true;
  } else {
    run.log += line;
  }
  return 0;
}

// tostring() that does not reveal addresses: tables and functions print as
// "table: 1", "function: 2", numbered per run.
int sandbox_tostring(lua_State* L) {
  luaL_checkany(L, 1);
  if (luaL_callmeta(L, 1, "__tostring")) {
    if (!lua_isstring(L, -1)) luaL_error(L, "'__tostring' must return a string");
    return 1;
  }
  const int t = lua_type(L, 1);
  switch (t) {
    case LUA_TNUMBER:
    case LUA_TSTRING:
      lua_pushvalue(L, 1);
      lua_tostring(L, -1);
      return 1;
    case LUA_TBOOLEAN:
      lua_pushstring(L, lua_toboolean(L, 1) ? "true" : "false");
      return 1;
    case LUA_TNIL:
      lua_pushliteral(L, "nil");
      return 1;
    default:
      break;
  }
  // Per-run ids, in a weak-keyed registry table.
  lua_getfield(L, LUA_REGISTRYINDEX, "sdp.ids");
  lua_pushvalue(L, 1);
  lua_rawget(L, -2);
  lua_Integer id = lua_tointeger(L, -1);
  lua_pop(L, 1);
  if (id == 0) {
    lua_rawgeti(L, -1, 0);
    id = lua_tointeger(L, -1) + 1;
    lua_pop(L, 1);
    lua_pushinteger(L, id);
    lua_rawseti(L, -2, 0);
    lua_pushvalue(L, 1);
    lua_pushinteger(L, id);
    lua_rawset(L, -3);
  }
  lua_pushfstring(L, "%s: %d", lua_typename(L, t), static_cast<int>(id));
  return 1;
}

void set_forbidding_metatable(lua_State* L, int table_index, const char* prefix,
                              const Forbidden* list) {
  if (table_index < 0 && table_index > LUA_REGISTRYINDEX) table_index += lua_gettop(L) + 1;
  lua_createtable(L, 0, 2);
  lua_pushstring(L, prefix);
  lua_pushlightuserdata(L, const_cast<Forbidden*>(list));
  lua_pushcclosure(L, guarded<forbidden_index>, 2);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, table_index);
}

void open_lib(lua_State* L, lua_CFunction open, const char* name) {
  lua_pushcfunction(L, open);
  lua_pushstring(L, name);
  lua_call(L, 1, 0);
}

// Builds the vetted environment. Runs under lua_cpcall (allocations can fail).
int setup_environment(lua_State* L) {
  open_lib(L, luaopen_base, "");
  open_lib(L, luaopen_table, LUA_TABLIBNAME);
  open_lib(L, luaopen_string, LUA_STRLIBNAME);
  open_lib(L, luaopen_math, LUA_MATHLIBNAME);
  open_lib(L, luaopen_bit, LUA_BITLIBNAME);
  open_lib(L, luaopen_os, LUA_OSLIBNAME);

  lua_pushvalue(L, LUA_GLOBALSINDEX);
  const int g = lua_gettop(L);

  // os: only the clock and calendar.
  lua_getfield(L, g, "os");
  lua_createtable(L, 0, 4);
  for (const char* fn : {"time", "date", "clock", "difftime"}) {
    lua_getfield(L, -2, fn);
    lua_setfield(L, -2, fn);
  }
  set_forbidding_metatable(L, -1, "os.", kForbiddenOs);
  lua_setfield(L, g, "os");
  lua_pop(L, 1);

  for (const char* name :
       {"dofile", "loadfile", "load", "loadstring", "getfenv", "setfenv", "newproxy", "gcinfo",
        "module", "require", "collectgarbage", "print", "tostring"}) {
    lua_pushnil(L);
    lua_setfield(L, g, name);
  }
  lua_pushcfunction(L, guarded<sandbox_require>);
  lua_setfield(L, g, "require");
  lua_pushcfunction(L, guarded<sandbox_collectgarbage>);
  lua_setfield(L, g, "collectgarbage");
  lua_pushcfunction(L, sandbox_print);
  lua_setfield(L, g, "print");
  lua_pushcfunction(L, sandbox_tostring);
  lua_setfield(L, g, "tostring");

  lua_getfield(L, g, "string");
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  set_forbidding_metatable(L, -1, "string.", kForbiddenString);
  lua_pop(L, 1);

  // Weak-keyed id table for tostring().
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, "sdp.ids");

  register_dom(L);

  // The SDK: loaded from source each run, given the natives, kept in the
  // registry for require("sdk").
  if (luaL_loadbuffer(L, embedded::kSdkLua.data(), embedded::kSdkLua.size(), "=sdk.lua") != 0) {
    return lua_error(L);
  }
  push_natives(L);
  lua_call(L, 1, 2);
  lua_setfield(L, LUA_REGISTRYINDEX, "sdp.internals");
  lua_setfield(L, LUA_REGISTRYINDEX, "sdp.sdk");

  set_forbidding_metatable(L, g, "", kForbiddenGlobals);
  lua_pop(L, 1);
  return 0;
}

struct LuaCloser {
  void operator()(lua_State* L) const noexcept { lua_close(L); }
};
using LuaPtr = std::unique_ptr<lua_State, LuaCloser>;

// The error value on top of the stack, as text, without running any
// metamethod of the script's (an error object's __tostring could loop).
std::string error_text(lua_State* L) {
  const int t = lua_type(L, -1);
  if (t == LUA_TSTRING || t == LUA_TNUMBER) {
    std::size_t len = 0;
    const char* s = lua_tolstring(L, -1, &len);
    return std::string(s, len);
  }
  if (t == LUA_TNIL) return "error raised with a nil value";
  return std::string("error raised with a ") + lua_typename(L, t) + " value instead of a message";
}

Error classify(const RunContext& run, ErrorKind fallback, std::string message) {
  if (run.budget.exceeded) {
    return {ErrorKind::kMemory,
            "memory limit of " + std::to_string(run.request->limits.memory_bytes >> 20) +
                " MiB exceeded (the script's tables and strings plus parsed documents)"};
  }
  if (run.timed_out) {
    return {ErrorKind::kTimeout, "CPU time limit of " +
                                     std::to_string(run.request->limits.cpu_time.count()) +
                                     " ms exceeded"};
  }
  if (run.forbidden) return {ErrorKind::kForbidden, run.forbidden_message};
  if (message.size() > 2000) message = message.substr(0, 2000) + "...";
  return {fallback, std::move(message)};
}

struct PhaseArgs {
  RunContext* run;
  RawResult* result;
};

}  // namespace

RunContext& current_run() { return *g_run; }
void set_current_run(RunContext* run) { g_run = run; }

std::int64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void forbid(const std::string& what) {
  RunContext& run = current_run();
  if (!run.forbidden) {
    run.forbidden = true;
    run.forbidden_message = what;
  }
  throw ScriptError{what};
}

void prepare_process() { install_xml_memory_hooks(); }

RawResult run_script(const RunRequest& request) {
  prepare_process();
  RawResult result;
  result.parser_json = "null";

  // Declared before the run so that it ends after it: the arena is emptied
  // only once the run's documents are freed.
  struct ArenaReset {
    ~ArenaReset() { reset_xml_arena(); }
  } arena_reset;
  RunContext run;
  run.request = &request;
  run.budget.limit = static_cast<std::int64_t>(std::min<std::uint64_t>(
      request.limits.memory_bytes,
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())));
  run.cpu_limit_ns = static_cast<std::int64_t>(request.limits.cpu_time.count()) * 1'000'000;
  run.cpu_start_ns = thread_cpu_ns();
  set_current_run(&run);
  ScopedXmlBudget xml_budget(&run.budget);

  auto finish = [&](RawResult& r) {
    r.cpu_ms = static_cast<double>(thread_cpu_ns() - run.cpu_start_ns) / 1e6;
    r.peak_memory = static_cast<std::uint64_t>(run.budget.peak);
    r.log = std::move(run.log);
    if (run.log_truncated) r.log += "[log truncated]\n";
  };

  {
    LuaHeap heap(&run.budget);  // outlives the state, which frees into it
    LuaPtr state(lua_newstate(LuaHeap::alloc, &heap));
    lua_State* L = state.get();
    if (L == nullptr) {
      result.error = {ErrorKind::kMemory, "not enough memory to create a Lua state"};
      finish(result);
      set_current_run(nullptr);
      return result;
    }
    // The JIT stays off: count hooks never fire in compiled code (see
    // docs/architecture.md), and parsing, not Lua, dominates extraction.
    luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);

    auto fail = [&](ErrorKind kind, std::string message) {
      result.ok = false;
      result.error = classify(run, kind, std::move(message));
    };

    if (lua_cpcall(L, setup_environment, nullptr) != 0) {
      fail(ErrorKind::kInternal, "could not set up the sandbox: " + error_text(L));
    } else {
      lua_sethook(L, cpu_hook, LUA_MASKCOUNT, kHookEvery);
      const std::string chunk_name = "=" + request.script_name;
      const std::string& src = request.script;
      if (!src.empty() && src[0] == '\x1b') {
        run.forbidden = true;
        run.forbidden_message =
            "precompiled bytecode is not accepted; give the parser as Lua source text";
        fail(ErrorKind::kForbidden, run.forbidden_message);
      } else if (luaL_loadbufferx(L, src.data(), src.size(), chunk_name.c_str(), "t") != 0) {
        fail(ErrorKind::kSyntax, error_text(L));
      } else if (lua_pcall(L, 0, 1, 0) != 0) {
        fail(ErrorKind::kRuntime, error_text(L));
      } else {
        // Stack: [class]. Ask the SDK to describe it, then run it.
        const int cls = lua_gettop(L);
        lua_getfield(L, LUA_REGISTRYINDEX, "sdp.internals");
        const int internals = lua_gettop(L);
        lua_getfield(L, internals, "describe");
        lua_pushvalue(L, cls);
        if (lua_pcall(L, 1, 1, 0) != 0) {
          fail(ErrorKind::kRuntime, error_text(L));
        } else {
          result.parser_json = value_to_json(L, -1);
          lua_pop(L, 1);
          lua_getfield(L, internals, "run");
          lua_pushvalue(L, cls);
          push_page(L, request.page);
          if (lua_pcall(L, 2, 1, 0) != 0) {
            fail(ErrorKind::kRuntime, error_text(L));
          } else if (run.budget.exceeded || run.timed_out || run.forbidden) {
            // A limit was hit and caught by the script's own pcall: the run
            // still fails.
            fail(ErrorKind::kRuntime, "");
          } else {
            // Reading the result must not trip the limits the script used up.
            lua_sethook(L, nullptr, 0, 0);
            run.budget.limit = std::numeric_limits<std::int64_t>::max();
            Error error;
            if (records_to_json(L, -1, request.limits, result.records_json, result.record_count,
                                error)) {
              result.ok = true;
            } else {
              result.error = error;
            }
          }
        }
      }
    }
    lua_sethook(L, nullptr, 0, 0);
    run.budget.limit = std::numeric_limits<std::int64_t>::max();
  }  // lua_close: every node handle dies before the documents below.
  for (RunContext::Document& d : run.documents) {
    if (d.in_arena) forget_arena_document(d.doc.release());
  }
  run.documents.clear();
  finish(result);
  set_current_run(nullptr);
  return result;
}

}  // namespace sandbox::engine
