// Settings: values of the host's settings, global or overridden per source,
// stored as strings under the setting's name. The registry of known names
// (type, unit, default, description, validation) lives in the host; the
// store accepts any well-formed name and keeps what it is given.
//
// A scope is "" for the global value or a source name for that source's
// override. effective() resolves: the source's override, else the global
// value, else nullopt (the host then uses the registry's default).
//
// Thread safety: a Settings object is immutable and shared.
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/clock.h"
#include "store/env.h"
#include "store/error.h"

namespace store {

namespace detail {
struct Dbs;
}  // namespace detail

struct SettingValue {
  std::string name;
  std::string scope;  // "" global, else a source name
  std::string value;
  Time updated_at;
};

class Settings {
 public:
  explicit Settings(const detail::Dbs& dbs) : dbs_(&dbs) {}

  // Sets name (1..100 bytes, no control characters) in scope.
  std::expected<void, Error> set(WriteTxn& txn, std::string_view name, std::string_view value,
                                 Time now, std::string_view scope = {}) const;
  // Removes the value in scope (back to the default, or to the global value
  // for an override). Returns whether there was one.
  std::expected<bool, Error> reset(WriteTxn& txn, std::string_view name,
                                   std::string_view scope = {}) const;
  // The value stored in exactly this scope.
  std::expected<std::optional<SettingValue>, Error> get(const Txn& txn, std::string_view name,
                                                        std::string_view scope = {}) const;
  // The value that applies to `source` ("" for the global view).
  std::expected<std::optional<SettingValue>, Error> effective(const Txn& txn, std::string_view name,
                                                              std::string_view source) const;
  // Values stored in one scope, by name.
  std::expected<std::vector<SettingValue>, Error> list(const Txn& txn,
                                                       std::string_view scope = {}) const;
  // Every per-source override of `name`, by source.
  std::expected<std::vector<SettingValue>, Error> overrides(const Txn& txn,
                                                            std::string_view name) const;

 private:
  const detail::Dbs* dbs_;
};

}  // namespace store
