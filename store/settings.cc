#include "store/settings.h"

#include "store/detail/codec.h"
#include "store/detail/maintenance.h"
#include "store/detail/schema.h"
#include "store/detail/try.h"
#include "store/keys.h"

namespace store {
namespace {

using detail::Packer;
using detail::Unpacker;

constexpr std::uint8_t kSettingFormat = 1;

std::string setting_key(std::string_view scope, std::string_view name) {
  return KeyWriter().str(scope).str(name).take();
}

std::expected<SettingValue, Error> decode(std::string_view key, std::string_view value) {
  KeyReader r(key);
  SettingValue s;
  s.scope = r.str();
  s.name = r.str();
  Unpacker u(value);
  bool format_ok = u.u8() == kSettingFormat;
  s.value = u.str();
  s.updated_at = u.time();
  if (!r.ok() || !format_ok || !u.ok()) return std::unexpected(detail::corrupt("setting"));
  return s;
}

}  // namespace

std::expected<void, Error> Settings::set(WriteTxn& txn, std::string_view name,
                                         std::string_view value, Time now,
                                         std::string_view scope) const {
  STORE_TRY(detail::check_name("setting name", name));
  if (!scope.empty()) STORE_TRY(detail::check_name("source name", scope));
  std::string encoded;
  Packer(encoded).u8(kSettingFormat).str(value).time(now);
  return txn.put(dbs_->settings, setting_key(scope, name), encoded);
}

std::expected<bool, Error> Settings::reset(WriteTxn& txn, std::string_view name,
                                           std::string_view scope) const {
  return txn.del(dbs_->settings, setting_key(scope, name));
}

std::expected<std::optional<SettingValue>, Error> Settings::get(const Txn& txn,
                                                                std::string_view name,
                                                                std::string_view scope) const {
  std::string key = setting_key(scope, name);
  STORE_ASSIGN(auto value, txn.get(dbs_->settings, key));
  if (!value) return std::optional<SettingValue>();
  STORE_ASSIGN(auto s, decode(key, *value));
  return std::optional<SettingValue>(std::move(s));
}

std::expected<std::optional<SettingValue>, Error> Settings::effective(
    const Txn& txn, std::string_view name, std::string_view source) const {
  if (!source.empty()) {
    STORE_ASSIGN(auto own, get(txn, name, source));
    if (own) return own;
  }
  return get(txn, name, "");
}

std::expected<std::vector<SettingValue>, Error> Settings::list(const Txn& txn,
                                                               std::string_view scope) const {
  std::vector<SettingValue> out;
  STORE_TRY(detail::for_each_prefix(
      txn, dbs_->settings, KeyWriter().str(scope).bytes(),
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        STORE_ASSIGN(auto s, decode(key, value));
        out.push_back(std::move(s));
        return true;
      }));
  return out;
}

std::expected<std::vector<SettingValue>, Error> Settings::overrides(const Txn& txn,
                                                                    std::string_view name) const {
  // Settings are few: a scan is cheaper than keeping a second index.
  std::vector<SettingValue> out;
  STORE_TRY(detail::for_each_prefix(
      txn, dbs_->settings, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        STORE_ASSIGN(auto s, decode(key, value));
        if (!s.scope.empty() && s.name == name) out.push_back(std::move(s));
        return true;
      }));
  return out;
}

}  // namespace store

// ---- verify ----

namespace store::detail {

std::expected<void, Error> verify_settings(const Txn& txn, const Dbs& dbs, VerifyReport& report) {
  std::uint64_t rows = 0;
  STORE_TRY(for_each_prefix(
      txn, dbs.settings, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        ++rows;
        auto s = decode(key, value);
        if (!s) {
          KeyReader r(key);
          std::string scope = r.str();
          add_damage(report, "setting " + r.str() + (scope.empty() ? "" : " of " + scope),
                     "cannot be decoded");
        }
        return true;
      }));
  report.checked["settings"] = rows;
  return {};
}

}  // namespace store::detail
