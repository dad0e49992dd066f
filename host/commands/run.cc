// host run [--once] [--workers N]: the orchestrator; and host extract SOURCE
// [--wait]: one source's extraction now, ahead of scheduled work.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "host/cli/cli.h"
#include "host/cli/open_store.h"
#include "host/cli/signals.h"
#include "host/fetch/curl_fetcher.h"
#include "host/lifecycle/dropin.h"
#include "host/orchestrator/orchestrator.h"
#include "host/orchestrator/run_lock.h"
#include "host/util/cpus.h"
#include "host/util/heap.h"
#include "host/util/time_format.h"

namespace host::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct ExtractArgs {
  std::string source;
  bool wait = false;
  std::string timeout = "5m";
};

// Where the run's lines go: a live progress line on a terminal, plain
// timestamped lines otherwise.
class Console {
 public:
  Console() : tty_(::isatty(STDERR_FILENO) == 1) {}

  void line(std::string_view text) {
    std::lock_guard lock(mu_);
    if (tty_ && shown_) std::cerr << "\r\033[K";
    std::cout << util::format_time(store::now()) << " " << text << "\n" << std::flush;
    if (tty_ && shown_) std::cerr << status_ << std::flush;
  }

  void progress(const orchestrator::Progress& p) {
    char buf[256];
    std::snprintf(
        buf, sizeof buf,
        "tasks: %llu done, %llu failed, %llu in flight, %llu queued | %.1f pages/s",
        static_cast<unsigned long long>(p.done), static_cast<unsigned long long>(p.failed),
        static_cast<unsigned long long>(p.in_flight), static_cast<unsigned long long>(p.queued),
        p.elapsed_s > 0 ? static_cast<double>(p.pages) / p.elapsed_s : 0.0);
    std::lock_guard lock(mu_);
    if (tty_) {
      status_ = std::string(buf);
      std::cerr << "\r\033[K" << status_ << std::flush;
      shown_ = true;
    } else if (Clock::now() - last_plain_ >= std::chrono::seconds(10)) {
      last_plain_ = Clock::now();
      std::cout << util::format_time(store::now()) << " progress: " << buf << "\n" << std::flush;
    }
  }

  void end() {
    std::lock_guard lock(mu_);
    if (tty_ && shown_) std::cerr << "\r\033[K" << std::flush;
    shown_ = false;
  }

 private:
  std::mutex mu_;
  bool tty_;
  bool shown_ = false;
  std::string status_;
  Clock::time_point last_plain_ = Clock::now();
};

struct RunArgs {
  bool once = false;
  unsigned workers = 0;
  unsigned in_flight = 64;
  std::string scripts = "scripts";
  bool scripts_given = false;
  double drain_s = 8;
};

// How often a running host looks at the scripts directory.
constexpr auto kDropinEvery = std::chrono::seconds(2);

// Watches the scripts directory on a thread of its own (validating a
// drop-in runs the sandbox for seconds; the task loop must not wait).
class DropinWatcher {
 public:
  DropinWatcher(store::Store& st, std::filesystem::path dir, Console& console)
      : st_(st), dir_(std::move(dir)), console_(console) {}
  ~DropinWatcher() { stop(std::chrono::seconds(30)); }
  DropinWatcher(const DropinWatcher&) = delete;
  DropinWatcher& operator=(const DropinWatcher&) = delete;

  // One scan now, on the calling thread (before a --once drain).
  void scan_once() {
    if (!box_) {
      sandbox::SandboxOptions so;
      so.workers = 1;
      auto box = sandbox::Sandbox::create(so);
      if (!box) {
        console_.line("drop-ins: cannot start a sandbox: " + box.error().message);
        return;
      }
      box_ = std::move(*box);
    }
    auto scan = lifecycle::scan_dropins(st_, *box_, dir_, cache_, [this](std::string_view line) {
      console_.line(std::string("drop-in: ") += line);
    });
    if (!scan && scan.error() != last_error_) {
      console_.line("drop-ins: " + scan.error());
      last_error_ = scan.error();
    }
  }

  void start() {
    thread_ = std::thread([this] {
      std::unique_lock lock(mu_);
      while (!stop_) {
        lock.unlock();
        scan_once();
        lock.lock();
        cv_.wait_for(lock, kDropinEvery, [&] { return stop_; });
      }
      done_ = true;
      cv_.notify_all();
    });
  }

