#include "host/lifecycle/validation.h"

#include <atomic>
#include <map>
#include <thread>

#include "host/config/effective.h"
#include "host/config/registry.h"
#include "host/pipeline/silver_records.h"

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

}  // namespace

nlohmann::json ValidationReport::to_json() const {
  nlohmann::json checks_json = nlohmann::json::array();
  for (const auto& c : checks) {
    checks_json.push_back({{"name", c.name}, {"passed", c.passed}, {"detail", c.detail}});
  }
  nlohmann::json j = {{"passed", passed},
                      {"version", version},
                      {"pages", pages},
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
  if (pages.empty()) {
    return std::unexpected("source '" + source +
                           "' has no stored pages to validate against; extract it first "
                           "(it fetches the page), or promote with --force");
  }

  // Run both versions over every page, in parallel.
  std::vector<PageResult> results(pages.size());
  const sandbox::Script cand_script{source + ".lua", candidate.script};
  const sandbox::Script active_script{source + ".lua", active ? active->script : ""};
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

  ValidationReport r;
  r.version = number;
  r.pages = pages.size();
  if (active) r.compared_with = active->number;
  std::size_t failed_pages = 0;
  std::string first_failure;
  bool loads = true;
  std::uint64_t missing_required = 0;
  std::map<std::string, nlohmann::json> cand_by_key, active_by_key;
  for (const auto& pr : results) {
    const auto& o = pr.candidate;
    if (!o.ok()) {
      ++failed_pages;
      if (first_failure.empty()) {
        first_failure = std::string(sandbox::to_string(o.error->kind)) + ": " + o.error->message;
      }
      if (o.error->kind == sandbox::ErrorKind::kSyntax ||
          (o.error->kind == sandbox::ErrorKind::kRuntime && o.parser.is_null())) {
        loads = false;
      }
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
  r.checks.push_back({"loads", loads,
                      loads ? "the script loads and declares a parser"
                            : "the script does not load: " + first_failure});
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
  r.passed = std::all_of(r.checks.begin(), r.checks.end(), [](const Check& c) { return c.passed; });
  return r;
}

}  // namespace host::lifecycle
