// host status | history | revive: the health of the sources as an operator
// sees it. status reads everything in one read transaction with a few
// lookups per source; revive is the one write, a health transition the
// operator asks for.
#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/cli/cli.h"
#include "host/cli/open_store.h"
#include "host/util/text_format.h"
#include "host/util/time_format.h"
#include "sandbox/error.h"

namespace host::cli {
namespace {

// Objects keep their keys in the order written, as documented.
using json = nlohmann::ordered_json;

constexpr std::size_t kErrorColumn = 60;  // characters of last_error in the status table
constexpr std::size_t kDefaultHistory = 20;

struct StatusArgs {
  std::string source;
  std::string reason;
  std::size_t limit = kDefaultHistory;
  bool json = false;
};

constexpr std::array<store::HealthState, store::kHealthStateCount> kHealthStates{
    store::HealthState::kActive, store::HealthState::kDegraded, store::HealthState::kQuarantined,
    store::HealthState::kDead};

std::string_view emoji(store::HealthState s) {
  switch (s) {
    case store::HealthState::kActive:
      return "✅";
    case store::HealthState::kDegraded:
      return "⚠️";
    case store::HealthState::kQuarantined:
      return "🔒";
    case store::HealthState::kDead:
      return "💀";
  }
  return "?";
}

std::string dump(const json& j, int indent = -1) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

json time_or_null(const std::optional<store::Time>& t) {
  return t ? json(util::format_time(*t)) : json(nullptr);
}

// A stored error "kind: message", with the sandbox's error kind said in
// words ("timeout: ..." -> "the parser ran out of CPU time: ...").
std::string plain_error(std::string_view error, std::size_t max) {
  const auto colon = error.find(": ");
  sandbox::ErrorKind kind{};
  if (colon != std::string_view::npos && sandbox::parse_error_kind(error.substr(0, colon), kind)) {
    std::string_view words;
    switch (kind) {
      case sandbox::ErrorKind::kSyntax:
        words = "the parser does not compile";
        break;
      case sandbox::ErrorKind::kRuntime:
        words = "the parser raised an error";
        break;
      case sandbox::ErrorKind::kTimeout:
        words = "the parser ran out of CPU time";
        break;
      case sandbox::ErrorKind::kMemory:
        words = "the parser ran out of memory";
        break;
      case sandbox::ErrorKind::kForbidden:
        words = "the parser reached for something the sandbox forbids";
        break;
      case sandbox::ErrorKind::kOutput:
        words = "the parser's output was over the limits";
        break;
      case sandbox::ErrorKind::kSchema:
        words = "the records broke the parser's schema";
        break;
      case sandbox::ErrorKind::kCrash:
        words = "the sandbox worker crashed";
        break;
      case sandbox::ErrorKind::kInternal:
        words = "the host could not run the parser";
        break;
      case sandbox::ErrorKind::kInput:
        words = "the page could not be used";
        break;
    }
    return util::one_line(std::string(words) + ": " + std::string(error.substr(colon + 2)), max);
  }
  return util::one_line(error, max);
}

// What status shows of one source: its row, its health (defaults if it has
// none yet: a new source is ACTIVE) and its active parser version.
struct SourceStatus {
  store::Source source;
  store::SourceHealth health;
  bool has_health = false;
  std::optional<std::uint32_t> active_version;
};

void append_time(std::string& out, const std::optional<store::Time>& t) {
  if (t) {
    util::append_json_string(out, util::format_time(*t));
  } else {
    out += "null";
  }
}

// One source as status --json shows it, on one line. Written by hand rather
// than through a json object: 10,000 of them take a third of the time.
void append_source_json(std::string& out, const SourceStatus& s) {
  const store::SourceHealth& h = s.health;
  out += "{\"name\":";
  util::append_json_string(out, s.source.name);
  out += ",\"state\":";
  util::append_json_string(out, store::to_string(h.state));
  out += ",\"failures_in_row\":" + std::to_string(h.failures_in_row);
  out += ",\"last_success\":";
  append_time(out, h.last_success);
  out += ",\"last_error\":";
  util::append_json_string(out, h.last_error);
  out += ",\"last_failure\":";
  append_time(out, h.last_failure);
  out += ",\"state_since\":";
  append_time(out, s.has_health ? std::optional(h.state_since) : std::nullopt);
  out += ",\"url\":";
  util::append_json_string(out, s.source.url);
  out += s.source.enabled ? ",\"enabled\":true" : ",\"enabled\":false";
  out += ",\"active_version\":";
  out += s.active_version ? std::to_string(*s.active_version) : "null";
  out += '}';
}

json task_counts_json(const store::TaskCounts& counts) {
  json j = json::object();
  for (std::size_t i = 0; i < store::kTaskStateCount; ++i) {
    j[std::string(store::to_string(static_cast<store::TaskState>(i)))] = counts[i];
  }
  return j;
}

std::uint64_t count(const store::TaskCounts& counts, store::TaskState s) {
  return counts[static_cast<std::size_t>(s)];
}

const char* const kNoSources =
    "no sources yet; add one with 'host add URL --name NAME --parser FILE.lua'";

// Appends `text` padded with spaces to `width` bytes, then the column gap.
void cell(std::string& out, std::string_view text, std::size_t width) {
  out += text;
  out.append(width > text.size() ? width - text.size() + 2 : 2, ' ');
}

// The status table's columns after the name have bounded widths, so each
// line is written as its source is read: no second copy of 10,000 sources.
constexpr std::size_t kStateWidth = 11;    // QUARANTINED
constexpr std::size_t kFailuresWidth = 8;  // FAILURES
constexpr std::size_t kSuccessWidth = 12;  // LAST SUCCESS
constexpr std::string_view kDisabled = " (disabled)";

void status_line(std::string& out, const SourceStatus& s, std::size_t name_width, store::Time now) {
  const store::SourceHealth& h = s.health;
  out += emoji(h.state);
  out += ' ';
  cell(out, s.source.enabled ? s.source.name : s.source.name + std::string(kDisabled), name_width);
  cell(out, store::to_string(h.state), kStateWidth);
  cell(out, std::to_string(h.failures_in_row), kFailuresWidth);
  cell(out, util::relative_time(h.last_success, now), kSuccessWidth);
  out += plain_error(h.last_error, kErrorColumn);
  while (out.back() == ' ') out.pop_back();
  out += '\n';
}

// One read transaction: the sources, the task counters, then each source's
// health row (and for JSON its active version) by key. The totals come
// first in the output, so the health rows are read twice, once to count and
// once to print in 64 KiB chunks: a second pass of 10,000 lookups is cheaper
// than the page faults of a 3 MB output buffer.
int run_status(const Globals& g, const StatusArgs& a) {
  std::vector<store::Source> sources;
  store::TaskCounts tasks{};
  std::optional<store::Store> st;
  std::optional<store::ReadTxn> txn;
  if (!store_missing(g)) {
    auto opened = open_store(g, StoreMode::kRead);
    if (!opened) return fail(opened.error());
    st = std::move(*opened);
    auto t = st->read();
    if (!t) return fail(t.error().message);
    txn = std::move(*t);
    auto list = st->sources().list(*txn);
    if (!list) return fail(list.error().message);
    sources = std::move(*list);
    auto counts = st->tasks().counts(*txn);
    if (!counts) return fail(counts.error().message);
    tasks = *counts;
  }
  if (sources.empty() && !a.json) {
    std::cout << kNoSources << "\n";
    return kExitOk;
  }

  // Read once: the totals come first in the output, so every row is needed
  // before the first line is written. A source without a health row is new:
  // ACTIVE.
  std::vector<std::optional<store::SourceHealth>> health;
  health.reserve(sources.size());
  store::HealthCounts by_state{};
  std::size_t name_width = std::string_view("SOURCE").size();
  for (const auto& src : sources) {
    auto h = st->health().get(*txn, src.name);
    if (!h) return fail(h.error().message);
    by_state[static_cast<std::size_t>(*h ? (*h)->state : store::HealthState::kActive)] += 1;
    name_width = std::max(name_width, src.name.size() + (src.enabled ? 0 : kDisabled.size()));
    health.push_back(std::move(*h));
  }

  std::string out;
  if (a.json) {
    json totals = {{"sources", sources.size()}};
    for (store::HealthState h : kHealthStates) {
      totals[std::string(store::to_string(h))] = by_state[static_cast<std::size_t>(h)];
    }
    totals["tasks"] = task_counts_json(tasks);
    // One source per line: 10,000 of them stay quick to write and to grep.
    out = "{\n  \"totals\": " + dump(totals) + ",\n  \"sources\": [";
  } else {
    out = std::to_string(sources.size()) + " source(s):";
    for (store::HealthState h : kHealthStates) {
      out += "  " + std::string(emoji(h)) + " " +
             std::to_string(by_state[static_cast<std::size_t>(h)]) + " " +
             std::string(store::to_string(h));
    }
    out += "\ntasks: " + std::to_string(count(tasks, store::TaskState::kPending)) + " pending, " +
           std::to_string(count(tasks, store::TaskState::kInProgress)) + " in progress, " +
           std::to_string(count(tasks, store::TaskState::kFailed)) +
           " failed ('host tasks' lists them)\n\n   ";
    cell(out, "SOURCE", name_width);
    cell(out, "STATE", kStateWidth);
    cell(out, "FAILURES", kFailuresWidth);
    cell(out, "LAST SUCCESS", kSuccessWidth);
    out += "LAST ERROR\n";
  }

  constexpr std::size_t kChunk = 64 * 1024;
  out.reserve(kChunk + 4096);
  const store::Time now = store::now();
  SourceStatus s;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    s.source = std::move(sources[i]);
    s.has_health = health[i].has_value();
    s.health = s.has_health ? std::move(*health[i]) : store::SourceHealth{};
    if (a.json) {
      auto v = st->versions().active_number(*txn, s.source.name);
      if (!v) return fail(v.error().message);
      s.active_version = *v;
      out += i == 0 ? "\n    " : ",\n    ";
      append_source_json(out, s);
    } else {
      status_line(out, s, name_width, now);
    }
    if (out.size() >= kChunk) {
      std::cout.write(out.data(), static_cast<std::streamsize>(out.size()));
      out.clear();
    }
  }
  if (a.json) out += sources.empty() ? "]\n}\n" : "\n  ]\n}\n";
  std::cout.write(out.data(), static_cast<std::streamsize>(out.size()));
  return kExitOk;
}

std::expected<store::Source, std::string> require_source(const store::Store& st,
                                                         const store::Txn& txn,
                                                         const std::string& name) {
  auto s = st.sources().get(txn, name);
  if (!s) return std::unexpected(s.error().message);
  if (!*s) return std::unexpected("no source named '" + name + "' ('host status' lists them)");
  return **s;
}

std::string duration(const store::Run& r) {
  if (!r.finished_at) return r.state == store::RunState::kRunning ? "running" : "-";
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(*r.finished_at - r.started_at).count();
  if (ms < 1000) return std::to_string(ms) + "ms";
  if (ms < 60'000) {
    return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + "s";
  }
  const auto s = ms / 1000;
  auto two = [](long long n) { return (n < 10 ? "0" : "") + std::to_string(n); };
  if (s < 3600) return std::to_string(s / 60) + "m" + two(s % 60) + "s";
  return std::to_string(s / 3600) + "h" + two(s % 3600 / 60) + "m";
}

json run_json(const store::Run& r) {
  json usage = r.usage.empty() ? json(nullptr) : json::parse(r.usage, nullptr, false);
  if (usage.is_discarded()) usage = r.usage;
  json duration_ms = nullptr;
  if (r.finished_at) {
    duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(*r.finished_at - r.started_at)
            .count();
  }
  return {{"id", r.id},
          {"kind", r.kind},
          {"state", store::to_string(r.state)},
          {"started_at", util::format_time(r.started_at)},
          {"finished_at", time_or_null(r.finished_at)},
          {"duration_ms", duration_ms},
          {"parser_version", r.parser_version ? json(*r.parser_version) : json(nullptr)},
          {"snapshot_id", r.snapshot_id ? json(*r.snapshot_id) : json(nullptr)},
          {"records", r.records},
          {"rejects", r.rejects},
          {"error_kind", r.error_kind},
          {"message", r.message},
          {"usage", usage}};
}

int run_history(const Globals& g, const StatusArgs& a) {
  if (store_missing(g)) {
    return fail("no source named '" + a.source + "' ('host status' lists them)");
  }
  auto st = open_store(g, StoreMode::kRead);
  if (!st) return fail(st.error());
  SourceStatus status;
  std::vector<store::HealthTransition> transitions;
  std::vector<store::Run> runs;
  {
    auto txn = st->read();
    if (!txn) return fail(txn.error().message);
    auto src = require_source(*st, *txn, a.source);
    if (!src) return fail(src.error());
    status.source = std::move(*src);
    auto h = st->health().get(*txn, a.source);
    if (!h) return fail(h.error().message);
    if (*h) {
      status.health = std::move(**h);
      status.has_health = true;
    }
    auto v = st->versions().active_number(*txn, a.source);
    if (!v) return fail(v.error().message);
    status.active_version = *v;
    auto t = st->health().transitions(*txn, a.source, a.limit);
    if (!t) return fail(t.error().message);
    transitions = std::move(*t);
    auto r = st->runs().recent_for_source(
        *txn, a.source, a.limit == 0 ? std::numeric_limits<std::size_t>::max() : a.limit);
    if (!r) return fail(r.error().message);
    runs = std::move(*r);
  }

  if (a.json) {
    std::string health;  // the same object as in status --json
    append_source_json(health, status);
    json tj = json::array();
    for (const auto& t : transitions) {
      tj.push_back({{"at", util::format_time(t.at)},
                    {"from", t.from ? json(store::to_string(*t.from)) : json(nullptr)},
                    {"to", store::to_string(t.to)},
                    {"reason", t.reason}});
    }
    json rj = json::array();
    for (const auto& r : runs) rj.push_back(run_json(r));
    std::cout << dump({{"source", a.source},
                       {"health", json::parse(health)},
                       {"transitions", tj},
                       {"runs", rj}},
                      2)
              << "\n";
    return kExitOk;
  }

  const store::Time now = store::now();
  const store::SourceHealth& h = status.health;
  std::cout << emoji(h.state) << " " << a.source << ": " << store::to_string(h.state);
  if (status.has_health) {
    std::cout << " since " << util::format_time(h.state_since) << " ("
              << util::relative_time(h.state_since, now) << ")";
  }
  std::cout << "; " << h.failures_in_row << " failure(s) in a row; last success "
            << util::relative_time(h.last_success, now) << "\n";
  if (!h.last_error.empty()) {
    std::cout << "last error (" << util::relative_time(h.last_failure, now)
              << "): " << plain_error(h.last_error, 0) << "\n";
  }

  std::cout << "\nhealth transitions, newest first:\n";
  if (transitions.empty()) std::cout << "  none\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : transitions) {
    rows.push_back({util::format_time(t.at),
                    (t.from ? std::string(store::to_string(*t.from)) : "(new)") + " -> " +
                        std::string(store::to_string(t.to)),
                    util::one_line(t.reason, 0)});
  }
  util::print_table(rows, "  ");