  // Asks the thread to stop; true if it ended within `limit` (a validation
  // in progress may take longer: the caller then exits without it).
  bool stop(std::chrono::milliseconds limit) {
    if (!thread_.joinable()) return true;
    std::unique_lock lock(mu_);
    stop_ = true;
    cv_.notify_all();
    if (!cv_.wait_for(lock, limit, [&] { return done_; })) {
      thread_.detach();
      return false;
    }
    lock.unlock();
    thread_.join();
    return true;
  }

 private:
  store::Store& st_;
  std::filesystem::path dir_;
  Console& console_;
  std::unique_ptr<sandbox::Sandbox> box_;
  lifecycle::DropinCache cache_;
  std::string last_error_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool done_ = false;
  std::thread thread_;
};

struct Engine {
  std::unique_ptr<sandbox::Sandbox> box;
  std::unique_ptr<fetch::Fetcher> fetcher;
};

std::expected<Engine, std::string> make_engine(unsigned workers, Console& console) {
  Engine e;
  sandbox::SandboxOptions so;
  so.workers = workers;
  auto box = sandbox::Sandbox::create(so);
  if (!box) return std::unexpected("cannot start the sandbox: " + box.error().message);
  e.box = std::move(*box);
  fetch::CurlFetcherConfig fc;
  fc.log = [&console](std::string_view line) { console.line(std::string("fetch: ") += line); };
  auto f = fetch::make_curl_fetcher(std::move(fc));
  if (!f) return std::unexpected("cannot start the fetcher: " + f.error().message);
  e.fetcher = std::move(*f);
  return e;
}

// Runs the orchestrator until it ends, with Ctrl-C handling and progress.
// Returns the summary; exits the process at once on a second signal.
std::expected<orchestrator::Summary, std::string> drive(orchestrator::Orchestrator& o,
                                                        Console& console, bool show_progress) {
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  std::thread ticker;
  if (show_progress) {
    ticker = std::thread([&] {
      std::unique_lock lock(mu);
      while (!cv.wait_for(lock, std::chrono::milliseconds(500), [&] { return finished; })) {
        lock.unlock();
        console.progress(o.progress());
        lock.lock();
      }
    });
  }
  auto summary = o.run();
  {
    std::lock_guard lock(mu);
    finished = true;
  }
  cv.notify_all();
  if (ticker.joinable()) ticker.join();
  console.end();
  return summary;
}

int run_run(const Globals& g, const RunArgs& a) {
  // First: the heap setting only reaches threads that have not allocated.
  util::tune_heap_for_long_run();
  Console console;
  // Before any thread starts: every thread inherits the blocked signals.
  orchestrator::Orchestrator* current = nullptr;
  std::mutex current_mu;
  SignalWatcher signals([&](int sig, int count) {
    if (count >= 2) {
      std::fputs("\nhost run: second signal, exiting now (committed work is safe)\n", stderr);
      std::_Exit(128 + sig);
    }
    console.line(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ": stopping");
    std::lock_guard lock(current_mu);
    if (current != nullptr) current->stop();
  });

  auto st = open_store(g, StoreMode::kWrite);
  if (!st) return fail(st.error());
  auto lock = orchestrator::RunLock::acquire(g.data_dir);
  if (!lock) return fail(lock.error());
  const unsigned workers = a.workers != 0 ? a.workers : util::usable_cpu_count();
  std::error_code ec;
  const bool have_scripts = std::filesystem::is_directory(a.scripts, ec);
  if (a.scripts_given && !have_scripts) {
    return fail("the scripts directory '" + a.scripts +
                "' does not exist; create it or pass another --scripts DIR");
  }
  auto engine = make_engine(workers, console);
  if (!engine) return fail(engine.error());
  std::optional<DropinWatcher> dropins;
  if (have_scripts) {
    dropins.emplace(*st, a.scripts, console);
    dropins->scan_once();  // drop-ins that were waiting count for this run
    if (!a.once) dropins->start();
  }

  orchestrator::Options opt;
  opt.workers = workers;
  opt.max_in_flight = a.in_flight;
  opt.once = a.once;
  opt.drain = std::chrono::milliseconds(static_cast<long long>(a.drain_s * 1000));
  opt.log = [&console](std::string_view line) { console.line(line); };
  orchestrator::Orchestrator o(*st, *engine->fetcher, *engine->box, opt);
  {
    std::lock_guard l(current_mu);
    current = &o;
  }
  console.line("host run: " + std::to_string(workers) + " worker(s), store " + g.data_dir +
               (a.once ? ", draining what is due" : ", Ctrl-C stops"));
  auto summary = drive(o, console, true);
  {
    std::lock_guard l(current_mu);
    current = nullptr;
  }
  const bool dropins_ended = !dropins || dropins->stop(std::chrono::seconds(1));
  if (!summary) {
    fail(summary.error());
    if (!dropins_ended) std::_Exit(kExitFailed);  // its thread still uses this frame
    return kExitFailed;
  }
  const auto& p = summary->progress;
  console.line("host run: done: " + std::to_string(p.done) + " task(s) succeeded, " +
               std::to_string(p.failed) + " failed, " + std::to_string(p.requeued) + " put back; " +
               std::to_string(p.pages) + " page(s), " + std::to_string(p.records) + " record(s)");
  if (summary->abandoned > 0 || !dropins_ended) {
    // A parser run is still busy on a worker thread; its task is back in the
    // queue, so nothing is lost by not waiting for it.
    std::cout << std::flush;
    std::_Exit(kExitOk);
  }
  return kExitOk;
}

