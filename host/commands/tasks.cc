// host tasks [requeue | priority | cancel]: the persistent task queue as an
// operator sees it. Listing reads the queue's indexes and counters
// (Tasks::list, list_for_source, counts), so it answers at once however long
// the queue is; the subcommands change one task in one write transaction.
#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/cli/cli.h"
#include "host/cli/open_store.h"
#include "host/util/text_format.h"
#include "host/util/time_format.h"

namespace host::cli {
namespace {

using nlohmann::ordered_json;

constexpr std::size_t kDefaultLimit = 50;
constexpr std::size_t kErrorColumn = 40;  // characters of last_error in the table

struct TasksArgs {
  std::string state;
  std::string source;
  std::string type;
  std::size_t limit = kDefaultLimit;
  bool json = false;
  bool force = false;
  std::uint64_t id = 0;
  std::int32_t priority = 0;
};

// Queue order across states: what runs now, what runs next, then history.
constexpr std::array<store::TaskState, store::kTaskStateCount> kAllStates{
    store::TaskState::kInProgress, store::TaskState::kPending, store::TaskState::kFailed,
    store::TaskState::kCancelled, store::TaskState::kDone};

std::string state_names() {
  std::string out;
  for (std::size_t i = 0; i < store::kTaskStateCount; ++i) {
    out += std::string(store::to_string(static_cast<store::TaskState>(i))) + ", ";
  }
  return out + "all";
}

std::string type_names() {
  std::string out;
  for (auto t : {store::TaskType::kScout, store::TaskType::kBuild, store::TaskType::kValidate,
                 store::TaskType::kExtract, store::TaskType::kRepair}) {
    if (!out.empty()) out += ", ";
    out += store::to_string(t);
  }
  return out;
}

std::optional<store::TaskState> parse_state(std::string text) {
  for (char& c : text) c = c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return store::parse_task_state(text);
}

bool is_all(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(c));
  return text == "all";
}

std::optional<store::TaskType> parse_type(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(c));
  return store::parse_task_type(text);
}

// JSON is written by hand here rather than through a json object per task:
// a listing of 100,000 tasks then takes a third of the time.

// The payload is JSON text for the worker: copied as it is when it is valid
// JSON on one line, else re-written (or kept as a string if it is no JSON).
void append_payload(std::string& out, const std::string& payload) {
  if (payload.empty()) {
    out += "null";
  } else if (payload.find('\n') == std::string::npos && ordered_json::accept(payload)) {
    out += payload;
  } else if (ordered_json j = ordered_json::parse(payload, nullptr, false); !j.is_discarded()) {
    out += j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  } else {
    util::append_json_string(out, payload);
  }
}

// One task as a JSON object on one line, fields in the order of store::Task.
std::string task_json(const store::Task& t) {
  const bool running = t.state == store::TaskState::kInProgress;
  std::string out;
  out.reserve(320 + t.payload.size() + t.last_error.size());
  auto key = [&](std::string_view name) {
    out += out.empty() ? "{\"" : ",\"";
    out += name;
    out += "\":";
  };
  key("id");
  out += std::to_string(t.id);
  key("type");
  util::append_json_string(out, store::to_string(t.type));
  key("source");
  util::append_json_string(out, t.source);
  key("state");
  util::append_json_string(out, store::to_string(t.state));
  key("priority");
  out += std::to_string(t.priority);
  key("attempts");
  out += std::to_string(t.attempts);
  key("created_at");
  util::append_json_string(out, util::format_time(t.created_at));
  key("updated_at");
  util::append_json_string(out, util::format_time(t.updated_at));
  key("not_before");
  util::append_json_string(out, util::format_time(t.not_before));
  key("last_error");
  util::append_json_string(out, t.last_error);
  key("lease_owner");
  if (running) {
    util::append_json_string(out, t.lease_owner);
  } else {
    out += "null";
  }
  key("lease_expiry");
  if (running && t.lease_expiry) {
    util::append_json_string(out, util::format_time(*t.lease_expiry));
  } else {
    out += "null";
  }
  key("payload");
  append_payload(out, t.payload);
  out += '}';
  return out;
}

