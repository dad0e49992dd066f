#include "host/config/effective.h"

#include "host/config/registry.h"

namespace host::config {

std::string value_for(const store::Store& st, const store::Txn& txn, std::string_view name,
                      std::string_view source) {
  const SettingDef* def = find_setting(name);
  if (auto v = st.settings().effective(txn, name, source); v && *v) return (*v)->value;
  return def != nullptr ? std::string(def->default_value) : std::string();
}

sandbox::Limits sandbox_limits(const store::Store& st, const store::Txn& txn,
                               std::string_view source) {
  auto setting = [&](std::string_view name) -> std::pair<const SettingDef&, std::string> {
    return {*find_setting(name), value_for(st, txn, name, source)};
  };
  sandbox::Limits l;
  {
    auto [d, v] = setting("sandbox.max_memory");
    l.memory_bytes = as_size(d, v);
  }
  {
    auto [d, v] = setting("sandbox.timeout");
    l.cpu_time = as_duration(d, v);
  }
  {
    auto [d, v] = setting("sandbox.max_records");
    l.max_records = static_cast<std::uint64_t>(as_integer(d, v));
  }
  {
    auto [d, v] = setting("sandbox.max_output");
    l.max_output_bytes = as_size(d, v);
  }
  {
    auto [d, v] = setting("sandbox.max_string");
    l.max_string_bytes = as_size(d, v);
  }
  return l;
}

}  // namespace host::config