// How a finished task is reported by `host extract --wait`.
int report_task(const store::Store& st, std::uint64_t id, const std::string& source) {
  auto txn = st.read();
  if (!txn) return fail(txn.error().message);
  auto task = st.tasks().get(*txn, id);
  if (!task || !*task) return fail("task " + std::to_string(id) + " disappeared from the queue");
  std::optional<store::Run> run;
  if (auto runs = st.runs().recent_for_source(*txn, source, 10); runs) {
    for (auto& r : *runs) {
      if (r.kind == "extract" && r.started_at >= (*task)->created_at) {
        run = std::move(r);
        break;
      }
    }
  }
  const auto state = (*task)->state;
  if (state == store::TaskState::kDone && run) {
    std::cout << "extract " << source << ": succeeded: " << run->records << " record(s)";
    if (run->rejects > 0) std::cout << ", " << run->rejects << " rejected";
    if (run->parser_version) std::cout << " with parser version " << *run->parser_version;
    if (run->snapshot_id) std::cout << " (snapshot " << *run->snapshot_id << ")";
    std::cout << "\n";
    return kExitOk;
  }
  if (state == store::TaskState::kDone) {
    std::cout << "extract " << source << ": done\n";
    return kExitOk;
  }
  if (state == store::TaskState::kCancelled) {
    return fail("the extraction of " + source + " was cancelled ('host tasks' shows the queue)");
  }
  std::string what = (*task)->last_error;
  if (run && !run->message.empty()) what = run->error_kind + ": " + run->message;
  return fail("the extraction of " + source + " failed: " + what + " ('host history " + source +
              "' shows its runs)");
}