std::string counts_json(const store::TaskCounts& counts) {
  ordered_json j = ordered_json::object();
  for (store::TaskState s : kAllStates) {
    j[std::string(store::to_string(s))] = counts[static_cast<std::size_t>(s)];
  }
  return j.dump();
}

// "lease" column: who holds a running task and until when; when a delayed
// pending task becomes due.
std::string lease_cell(const store::Task& t, store::Time now) {
  if (t.state == store::TaskState::kInProgress) {
    if (!t.lease_expiry) return t.lease_owner;
    return t.lease_owner + (*t.lease_expiry > now ? ", expires " : ", expired ") +
           util::relative_time(*t.lease_expiry, now);
  }
  if (t.state == store::TaskState::kPending && t.not_before > now) {
    return "due " + util::relative_time(t.not_before, now);
  }
  return "";
}

// The tasks a listing shows, and how many more match.
struct Selection {
  std::vector<store::Task> shown;
  std::uint64_t more = 0;
};

std::size_t rank(store::TaskState s) {
  return static_cast<std::size_t>(std::find(kAllStates.begin(), kAllStates.end(), s) -
                                  kAllStates.begin());
}

std::expected<Selection, std::string> select(const store::Store& st, const store::ReadTxn& txn,
                                             const std::vector<store::TaskState>& states,
                                             std::optional<store::TaskType> type,
                                             const std::string& source,
                                             const store::TaskCounts& counts, std::size_t limit,
                                             store::Time now) {
  Selection sel;
  auto wanted = [&](const store::Task& t) {
    return std::find(states.begin(), states.end(), t.state) != states.end() &&
           (!type || t.type == *type);
  };
  if (!source.empty()) {
    // A source has few tasks: take them all by the source index, then order
    // them as the queue would.
    auto all = st.tasks().list_for_source(txn, source);
    if (!all) return std::unexpected(all.error().message);
    if (all->empty()) {
      auto src = st.sources().get(txn, source);
      if (!src) return std::unexpected(src.error().message);
      if (!*src) {
        return std::unexpected("no source named '" + source + "' ('host status' lists them)");
      }
    }
    std::vector<store::Task> matching;
    for (auto& t : *all) {
      if (wanted(t)) matching.push_back(std::move(t));
    }
    auto key = [&](const store::Task& t) {
      const bool delayed = t.state == store::TaskState::kPending && t.not_before > now;
      return std::tuple(rank(t.state), delayed, -static_cast<std::int64_t>(t.priority),
                        t.created_at, t.id);
    };
    std::sort(matching.begin(), matching.end(),
              [&](const store::Task& a, const store::Task& b) { return key(a) < key(b); });
    if (limit != 0 && matching.size() > limit) {
      sel.more = matching.size() - limit;
      matching.resize(limit);
    }
    sel.shown = std::move(matching);
    return sel;
  }
  for (store::TaskState s : states) {
    if (!type) {
      // No filter: the counters say how many there are; read only what is shown.
      const std::uint64_t in_state = counts[static_cast<std::size_t>(s)];
      const std::size_t room = limit == 0 ? 0 : limit - std::min(limit, sel.shown.size());
      if (limit != 0 && room == 0) {
        sel.more += in_state;
        continue;
      }
      auto list = st.tasks().list(txn, s, room);
      if (!list) return std::unexpected(list.error().message);
      sel.more += in_state - std::min<std::uint64_t>(in_state, list->size());
      for (auto& t : *list) sel.shown.push_back(std::move(t));
      continue;
    }
    // A type filter: the store keeps no count per type, so the state's
    // tasks are read in queue order and filtered.
    auto list = st.tasks().list(txn, s);
    if (!list) return std::unexpected(list.error().message);
    for (auto& t : *list) {
      if (t.type != *type) continue;
      if (limit == 0 || sel.shown.size() < limit) {
        sel.shown.push_back(std::move(t));
      } else {
        ++sel.more;
      }
    }
  }
  return sel;
}

