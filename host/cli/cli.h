// The `host` command line: global options, exit codes, and the hook each
// command uses to register itself.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace host::cli {

// Exit codes of every command.
constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;  // the operation failed; stderr says what and what to do
constexpr int kExitUsage = 2;   // the command line was wrong

// Options every command sees.
struct Globals {
  std::string data_dir;  // --data, else $SDP_DATA, else ./data
};

// A command registers its subcommand and sets `run` to what executes it;
// `run` returns the exit code.
using Runner = std::function<int()>;
struct Command {
  CLI::App* app = nullptr;
  Runner run;
};

// Each command's registration function (one per file in host/commands/).
Command register_parse(CLI::App& root, const Globals& globals);
Command register_config(CLI::App& root, const Globals& globals);
Command register_records(CLI::App& root, const Globals& globals);
Command register_backup(CLI::App& root, const Globals& globals);
Command register_restore(CLI::App& root, const Globals& globals);
Command register_verify(CLI::App& root, const Globals& globals);
Command register_reprocess(CLI::App& root, const Globals& globals);
Command register_check(CLI::App& root, const Globals& globals);
Command register_new_parser(CLI::App& root, const Globals& globals);
Command register_run(CLI::App& root, const Globals& globals);
Command register_extract(CLI::App& root, const Globals& globals);
// One scan of the drop-in scripts directory (dropin.cc).
Command register_dropin(CLI::App& root, const Globals& globals);
// The task queue (tasks.cc) and source health (status.cc).
Command register_tasks(CLI::App& root, const Globals& globals);
Command register_status(CLI::App& root, const Globals& globals);
Command register_history(CLI::App& root, const Globals& globals);
Command register_revive(CLI::App& root, const Globals& globals);
// Registers several commands (add, stage, validate, promote, rollback,
// versions) into `commands` and returns the last one (diff).
Command register_lifecycle(CLI::App& root, const Globals& globals, std::vector<Command>& commands);

// Parses argv and runs the chosen command; returns the process exit code.
int run(int argc, char** argv);

// Prints "host: <message>" on stderr and returns kExitFailed.
int fail(const std::string& message);

}  // namespace host::cli
