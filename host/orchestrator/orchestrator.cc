#include "host/orchestrator/orchestrator.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <span>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/config/effective.h"
#include "host/config/registry.h"
#include "host/health/policy.h"
#include "host/lifecycle/validation.h"
#include "host/pipeline/extraction.h"
#include "host/pipeline/silver_records.h"
#include "store/residency.h"

namespace host::orchestrator {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using StoreResult = std::expected<void, store::Error>;

constexpr std::int32_t kRepairPriority = 50;
constexpr auto kLeaseExtendEvery = std::chrono::seconds(30);
// How often a long run gives back memory it holds but does not use: the
// store's mapped pages (release_map) and freed heap (trim_heap).
constexpr auto kReleaseMapEvery = std::chrono::seconds(10);
// How often freed heap memory is given back to the system (malloc_trim).
constexpr auto kTrimHeapEvery = std::chrono::seconds(1);
// The most tasks queued or claimed in one transaction. LMDB keeps the
// buffers of the dirty pages of its largest write transaction for reuse and
// never returns them; queueing every due source at once (hundreds, each in
// its own part of the per-source index) made that the largest, and it grew
// with the task table.
constexpr std::size_t kTasksPerTxn = 32;
constexpr std::array<store::TaskType, 3> kHandledTypes{
    store::TaskType::kExtract, store::TaskType::kValidate, store::TaskType::kRepair};

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::string setting(const store::Store& st, const store::Txn& txn, std::string_view name,
                    std::string_view source) {
  return config::value_for(st, txn, name, source);
}

std::int64_t int_setting(const store::Store& st, const store::Txn& txn, std::string_view name,
                         std::string_view source) {
  return config::as_integer(*config::find_setting(name), setting(st, txn, name, source));
}

double number_setting(const store::Store& st, const store::Txn& txn, std::string_view name,
                      std::string_view source) {
  return config::as_number(*config::find_setting(name), setting(st, txn, name, source));
}

std::chrono::milliseconds duration_setting(const store::Store& st, const store::Txn& txn,
                                           std::string_view name, std::string_view source) {
  return config::as_duration(*config::find_setting(name), setting(st, txn, name, source));
}

health::Policy policy_for(const store::Store& st, const store::Txn& txn, std::string_view source) {
  health::Policy p;
  p.quarantine_after =
      static_cast<std::uint32_t>(int_setting(st, txn, "health.quarantine_after", source));
  p.max_repairs_per_day =
      static_cast<std::uint32_t>(int_setting(st, txn, "repair.max_per_day", source));
  p.quality_drop = number_setting(st, txn, "health.quality_drop", source);
  p.max_reject_ratio = 1.0 - number_setting(st, txn, "validate.min_schema_ratio", source);
  return p;
}

fetch::FetchOptions fetch_options_for(const store::Store& st, const store::Txn& txn,
                                      std::string_view source) {
  return fetch::fetch_options_from(
      [&](std::string_view name) { return setting(st, txn, name, source); });
}

// The start of the circuit breaker's window: 24 hours ago, or the source's
// last revival if that is later.
store::Time breaker_window_start(const store::Store& st, const store::Txn& txn,
                                 std::string_view source, store::Time now) {
  store::Time start = now - std::chrono::hours(24);
  auto transitions = st.health().transitions(txn, source, 50);
  if (!transitions) return start;
  for (const auto& t : *transitions) {
    if (t.at < start) break;
    if (t.from && *t.from == store::HealthState::kDead && t.to != store::HealthState::kDead) {
      return t.at;
    }
  }
  return start;
}

std::string state_name(store::HealthState s) { return std::string(store::to_string(s)); }

}  // namespace

std::string make_owner_name() {
  std::random_device rd;
  const auto r = (static_cast<std::uint64_t>(rd()) << 32) | rd();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08llx", static_cast<unsigned long long>(r & 0xffffffffULL));
  return "host:" + std::to_string(::getpid()) + ":" + buf;
}

struct Orchestrator::Impl {
  // One claimed task and what its work has gathered so far.
  struct Work {
    store::Task task;
    Clock::time_point started = Clock::now();
    store::Time started_at = store::now();
    // Extract tasks: the plan fixed when the work started.
    std::string url;
    std::shared_ptr<const store::ParserVersion> version;
    sandbox::Limits limits;
    fetch::FetchOptions fetch_options;
    std::chrono::milliseconds interval{0};
    std::optional<fetch::FetchResult> fetched;
    double fetch_ms = 0;
    std::atomic<bool> abandoned{false};
  };
  using WorkPtr = std::shared_ptr<Work>;

  // A finished piece of work, waiting to be written.
  struct Result {
    WorkPtr work;
    // Writes the outcome and ends the task, in the batch's transaction.
    std::function<StoreResult(store::WriteTxn&)> commit;
    // After the commit: counters and log lines.
    std::function<void()> after;
    // The task goes back to PENDING instead (cancelled at stop).
    bool requeue = false;
    std::string requeue_reason;
  };

  Impl(store::Store& s, fetch::Fetcher& f, sandbox::Sandbox& b, Options o)
      : st(s), fetcher(f), box(b), opt(std::move(o)), owner(make_owner_name()) {
    if (!opt.repair) opt.repair = recheck_repair;
    if (opt.workers == 0) opt.workers = 1;
    if (opt.max_in_flight == 0) opt.max_in_flight = 1;
  }