std::string counts_line(const store::TaskCounts& counts) {
  std::string out = "tasks:";
  const char* sep = " ";
  for (store::TaskState s : kAllStates) {
    out += sep + std::to_string(counts[static_cast<std::size_t>(s)]) + " " +
           std::string(store::to_string(s));
    sep = ", ";
  }
  return out;
}

std::string describe(const std::vector<store::TaskState>& states) {
  std::string out;
  for (std::size_t i = 0; i < states.size(); ++i) {
    if (i > 0) out += i + 1 == states.size() ? " or " : ", ";
    out += store::to_string(states[i]);
  }
  return out;
}

int run_list(const Globals& g, const TasksArgs& a) {
  std::vector<store::TaskState> states;
  if (a.state.empty()) {
    states = {store::TaskState::kInProgress, store::TaskState::kPending};
  } else if (is_all(a.state)) {
    states.assign(kAllStates.begin(), kAllStates.end());
  } else if (auto s = parse_state(a.state)) {
    states = {*s};
  } else {
    std::cerr << "host tasks: --state: unknown state '" << a.state << "'; use one of "
              << state_names() << "\n";
    return kExitUsage;
  }
  std::optional<store::TaskType> type;
  if (!a.type.empty()) {
    type = parse_type(a.type);
    if (!type) {
      std::cerr << "host tasks: --type: unknown type '" << a.type << "'; use one of "
                << type_names() << "\n";
      return kExitUsage;
    }
  }

  const store::Time now = store::now();
  store::TaskCounts counts{};
  Selection sel;
  if (store_missing(g)) {
    if (!a.source.empty()) {
      return fail("no source named '" + a.source + "' ('host status' lists them)");
    }
  } else {
    auto st = open_store(g, StoreMode::kRead);
    if (!st) return fail(st.error());
    auto txn = st->read();
    if (!txn) return fail(txn.error().message);
    auto c = st->tasks().counts(*txn);
    if (!c) return fail(c.error().message);
    counts = *c;
    auto s = select(*st, *txn, states, type, a.source, counts, a.limit, now);
    if (!s) return fail(s.error());
    sel = std::move(*s);
  }

  if (a.json) {
    // Pretty at the top, one task per line: a listing of 100,000 tasks stays
    // quick to write and to grep.
    std::cout << "{\n  \"counts\": " << counts_json(counts) << ",\n  \"tasks\": [";
    for (std::size_t i = 0; i < sel.shown.size(); ++i) {
      std::cout << (i == 0 ? "\n    " : ",\n    ") << task_json(sel.shown[i]);
    }
    std::cout << (sel.shown.empty() ? "]" : "\n  ]") << ",\n  \"more\": " << sel.more << "\n}\n";
    return kExitOk;
  }
  std::cout << counts_line(counts) << "\n";
  if (sel.shown.empty()) {
    std::cout << "no " << describe(states)
              << (type ? " " + std::string(store::to_string(*type)) : "") << " tasks"
              << (a.source.empty() ? "" : " for " + a.source) << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows{{"ID", "TYPE", "SOURCE", "STATE", "PRIORITY",
                                              "ATTEMPTS", "AGE", "UPDATED", "LEASE / DUE",
                                              "LAST ERROR"}};
  for (const auto& t : sel.shown) {
    rows.push_back({std::to_string(t.id), std::string(store::to_string(t.type)), t.source,
                    std::string(store::to_string(t.state)), std::to_string(t.priority),
                    std::to_string(t.attempts), util::relative_time(t.created_at, now),
                    util::relative_time(t.updated_at, now), lease_cell(t, now),
                    util::one_line(t.last_error, kErrorColumn)});
  }
  util::print_table(rows);
  if (sel.more > 0) std::cout << "... and " << sel.more << " more (use --limit 0 for all)\n";
  return kExitOk;
}

// Runs `change` on the task in one write transaction; `change` returns the
// line to print or an error sentence.
using Change = std::function<std::expected<std::string, store::Error>(
    const store::Store&, store::WriteTxn&, const store::Task&, store::Time)>;

int change_task(const Globals& g, std::uint64_t id, const char* verb, const Change& change) {
  if (store_missing(g)) return fail("no task " + std::to_string(id) + " (there is no store yet)");
  auto st = open_store(g, StoreMode::kRead);
  if (!st) return fail(st.error());
  const store::Time now = store::now();
  auto r = st->update([&](store::WriteTxn& txn) -> std::expected<std::string, store::Error> {
    auto t = st->tasks().get(txn, id);
    if (!t) return std::unexpected(t.error());
    if (!*t) {
      return std::unexpected(
          store::Error{store::ErrorKind::kNotFound,
                       "no task " + std::to_string(id) + " ('host tasks --state all' lists them)"});
    }
    return change(*st, txn, **t, now);
  });
  if (!r) {
    if (r.error().kind == store::ErrorKind::kNotFound) return fail(r.error().message);
    return fail(std::string(verb) + " refused: " + r.error().message);
  }
  std::cout << *r << "\n";
  return kExitOk;
}

std::string label(const store::Task& t) {
  return "task " + std::to_string(t.id) + " (" + std::string(store::to_string(t.type)) + " for " +
         t.source + ")";
}

store::Error conflict(std::string message) {
  return store::Error{store::ErrorKind::kConflict, std::move(message)};
}

int run_requeue(const Globals& g, const TasksArgs& a) {
  return change_task(
      g, a.id, "requeue",
      [&](const store::Store& st, store::WriteTxn& txn, const store::Task& t,
          store::Time now) -> std::expected<std::string, store::Error> {
        const std::string id = "task " + std::to_string(t.id);
        std::string note = "it runs when a worker is free";
        switch (t.state) {
          case store::TaskState::kDone:
            return std::unexpected(
                conflict(id + " is DONE: it finished successfully, so there is nothing to retry"));
          case store::TaskState::kPending:
            return std::unexpected(conflict(id + " is already PENDING: it runs when a worker is " +
                                            "free ('host tasks priority " + std::to_string(t.id) +
                                            " N' moves it up)"));
          case store::TaskState::kInProgress: {
            const bool live = t.lease_expiry && *t.lease_expiry > now;
            if (live && !a.force) {
              return std::unexpected(conflict(
                  id + " is IN_PROGRESS, leased to '" + t.lease_owner + "' until " +
                  util::format_time(*t.lease_expiry) +
                  ": a running orchestrator may be working on it; add --force to requeue it "
                  "anyway (that worker's result will then be refused)"));
            }
            if (auto ok = st.tasks().requeue(
                    txn, t.id, t.lease_owner,
                    "requeued by operator (was leased to " + t.lease_owner + ")", now, now);
                !ok) {
              return std::unexpected(ok.error());
            }
            note = "taken from '" + t.lease_owner + "'" +
                   (live ? "; its result will be refused" : " (its lease had expired)") + "; " +
                   note;
            break;
          }
          case store::TaskState::kFailed:
          case store::TaskState::kCancelled:
            if (auto ok = st.tasks().requeue(txn, t.id, "", "", now, now); !ok) {
              return std::unexpected(ok.error());
            }
            break;
        }
        return label(t) + ": " + std::string(store::to_string(t.state)) + " -> PENDING; " + note;
      });
}

int run_priority(const Globals& g, const TasksArgs& a) {
  return change_task(
      g, a.id, "priority",
      [&](const store::Store& st, store::WriteTxn& txn, const store::Task& t,
          store::Time now) -> std::expected<std::string, store::Error> {
        if (t.state != store::TaskState::kPending && t.state != store::TaskState::kInProgress) {
          return std::unexpected(conflict(
              "task " + std::to_string(t.id) + " is " + std::string(store::to_string(t.state)) +
              ", a final state: its priority no longer matters" +
              (t.state == store::TaskState::kDone
                   ? ""
                   : " (requeue it first: 'host tasks requeue " + std::to_string(t.id) + "')")));
        }
        if (auto ok = st.tasks().set_priority(txn, t.id, a.priority, now); !ok) {
          return std::unexpected(ok.error());
        }
        return label(t) + ": priority " + std::to_string(t.priority) + " -> " +
               std::to_string(a.priority);
      });
}

int run_cancel(const Globals& g, const TasksArgs& a) {
  return change_task(
      g, a.id, "cancel",
      [&](const store::Store& st, store::WriteTxn& txn, const store::Task& t,
          store::Time now) -> std::expected<std::string, store::Error> {
        if (t.state != store::TaskState::kPending && t.state != store::TaskState::kInProgress) {
          return std::unexpected(conflict("task " + std::to_string(t.id) + " is already " +
                                          std::string(store::to_string(t.state)) +
                                          "; only PENDING and IN_PROGRESS tasks can be cancelled"));
        }
        if (auto ok = st.tasks().cancel(txn, t.id, now); !ok) return std::unexpected(ok.error());
        std::string line =
            label(t) + ": " + std::string(store::to_string(t.state)) + " -> CANCELLED";
        if (t.state == store::TaskState::kInProgress) {
          line += "; '" + t.lease_owner + "' holds it and its result will be refused";
        }
        return line;
      });
}

}  // namespace

