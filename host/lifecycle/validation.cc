#include "host/lifecycle/validation.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>
#include <thread>

#include "host/config/effective.h"
#include "host/config/registry.h"
#include "host/lifecycle/examples.h"
#include "host/pipeline/silver_records.h"
#include "sandbox/schema.h"

namespace host::lifecycle {
namespace {

struct PageResult {
  sandbox::RunOutcome candidate;
  std::optional<sandbox::RunOutcome> active;
};

std::string fmt_ratio(double r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", r * 100.0);
  return buf;
}

std::string describe_error(const sandbox::Error& e) {
  return std::string(sandbox::to_string(e.kind)) + ": " + e.message;
}

// The "examples" check: the examples the version declares, read from the
// directory of the file it was staged from.
Check examples_check(sandbox::Sandbox& box, const sandbox::Script& script,
                     const store::ParserVersion& version, std::size_t& count) {
  namespace fs = std::filesystem;
  const std::string again =
      "; example pages are read beside the file a version was staged from, so stage it again "
      "from its directory ('host stage " +
      version.source + " DIR/FILE.lua'), or promote with --force";
  if (version.origin.empty()) {
    return {"examples", false,
            "version " + std::to_string(version.number) +
                " does not record the file it was staged from, so its example pages cannot be "
                "found" +
                again};
  }
  const fs::path dir = fs::path(version.origin).parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return {"examples", false,
            "the directory " + dir.string() + " that version " + std::to_string(version.number) +
                " was staged from is missing" + again};
  }
  auto results = check_examples(box, script, dir.string());
  if (!results) return {"examples", false, results.error()};
  count = results->size();
  std::size_t failed = 0;
  bool missing_page = false;
  std::string problems;
  for (const auto& r : *results) {
    if (r.passed) continue;
    ++failed;
    if (!r.page.empty() && !fs::exists(dir / r.page, ec)) missing_page = true;
    problems += (problems.empty() ? "" : "; ") + (r.page.empty() ? "an example" : r.page) + ": ";
    // A handful of problems says enough; `host check` lists them all.
    constexpr std::size_t kShown = 3;
    for (std::size_t i = 0; i < r.problems.size() && i < kShown; ++i) {
      problems += (i == 0 ? "" : ", ") + r.problems[i];
    }
    if (r.problems.size() > kShown) {
      problems += " (and " + std::to_string(r.problems.size() - kShown) + " more)";
    }
  }
  if (failed == 0) {
    return {"examples", true,
            std::to_string(count) + " of " + std::to_string(count) + " declared example(s) pass"};
  }
  return {"examples", false,
          std::to_string(failed) + " of " + std::to_string(count) +
              " declared example(s) failed: " + problems + (missing_page ? again : "")};
}

// Runs the candidate and the active version over the stored pages (two at
// a time) and adds the page checks and the diff by record key to `r`.
void check_pages(sandbox::Sandbox& box, const std::vector<sandbox::Page>& pages,
                 const sandbox::Script& cand_script,
                 const std::optional<store::ParserVersion>& active, const sandbox::Limits& limits,
                 const ValidationOptions& options, ValidationReport& r) {
  std::vector<PageResult> results(pages.size());
  const sandbox::Script active_script{cand_script.name, active ? active->script : ""};
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> threads;
  const unsigned n = std::max(1u, std::min(2u, static_cast<unsigned>(pages.size())));
  for (unsigned t = 0; t < n; ++t) {
    threads.emplace_back([&] {
      for (std::size_t i = next++; i < pages.size(); i = next++) {
        results[i].candidate = box.run(cand_script, pages[i], limits);
        if (active) results[i].active = box.run(active_script, pages[i], limits);
      }
    });
  }
  for (auto& t : threads) t.join();

  std::size_t failed_pages = 0;
  std::string first_failure;
  std::uint64_t missing_required = 0;
  std::map<std::string, nlohmann::json> cand_by_key, active_by_key;
  for (const auto& pr : results) {
    const auto& o = pr.candidate;
    if (!o.ok()) {
      ++failed_pages;
      if (first_failure.empty()) first_failure = describe_error(*o.error);
    }
    r.records += o.records.size();
    r.rejected += o.rejects.size();
    for (const auto& rej : o.rejects) {
      if (rej.expected.find("(required)") != std::string::npos) ++missing_required;
    }
    if (o.ok()) {
      for (auto& in : pipeline::to_record_inputs(o)) cand_by_key[in.key] = std::move(in.data);
    }
    if (pr.active && pr.active->ok()) {
      r.active_records += pr.active->records.size();
      for (auto& in : pipeline::to_record_inputs(*pr.active)) {
        active_by_key[in.key] = std::move(in.data);
      }
    }
  }
  r.checks.push_back({"pages_parse", failed_pages == 0,
                      std::to_string(pages.size() - failed_pages) + " of " +
                          std::to_string(pages.size()) + " pages parsed" +
                          (first_failure.empty() ? "" : "; first failure: " + first_failure)});
  const std::uint64_t returned = r.records + r.rejected;
  const double ratio = returned == 0 ? 0.0 : static_cast<double>(r.records) / returned;
  r.checks.push_back({"schema_ratio", returned > 0 && ratio >= options.min_schema_ratio,
                      returned == 0 ? "no records returned"
                                    : fmt_ratio(ratio) + " of " + std::to_string(returned) +
                                          " records pass the schema (at least " +
                                          fmt_ratio(options.min_schema_ratio) + " needed)"});
  r.checks.push_back({"required_fields", missing_required == 0,
                      std::to_string(missing_required) + " record(s) miss a required field"});
  if (active) {
    const double needed = options.count_tolerance * static_cast<double>(r.active_records);
    r.checks.push_back({"record_count", static_cast<double>(r.records) >= needed,
                        std::to_string(r.records) + " records; the active version " +
                            std::to_string(active->number) + " returns " +
                            std::to_string(r.active_records) + " (at least " +
                            std::to_string(static_cast<std::uint64_t>(std::ceil(needed))) +
                            " needed)"});
    for (const auto& [k, v] : cand_by_key) {
      auto it = active_by_key.find(k);
      if (it == active_by_key.end()) {
        r.added.push_back(k);
      } else if (it->second != v) {
        r.changed.push_back(k);
      }
    }
    for (const auto& [k, v] : active_by_key) {
      if (!cand_by_key.contains(k)) r.removed.push_back(k);
    }
  }
}

}  // namespace

