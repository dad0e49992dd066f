// host config get|set|validate|reset|list: the host's settings, persisted in
// the store, global or per source.
#include <iomanip>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "host/cli/cli.h"
#include "host/cli/open_store.h"
#include "host/config/registry.h"

namespace host::cli {
namespace {

struct ConfigArgs {
  std::string key;
  std::string value;
  std::string source;
  bool json = false;
};

// A source scope must name an existing source, and the setting must allow it.
std::expected<void, std::string> check_scope(const store::Store& st, const ConfigArgs& a,
                                             const config::SettingDef* def) {
  if (a.source.empty()) return {};
  if (def != nullptr && !def->per_source) {
    return std::unexpected(std::string(def->name) +
                           " is global and cannot be overridden per source");
  }
  auto txn = st.read();
  if (!txn) return std::unexpected(txn.error().message);
  auto src = st.sources().get(*txn, a.source);
  if (!src) return std::unexpected(src.error().message);
  if (!*src) {
    return std::unexpected("no source named '" + a.source + "' ('host status' lists the sources)");
  }
  return {};
}

// The value in effect and where it comes from: "source", "global" or "default".
struct Effective {
  std::string value;
  std::string from;
};

Effective effective(const store::Store* st, const config::SettingDef& def,
                    const std::string& source) {
  if (st != nullptr) {
    if (auto txn = st->read()) {
      if (auto v = st->settings().effective(*txn, def.name, source); v && *v) {
        return {(*v)->value, (*v)->scope.empty() ? "global" : "source"};
      }
    }
  }
  return {std::string(def.default_value), "default"};
}

int run_get(const Globals& g, const ConfigArgs& a) {
  const config::SettingDef* def = config::find_setting(a.key);
  if (def == nullptr) {
    std::cerr << "host config get: " << config::unknown_setting_message(a.key) << "\n";
    return kExitUsage;
  }
  std::optional<store::Store> st;
  if (!store_missing(g)) {
    auto opened = open_store(g, StoreMode::kRead);
    if (!opened) return fail(opened.error());
    st = std::move(*opened);
    if (auto ok = check_scope(*st, a, def); !ok) return fail(ok.error());
  }
  const Effective e = effective(st ? &*st : nullptr, *def, a.source);
  if (a.json) {
    std::cout << nlohmann::json{{"name", def->name}, {"value", e.value}, {"from", e.from}}.dump()
              << "\n";
  } else {
    std::cout << e.value << "\n";
  }
  return kExitOk;
}

int run_set(const Globals& g, const ConfigArgs& a) {
  const config::SettingDef* def = config::find_setting(a.key);
  if (def == nullptr) {
    std::cerr << "host config set: " << config::unknown_setting_message(a.key) << "\n";
    return kExitUsage;
  }
  auto canonical = config::normalize(*def, a.value);
  if (!canonical) {
    std::cerr << "host config set: " << canonical.error() << "\n";
    return kExitUsage;
  }
  auto st = open_store(g, StoreMode::kWrite);
  if (!st) return fail(st.error());
  if (auto ok = check_scope(*st, a, def); !ok) return fail(ok.error());
  auto r = st->update([&](store::WriteTxn& txn) {
    return st->settings().set(txn, def->name, *canonical, store::now(), a.source);
  });
  if (!r) return fail("could not save " + a.key + ": " + r.error().message);
  std::cout << def->name << " = " << *canonical
            << (a.source.empty() ? "" : " (for source " + a.source + ")") << "\n";
  return kExitOk;
}

int run_reset(const Globals& g, const ConfigArgs& a) {
  const config::SettingDef* def = nullptr;
  if (!a.key.empty()) {
    def = config::find_setting(a.key);
    if (def == nullptr) {
      std::cerr << "host config reset: " << config::unknown_setting_message(a.key) << "\n";
      return kExitUsage;
    }
  }
  if (store_missing(g)) return kExitOk;  // nothing set, nothing to reset
  auto st = open_store(g, StoreMode::kWrite);
  if (!st) return fail(st.error());
  if (auto ok = check_scope(*st, a, def); !ok) return fail(ok.error());
  auto r = st->update([&](store::WriteTxn& txn) -> std::expected<int, store::Error> {
    int n = 0;
    if (def != nullptr) {
      auto gone = st->settings().reset(txn, def->name, a.source);
      if (!gone) return std::unexpected(gone.error());
      return *gone ? 1 : 0;
    }
    auto values = st->settings().list(txn, a.source);
    if (!values) return std::unexpected(values.error());
    for (const auto& v : *values) {
      auto gone = st->settings().reset(txn, v.name, a.source);
      if (!gone) return std::unexpected(gone.error());
      n += *gone ? 1 : 0;
    }
    return n;
  });
  if (!r) return fail("could not reset: " + r.error().message);
  std::cout << "reset " << *r << " setting(s)" << (a.source.empty() ? "" : " of source " + a.source)
            << "\n";
  return kExitOk;
}

int run_list(const Globals& g, const ConfigArgs& a) {
  std::optional<store::Store> st;
  if (!store_missing(g)) {
    auto opened = open_store(g, StoreMode::kRead);
    if (!opened) return fail(opened.error());
    st = std::move(*opened);
    if (auto ok = check_scope(*st, a, nullptr); !ok) return fail(ok.error());
  }
  nlohmann::json out = nlohmann::json::array();
  std::size_t width = 0;
  for (const auto& def : config::all_settings()) width = std::max(width, def.name.size());
  for (const auto& def : config::all_settings()) {
    const Effective e = effective(st ? &*st : nullptr, def, a.source);
    if (a.json) {
      out.push_back({{"name", def.name},
                     {"value", e.value},
                     {"from", e.from},
                     {"default", def.default_value},
                     {"type", config::type_name(def.type)},
                     {"unit", def.unit},
                     {"per_source", def.per_source},
                     {"description", def.description}});
      continue;
    }
    std::string shown = e.value.empty() ? "\"\"" : e.value;
    if (!def.unit.empty() && def.type != config::SettingType::kBoolean) {
      shown += " " + std::string(def.unit);
    }
    if (shown.size() < 26) shown.resize(26, ' ');
    std::string from = "(" + e.from + ")";
    from.resize(11, ' ');
    std::cout << std::left << std::setw(static_cast<int>(width) + 2) << def.name << shown << "  "
              << from << def.description << "\n";
  }
  if (a.json) std::cout << out.dump(2) << "\n";
  return kExitOk;
}

int run_validate(const Globals& g, const ConfigArgs&) {
  if (store_missing(g)) {
    std::cout << "no store yet: every setting has its default\n";
    return kExitOk;
  }
  auto st = open_store(g, StoreMode::kRead);
  if (!st) return fail(st.error());
  auto txn = st->read();
  if (!txn) return fail(txn.error().message);
  std::vector<std::string> scopes{""};
  auto sources = st->sources().list(*txn);
  if (!sources) return fail(sources.error().message);
  for (const auto& s : *sources) scopes.push_back(s.name);
  std::size_t problems = 0;
  std::size_t checked = 0;
  for (const auto& scope : scopes) {
    auto values = st->settings().list(*txn, scope);
    if (!values) return fail(values.error().message);
    for (const auto& v : *values) {
      ++checked;
      const std::string where = scope.empty() ? "" : " (source " + scope + ")";
      const config::SettingDef* def = config::find_setting(v.name);
      if (def == nullptr) {
        std::cerr << "problem: " << config::unknown_setting_message(v.name) << where
                  << "; remove it with 'host config reset " << v.name << "'\n";
        ++problems;
      } else if (auto ok = config::normalize(*def, v.value); !ok) {
        std::cerr << "problem: " << ok.error() << where << "\n";
        ++problems;
      } else if (!scope.empty() && !def->per_source) {
        std::cerr << "problem: " << v.name << " is global but has an override" << where << "\n";
        ++problems;
      }
    }
  }
  std::cout << checked << " stored value(s) checked, " << problems << " problem(s)\n";
  return problems == 0 ? kExitOk : kExitFailed;
}

}  // namespace

Command register_config(CLI::App& root, const Globals& globals) {
  auto args = std::make_shared<ConfigArgs>();
  CLI::App* app =
      root.add_subcommand("config", "Show and change the host's settings, globally or per source");
  app->require_subcommand(1);
  auto add_source = [&](CLI::App* sub) {
    sub->add_option("--source", args->source, "Apply to this source only (an override)");
  };
  CLI::App* get = app->add_subcommand("get", "Print the value in effect");
  get->add_option("key", args->key, "Setting name, e.g. fetch.timeout")->required();
  get->add_flag("--json", args->json, "Print JSON with where the value comes from");
  add_source(get);
  CLI::App* set = app->add_subcommand("set", "Change a setting (validated against its type)");
  set->add_option("key", args->key, "Setting name")->required();
  set->add_option("value", args->value, "New value (e.g. 30s, 64MiB, true)")->required();
  add_source(set);
  CLI::App* reset = app->add_subcommand("reset", "Back to the default (one setting, or all)");
  reset->add_option("key", args->key, "Setting name (default: every setting in the scope)");
  add_source(reset);
  CLI::App* list = app->add_subcommand("list", "Every setting with its value, unit and meaning");
  list->add_flag("--json", args->json, "Print JSON");
  add_source(list);
  CLI::App* validate =
      app->add_subcommand("validate", "Check every stored value against the registry");

  return Command{app, [=, &globals] {
                   if (get->parsed()) return run_get(globals, *args);
                   if (set->parsed()) return run_set(globals, *args);
                   if (reset->parsed()) return run_reset(globals, *args);
                   if (list->parsed()) return run_list(globals, *args);
                   if (validate->parsed()) return run_validate(globals, *args);
                   return kExitUsage;
                 }};
}

}  // namespace host::cli