Command register_tasks(CLI::App& root, const Globals& globals) {
  auto a = std::make_shared<TasksArgs>();
  CLI::App* app = root.add_subcommand(
      "tasks",
      "List the task queue (running, then pending in the order they run), or change one task");
  app->add_option(
      "--state", a->state,
      "Only tasks in this state: " + state_names() + " (default: IN_PROGRESS and PENDING)");
  app->add_option("--source", a->source, "Only this source's tasks");
  app->add_option("--type", a->type, "Only tasks of this type: " + type_names());
  app->add_option("--limit", a->limit,
                  "Show at most N tasks (default " + std::to_string(kDefaultLimit) + "; 0: all)")
      ->check(CLI::NonNegativeNumber);
  app->add_flag("--json", a->json, "Print JSON: {\"counts\", \"tasks\", \"more\"}");

  CLI::App* requeue = app->add_subcommand(
      "requeue", "Put a FAILED, CANCELLED or IN_PROGRESS task back in the queue, due now");
  requeue->add_option("id", a->id, "Task id")->required();
  requeue->add_flag("--force", a->force,
                    "Requeue an IN_PROGRESS task even though its lease is live (the worker "
                    "holding it may still be running it)");
  CLI::App* priority = app->add_subcommand(
      "priority", "Change a PENDING or IN_PROGRESS task's priority (higher runs first)");
  priority->add_option("id", a->id, "Task id")->required();
  priority->add_option("n", a->priority, "New priority (a 32-bit integer, may be negative)")
      ->required();
  CLI::App* cancel = app->add_subcommand("cancel", "Cancel a PENDING or IN_PROGRESS task");
  cancel->add_option("id", a->id, "Task id")->required();

  return Command{app, [=, &globals] {
                   const bool listing_options = app->count("--state") + app->count("--source") +
                                                    app->count("--type") + app->count("--limit") +
                                                    app->count("--json") >
                                                0;
                   const bool changing =
                       requeue->parsed() || priority->parsed() || cancel->parsed();
                   if (changing && listing_options) {
                     std::cerr << "host tasks: --state, --source, --type, --limit and --json "
                                  "apply to the listing, not to requeue, priority or cancel\n";
                     return kExitUsage;
                   }
                   if (requeue->parsed()) return run_requeue(globals, *a);
                   if (priority->parsed()) return run_priority(globals, *a);
                   if (cancel->parsed()) return run_cancel(globals, *a);
                   return run_list(globals, *a);
                 }};
}

}  // namespace host::cli
