// Escape and abuse attempts: each hostile script must end as an error of the
// expected kind, and the sandbox must serve the next run normally.
#include <gtest/gtest.h>

#include "tests/sandbox/sandbox_fixture.h"

namespace sandbox::testing {
namespace {

struct Attack {
  const char* name;
  const char* attacks;  // what it goes after, in one line
  const char* body;     // the inside of parse(page)
  const char* kind;     // expected error kind ("a|b": either)
};

void PrintTo(const Attack& a, std::ostream* os) { *os << a.name; }

const Attack kAttacks[] = {
    // Files and processes.
    {"IoOpen", "read a file through io", "return io.open('/etc/passwd'):read('*a')", "forbidden"},
    {"IoLines", "read a file through io.lines", "for l in io.lines('/etc/passwd') do end",
     "forbidden"},
    {"OsExecute", "run a shell command", "os.execute('touch /tmp/pwned')", "forbidden"},
    {"IoPopen", "start a process and read its output", "io.popen('id'):read('*a')", "forbidden"},
    {"OsExit", "kill the host process", "os.exit(1)", "forbidden"},
    {"OsRemove", "delete a file", "os.remove('/tmp/x')", "forbidden"},
    {"OsRename", "rename a file", "os.rename('/tmp/a', '/tmp/b')", "forbidden"},
    {"OsTmpname", "create a temporary file", "os.tmpname()", "forbidden"},
    {"OsGetenv", "read API keys from the environment",
     "return { { a = os.getenv('OPENAI_API_KEY') } }", "forbidden"},
    {"DofileEtc", "run a file as code", "dofile('/etc/passwd')", "forbidden"},
    {"Loadfile", "load a file as code", "loadfile('/etc/passwd')", "forbidden"},
    // Native code and the loader.
    {"RequireFfi", "call C through the FFI", "local ffi = require('ffi'); ffi.C.system('id')",
     "forbidden"},
    {"GlobalFfi", "reach the FFI as a global", "ffi.cdef('int getpid();')", "forbidden"},
    {"RequireIo", "get io back through require", "require('io').open('/etc/passwd')", "forbidden"},
    {"RequireSocket", "open the network", "require('socket').connect('1.2.3.4', 80)", "forbidden"},
    {"PackageLoadlib", "load a shared library",
     "package.loadlib('/lib/x86_64-linux-gnu/libc.so.6', 'system')", "forbidden"},
    {"JitOn", "turn the JIT back on to dodge the CPU hook", "jit.on()", "forbidden"},
    // Loading code and bytecode.
    {"LoadString", "compile code at run time", "load('return 1')()", "forbidden"},
    {"LoadstringCall", "compile code at run time (5.1 name)", "loadstring('return 1')()",
     "forbidden"},
    {"StringDump", "produce bytecode to load", "string.dump(function() end)", "forbidden"},
    {"StringDumpMethod", "reach string.dump through a string's metatable",
     "local s = ''; s.dump(print)", "forbidden"},
    // Environment escapes.
    {"Getfenv", "reach the real globals table", "getfenv(0).x = 1", "forbidden"},
    {"Setfenv", "swap a function's environment", "setfenv(1, {})", "forbidden"},
    {"DebugRegistry", "reach the registry through debug", "debug.getregistry()", "forbidden"},
    {"DebugSethook", "remove the CPU hook", "debug.sethook()", "forbidden"},
    {"Newproxy", "make a userdata with a __gc finalizer", "newproxy(true)", "forbidden"},
    {"CollectgarbageStop", "stop the collector to exhaust memory", "collectgarbage('stop')",
     "forbidden"},
    {"PcallSwallowsForbidden", "hide a forbidden access inside pcall",
     "pcall(function() return io.open end); return { { a = 'fine' } }", "forbidden"},
    // CPU.
    {"InfiniteLoop", "spin forever", "while true do end", "timeout"},
    {"JitFriendlyLoop", "a numeric loop the JIT would compile",
     "local x = 0; for i = 1, 1e13 do x = x + i end", "timeout"},
    {"PcallLoop", "swallow the timeout error and go on",
     "while true do pcall(function() while true do end end) end", "timeout"},
    {"PatternBacktracking", "a C-level pattern match that runs for minutes",
     "local s = ('a'):rep(300000); s:find('.-.-.-.-.-x')", "timeout"},
    {"TostringLoop", "loop inside a __tostring metamethod",
     "local t = setmetatable({}, { __tostring = function(s) return tostring(s) end }); tostring(t)",
     "runtime"},
    // Memory.
    {"StringDoubling", "grow a string until memory runs out",
     "local s = 'x'; while true do s = s .. s end", "memory"},
    {"HugeRep", "allocate one giant string", "local s = string.rep('x', 2^30)", "memory"},
    {"TableGrowth", "grow a table until memory runs out",
     "local t = {}; for i = 1, 1e9 do t[i] = i end", "memory"},
    {"TableConcat", "build a giant string with table.concat",
     "local t = {}; for i = 1, 4e6 do t[i] = 'abcdefghij' end; return { { a = table.concat(t) } }",
     "memory"},
    {"PcallSwallowsMemory", "catch the memory error and return normally",
     "pcall(function() local s = 'x'; while true do s = s .. s end end); return { { a = 'fine' } }",
     "memory"},
    // Recursion and the C stack.
    {"LuaRecursion", "recurse until the Lua stack overflows",
     "local function f(n) return f(n + 1) + 1 end; f(1)", "runtime"},
    {"GsubRecursion", "recurse through a C function (string.gsub)",
     "local function f() return (string.gsub('x', 'x', f)) end; f()", "runtime"},
    {"CoroutineRecursion", "recurse through coroutines",
     "local function f() return coroutine.wrap(f)() end; f()", "runtime|memory|timeout"},
    {"YieldFromParse", "yield out of the parse call", "coroutine.yield(1)", "runtime"},
    // Output.
    {"TooManyRecords", "return more records than allowed",
     "local t = {}; for i = 1, 100001 do t[i] = { a = 'x' } end; return t", "output"},
    {"HugeField", "return a string over the per-string limit",
     "return { { a = string.rep('x', 2^20 + 1) } }", "output"},
    {"ReturnFunction", "return a function", "return { { a = print } }", "runtime"},
    {"ReturnCycle", "return a table that contains itself",
     "local t = {}; t.self = t; return { { a = t } }", "runtime"},
    {"ReturnNaN", "return NaN", "return { { n = 0/0 } }", "runtime"},
    {"ReturnNode", "return a userdata node", "return { { a = page:html() } }", "runtime"},
    {"ReturnNotATable", "return a string instead of records", "return 'records'", "runtime"},
    {"ErrorObjectWithMetamethod", "an error object whose __tostring never returns",
     "error(setmetatable({}, { __tostring = function() while true do end end }))", "runtime"},
};

class SandboxEscape : public ::testing::TestWithParam<Attack> {};

TEST_P(SandboxEscape, EndsWithExpectedKindAndSandboxSurvives) {
  const Attack& attack = GetParam();
  const RunOutcome o = run_body(attack.body);
  const std::string expected = std::string("|") + attack.kind + "|";
  EXPECT_NE(expected.find("|" + kind_of(o) + "|"), std::string::npos)
      << attack.attacks << ": got " << kind_of(o) << ", expected " << attack.kind << "\n"
      << (o.error ? o.error->message : "(no error)");
  EXPECT_TRUE(o.records.empty());
  expect_sandbox_healthy();
}

INSTANTIATE_TEST_SUITE_P(Attacks, SandboxEscape, ::testing::ValuesIn(kAttacks),
                         [](const ::testing::TestParamInfo<Attack>& param_info) {
                           return std::string(param_info.param.name);
                         });

TEST(SandboxEscapeOther, BytecodeScriptIsRefused) {
  const RunOutcome o = run_script(std::string("\x1bLJ\x02\x00garbage", 10));
  EXPECT_EQ(kind_of(o), "forbidden");
  expect_sandbox_healthy();
}

TEST(SandboxEscapeOther, TostringHidesAddresses) {
  const RunOutcome o = run_body("return { { a = tostring({}) .. ' ' .. tostring(print) } }");
  ASSERT_TRUE(o.ok()) << o.error->message;
  const std::string a = o.records[0]["a"];
  EXPECT_EQ(a.find("0x"), std::string::npos) << a;
}

TEST(SandboxEscapeOther, NodeMetatableIsLocked) {
  const RunOutcome o = run_body("return { { a = tostring(getmetatable(page:html())) } }");
  ASSERT_TRUE(o.ok()) << o.error->message;
  EXPECT_EQ(o.records[0]["a"], "node");
}

TEST(SandboxEscapeOther, TableGcFinalizerNeverRuns) {
  // Lua 5.1 ignores __gc on tables; a looping finalizer must not hang close.
  const RunOutcome o = run_body(
      "setmetatable({}, { __gc = function() while true do end end }); return { { a = 'ok' } }");
  EXPECT_TRUE(o.ok());
}

}  // namespace
}  // namespace sandbox::testing
