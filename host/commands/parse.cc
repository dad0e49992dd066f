// host parse SCRIPT PAGE... : runs a parser over saved pages and prints the
// records as JSON Lines. The tool a parser author iterates with.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "host/cli/cli.h"
#include "host/util/cpus.h"
#include "host/util/files.h"
#include "sandbox/sandbox.h"

namespace host::cli {
namespace {

struct ParseArgs {
  std::string script;
  std::vector<std::string> pages;
  std::string url;
  std::string max_memory;
  std::string timeout;
  unsigned jobs = 0;
};

// What one page produced, rendered, waiting for its turn to print.
struct PageResult {
  std::string out;  // JSON Lines for stdout
  std::string err;  // lines for stderr
  bool failed = false;
  std::size_t records = 0;
  std::size_t rejects = 0;
};

std::string prefix_lines(const std::string& page, const std::string& tag, const std::string& text) {
  std::string out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out += page + ": " + tag + ": " + line + "\n";
  return out;
}

PageResult parse_one(sandbox::Sandbox& box, const sandbox::Script& script, const std::string& path,
                     const std::string& url, const sandbox::Limits& limits) {
  PageResult r;
  auto body = util::read_file(path);
  if (!body) {
    r.failed = true;
    r.err = path + ": input: " + body.error() + "\n";
    return r;
  }
  sandbox::Page page;
  if (!url.empty()) {
    page.url = url;
  } else {
    std::error_code ec;
    page.url = "file://" + std::filesystem::absolute(path, ec).lexically_normal().string();
  }
  page.status = 200;
  if (std::string ct = util::content_type_for(path); !ct.empty()) {
    page.headers.emplace_back("Content-Type", std::move(ct));
  }
  page.body = std::move(*body);
  sandbox::RunOutcome outcome = box.run(script, page, limits, sandbox::RecordForm::kText);
  if (!outcome.log.empty()) r.err += prefix_lines(path, "print", outcome.log);
  for (const auto& rejected : outcome.rejects) {
    r.err += path + ": rejected: " + rejected.to_string() + "\n";
  }
  r.rejects = outcome.rejects.size();
  if (!outcome.ok()) {
    r.failed = true;
    r.err += path + ": " + std::string(sandbox::to_string(outcome.error->kind)) + ": " +
             outcome.error->message + "\n";
    return r;
  }
  for (const std::string& record : outcome.record_texts) {
    r.out += record;
    r.out += '\n';
  }
  r.records = outcome.record_texts.size();
  return r;
}

int run_parse(const ParseArgs& args) {
  sandbox::Limits limits;
  if (!args.max_memory.empty()) {
    auto bytes = sandbox::parse_size(args.max_memory);
    if (!bytes) {
      std::cerr << "host parse: --max-memory: " << bytes.error() << "\n";
      return kExitUsage;
    }
    limits.memory_bytes = *bytes;
  }
  if (!args.timeout.empty()) {
    auto ms = sandbox::parse_duration(args.timeout);
    if (!ms || ms->count() <= 0) {
      std::cerr << "host parse: --timeout: " << (ms ? "the timeout must be positive" : ms.error())
                << "\n";
      return kExitUsage;
    }
    limits.cpu_time = *ms;
  }
  auto source = util::read_file(args.script);
  if (!source) return fail(source.error());
  const sandbox::Script script{std::filesystem::path(args.script).filename().string(),
                               std::move(*source)};

  const std::vector<int> cpus = util::allowed_cpus();
  const unsigned jobs =
      std::max(1u, std::min<unsigned>(args.jobs == 0 ? util::usable_cpu_count() : args.jobs,
                                      static_cast<unsigned>(args.pages.size())));
  // When the jobs fill every CPU this process may use, each job gets a CPU
  // of its own: its thread and its sandbox's worker are pinned there and
  // hand pages back and forth as on one core. Otherwise one shared sandbox
  // serves a thread more than there are workers, so that while one thread
  // reads a page or formats a result, the worker it freed already has the
  // next page.
  const bool pinned = jobs > 1 && cpus.size() == jobs;
  const std::size_t n_threads = pinned ? jobs : std::min<std::size_t>(jobs + 1, args.pages.size());
  std::vector<std::unique_ptr<sandbox::Sandbox>> boxes;  // one per job when pinned
  for (std::size_t b = 0; b < (pinned ? jobs : 1); ++b) {
    sandbox::SandboxOptions options;
    options.workers = pinned ? 1 : jobs;
    options.address_space = (4ull << 30) + limits.memory_bytes;
    options.cpu = pinned ? cpus[b] : -1;
    auto box = sandbox::Sandbox::create(options);
    if (!box) return fail(box.error().message);
    boxes.push_back(std::move(*box));
  }

  // Pages run in parallel; their output is printed in the order given, by
  // whichever thread finishes the page that is next to print (no thread
  // waits for another to print, and no wake-up is spent on it).
  std::vector<std::optional<PageResult>> results(args.pages.size());
  std::mutex mu;
  std::size_t next_to_print = 0;  // guarded by mu
  std::size_t failed = 0;
  std::size_t records = 0;
  std::size_t rejects = 0;
  auto print_ready = [&] {  // with mu held
    for (; next_to_print < results.size() && results[next_to_print]; ++next_to_print) {
      const PageResult& r = *results[next_to_print];
      std::cout << r.out;
      std::cerr << r.err;
      failed += r.failed ? 1 : 0;
      records += r.records;
      rejects += r.rejects;
      results[next_to_print].reset();
    }
  };
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < n_threads; ++t) {
    threads.emplace_back([&, t] {
      if (pinned) util::pin_current_thread(cpus[t]);
      sandbox::Sandbox& box = *boxes[pinned ? t : 0];
      for (std::size_t i = next++; i < args.pages.size(); i = next++) {
        PageResult r = parse_one(box, script, args.pages[i], args.url, limits);
        std::lock_guard lock(mu);
        results[i] = std::move(r);
        print_ready();
      }
    });
  }
  for (auto& t : threads) t.join();
  std::cout.flush();
  if (::isatty(STDERR_FILENO)) {
    std::cerr << "host parse: " << args.pages.size() << " page(s), " << records << " record(s), "
              << rejects << " rejected, " << failed << " page(s) failed\n";
  }
  return failed == 0 ? kExitOk : kExitFailed;
}

}  // namespace

Command register_parse(CLI::App& root, const Globals&) {
  auto args = std::make_shared<ParseArgs>();
  CLI::App* app = root.add_subcommand(
      "parse",
      "Run a parser script over saved pages, each in a fresh sandbox, and print the records "
      "as JSON Lines. A page that fails gets a line '<page>: <kind>: <message>' on stderr; the "
      "others are still processed and the exit code is 1.");
  app->add_option("script", args->script, "The parser (a Lua file)")->required();
  app->add_option("pages", args->pages, "Saved pages to parse")->required();
  app->add_option("--url", args->url,
                  "URL the pages were fetched from (for resolving links; default: file://PATH)");
  app->add_option("--max-memory", args->max_memory,
                  "Memory limit per page, e.g. 64MiB, 1GiB (default 256MiB)");
  app->add_option("--timeout", args->timeout,
                  "CPU time limit per page in seconds, or with a unit: 500ms, 2m (default 10)");
  app->add_option("-j,--jobs", args->jobs,
                  "Pages parsed in parallel (default: the number of CPUs this process may use)")
      ->check(CLI::Range(1u, 256u));
  return Command{app, [args] { return run_parse(*args); }};
}

}  // namespace host::cli
