// The extractor lifecycle: host add | stage | validate | promote | rollback |
// versions | diff. A version is staged, validated against stored pages, and
// only then promoted; a promotion is one store transaction, so a running
// host picks it up at its next run.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "host/cli/cli.h"
#include "host/cli/open_store.h"
#include "host/config/registry.h"
#include "host/lifecycle/examples.h"
#include "host/lifecycle/validation.h"
#include "host/util/files.h"
#include "host/util/time_format.h"
#include "host/util/unified_diff.h"
#include "sandbox/schema.h"
#include "sandbox/text/url.h"
#include "store/sha256.h"

namespace host::cli {
namespace {

using nlohmann::json;

struct LifecycleArgs {
  std::string url;
  std::string name;
  std::string parser;
  std::string interval;
  std::string source;
  std::string script;
  std::string note;
  std::uint32_t version = 0;
  std::uint32_t version2 = 0;
  std::uint32_t to = 0;
  bool force = false;
  bool json = false;
};

std::expected<std::unique_ptr<sandbox::Sandbox>, std::string> make_sandbox(std::size_t workers) {
  sandbox::SandboxOptions options;
  options.workers = workers;
  auto box = sandbox::Sandbox::create(options);
  if (!box) return std::unexpected(box.error().message);
  return std::move(*box);
}

// Loads the script once over an empty page: a syntax error, a missing parse
// method or a bad schema is caught before anything is stored.
// With `dir` (the script's directory), also runs the examples the script
// declares, if any: a first version is activated without validation, so its
// own examples are the only evidence it works.
std::expected<void, std::string> check_loads(const std::string& name, const std::string& script,
                                             const std::string& dir = "") {
  auto box = make_sandbox(1);
  if (!box) return std::unexpected(box.error());
  sandbox::Page page{"http://example.invalid/", 200, {}, "<html></html>"};
  const auto o = (*box)->run({name, script}, page, sandbox::Limits{});
  if (!o.ok() && !o.parser.is_object()) {
    return std::unexpected(std::string(sandbox::to_string(o.error->kind)) + ": " +
                           o.error->message);
  }
  if (auto schema = sandbox::Schema::from_description(o.parser); !schema) {
    return std::unexpected("the parser's schema is invalid: " + schema.error().message);
  }
  const bool has_examples = o.parser.is_object() && o.parser.contains("examples") &&
                            o.parser["examples"].is_array() && !o.parser["examples"].empty();
  if (dir.empty() || !has_examples) return {};
  auto results = lifecycle::check_examples(**box, {name, script}, dir);
  if (!results) return std::unexpected(results.error());
  for (const auto& r : *results) {
    if (!r.passed) {
      return std::unexpected(
          "its example " + r.page +
          " fails: " + (r.problems.empty() ? std::string("see 'host check'") : r.problems.front()) +
          " ('host check FILE' runs the examples)");
    }
  }
  return {};
}

// What a version records as its origin: the absolute path of its file.
std::string origin_of(const std::string& path) {
  std::error_code ec;
  const auto abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

// The first failing check of a stored report ("loads: the script does not
// load: ..."), or "" when it passed or there is none.
std::string first_failure(const json& report) {
  if (!report.is_object() || report.value("passed", false)) return "";
  for (const json& c : report.value("checks", json::array())) {
    if (c.is_object() && !c.value("passed", true)) {
      return c.value("name", std::string()) + ": " + c.value("detail", std::string());
    }
  }
  return "";
}

// `text` cut to at most `width` bytes (on a UTF-8 boundary), with "...".
std::string shorten(const std::string& text, std::size_t width) {
  if (text.size() <= width) return text;
  std::size_t end = width - 3;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end) + "...";
}

std::expected<store::Source, std::string> require_source(const store::Store& st,
                                                         const std::string& name) {
  auto txn = st.read();
  if (!txn) return std::unexpected(txn.error().message);
  auto s = st.sources().get(*txn, name);
  if (!s) return std::unexpected(s.error().message);
  if (!*s) return std::unexpected("no source named '" + name + "' ('host status' lists them)");
  return **s;
}

// The newest staged version, for commands whose VERSION is optional.
std::expected<std::uint32_t, std::string> latest_staged(const store::Store& st,
                                                        const std::string& source) {
  auto txn = st.read();
  if (!txn) return std::unexpected(txn.error().message);
  auto list = st.versions().list(*txn, source);
  if (!list) return std::unexpected(list.error().message);
  for (auto it = list->rbegin(); it != list->rend(); ++it) {
    if (it->state == store::VersionState::kStaged) return it->number;
  }
  return std::unexpected("source '" + source +
                         "' has no staged version; stage one with 'host stage " + source +
                         " FILE' or name a version");
}

// Checks the source exists and picks the version a command acts on: the one
// named, else the newest staged.
std::expected<std::uint32_t, std::string> source_version(const store::Store& st,
                                                         const std::string& source,
                                                         std::uint32_t named) {
  if (auto src = require_source(st, source); !src) return std::unexpected(src.error());
  if (named != 0) return named;
  return latest_staged(st, source);
}

int run_add(const Globals& g, const LifecycleArgs& a) {
  if (!sandbox::text::is_http_url(a.url)) {
    std::cerr << "host add: '" << a.url
              << "' is not an http:// or https:// URL; a source is fetched from the web (to "
                 "run a parser over a saved file, use 'host parse')\n";
    return kExitUsage;
  }
  if (auto ok = store::check_source_name(a.name); !ok) {
    std::cerr << "host add: --name: " << ok.error().message << "\n";
    return kExitUsage;
  }
  std::optional<std::string> interval;
  if (!a.interval.empty()) {
    auto v = config::normalize(*config::find_setting("source.interval"), a.interval);
    if (!v) {
      std::cerr << "host add: --interval: " << v.error() << "\n";
      return kExitUsage;
    }
    interval = *v;
  }
  auto script = util::read_file(a.parser);
  if (!script) return fail(script.error());
  const std::string script_name = std::filesystem::path(a.parser).filename().string();
  const std::string script_dir = std::filesystem::path(origin_of(a.parser)).parent_path().string();
  if (auto ok = check_loads(script_name, *script, script_dir); !ok) {
    return fail("the parser " + a.parser + " does not work: " + ok.error() + "; nothing was added");
  }
  auto st = open_store(g, StoreMode::kWrite);
  if (!st) return fail(st.error());
  auto r = st->update([&](store::WriteTxn& txn) -> std::expected<std::uint32_t, store::Error> {
    auto existing = st->sources().get(txn, a.name);
    if (!existing) return std::unexpected(existing.error());
    if (*existing) {
      return std::unexpected(store::Error{store::ErrorKind::kExists,
                                          "a source named '" + a.name + "' already exists"});
    }
    store::Source src;
    src.name = a.name;
    src.url = a.url;
    src.created_at = src.updated_at = store::now();
    if (auto ok = st->sources().put(txn, src); !ok) return std::unexpected(ok.error());
    if (interval) {
      if (auto ok = st->settings().set(txn, "source.interval", *interval, store::now(), a.name);
          !ok) {
        return std::unexpected(ok.error());
      }
    }
    store::NewParserVersion v;
    v.script = *script;
    v.author = {store::AuthorKind::kHuman, ""};
    v.note = "added with the source from " + script_name;
    v.origin = origin_of(a.parser);
    v.created_at = store::now();
    auto n = st->versions().add(txn, a.name, v);
    if (!n) return std::unexpected(n.error());
    // The first version has nothing to be compared with: it becomes active.
    if (auto ok = st->versions().promote(txn, a.name, *n, store::now()); !ok) {
      return std::unexpected(ok.error());
    }
    return *n;
  });
  if (!r) return fail("could not add the source: " + r.error().message);
  std::cout << "added source " << a.name << " (" << a.url << ") with parser version " << *r
            << " active\n";
  return kExitOk;
}

int run_stage(const Globals& g, const LifecycleArgs& a) {
  auto script = util::read_file(a.script);
  if (!script) return fail(script.error());
  auto st = open_store(g, StoreMode::kRead);
  if (!st) return fail(st.error());
  if (auto src = require_source(*st, a.source); !src) return fail(src.error());
  const auto sha = store::sha256(*script);
  const std::string origin = origin_of(a.script);
  std::optional<store::ParserVersion> same;
  {
    auto txn = st->read();
    if (!txn) return fail(txn.error().message);
    auto number = st->versions().find_by_sha(*txn, a.source, sha);
    if (!number) return fail(number.error().message);
    if (*number) {
      auto v = st->versions().get(*txn, a.source, **number);
      if (!v) return fail(v.error().message);
      same = *v;
    }
  }
  if (same) {
    std::cout << "identical to version " << same->number << "; nothing staged";
    if (same->origin != origin) {
      // The same script from another place: its example pages are read there now.
      auto moved = st->update([&](store::WriteTxn& txn) {
        return st->versions().set_origin(txn, a.source, same->number, origin);
      });
      if (!moved) return fail("could not record the new origin: " + moved.error().message);
      std::cout << "; its examples are now read beside " << origin;
    }
    std::cout << "\n";
    return kExitOk;
  }
  auto r = st->update([&](store::WriteTxn& txn) {
    store::NewParserVersion v;
    v.script = *script;
    v.author = {store::AuthorKind::kHuman, ""};
    v.note = a.note.empty() ? "staged from " + std::filesystem::path(a.script).filename().string()
                            : a.note;
    v.origin = origin;
    v.created_at = store::now();
    return st->versions().add(txn, a.source, v);
  });
  if (!r) return fail("could not stage: " + r.error().message);
  std::cout << "staged version " << *r << " of " << a.source << "; next: host validate " << a.source
            << " " << *r << "\n";
  return kExitOk;
}

void print_report(const lifecycle::ValidationReport& r, const std::string& source) {
  std::cout << "version " << r.version << " of " << source << " on " << r.pages
            << " stored page(s)";
  if (r.examples > 0) std::cout << " and " << r.examples << " declared example(s)";
  std::cout << ": " << (r.passed ? "PASSED" : "FAILED") << "\n";
  for (const auto& c : r.checks) {
    std::cout << "  " << (c.passed ? "ok    " : "FAIL  ") << std::left << std::setw(16) << c.name
              << c.detail << "\n";
  }
  if (r.compared_with) {
    std::cout << "  versus version " << *r.compared_with << ": " << r.added.size() << " added, "
              << r.removed.size() << " removed, " << r.changed.size() << " changed records\n";
  }
}

int run_validate(const Globals& g, const LifecycleArgs& a) {
  auto st = open_store(g, StoreMode::kRead);
  if (!st) return fail(st.error());
  auto resolved = source_version(*st, a.source, a.version);
  if (!resolved) return fail(resolved.error());
  const std::uint32_t number = *resolved;
  auto box = make_sandbox(2);
  if (!box) return fail(box.error());
  auto report = lifecycle::validate_version(*st, **box, a.source, number,
                                            lifecycle::validation_options(*st, a.source));
  if (!report) return fail(report.error());
  auto saved = st->update([&](store::WriteTxn& txn) {
    return st->versions().set_validation_report(txn, a.source, number, report->to_json().dump());
  });
  if (!saved) return fail("could not save the validation report: " + saved.error().message);
  if (a.json) {
    std::cout << report->to_json().dump(2) << "\n";
  } else {
    print_report(*report, a.source);
  }
  if (!report->passed) {
    std::cerr << "host validate: version " << number << " failed:\n" << report->failures();
    return kExitFailed;
  }
  return kExitOk;
}

bool report_passed(const std::string& report) {
  if (report.empty()) return false;
  const json j = json::parse(report, nullptr, false);
  return j.is_object() && j.value("passed", false);
}

// `force`: promote without a passing validation, and record that.
// `known_good`: a version that was active before (rollback): no check at all.
int promote(store::Store& st, const std::string& source, std::uint32_t number, bool force,
            const char* verb, bool known_good = false) {
  auto r = st.update([&](store::WriteTxn& txn) -> std::expected<void, store::Error> {
    auto v = st.versions().get(txn, source, number);
    if (!v) return std::unexpected(v.error());
    if (!*v) {
      return std::unexpected(
          store::Error{store::ErrorKind::kNotFound,
                       "source '" + source + "' has no version " + std::to_string(number)});
    }
    if ((*v)->state == store::VersionState::kActive) {
      return std::unexpected(store::Error{
          store::ErrorKind::kConflict, "version " + std::to_string(number) + " is already active"});
    }
    if (!known_good && !report_passed((*v)->validation_report)) {
      if (!force) {
        return std::unexpected(
            store::Error{store::ErrorKind::kConflict,
                         "version " + std::to_string(number) +
                             ((*v)->validation_report.empty() ? " has not been validated"
                                                              : " failed validation") +
                             "; run 'host validate " + source + " " + std::to_string(number) +
                             "', or add --force to promote it anyway (recorded)"});
      }
      // A forced promotion is recorded in the version's report.
      json report = json::parse((*v)->validation_report, nullptr, false);
      if (!report.is_object()) report = json::object();
      report["forced"] = {{"at", util::format_time(store::now())},
                          {"by", "host " + std::string(verb) + " --force"}};
      if (auto ok = st.versions().set_validation_report(txn, source, number, report.dump()); !ok) {
        return std::unexpected(ok.error());
      }
    }
    return st.versions().promote(txn, source, number, store::now());
  });
  if (!r) return fail(std::string(verb) + " refused: " + r.error().message);
  std::cout << "version " << number << " of " << source << " is now active"
            << (force && !known_good ? " (forced)" : "") << "\n";
  return kExitOk;
}

int run_promote(const Globals& g, const LifecycleArgs& a) {
  auto st = open_store(g, StoreMode::kRead);
  if (!st) return fail(st.error());
  auto resolved = source_version(*st, a.source, a.version);
  if (!resolved) return fail(resolved.error());
  const std::uint32_t number = *resolved;
  return promote(*st, a.source, number, a.force, "promote");
}

int run_rollback(const Globals& g, const LifecycleArgs& a) {
  auto st = open_store(g, StoreMode::kRead);
  if (!st) return fail(st.error());
  if (auto src = require_source(*st, a.source); !src) return fail(src.error());
  std::uint32_t target = a.to;
  if (target != 0) {
    auto txn = st->read();
    if (!txn) return fail(txn.error().message);
    auto v = st->versions().get(*txn, a.source, target);
    if (!v) return fail(v.error().message);
    if (!*v) return fail("source '" + a.source + "' has no version " + std::to_string(target));
    if (!(*v)->activated_at) {
      return fail("version " + std::to_string(target) +
                  " was never active; validate and promote it instead");
    }
  } else {
    // The version that was active before the current one.
    auto txn = st->read();
    if (!txn) return fail(txn.error().message);
    auto list = st->versions().list(*txn, a.source);
    if (!list) return fail(list.error().message);
    std::optional<store::Time> best;
    for (const auto& v : *list) {
      if (v.state == store::VersionState::kRetired && v.activated_at &&
          (!best || *v.retired_at > *best)) {
        best = v.retired_at;
        target = v.number;
      }
    }
    if (target == 0) {
      return fail("source '" + a.source + "' has no earlier active version to roll back to");
    }
  }
  // Rolling back to a version that once was active needs no new validation.
  return promote(*st, a.source, target, false, "rollback", /*known_good=*/true);
}

int run_versions(const Globals& g, const LifecycleArgs& a) {
  auto st = open_store(g, StoreMode::kRead);
  if (!st) return fail(st.error());
  if (auto src = require_source(*st, a.source); !src) return fail(src.error());
  auto txn = st->read();
  if (!txn) return fail(txn.error().message);
  auto list = st->versions().list(*txn, a.source);
  if (!list) return fail(list.error().message);
  json out = json::array();
  if (!a.json) {
    std::cout << std::left << std::setw(8) << "VERSION" << std::setw(9) << "STATE" << std::setw(16)
              << "AUTHOR" << std::setw(22) << "CREATED" << std::setw(12) << "VALIDATION"
              << std::setw(9) << "RECORDS"
              << "NOTE\n";
  }
  for (const auto& v : *list) {
    const json report =
        json::parse(v.validation_report.empty() ? "null" : v.validation_report, nullptr, false);
    std::string validation = "-";
    std::string records = "-";
    const std::string reason = first_failure(report);
    if (report.is_object()) {
      validation = report.value("passed", false) ? "passed" : "failed";
      if (report.contains("forced")) validation += "*";
      // Records on stored pages; a version validated on its examples alone has none.
      if (report.value("pages", 0) > 0 && report.contains("records")) {
        records = std::to_string(report["records"].get<std::uint64_t>());
      }
    }
    if (a.json) {
      out.push_back({{"version", v.number},
                     {"state", store::to_string(v.state)},
                     {"author", store::to_string(v.author)},
                     {"created_at", util::format_time(v.created_at)},
                     {"sha256", store::to_hex(v.script_sha256)},
                     {"validation", report.is_discarded() ? json(nullptr) : report},
                     {"reason", reason.empty() ? json(nullptr) : json(reason)},
                     {"note", v.note},
                     {"origin", v.origin}});
      continue;
    }
    std::cout << std::left << std::setw(8) << v.number << std::setw(9) << store::to_string(v.state)
              << std::setw(16) << store::to_string(v.author) << std::setw(22)
              << util::format_time(v.created_at) << std::setw(12) << validation << std::setw(9)
              << records << v.note << "\n";
    // Why a staged version was not promoted; --json has the whole report.
    if (v.state == store::VersionState::kStaged && !reason.empty()) {
      std::cout << "        why: " << shorten(reason, 110) << "\n";
    }
  }
  if (a.json) std::cout << out.dump(2) << "\n";
  return kExitOk;
}

int run_diff(const Globals& g, const LifecycleArgs& a) {
  auto st = open_store(g, StoreMode::kRead);
  if (!st) return fail(st.error());
  auto txn = st->read();
  if (!txn) return fail(txn.error().message);
  auto v1 = st->versions().get(*txn, a.source, a.version);
  auto v2 = st->versions().get(*txn, a.source, a.version2);
  if (!v1) return fail(v1.error().message);
  if (!v2) return fail(v2.error().message);
  for (auto [v, n] : {std::pair{&*v1, a.version}, std::pair{&*v2, a.version2}}) {
    if (!*v) {
      return fail("source '" + a.source + "' has no version " + std::to_string(n) +
                  " ('host versions " + a.source + "' lists them)");
    }
  }
  std::cout << util::unified_diff((*v1)->script, (*v2)->script,
                                  a.source + " version " + std::to_string(a.version),
                                  a.source + " version " + std::to_string(a.version2));
  return kExitOk;
}

}  // namespace

Command register_lifecycle(CLI::App& root, const Globals& globals, std::vector<Command>& commands) {
  auto a = std::make_shared<LifecycleArgs>();
  auto add = root.add_subcommand("add", "Add a source with a hand-written parser");
  add->add_option("url", a->url, "The page to extract (http:// or https://)")->required();
  add->add_option("--name", a->name, "Source name")->required();
  add->add_option("--parser", a->parser, "Parser script (Lua)")->required();
  add->add_option("--interval", a->interval, "How often to extract: 30m, 6h, 1d (default 1h)");
  commands.push_back({add, [a, &globals] { return run_add(globals, *a); }});

  auto stage = root.add_subcommand("stage", "Store a new parser version as staged");
  stage->add_option("source", a->source, "Source name")->required();
  stage->add_option("script", a->script, "Parser script (Lua)")->required();
  stage->add_option("--note", a->note, "Why this version exists");
  commands.push_back({stage, [a, &globals] { return run_stage(globals, *a); }});

  auto validate = root.add_subcommand(
      "validate",
      "Run a version over the source's latest stored pages and the example pages it declares, "
      "compare it with the active one, and record the report; exit 1 listing the failing "
      "checks");
  validate->add_option("source", a->source, "Source name")->required();
  validate->add_option("version", a->version, "Version (default: the newest staged)");
  validate->add_flag("--json", a->json, "Print the report as JSON");
  commands.push_back({validate, [a, &globals] { return run_validate(globals, *a); }});

  auto promote_cmd = root.add_subcommand("promote", "Make a validated version active");
  promote_cmd->add_option("source", a->source, "Source name")->required();
  promote_cmd->add_option("version", a->version, "Version (default: the newest staged)");
  promote_cmd->add_flag("--force", a->force, "Promote even if not validated (recorded)");
  commands.push_back({promote_cmd, [a, &globals] { return run_promote(globals, *a); }});

  auto rollback = root.add_subcommand("rollback", "Make an earlier version active again");
  rollback->add_option("source", a->source, "Source name")->required();
  rollback->add_option("--to", a->to, "Version (default: the one active before)");
  commands.push_back({rollback, [a, &globals] { return run_rollback(globals, *a); }});

  auto versions = root.add_subcommand(
      "versions", "List a source's parser versions with state, author, validation and records");
  versions->add_option("source", a->source, "Source name")->required();
  versions->add_flag("--json", a->json, "Print JSON");
  commands.push_back({versions, [a, &globals] { return run_versions(globals, *a); }});

  auto diff = root.add_subcommand("diff", "Unified diff of two versions' scripts");
  diff->add_option("source", a->source, "Source name")->required();
  diff->add_option("v1", a->version, "First version")->required();
  diff->add_option("v2", a->version2, "Second version")->required();
  return Command{diff, [a, &globals] { return run_diff(globals, *a); }};
}

}  // namespace host::cli