nlohmann::json ValidationReport::to_json() const {
  nlohmann::json checks_json = nlohmann::json::array();
  for (const auto& c : checks) {
    checks_json.push_back({{"name", c.name}, {"passed", c.passed}, {"detail", c.detail}});
  }
  nlohmann::json j = {{"passed", passed},
                      {"version", version},
                      {"pages", pages},
                      {"examples", examples},
                      {"records", records},
                      {"rejected", rejected},
                      {"checks", checks_json},
                      {"diff",
                       {{"added", added.size()},
                        {"removed", removed.size()},
                        {"changed", changed.size()},
                        {"added_keys", added},
                        {"removed_keys", removed},
                        {"changed_keys", changed}}}};
  if (compared_with) {
    j["compared_with"] = *compared_with;
    j["active_records"] = active_records;
  }
  return j;
}

std::string ValidationReport::failures() const {
  std::string out;
  for (const auto& c : checks) {
    if (!c.passed) out += c.name + ": " + c.detail + "\n";
  }
  return out;
}

ValidationOptions validation_options(const store::Store& st, const std::string& source) {
  ValidationOptions o;
  auto txn = st.read();
  if (!txn) return o;
  auto value = [&](std::string_view name) { return config::value_for(st, *txn, name, source); };
  o.snapshots = static_cast<std::size_t>(
      config::as_integer(*config::find_setting("validate.snapshots"), value("validate.snapshots")));
  o.min_schema_ratio = config::as_number(*config::find_setting("validate.min_schema_ratio"),
                                         value("validate.min_schema_ratio"));
  o.count_tolerance = config::as_number(*config::find_setting("validate.count_tolerance"),
                                        value("validate.count_tolerance"));
  return o;
}