  ~Impl() {
    {
      std::lock_guard lock(mu);
      threads_stop = true;
    }
    jobs_cv.notify_all();
    for (auto& t : threads) {
      if (t.joinable()) t.join();
    }
  }

  store::Store& st;
  fetch::Fetcher& fetcher;
  sandbox::Sandbox& box;
  Options opt;
  const std::string owner;

  std::atomic<bool> stop_requested{false};
  Clock::time_point start_time = Clock::now();
  std::atomic<std::uint64_t> n_done{0}, n_failed{0}, n_requeued{0}, n_in_flight{0}, n_queued{0},
      n_pages{0}, n_records{0};

  std::mutex mu;
  std::condition_variable jobs_cv;  // worker threads wait for jobs
  std::condition_variable main_cv;  // the main loop waits for results
  std::deque<std::function<void()>> jobs;
  std::deque<Result> results;
  bool threads_stop = false;
  std::vector<std::thread> threads;

  // Main thread only.
  std::map<std::uint64_t, WorkPtr> active;  // by task id
  std::set<std::string> open_extract;       // sources with an extract task queued or running
  std::map<std::string, Clock::time_point> next_due;
  std::set<std::string> warned_no_parser;
  std::map<std::string, std::shared_ptr<const store::ParserVersion>> version_cache;
  bool queue_empty = false;  // the last claim found nothing due

  void log(const std::string& line) const {
    if (opt.log) opt.log(line);
  }

  // ---- threads -------------------------------------------------------------

  void start_threads() {
    for (unsigned i = 0; i < opt.workers; ++i) {
      threads.emplace_back([this] { worker_loop(); });
    }
  }