  std::cout << "\nruns, newest first:\n";
  if (runs.empty()) {
    std::cout << "  none\n";
    return kExitOk;
  }
  rows = {{"ID", "KIND", "STATE", "STARTED", "DURATION", "VERSION", "SNAPSHOT", "RECORDS",
           "REJECTS", "ERROR"}};
  for (const auto& r : runs) {
    std::string error = r.error_kind;
    if (!r.message.empty()) error += (error.empty() ? "" : ": ") + util::one_line(r.message, 0);
    rows.push_back({std::to_string(r.id), r.kind, std::string(store::to_string(r.state)),
                    util::format_time(r.started_at), duration(r),
                    r.parser_version ? std::to_string(*r.parser_version) : "-",
                    r.snapshot_id ? std::to_string(*r.snapshot_id) : "-", std::to_string(r.records),
                    std::to_string(r.rejects), error});
  }
  util::print_table(rows, "  ");
  return kExitOk;
}

int run_revive(const Globals& g, const StatusArgs& a) {
  if (store_missing(g)) {
    return fail("no source named '" + a.source + "' ('host status' lists them)");
  }
  auto st = open_store(g, StoreMode::kRead);
  if (!st) return fail(st.error());
  const std::string reason = "revived by operator" + (a.reason.empty() ? "" : ": " + a.reason);
  const store::Time now = store::now();
  // The state before, and whether anything changed.
  struct Outcome {
    store::HealthState before = store::HealthState::kActive;
    bool changed = false;
  };
  bool unknown = false;
  auto r = st->update([&](store::WriteTxn& txn) -> std::expected<Outcome, store::Error> {
    auto src = st->sources().get(txn, a.source);
    if (!src) return std::unexpected(src.error());
    if (!*src) {
      unknown = true;
      return Outcome{};
    }
    auto h = st->health().get(txn, a.source);
    if (!h) return std::unexpected(h.error());
    // A source without a health row has never failed: it is ACTIVE.
    if (!*h || (*h)->state == store::HealthState::kActive) return Outcome{};
    store::SourceHealth revived = **h;
    revived.state = store::HealthState::kActive;
    revived.failures_in_row = 0;
    revived.updated_at = now;
    if (auto ok = st->health().put(txn, revived, reason); !ok) return std::unexpected(ok.error());
    return Outcome{(*h)->state, true};
  });
  if (!r) return fail("revive failed: " + r.error().message);
  if (unknown) return fail("no source named '" + a.source + "' ('host status' lists them)");
  if (!r->changed) {
    std::cout << a.source << " is already ACTIVE; nothing to do\n";
    return kExitOk;
  }
  std::cout << a.source << ": " << store::to_string(r->before) << " -> ACTIVE (" << reason
            << "); failures in a row reset to 0\n";

  // The repair or extraction work already queued for it is left alone; say
  // what it is.
  auto txn = st->read();
  if (!txn) return fail(txn.error().message);
  auto tasks = st->tasks().list_for_source(*txn, a.source);
  if (!tasks) return fail(tasks.error().message);
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : *tasks) {
    if (t.state != store::TaskState::kPending && t.state != store::TaskState::kInProgress) {
      continue;
    }
    rows.push_back({"task " + std::to_string(t.id), std::string(store::to_string(t.type)),
                    std::string(store::to_string(t.state)),
                    "priority " + std::to_string(t.priority)});
  }
  if (rows.empty()) {
    std::cout << "nothing is queued for " << a.source << "\n";
  } else {
    std::cout << rows.size() << " task(s) queued for " << a.source
              << " (left as they are; 'host tasks cancel ID' drops one):\n";
    util::print_table(rows, "  ");
  }
  return kExitOk;
}

}  // namespace