std::expected<ValidationReport, std::string> validate_version(const store::Store& st,
                                                              sandbox::Sandbox& box,
                                                              const std::string& source,
                                                              std::uint32_t number,
                                                              const ValidationOptions& options) {
  std::vector<sandbox::Page> pages;
  store::ParserVersion candidate;
  std::optional<store::ParserVersion> active;
  sandbox::Limits limits;
  {
    auto txn = st.read();
    if (!txn) return std::unexpected(txn.error().message);
    auto v = st.versions().get(*txn, source, number);
    if (!v) return std::unexpected(v.error().message);
    if (!*v) {
      return std::unexpected("source '" + source + "' has no version " + std::to_string(number) +
                             " ('host versions " + source + "' lists them)");
    }
    candidate = **v;
    auto a = st.versions().active(*txn, source);
    if (!a) return std::unexpected(a.error().message);
    if (*a && (*a)->number != number) active = **a;
    limits = config::sandbox_limits(st, *txn, source);
    store::SnapshotListOptions list;
    list.newest_first = true;
    list.limit = options.snapshots;
    auto snaps = st.bronze().list(*txn, source, list);
    if (!snaps) return std::unexpected(snaps.error().message);
    for (const auto& s : *snaps) {
      auto body = st.bronze().body(*txn, s.body_sha256);
      if (!body) return std::unexpected(body.error().message);
      if (!*body) continue;
      sandbox::Page p;
      p.url = s.url;
      p.status = s.status;
      for (const auto& h : s.headers) p.headers.emplace_back(h.name, h.value);
      p.body = std::string(**body);
      pages.push_back(std::move(p));
    }
  }
  const sandbox::Script cand_script{source + ".lua", candidate.script};

  // Load it once: does it load, and what does it declare about itself?
  std::string load_error;
  auto description = describe_parser(box, cand_script);
  if (!description) {
    load_error = describe_error(description.error());
  } else if (auto schema = sandbox::Schema::from_description(*description); !schema) {
    load_error = "the parser's schema is invalid: " + schema.error().message;
  }
  const nlohmann::json declared_examples =
      description ? description->value("examples", nlohmann::json()) : nlohmann::json();
  const bool has_examples = declared_examples.is_array() && !declared_examples.empty();
  if (pages.empty() && !has_examples && load_error.empty()) {
    return std::unexpected("source '" + source +
                           "' has no stored pages to validate against and the script declares "
                           "no examples; extract it first (it fetches the page), declare example "
                           "pages in the script (docs/sdk.md), or promote with --force");
  }

  ValidationReport r;
  r.version = number;
  r.pages = pages.size();
  if (active && !pages.empty()) r.compared_with = active->number;
  r.checks.push_back({"loads", load_error.empty(),
                      load_error.empty() ? "the script loads and declares a parser"
                                         : "the script does not load: " + load_error});
  if (description && description->contains("source")) {
    const nlohmann::json& declared = (*description)["source"];
    const bool same = declared.is_string() && declared.get<std::string>() == source;
    r.checks.push_back({"source", same,
                        same ? "the script declares source '" + source + "'"
                             : "the script declares source = " + declared.dump() +
                                   ", but it was staged for '" + source + "'"});
  }
  if (!pages.empty()) check_pages(box, pages, cand_script, active, limits, options, r);
  if (has_examples) {
    r.checks.push_back(examples_check(box, cand_script, candidate, r.examples));
  }
  r.passed = std::all_of(r.checks.begin(), r.checks.end(), [](const Check& c) { return c.passed; });
  return r;
}

}  // namespace host::lifecycle