  void worker_loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu);
        jobs_cv.wait(lock, [&] { return threads_stop || !jobs.empty(); });
        if (jobs.empty()) return;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      job();
    }
  }

  void push_job(std::function<void()> job) {
    {
      std::lock_guard lock(mu);
      jobs.push_back(std::move(job));
    }
    jobs_cv.notify_one();
  }

  void push_result(Result r) {
    if (r.work->abandoned.load()) return;
    {
      std::lock_guard lock(mu);
      results.push_back(std::move(r));
    }
    main_cv.notify_one();
  }

  // Runs `fn` on a worker, turning an exception into a failed task so that
  // nothing a script or a page does takes the loop down.
  void on_worker(const WorkPtr& w, std::function<Result()> fn) {
    push_job([this, w, fn = std::move(fn)] {
      if (w->abandoned.load()) return;
      Result r;
      try {
        r = fn();
      } catch (const std::exception& e) {
        r = failed_task(w, std::string("internal error: ") + e.what());
      }
      push_result(std::move(r));
    });
  }

  // ---- results that only end the task ------------------------------------

  Result failed_task(const WorkPtr& w, std::string error) {
    Result r;
    r.work = w;
    r.commit = [this, w, error](store::WriteTxn& txn) {
      return st.tasks().fail(txn, w->task.id, owner, error, store::now());
    };
    r.after = [this, w, error] {
      ++n_failed;
      log(std::string(store::to_string(w->task.type)) + " " + w->task.source + " (task " +
          std::to_string(w->task.id) + ") failed: " + error);
    };
    return r;
  }

  Result requeue_task(const WorkPtr& w, std::string reason) {
    Result r;
    r.work = w;
    r.requeue = true;
    r.requeue_reason = std::move(reason);
    return r;
  }

  // ---- extraction ----------------------------------------------------------

  // The source's ACTIVE version (nullptr: none). One lookup per run; the
  // script is decoded again only when the active number changed (a
  // version's script never changes once stored). Main thread only.
  std::expected<std::shared_ptr<const store::ParserVersion>, store::Error> active_version(
      const store::Txn& txn, const std::string& source) {
    auto n = st.versions().active_number(txn, source);
    if (!n) return std::unexpected(n.error());
    if (!*n) return nullptr;
    auto& cached = version_cache[source];
    if (!cached || cached->number != **n) {
      auto v = st.versions().get(txn, source, **n);
      if (!v) return std::unexpected(v.error());
      if (!*v) return nullptr;
      cached = std::make_shared<const store::ParserVersion>(std::move(**v));
    }
    return cached;
  }

  // Fixes the plan (URL, active version, limits) and starts the fetch.
  void start_extract(const WorkPtr& w) {
    const std::string& source = w->task.source;
    std::string problem;
    {
      auto txn = st.read();
      if (!txn) {
        push_result(failed_task(w, "could not read the store: " + txn.error().message));
        return;
      }
      auto src = st.sources().get(*txn, source);
      if (!src || !*src) {
        push_result(failed_task(w, "no source named '" + source + "'"));
        return;
      }
      w->url = (*src)->url;
      auto v = active_version(*txn, source);
      if (!v) {
        push_result(failed_task(w, "could not read the parser version: " + v.error().message));
        return;
      }
      w->version = std::move(*v);
      w->limits = config::sandbox_limits(st, *txn, source);
      w->fetch_options = fetch_options_for(st, *txn, source);
      w->interval = duration_setting(st, *txn, "source.interval", source);
    }
    if (!w->version) {
      // Judged like any failed extraction: the operator sees it in health.
      push_result(extract_result(
          w, std::nullopt, nullptr, health::FailureKind::kNoParser,
          "no active parser version; promote one with 'host promote " + source + "'"));
      return;
    }
    fetch::FetchRequest req;
    req.url = w->url;
    req.options = w->fetch_options;
    req.source = source;
    const auto fetch_start = Clock::now();
    fetcher.submit(std::move(req), [this, w, fetch_start](fetch::FetchResult r) {
      w->fetch_ms = ms_since(fetch_start);
      w->fetched = std::move(r);
      on_worker(w, [this, w] { return parse_fetched(w); });
    });
  }

  Result parse_fetched(const WorkPtr& w) {
    // Taken out of the work: from here on the response (and its body) has
    // one owner, which hands it on to the bronze snapshot.
    fetch::FetchResult fetched = std::move(*w->fetched);
    w->fetched.reset();
    if (!fetched) {
      if (fetched.error().kind == fetch::FetchErrorKind::kCancelled) {
        return requeue_task(w, "cancelled: the host was stopping");
      }
      // The fetch layer's own kind ("timeout", "too_large", ...) leads the
      // message: the health kind alone is coarser.
      return extract_result(
          w, std::nullopt, nullptr, pipeline::failure_of(fetched.error()),
          std::string(fetch::to_string(fetched.error().kind)) + ": " + fetched.error().message);
    }
    const sandbox::Script script{w->task.source + ".lua", w->version->script};
    auto outcome = std::make_shared<sandbox::RunOutcome>(
        pipeline::run_parser(box, script, *fetched, w->limits));
    if (auto bad = pipeline::unusable(*outcome)) {
      return extract_result(
          w, std::move(*fetched), outcome, *bad,
          "version " + std::to_string(w->version->number) + ": " + pipeline::describe(*outcome));
    }
    return extract_result(w, std::move(*fetched), outcome, std::nullopt, "");
  }

  // The result of an extraction: success when `failure` is nullopt.
  Result extract_result(const WorkPtr& w, std::optional<fetch::FetchResponse> response,
                        std::shared_ptr<sandbox::RunOutcome> outcome,
                        std::optional<health::FailureKind> failure, std::string message) {
    struct Data {
      std::optional<store::FetchedPage> page;
      std::vector<store::RecordInput> inputs;
      std::uint64_t records = 0, rejects = 0;
      std::string usage;
      double parse_ms = 0;
      // Filled by the commit, read by after().
      std::optional<std::uint64_t> snapshot;
      store::UpsertStats stats;
      std::optional<health::Decision> decision;
      std::optional<store::HealthState> before;
    };
    auto d = std::make_shared<Data>();
    const store::Time now = store::now();
    if (response) d->page = pipeline::to_fetched_page(w->task.source, std::move(*response), now);
    if (outcome) {
      d->rejects = outcome->rejects.size();
      d->parse_ms = outcome->usage.wall_ms;
      d->usage = json{{"cpu_ms", outcome->usage.cpu_ms},
                      {"wall_ms", outcome->usage.wall_ms},
                      {"peak_memory", outcome->usage.peak_memory},
                      {"fetch_ms", w->fetch_ms}}
                     .dump();
      if (!failure) {
        d->inputs = pipeline::to_record_inputs(std::move(*outcome));
        d->records = d->inputs.size();
      }
    } else {
      d->usage = json{{"fetch_ms", w->fetch_ms}}.dump();
    }

    Result r;
    r.work = w;
    r.commit = [this, w, d, failure, message](store::WriteTxn& txn) -> StoreResult {
      const std::string& source = w->task.source;
      const store::Time at = store::now();
      d->snapshot.reset();
      d->stats = {};
      if (d->page) {
        auto put = st.bronze().put(txn, *d->page);
        if (!put) return std::unexpected(put.error());
        d->snapshot = put->id;
      }
      if (!failure) {
        const store::Lineage lineage{*d->snapshot, w->version->number, at};
        auto stats = st.silver().upsert(txn, source, lineage, d->inputs);
        if (!stats) return std::unexpected(stats.error());
        d->stats = *stats;
      }
      if (d->page) {
        const auto keep =
            static_cast<std::size_t>(int_setting(st, txn, "store.bronze_keep", source));
        if (auto kept = st.bronze().apply_retention(txn, source, keep); !kept) {
          return std::unexpected(kept.error());
        }
      }
      // Health.
      auto current = st.health().get(txn, source);
      if (!current) return std::unexpected(current.error());
      d->before = *current ? std::optional((*current)->state) : std::nullopt;
      health::Outcome o;
      o.success = !failure;
      if (failure) o.failure = *failure;
      o.message = message;
      o.records = d->records;
      o.rejects = d->rejects;
      if (auto prev = st.metrics().latest(txn, source, "records"); prev && *prev) {
        o.previous_records = static_cast<std::uint64_t>((*prev)->value);
      }
      const health::Policy policy = policy_for(st, txn, source);
      d->decision = health::apply(source, *current, o, policy, at);
      if (auto ok = st.health().put(txn, d->decision->health, d->decision->reason); !ok) {
        return std::unexpected(ok.error());
      }
      if (d->decision->queue_repair) {
        store::NewTask repair;
        repair.type = store::TaskType::kRepair;
        repair.source = source;
        repair.priority = kRepairPriority;
        repair.payload = json{{"reason", d->decision->health.last_error}}.dump();
        if (auto id = st.tasks().enqueue(txn, repair, at); !id) {
          return std::unexpected(id.error());
        }
      }
      // The run, its metrics, and the task's end.
      store::Run run;
      run.source = source;
      run.kind = "extract";
      run.state = failure ? store::RunState::kFailed : store::RunState::kSucceeded;
      run.started_at = w->started_at;
      run.finished_at = at;
      run.snapshot_id = d->snapshot;
      if (w->version) run.parser_version = w->version->number;
      run.records = d->records;
      run.rejects = d->rejects;
      if (failure) run.error_kind = std::string(health::to_string(*failure));
      run.message = message;
      run.usage = d->usage;
      if (auto id = st.runs().add(txn, run); !id) return std::unexpected(id.error());
      auto metric = [&](std::string_view name, double value) -> StoreResult {
        return st.metrics().record(txn, source, name, at, value);
      };
      if (auto ok = metric("fetch_ms", w->fetch_ms); !ok) return ok;
      if (d->page) {
        if (auto ok = metric("bytes", static_cast<double>(d->page->body.size())); !ok) return ok;
      }
      if (!failure) {
        if (auto ok = metric("records", static_cast<double>(d->records)); !ok) return ok;
        if (auto ok = metric("rejects", static_cast<double>(d->rejects)); !ok) return ok;
        if (auto ok = metric("parse_ms", d->parse_ms); !ok) return ok;
        return st.tasks().complete(txn, w->task.id, owner, at);
      }
      return st.tasks().fail(txn, w->task.id, owner,
                             std::string(health::to_string(*failure)) + ": " + message, at);
    };
    r.after = [this, w, d, failure, message] {
      const std::string& source = w->task.source;
      if (d->page) ++n_pages;
      n_records += d->records;
      std::string line = "extract " + source + ": ";
      if (!failure) {
        ++n_done;
        line += std::to_string(d->records) + " records (" + std::to_string(d->stats.inserted) +
                " new, " + std::to_string(d->stats.changed) + " changed) with version " +
                std::to_string(w->version->number);
        if (d->rejects > 0) line += ", " + std::to_string(d->rejects) + " rejected";
      } else {
        ++n_failed;
        line += "FAILED (" + std::string(health::to_string(*failure)) + ") " + message;
      }
      if (d->snapshot) line += ", snapshot " + std::to_string(*d->snapshot);
      line += " in " + std::to_string(static_cast<long long>(ms_since(w->started))) + " ms";
      log(line);
      if (d->decision && d->decision->changed) {
        log(source + ": " + (d->before ? state_name(*d->before) : std::string("new")) + " -> " +
            state_name(d->decision->health.state) + " (" + d->decision->reason + ")");
      }
      if (d->decision && d->decision->queue_repair) log(source + ": repair task queued");
      open_extract.erase(source);
      next_due[source] = Clock::now() + w->interval;
    };
    return r;
  }

  // ---- validation ----------------------------------------------------------

  Result run_validate(const WorkPtr& w) {
    const std::string& source = w->task.source;
    json payload = json::parse(w->task.payload, nullptr, false);
    std::uint32_t version = 0;
    bool promote = false;
    if (payload.is_object()) {
      version = payload.value("version", 0u);
      promote = payload.value("promote", false);
    }
    if (version == 0) {
      return failed_task(w, "the validate task names no version (payload {\"version\": N})");
    }
    auto report = lifecycle::validate_version(st, box, source, version,
                                              lifecycle::validation_options(st, source));
    if (!report) return failed_task(w, report.error());
    auto rep = std::make_shared<lifecycle::ValidationReport>(std::move(*report));
    auto promoted = std::make_shared<bool>(false);
    Result r;
    r.work = w;
    r.commit = [this, w, rep, promote, promoted, version](store::WriteTxn& txn) -> StoreResult {
      const store::Time at = store::now();
      *promoted = false;
      if (auto ok = st.versions().set_validation_report(txn, w->task.source, version,
                                                        rep->to_json().dump());
          !ok) {
        return ok;
      }
      if (rep->passed && promote) {
        if (auto ok = st.versions().promote(txn, w->task.source, version, at); !ok) return ok;
        *promoted = true;
      }
      if (rep->passed) return st.tasks().complete(txn, w->task.id, owner, at);
      return st.tasks().fail(txn, w->task.id, owner, "validation failed: " + rep->failures(), at);
    };
    r.after = [this, w, rep, promoted, version] {
      (rep->passed ? n_done : n_failed)++;
      log("validate " + w->task.source + " version " + std::to_string(version) + ": " +
          (rep->passed ? "PASSED" : "FAILED: " + rep->failures()) +
          (*promoted ? "; promoted" : ""));
    };
    return r;
  }

  // ---- repair ----------------------------------------------------------------

  Result run_repair(const WorkPtr& w) {
    const std::string& source = w->task.source;
    const store::Time now = store::now();
    RepairRequest req;
    req.store = &st;
    req.fetcher = &fetcher;
    req.sandbox = &box;
    req.source = source;
    std::uint64_t in_window = 0;
    health::Policy policy;
    std::optional<store::SourceHealth> current;
    {
      auto txn = st.read();
      if (!txn) return failed_task(w, "could not read the store: " + txn.error().message);
      auto src = st.sources().get(*txn, source);
      if (!src || !*src) return failed_task(w, "no source named '" + source + "'");
      req.url = (*src)->url;
      req.fetch_options = fetch_options_for(st, *txn, source);
      req.limits = config::sandbox_limits(st, *txn, source);
      if (auto n = st.versions().active_number(*txn, source); n) req.active_version = *n;
      auto h = st.health().get(*txn, source);
      if (h && *h) current = **h;
      req.reason = current ? current->last_error : "";
      policy = policy_for(st, *txn, source);
      auto count = st.repairs().count_between(*txn, source,
                                              breaker_window_start(st, *txn, source, now), now);
      if (count) in_window = *count;
    }
    if (current && current->state == store::HealthState::kDead) {
      return finish_task(w, "the source is DEAD; 'host revive " + source + "' first");
    }
    if (!health::repair_allowed(in_window, policy)) return breaker_tripped(w, current, in_window);

    const RepairResult fix = opt.repair(req);
    auto repair_dead = std::make_shared<bool>(false);
    Result r;
    r.work = w;
    r.commit = [this, w, fix, req, current, in_window, policy, source,
                repair_dead](store::WriteTxn& txn) -> StoreResult {
      const store::Time at = store::now();
      *repair_dead = false;
      store::Repair rep;
      rep.source = source;
      rep.state = fix.repaired ? store::RepairState::kApplied : store::RepairState::kFailed;
      rep.created_at = rep.updated_at = at;
      rep.from_version = req.active_version;
      rep.to_version = fix.promote ? fix.promote : req.active_version;
      rep.reason = req.reason;
      rep.diff = fix.diff;
      rep.message = fix.message;
      if (auto id = st.repairs().add(txn, rep); !id) return std::unexpected(id.error());
      if (fix.promote) {
        if (auto ok = st.versions().promote(txn, source, *fix.promote, at); !ok) return ok;
      }
      store::Run run;
      run.source = source;
      run.kind = "repair";
      run.state = fix.repaired ? store::RunState::kSucceeded : store::RunState::kFailed;
      run.started_at = w->started_at;
      run.finished_at = at;
      run.parser_version = rep.to_version;
      run.error_kind = fix.repaired ? "" : "repair_failed";
      run.message = fix.message;
      if (auto id = st.runs().add(txn, run); !id) return std::unexpected(id.error());

      store::SourceHealth h = current ? *current : store::SourceHealth{};
      h.source = source;
      h.updated_at = at;
      std::string reason;
      if (fix.repaired) {
        h.state = store::HealthState::kActive;
        h.failures_in_row = 0;
        reason = "repaired: " + fix.message;
      } else if (!health::repair_allowed(in_window + 1, policy)) {
        auto d = health::exhaust(source, h, in_window + 1, at);
        h = d.health;
        reason = d.reason;
        *repair_dead = true;
      } else {
        // Try again later; the source stays QUARANTINED meanwhile.
        store::NewTask again;
        again.type = store::TaskType::kRepair;
        again.source = source;
        again.priority = kRepairPriority;
        again.not_before = at + std::chrono::duration_cast<std::chrono::microseconds>(
                                    duration_setting(st, txn, "repair.retry_after", source));
        again.payload = w->task.payload;
        if (auto id = st.tasks().enqueue(txn, again, at); !id) return std::unexpected(id.error());
      }
      if (auto ok = st.health().put(txn, h, reason); !ok) return ok;
      if (fix.repaired) return st.tasks().complete(txn, w->task.id, owner, at);
      return st.tasks().fail(txn, w->task.id, owner, "repair failed: " + fix.message, at);
    };
    r.after = [this, w, fix, repair_dead, source] {
      (fix.repaired ? n_done : n_failed)++;
      log("repair " + source + ": " + (fix.repaired ? "repaired: " : "failed: ") + fix.message);
      if (fix.repaired) {
        log(source + ": QUARANTINED -> ACTIVE (repaired)");
      } else if (*repair_dead) {
        log(source + ": QUARANTINED -> DEAD (repairs exhausted; 'host revive " + source +
            "' brings it back)");
      }
    };
    return r;
  }

  Result breaker_tripped(const WorkPtr& w, const std::optional<store::SourceHealth>& current,
                         std::uint64_t in_window) {
    Result r;
    r.work = w;
    auto d = std::make_shared<health::Decision>(
        health::exhaust(w->task.source, current, in_window, store::now()));
    r.commit = [this, w, d](store::WriteTxn& txn) -> StoreResult {
      if (auto ok = st.health().put(txn, d->health, d->reason); !ok) return ok;
      return st.tasks().fail(txn, w->task.id, owner, "circuit breaker: " + d->reason, store::now());
    };
    r.after = [this, w, d] {
      ++n_failed;
      log(w->task.source + ": -> DEAD (" + d->reason + ")");
    };
    return r;
  }

  // Ends the task as done, with nothing else to write.
  Result finish_task(const WorkPtr& w, std::string message) {
    Result r;
    r.work = w;
    r.commit = [this, w](store::WriteTxn& txn) {
      return st.tasks().complete(txn, w->task.id, owner, store::now());
    };
    r.after = [this, w, message] {
      ++n_done;
      log(std::string(store::to_string(w->task.type)) + " " + w->task.source + ": " + message);
    };
    return r;
  }

  // ---- the main loop ---------------------------------------------------------

  void dispatch(const WorkPtr& w) {
    switch (w->task.type) {
      case store::TaskType::kExtract:
        open_extract.insert(w->task.source);
        start_extract(w);
        return;
      case store::TaskType::kValidate:
        on_worker(w, [this, w] { return run_validate(w); });
        return;
      case store::TaskType::kRepair:
        on_worker(w, [this, w] { return run_repair(w); });
        return;
      default:
        push_result(failed_task(w, "this host has no handler for " +
                                       std::string(store::to_string(w->task.type)) + " tasks"));
    }
  }

  // Puts back every task a previous (crashed or killed) run left IN_PROGRESS.
  std::expected<std::uint64_t, std::string> requeue_orphans() {
    auto r = st.update([&](store::WriteTxn& txn) -> std::expected<std::uint64_t, store::Error> {
      auto running = st.tasks().list(txn, store::TaskState::kInProgress);
      if (!running) return std::unexpected(running.error());
      const store::Time now = store::now();
      std::uint64_t n = 0;
      for (const auto& t : *running) {
        auto ok = st.tasks().requeue(
            txn, t.id, t.lease_owner,
            "requeued: the host that ran it (" + t.lease_owner + ") stopped before it ended", now,
            now);
        if (!ok) return std::unexpected(ok.error());
        ++n;
      }
      return n;
    });
    if (!r) return std::unexpected("could not requeue unfinished tasks: " + r.error().message);
    return *r;
  }

  // The sources with an extract task already queued (so none is added).
  void load_open_extracts() {
    auto txn = st.read();
    if (!txn) return;
    for (auto state : {store::TaskState::kPending, store::TaskState::kInProgress}) {
      auto list = st.tasks().list(*txn, state);
      if (!list) continue;
      for (const auto& t : *list) {
        if (t.type == store::TaskType::kExtract) open_extract.insert(t.source);
      }
    }
  }

  // Queues an extract task for every source whose interval has passed.
  void schedule() {
    std::vector<std::string> due;
    {
      auto txn = st.read();
      if (!txn) {
        log("scheduler: cannot read the store: " + txn.error().message);
        return;
      }
      auto sources = st.sources().list(*txn);
      if (!sources) {
        log("scheduler: cannot list sources: " + sources.error().message);
        return;
      }
      const auto now = Clock::now();
      const store::Time wall = store::now();
      for (const auto& s : *sources) {
        if (!s.enabled || open_extract.contains(s.name)) continue;
        auto it = next_due.find(s.name);
        std::optional<store::SourceHealth> h;
        if (auto got = st.health().get(*txn, s.name); got && *got) h = std::move(**got);
        if (h && (h->state == store::HealthState::kQuarantined ||
                  h->state == store::HealthState::kDead)) {
          continue;
        }
        if (it == next_due.end()) {
          // First look since start: due one interval after its last extraction.
          auto last = h ? std::optional(h->updated_at) : std::nullopt;
          auto interval = duration_setting(st, *txn, "source.interval", s.name);
          auto due_at = now;
          if (last && *last + interval > wall) {
            due_at = now + std::chrono::duration_cast<Clock::duration>(*last + interval - wall);
          }
          it = next_due.emplace(s.name, due_at).first;
        }
        if (it->second > now) continue;
        auto active_version = st.versions().active_number(*txn, s.name);
        if (!active_version || !*active_version) {
          if (warned_no_parser.insert(s.name).second) {
            log("scheduler: " + s.name + " has no active parser version; not extracted");
          }
          continue;
        }
        due.push_back(s.name);
      }
    }
    for (std::size_t first = 0; first < due.size(); first += kTasksPerTxn) {
      const std::span<const std::string> chunk =
          std::span(due).subspan(first, std::min(kTasksPerTxn, due.size() - first));
      auto r = st.update([&](store::WriteTxn& txn) -> std::expected<void, store::Error> {
        const store::Time now = store::now();
        for (const auto& name : chunk) {
          store::NewTask t;
          t.type = store::TaskType::kExtract;
          t.source = name;
          if (auto id = st.tasks().enqueue(txn, t, now); !id) return std::unexpected(id.error());
        }
        return {};
      });
      if (!r) {  // the rest stay due and are tried at the next look
        log("scheduler: cannot queue extractions: " + r.error().message);
        return;
      }
      for (const auto& name : chunk) open_extract.insert(name);
    }
  }

  // Claims what fits in flight, kTasksPerTxn per transaction.
  void claim() {
    for (;;) {
      const std::size_t room =
          opt.max_in_flight > active.size() ? opt.max_in_flight - active.size() : 0;
      if (room == 0 || !claim_some(std::min(room, kTasksPerTxn))) return;
    }
  }

  // Claims up to `room` tasks in one transaction; false when the queue had
  // fewer (or the store failed), so there is no point asking again now.
  bool claim_some(std::size_t room) {
    const auto lease = std::chrono::duration_cast<std::chrono::microseconds>(opt.lease);
    auto claimed = st.update(
        [&](store::WriteTxn& txn) -> std::expected<std::vector<store::Task>, store::Error> {
          std::vector<store::Task> out;
          const store::Time now = store::now();
          if (opt.only_task) {
            if (active.empty() && !only_task_claimed) {
              auto t = st.tasks().claim_id(txn, *opt.only_task, owner, lease, now);
              if (!t) return std::unexpected(t.error());
              if (*t) out.push_back(std::move(**t));
            }
            return out;
          }
          while (out.size() < room) {
            auto t = st.tasks().claim(txn, owner, lease, now, kHandledTypes);
            if (!t) return std::unexpected(t.error());
            if (!*t) break;
            out.push_back(std::move(**t));
          }
          return out;
        });
    if (!claimed) {
      log("cannot claim tasks: " + claimed.error().message);
      return false;
    }
    queue_empty = claimed->size() < room || (opt.only_task && claimed->empty());
    for (auto& t : *claimed) {
      if (opt.only_task) only_task_claimed = true;
      auto w = std::make_shared<Work>();
      w->task = std::move(t);
      active.emplace(w->task.id, w);
      dispatch(w);
    }
    return !queue_empty && !opt.only_task;
  }
  bool only_task_claimed = false;

  // Writes the finished results, many per transaction; returns how many.
  std::size_t commit_results() {
    std::vector<Result> batch;
    {
      std::lock_guard lock(mu);
      while (!results.empty() && batch.size() < opt.max_batch) {
        batch.push_back(std::move(results.front()));
        results.pop_front();
      }
    }
    if (batch.empty()) return 0;
    auto write = [&](std::span<Result> items) {
      return st.update([&](store::WriteTxn& txn) -> StoreResult {
        const store::Time now = store::now();
        for (auto& r : items) {
          if (r.requeue) {
            auto ok = st.tasks().requeue(txn, r.work->task.id, owner, r.requeue_reason, now, now);
            if (!ok) return ok;
          } else if (auto ok = r.commit(txn); !ok) {
            return ok;
          }
        }
        return {};
      });
    };
    auto done = [&](Result& r) {
      if (r.requeue) {
        ++n_requeued;
        if (r.work->task.type == store::TaskType::kExtract) {
          // Still queued: keep the source marked open.
          open_extract.insert(r.work->task.source);
        }
      } else if (r.after) {
        r.after();
      }
      active.erase(r.work->task.id);
    };
    if (write(batch)) {
      for (auto& r : batch) done(r);
      return batch.size();
    }
    // One item spoils the batch: write them one by one to find it.
    for (auto& r : batch) {
      auto ok = write(std::span<Result>(&r, 1));
      if (ok) {
        done(r);
        continue;
      }
      const std::string error = "could not store the outcome: " + ok.error().message;
      auto failed = st.update([&](store::WriteTxn& txn) {
        return st.tasks().fail(txn, r.work->task.id, owner, error, store::now());
      });
      ++n_failed;
      log(std::string(store::to_string(r.work->task.type)) + " " + r.work->task.source + " (task " +
          std::to_string(r.work->task.id) + "): " + error +
          (failed ? "" : "; the task stays leased until its lease expires"));
      if (r.work->task.type == store::TaskType::kExtract) {
        open_extract.erase(r.work->task.source);
        next_due[r.work->task.source] = Clock::now() + r.work->interval;
      }
      active.erase(r.work->task.id);
    }
    return batch.size();
  }

  void extend_leases() {
    if (active.empty()) return;
    const store::Time now = store::now();
    const auto expiry = now + std::chrono::duration_cast<std::chrono::microseconds>(opt.lease);
    auto r = st.update([&](store::WriteTxn& txn) -> StoreResult {
      for (const auto& [id, w] : active) {
        auto ok = st.tasks().extend_lease(txn, id, owner, expiry, now);
        // kConflict: someone requeued or cancelled it; its result will say so.
        if (!ok && ok.error().kind != store::ErrorKind::kConflict) return ok;
      }
      return {};
    });
    if (!r) log("cannot extend task leases: " + r.error().message);
  }

  // Keeps the store from growing without end: finished tasks, runs and
  // metric samples older than store.history_keep go, at start and hourly
  // (so each pass deletes about an hour's worth).
  void prune_history() {
    auto r = st.update([&](store::WriteTxn& txn) -> std::expected<std::uint64_t, store::Error> {
      const auto keep = std::chrono::duration_cast<std::chrono::microseconds>(
          duration_setting(st, txn, "store.history_keep", ""));
      const store::Time before = store::now() - keep;
      std::uint64_t n = 0;
      for (auto state :
           {store::TaskState::kDone, store::TaskState::kFailed, store::TaskState::kCancelled}) {
        auto purged = st.tasks().purge(txn, state, before);
        if (!purged) return std::unexpected(purged.error());
        n += *purged;
      }
      auto runs = st.runs().prune(txn, before);
      if (!runs) return std::unexpected(runs.error());
      auto samples = st.metrics().prune(txn, before);
      if (!samples) return std::unexpected(samples.error());
      return n + *runs + *samples;
    });
    if (!r) {
      log("cannot prune old history: " + r.error().message);
    } else if (*r > 0) {
      log("pruned " + std::to_string(*r) +
          " task(s), run(s) and sample(s) older than store.history_keep");
    }
  }

  // The store pages read since the last time: they are the kernel's page
  // cache, not the host's memory, but every page ever read would stay in
  // the host's RSS, which would then follow the store's size. Best effort,
  // as is trim_heap(): a failure only leaves memory where it was.
  void release_map() { static_cast<void>(store::release_mapped_pages(st.env())); }

  // Freed heap: page bodies, results and each transaction's buffers come
  // and go in bursts, and glibc keeps what they freed (the trim threshold is
  // high so that it does not return and refetch memory at every page).
  // Every second, so that what the host holds is what it uses and not the
  // most it used in a while. (`host run` keeps every thread on the main
  // heap, whose free top and free pages malloc_trim returns: util/heap.h.)
  void trim_heap() { malloc_trim(0); }

  void refresh_queued() {
    auto txn = st.read();
    if (!txn) return;
    if (auto c = st.tasks().counts(*txn); c) {
      n_queued = (*c)[static_cast<std::size_t>(store::TaskState::kPending)];
    }
  }

  // After the drain time: cancels fetches, waits briefly for their results,
  // and puts back whatever is still unfinished.
  std::uint64_t abandon_rest() {
    fetcher.shutdown();  // fetch callbacks run now, with kCancelled
    const auto until = Clock::now() + std::chrono::milliseconds(500);
    while (!active.empty() && Clock::now() < until) {
      commit_results();
      std::unique_lock lock(mu);
      main_cv.wait_for(lock, std::chrono::milliseconds(20), [&] { return !results.empty(); });
    }
    commit_results();
    if (active.empty()) return 0;
    std::uint64_t n = 0;
    auto r = st.update([&](store::WriteTxn& txn) -> StoreResult {
      const store::Time now = store::now();
      for (const auto& [id, w] : active) {
        auto ok = st.tasks().requeue(txn, id, owner,
                                     "requeued: the host stopped before the work ended", now, now);
        if (!ok && ok.error().kind != store::ErrorKind::kConflict) return ok;
      }
      return {};
    });
    for (auto& [id, w] : active) {
      w->abandoned = true;
      ++n;
    }
    n_requeued += n;
    if (!r) log("could not put unfinished tasks back: " + r.error().message);
    active.clear();
    return n;
  }

  std::expected<Summary, std::string> run() {
    Summary summary;
    auto orphans = requeue_orphans();
    if (!orphans) return std::unexpected(orphans.error());
    summary.orphans_requeued = *orphans;
    if (*orphans > 0) {
      log("put " + std::to_string(*orphans) +
          " unfinished task(s) of a previous run back in the queue");
    }
    load_open_extracts();
    if (!opt.only_task) prune_history();
    start_threads();
    start_time = Clock::now();
    auto last_schedule = Clock::time_point{};
    auto last_extend = Clock::now();
    auto last_count = Clock::time_point{};
    auto last_prune = Clock::now();
    auto last_release_map = Clock::now();
    auto last_trim = Clock::now();
    std::optional<Clock::time_point> drain_until;
    bool scheduled_once = false;

    for (;;) {
      const auto now = Clock::now();
      const bool stopping = stop_requested.load();
      if (stopping && !drain_until) {
        drain_until = now + opt.drain;
        log("stopping: finishing " + std::to_string(active.size()) + " task(s) in flight (up to " +
            std::to_string(opt.drain.count() / 1000) + " s); press Ctrl-C again to stop at once");
      }
      if (!stopping) {
        if (opt.schedule && !opt.only_task && (!opt.once || !scheduled_once) &&
            now - last_schedule >= opt.schedule_every) {
          schedule();
          scheduled_once = true;
          last_schedule = now;
        }
        claim();
      }
      const std::size_t committed = commit_results();
      if (now - last_extend >= kLeaseExtendEvery) {
        extend_leases();
        last_extend = now;
      }
      if (!opt.only_task && now - last_prune >= std::chrono::hours(1)) {
        prune_history();
        last_prune = now;
      }
      if (now - last_release_map >= kReleaseMapEvery) {
        release_map();
        last_release_map = now;
      }
      if (now - last_trim >= kTrimHeapEvery) {
        trim_heap();
        last_trim = now;
      }
      if (now - last_count >= std::chrono::milliseconds(500)) {
        refresh_queued();
        last_count = now;
      }
      n_in_flight = active.size();

      if (active.empty() && committed == 0) {
        if (stopping) break;
        if (opt.only_task && only_task_claimed) break;
        if (opt.only_task && queue_empty) break;  // the task was not PENDING
        if (opt.once && queue_empty) break;
      }
      if (drain_until && now >= *drain_until) {
        summary.abandoned = abandon_rest();
        break;
      }
      std::unique_lock lock(mu);
      main_cv.wait_for(lock, std::chrono::milliseconds(50),
                       [&] { return !results.empty() || stop_requested.load(); });
    }
    n_in_flight = active.size();
    refresh_queued();
    summary.progress = progress();
    return summary;
  }

  Progress progress() const {
    Progress p;
    p.done = n_done;
    p.failed = n_failed;
    p.requeued = n_requeued;
    p.in_flight = n_in_flight;
    p.queued = n_queued;
    p.pages = n_pages;
    p.records = n_records;
    p.elapsed_s = std::chrono::duration<double>(Clock::now() - start_time).count();
    return p;
  }
};

Orchestrator::Orchestrator(store::Store& store, fetch::Fetcher& fetcher, sandbox::Sandbox& sandbox,
                           Options options)
    : impl_(std::make_unique<Impl>(store, fetcher, sandbox, std::move(options))) {}

Orchestrator::~Orchestrator() = default;

std::expected<Summary, std::string> Orchestrator::run() { return impl_->run(); }

void Orchestrator::stop() {
  impl_->stop_requested = true;
  impl_->main_cv.notify_all();
}

bool Orchestrator::stopping() const { return impl_->stop_requested.load(); }

Progress Orchestrator::progress() const { return impl_->progress(); }

}  // namespace host::orchestrator
