#include "host/cli/cli.h"

#include <cstdlib>
#include <iostream>
#include <vector>

#ifndef SDP_VERSION
#define SDP_VERSION "dev"
#endif

namespace host::cli {

int fail(const std::string& message) {
  std::cerr << "host: " << message << "\n";
  return kExitFailed;
}

int run(int argc, char** argv) {
  CLI::App root{
      "Smart Data Pipeline: turns URLs into self-healing web data extractors.\n"
      "Extractors are Lua scripts run in a sandbox; see docs/sdk.md.",
      "host"};
  root.set_version_flag("--version", std::string("host (Smart Data Pipeline) ") + SDP_VERSION);
  root.require_subcommand(1);
  root.fallthrough();

  Globals globals;
  const char* env = std::getenv("SDP_DATA");
  globals.data_dir = env != nullptr && *env != '\0' ? env : "./data";
  root.add_option("--data", globals.data_dir, "Store directory (default: $SDP_DATA, else ./data)");

  std::vector<Command> commands;
  commands.push_back(register_parse(root, globals));
  commands.push_back(register_config(root, globals));
  commands.push_back(register_lifecycle(root, globals, commands));
  commands.push_back(register_check(root, globals));
  commands.push_back(register_new_parser(root, globals));
  commands.push_back(register_dropin(root, globals));
  commands.push_back(register_records(root, globals));
  commands.push_back(register_reprocess(root, globals));
  commands.push_back(register_backup(root, globals));
  commands.push_back(register_restore(root, globals));
  commands.push_back(register_verify(root, globals));
  commands.push_back(register_run(root, globals));
  commands.push_back(register_extract(root, globals));
  commands.push_back(register_status(root, globals));
  commands.push_back(register_history(root, globals));
  commands.push_back(register_revive(root, globals));
  commands.push_back(register_tasks(root, globals));

  try {
    root.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return root.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return root.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return root.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string where = "host";
    for (const auto* sub : root.get_subcommands()) where += " " + sub->get_name();
    std::cerr << "host: " << e.what() << "\nRun '" << where << " --help' for usage.\n";
    return kExitUsage;
  }
  for (const Command& c : commands) {
    if (c.app->parsed()) return c.run();
  }
  return kExitUsage;
}

}  // namespace host::cli
