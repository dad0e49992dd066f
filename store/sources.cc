#include "store/sources.h"

#include "store/detail/codec.h"
#include "store/detail/maintenance.h"
#include "store/detail/schema.h"
#include "store/detail/try.h"
#include "store/keys.h"

namespace store {
namespace {

using detail::Packer;
using detail::Unpacker;

constexpr std::uint8_t kSourceFormat = 1;

std::string encode(const Source& s) {
  std::string out;
  Packer(out)
      .u8(kSourceFormat)
      .str(s.url)
      .boolean(s.enabled)
      .str(s.description)
      .str(s.config)
      .time(s.created_at)
      .time(s.updated_at);
  return out;
}

std::expected<Source, Error> decode(std::string name, std::string_view value) {
  Unpacker u(value);
  Source s;
  s.name = std::move(name);
  if (u.u8() != kSourceFormat) return std::unexpected(detail::corrupt("source " + s.name));
  s.url = u.str();
  s.enabled = u.boolean();
  s.description = u.str();
  s.config = u.str();
  s.created_at = u.time();
  s.updated_at = u.time();
  if (!u.ok()) return std::unexpected(detail::corrupt("source " + s.name));
  return s;
}

}  // namespace

std::expected<void, Error> check_source_name(std::string_view name) {
  return detail::check_name("source name", name);
}

std::expected<void, Error> Sources::put(WriteTxn& txn, const Source& source) const {
  STORE_TRY(check_source_name(source.name));
  return txn.put(dbs_->sources, KeyWriter().str(source.name).bytes(), encode(source));
}

std::expected<std::optional<Source>, Error> Sources::get(const Txn& txn,
                                                         std::string_view name) const {
  STORE_ASSIGN(auto value, txn.get(dbs_->sources, KeyWriter().str(name).bytes()));
  if (!value) return std::optional<Source>();
  STORE_ASSIGN(auto s, decode(std::string(name), *value));
  return std::optional<Source>(std::move(s));
}

std::expected<std::vector<Source>, Error> Sources::list(const Txn& txn) const {
  std::vector<Source> out;
  // Sized once: with 10,000 sources, growing the vector costs more in page
  // faults than decoding them (host status).
  if (auto n = txn.entries(dbs_->sources); n) out.reserve(static_cast<std::size_t>(*n));
  STORE_TRY(detail::for_each_prefix(
      txn, dbs_->sources, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        KeyReader r(key);
        std::string name = r.str();
        if (!r.ok()) return std::unexpected(detail::corrupt("source key"));
        STORE_ASSIGN(auto s, decode(std::move(name), value));
        out.push_back(std::move(s));
        return true;
      }));
  return out;
}

std::expected<bool, Error> Sources::erase(WriteTxn& txn, std::string_view name) const {
  return txn.del(dbs_->sources, KeyWriter().str(name).bytes());
}

std::expected<std::uint64_t, Error> Sources::count(const Txn& txn) const {
  return txn.entries(dbs_->sources);
}

}  // namespace store

// ---- verify ----

namespace store::detail {

std::expected<void, Error> verify_sources(const Txn& txn, const Dbs& dbs, VerifyReport& report) {
  std::uint64_t rows = 0;
  STORE_TRY(for_each_prefix(
      txn, dbs.sources, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        ++rows;
        KeyReader r(key);
        std::string name = r.str();
        if (!r.ok() || !decode(name, value))
          add_damage(report, "source " + name, "cannot be decoded");
        return true;
      }));
  report.checked["sources"] = rows;
  return {};
}

}  // namespace store::detail