Command register_status(CLI::App& root, const Globals& globals) {
  auto a = std::make_shared<StatusArgs>();
  CLI::App* app = root.add_subcommand(
      "status", "Sources by health (ACTIVE, DEGRADED, QUARANTINED, DEAD) and the task queue");
  app->add_flag("--json", a->json, "Print JSON: {\"totals\", \"sources\"}");
  return Command{app, [a, &globals] { return run_status(globals, *a); }};
}

Command register_history(CLI::App& root, const Globals& globals) {
  auto a = std::make_shared<StatusArgs>();
  CLI::App* app =
      root.add_subcommand("history", "A source's health transitions and recent runs, newest first");
  app->add_option("source", a->source, "Source name")->required();
  app->add_option("--limit", a->limit,
                  "At most N transitions and N runs (default " + std::to_string(kDefaultHistory) +
                      "; 0: all)")
      ->check(CLI::NonNegativeNumber);
  app->add_flag("--json", a->json,
                "Print JSON: {\"source\", \"health\", \"transitions\", \"runs\"}");
  return Command{app, [a, &globals] { return run_history(globals, *a); }};
}

Command register_revive(CLI::App& root, const Globals& globals) {
  auto a = std::make_shared<StatusArgs>();
  CLI::App* app = root.add_subcommand(
      "revive",
      "Put a QUARANTINED, DEAD or DEGRADED source back to ACTIVE with no failures counted");
  app->add_option("source", a->source, "Source name")->required();
  app->add_option("--reason", a->reason, "Why (recorded with the transition)");
  return Command{app, [a, &globals] { return run_revive(globals, *a); }};
}

}  // namespace host::cli
