#include "host/lifecycle/examples.h"

#include <cmath>
#include <filesystem>

#include "host/util/files.h"

namespace host::lifecycle {
namespace {

using nlohmann::json;

bool same_value(const json& want, const json& got) {
  if (want.is_number() && got.is_number()) {
    const double a = want.get<double>(), b = got.get<double>();
    return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(a));
  }
  return want == got;
}

std::string show(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

}  // namespace

std::expected<json, sandbox::Error> describe_parser(sandbox::Sandbox& box,
                                                    const sandbox::Script& script) {
  const sandbox::Page empty{"http://example.invalid/", 200, {}, "<html></html>"};
  const auto o = box.run(script, empty, sandbox::Limits{});
  if (o.parser.is_object()) return o.parser;
  return std::unexpected(o.error.value_or(
      sandbox::Error{sandbox::ErrorKind::kRuntime, "the script declared no parser"}));
}

std::expected<std::vector<ExampleResult>, std::string> check_examples(
    sandbox::Sandbox& box, const sandbox::Script& script, const std::string& script_dir) {
  auto description = describe_parser(box, script);
  if (!description) {
    return std::unexpected(
        "the parser does not load: " + std::string(sandbox::to_string(description.error().kind)) +
        ": " + description.error().message);
  }
  const json examples = description->value("examples", json());
  if (!examples.is_array() || examples.empty()) {
    return std::unexpected(
        "the parser declares no examples; add examples = { { page = \"pages/x.html\", url = "
        "\"https://...\", expect = { count = N } } } to its definition (docs/sdk.md)");
  }
  std::vector<ExampleResult> results;
  for (const json& ex : examples) {
    ExampleResult r;
    r.page = ex.is_object() ? ex.value("page", std::string()) : std::string();
    auto problem = [&](std::string p) { r.problems.push_back(std::move(p)); };
    if (r.page.empty()) {
      problem("the example has no page = \"...\"");
      results.push_back(std::move(r));
      continue;
    }
    const std::string path = (std::filesystem::path(script_dir) / r.page).string();
    auto body = util::read_file(path);
    if (!body) {
      problem(body.error());
      results.push_back(std::move(r));
      continue;
    }
    sandbox::Page page;
    page.url = ex.value("url", "file://" + std::filesystem::absolute(path).string());
    page.status = 200;
    if (std::string ct = util::content_type_for(path); !ct.empty()) {
      page.headers.emplace_back("Content-Type", ct);
    }
    page.body = std::move(*body);
    const auto o = box.run(script, page, sandbox::Limits{});
    if (!o.ok()) {
      problem(std::string(sandbox::to_string(o.error->kind)) + ": " + o.error->message);
    }
    for (const auto& rej : o.rejects) problem("rejected: " + rej.to_string());
    r.records = o.records.size();
    const json expect = ex.value("expect", json::object());
    if (expect.contains("count") && expect["count"].is_number() &&
        expect["count"].get<double>() != static_cast<double>(r.records)) {
      problem("expected " + show(expect["count"]) + " records, got " + std::to_string(r.records));
    }
    if (expect.contains("min_count") && expect["min_count"].is_number() &&
        static_cast<double>(r.records) < expect["min_count"].get<double>()) {
      problem("expected at least " + show(expect["min_count"]) + " records, got " +
              std::to_string(r.records));
    }
    // records = { [1] = {...} } serialises as an object {"1": {...}} or a list.
    const json want = expect.value("records", json());
    auto check_record = [&](std::size_t index, const json& fields) {
      if (index == 0 || index > o.records.size()) {
        problem("record " + std::to_string(index) + " was expected but only " +
                std::to_string(o.records.size()) + " came back");
        return;
      }
      const json& got = o.records[index - 1];
      for (const auto& [field, value] : fields.items()) {
        const auto it = got.find(field);
        if (it == got.end()) {
          problem("record " + std::to_string(index) + ": field '" + field + "' is missing");
        } else if (!same_value(value, *it)) {
          problem("record " + std::to_string(index) + ": field '" + field + "' is " + show(*it) +
                  ", expected " + show(value));
        }
      }
    };
    if (want.is_array()) {
      for (std::size_t i = 0; i < want.size(); ++i) check_record(i + 1, want[i]);
    } else if (want.is_object()) {
      for (const auto& [k, v] : want.items()) {
        check_record(static_cast<std::size_t>(std::strtoull(k.c_str(), nullptr, 10)), v);
      }
    }
    r.passed = r.problems.empty();
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace host::lifecycle