int run_extract(const Globals& g, const ExtractArgs& a) {
  const auto timeout = [&]() -> std::optional<std::chrono::milliseconds> {
    auto v = sandbox::parse_duration(a.timeout);
    if (!v) return std::nullopt;
    return *v;
  }();
  if (!timeout) {
    std::cerr << "host extract: --timeout: '" << a.timeout
              << "' is not a duration; write it like 90s, 5m or 1h\n";
    return kExitUsage;
  }
  Console console;
  orchestrator::Orchestrator* current = nullptr;
  std::mutex current_mu;
  bool interrupted = false;
  SignalWatcher signals([&](int sig, int count) {
    if (count >= 2) std::_Exit(128 + sig);
    std::lock_guard lock(current_mu);
    interrupted = true;
    if (current != nullptr) current->stop();
  });

  auto st = open_store(g, StoreMode::kRead);
  if (!st) return fail(st.error());
  {
    auto txn = st->read();
    if (!txn) return fail(txn.error().message);
    auto src = st->sources().get(*txn, a.source);
    if (!src) return fail(src.error().message);
    if (!*src) return fail("no source named '" + a.source + "' ('host status' lists them)");
  }
  auto id = st->update([&](store::WriteTxn& txn) {
    store::NewTask t;
    t.type = store::TaskType::kExtract;
    t.source = a.source;
    t.priority = 100;  // ahead of scheduled work
    return st->tasks().enqueue(txn, t, store::now());
  });
  if (!id) return fail("could not queue the extraction: " + id.error().message);
  std::cout << "queued extract task " << *id << " for " << a.source << "\n" << std::flush;
  if (!a.wait) {
    if (!orchestrator::RunLock::holder(g.data_dir)) {
      std::cout << "no 'host run' is working this store: the task runs at the next 'host run' "
                   "(or use 'host extract "
                << a.source << " --wait')\n";
    }
    return kExitOk;
  }

  const auto deadline = Clock::now() + *timeout;
  if (auto lock = orchestrator::RunLock::acquire(g.data_dir); lock) {
    // Nobody is running the queue: run this one task here.
    auto engine = make_engine(1, console);
    if (!engine) return fail(engine.error());
    orchestrator::Options opt;
    opt.workers = 1;
    opt.only_task = *id;
    opt.schedule = false;
    opt.log = [&console](std::string_view line) { console.line(line); };
    orchestrator::Orchestrator o(*st, *engine->fetcher, *engine->box, opt);
    {
      std::lock_guard l(current_mu);
      current = &o;
      if (interrupted) o.stop();
    }
    auto summary = drive(o, console, false);
    {
      std::lock_guard l(current_mu);
      current = nullptr;
    }
    if (!summary) return fail(summary.error());
    if (summary->abandoned > 0 || summary->progress.requeued > 0) {
      std::cout << "interrupted: task " << *id << " is back in the queue\n" << std::flush;
      if (summary->abandoned > 0) std::_Exit(kExitFailed);
      return kExitFailed;
    }
    return report_task(*st, *id, a.source);
  }
  // A running orchestrator will take it (it is ahead of scheduled work).
  std::cout << "waiting for the running 'host run' to do it...\n" << std::flush;
  for (;;) {
    {
      auto txn = st->read();
      if (!txn) return fail(txn.error().message);
      auto t = st->tasks().get(*txn, *id);
      if (!t) return fail(t.error().message);
      if (!*t) return fail("task " + std::to_string(*id) + " disappeared from the queue");
      const auto s = (*t)->state;
      if (s == store::TaskState::kDone || s == store::TaskState::kFailed ||
          s == store::TaskState::kCancelled) {
        break;
      }
    }
    {
      std::lock_guard l(current_mu);
      if (interrupted) {
        std::cout << "stopped waiting; task " << *id << " stays queued\n";
        return kExitFailed;
      }
    }
    if (Clock::now() >= deadline) {
      return fail("task " + std::to_string(*id) + " did not end within " + a.timeout +
                  "; it stays queued ('host tasks --source " + a.source + "' shows it)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return report_task(*st, *id, a.source);
}

}  // namespace

Command register_run(CLI::App& root, const Globals& globals) {
  auto a = std::make_shared<RunArgs>();
  CLI::App* app = root.add_subcommand(
      "run",
      "Run the orchestrator: extract sources when their interval is due, run queued tasks "
      "(extract, validate, repair), keep health. Ctrl-C stops gracefully; a second Ctrl-C at "
      "once");
  app->add_flag("--once", a->once, "Drain what is due now, then exit");
  app->add_option("--workers", a->workers,
                  "Parser worker processes (default: the number of CPUs this process may use)")
      ->check(CLI::Range(1u, 256u));
  app->add_option("--in-flight", a->in_flight, "Tasks in flight at once (default 64)")
      ->check(CLI::Range(1u, 10000u));
  app->add_option("--scripts", a->scripts,
                  "Drop-in scripts directory, watched while running (default: scripts, if it "
                  "exists)")
      ->each([a](const std::string&) { a->scripts_given = true; });
  app->add_option("--drain", a->drain_s,
                  "Seconds work in flight may take to finish after Ctrl-C (default 8)")
      ->check(CLI::Range(0.0, 60.0));
  return Command{app, [a, &globals] { return run_run(globals, *a); }};
}

Command register_extract(CLI::App& root, const Globals& globals) {
  auto a = std::make_shared<ExtractArgs>();
  CLI::App* app =
      root.add_subcommand("extract", "Queue one source's extraction now, ahead of scheduled work");
  app->add_option("source", a->source, "Source name")->required();
  app->add_flag("--wait", a->wait,
                "Run it now (or wait for a running 'host run' to) and report the outcome");
  app->add_option("--timeout", a->timeout, "With --wait: how long to wait (default 5m)");
  return Command{app, [a, &globals] { return run_extract(globals, *a); }};
}

}  // namespace host::cli
