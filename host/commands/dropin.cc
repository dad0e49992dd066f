// host dropin: one scan of the scripts directory. Every top-level SOURCE.lua
// that no version of SOURCE has yet is staged, validated and, if it passes
// (and dropin.mode is "promote"), promoted. `host run` does the same scan
// every few seconds.
#include <iomanip>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "host/cli/cli.h"
#include "host/cli/open_store.h"
#include "host/lifecycle/dropin.h"

namespace host::cli {
namespace {

struct DropinArgs {
  std::string scripts = "scripts";
  bool json = false;
};

int run_dropin(const Globals& g, const DropinArgs& a) {
  std::error_code ec;
  if (!std::filesystem::is_directory(a.scripts, ec)) {
    return fail("the scripts directory '" + a.scripts +
                "' does not exist; create it and put SOURCE.lua files in it, or pass "
                "--scripts DIR");
  }
  auto st = open_store(g, StoreMode::kRead);
  if (!st) return fail(st.error());
  sandbox::SandboxOptions options;
  options.workers = 2;
  auto box = sandbox::Sandbox::create(options);
  if (!box) return fail(box.error().message);
  lifecycle::DropinCache cache;
  // Every outcome is printed below; the log lines would repeat them.
  auto scan = lifecycle::scan_dropins(*st, **box, a.scripts, cache, nullptr);
  if (!scan) return fail(scan.error());
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& f : scan->files) {
      out.push_back(
          {{"file", f.file.string()},
           {"source", f.source},
           {"action", lifecycle::to_string(f.action)},
           {"version", f.version == 0 ? nlohmann::json(nullptr) : nlohmann::json(f.version)},
           {"detail", f.detail}});
    }
    std::cout << out.dump(2) << "\n";
  } else if (scan->files.empty()) {
    std::cout << "no drop-in scripts (SOURCE.lua) in " << a.scripts << "\n";
  } else {
    for (const auto& f : scan->files) {
      std::cout << std::left << std::setw(16) << lifecycle::to_string(f.action) << " "
                << f.file.filename().string() << ": " << f.detail << "\n";
    }
  }
  if (!scan->ok()) {
    std::cerr << "host dropin: some files could not be handled (see 'error' above); the next "
                 "scan retries them\n";
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace

Command register_dropin(CLI::App& root, const Globals& globals) {
  auto a = std::make_shared<DropinArgs>();
  CLI::App* app = root.add_subcommand(
      "dropin",
      "Stage, validate and promote the parser files dropped into the scripts directory "
      "(SOURCE.lua for source SOURCE), once");
  app->add_option("--scripts", a->scripts, "Scripts directory (default: scripts)");
  app->add_flag("--json", a->json, "Print what happened per file as JSON");
  return Command{app, [a, &globals] { return run_dropin(globals, *a); }};
}

}  // namespace host::cli
