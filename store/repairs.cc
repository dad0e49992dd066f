#include "store/repairs.h"

#include <array>
#include <utility>

#include "store/detail/codec.h"
#include "store/detail/maintenance.h"
#include "store/detail/schema.h"
#include "store/detail/try.h"
#include "store/keys.h"

namespace store {
namespace {

using detail::Packer;
using detail::Unpacker;

constexpr std::uint8_t kRepairFormat = 1;

constexpr std::array<std::pair<RepairState, std::string_view>, 4> kStateNames{{
    {RepairState::kProposed, "proposed"},
    {RepairState::kApplied, "applied"},
    {RepairState::kRejected, "rejected"},
    {RepairState::kFailed, "failed"},
}};

std::string id_key(std::uint64_t id) { return KeyWriter().u64(id).take(); }

std::string index_key(const Repair& r) {
  return KeyWriter().str(r.source).time(r.created_at).u64(r.id).take();
}

std::string encode(const Repair& r) {
  std::string out;
  Packer p(out);
  p.u8(kRepairFormat).str(r.source).u8(static_cast<std::uint8_t>(r.state));
  p.time(r.created_at).time(r.updated_at);
  p.boolean(r.from_version.has_value()).varint(r.from_version.value_or(0));
  p.boolean(r.to_version.has_value()).varint(r.to_version.value_or(0));
  p.str(r.reason).str(r.diff).str(r.message);
  return out;
}

std::expected<Repair, Error> decode(std::uint64_t id, std::string_view value) {
  Unpacker u(value);
  Repair r;
  r.id = id;
  if (u.u8() != kRepairFormat) return std::unexpected(detail::corrupt("repair"));
  r.source = u.str();
  std::uint8_t state = u.u8();
  r.created_at = u.time();
  r.updated_at = u.time();
  bool has_from = u.boolean();
  std::uint32_t from = u.varint32();
  if (has_from) r.from_version = from;
  bool has_to = u.boolean();
  std::uint32_t to = u.varint32();
  if (has_to) r.to_version = to;
  r.reason = u.str();
  r.diff = u.str();
  r.message = u.str();
  if (!u.ok() || state > 3) return std::unexpected(detail::corrupt("repair " + std::to_string(id)));
  r.state = static_cast<RepairState>(state);
  return r;
}

}  // namespace

std::string_view to_string(RepairState state) {
  for (const auto& [s, name] : kStateNames) {
    if (s == state) return name;
  }
  return "proposed";
}

std::optional<RepairState> parse_repair_state(std::string_view text) {
  for (const auto& [s, name] : kStateNames) {
    if (name == text) return s;
  }
  return std::nullopt;
}

std::expected<std::uint64_t, Error> Repairs::add(WriteTxn& txn, const Repair& repair) const {
  STORE_TRY(detail::check_name("source name", repair.source));
  Repair r = repair;
  STORE_ASSIGN(r.id, detail::next_id(txn, *dbs_, "repairs"));
  STORE_TRY(txn.append(dbs_->repairs, id_key(r.id), encode(r)));
  STORE_TRY(txn.put(dbs_->repairs_by_source, index_key(r), {}));
  return r.id;
}

std::expected<void, Error> Repairs::update(WriteTxn& txn, const Repair& repair) const {
  STORE_ASSIGN(auto stored, get(txn, repair.id));
  if (!stored) {
    return std::unexpected(
        Error{ErrorKind::kNotFound, "there is no repair " + std::to_string(repair.id)});
  }
  Repair r = repair;
  r.source = stored->source;
  r.created_at = stored->created_at;
  return txn.put(dbs_->repairs, id_key(r.id), encode(r));
}

std::expected<std::optional<Repair>, Error> Repairs::get(const Txn& txn, std::uint64_t id) const {
  STORE_ASSIGN(auto value, txn.get(dbs_->repairs, id_key(id)));
  if (!value) return std::optional<Repair>();
  STORE_ASSIGN(auto r, decode(id, *value));
  return std::optional<Repair>(std::move(r));
}

std::expected<std::vector<Repair>, Error> Repairs::list_for_source(const Txn& txn,
                                                                   std::string_view source,
                                                                   std::size_t limit) const {
  std::vector<Repair> out;
  STORE_TRY(detail::for_each_prefix_reverse(
      txn, dbs_->repairs_by_source, KeyWriter().str(source).bytes(),
      [&](std::string_view key, std::string_view) -> std::expected<bool, Error> {
        STORE_ASSIGN(auto r, get(txn, KeyReader(key.substr(key.size() - 8)).u64()));
        if (!r) return std::unexpected(detail::corrupt("repair index entry without its repair"));
        out.push_back(std::move(*r));
        return limit == 0 || out.size() < limit;
      }));
  return out;
}

std::expected<std::uint64_t, Error> Repairs::count_between(const Txn& txn, std::string_view source,
                                                           Time from, Time to) const {
  std::uint64_t n = 0;
  std::string prefix = KeyWriter().str(source).take();
  STORE_TRY(detail::for_each_prefix(
      txn, dbs_->repairs_by_source, prefix,
      [&](std::string_view key, std::string_view) -> std::expected<bool, Error> {
        Time at = KeyReader(key.substr(prefix.size())).time();
        if (at >= to) return false;
        ++n;
        return true;
      },
      KeyWriter().str(source).time(from).bytes()));
  return n;
}

}  // namespace store

// ---- verify ----

namespace store::detail {

std::expected<void, Error> verify_repairs(const Txn& txn, const Dbs& dbs, VerifyReport& report) {
  std::uint64_t rows = 0;
  STORE_TRY(for_each_prefix(
      txn, dbs.repairs, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        ++rows;
        std::uint64_t id = KeyReader(key).u64();
        std::string item = "repair " + std::to_string(id);
        auto row = decode(id, value);
        if (!row) {
          add_damage(report, item, "cannot be decoded");
          return true;
        }
        STORE_ASSIGN(auto indexed, txn.get(dbs.repairs_by_source, index_key(*row)));
        if (!indexed) add_damage(report, item, "is missing from index repairs_by_source");
        return true;
      }));
  report.checked["repairs"] = rows;
  return check_index_size(txn, dbs.repairs_by_source, "repairs_by_source", rows, report);
}

}  // namespace store::detail
