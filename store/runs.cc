#include "store/runs.h"

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

constexpr std::uint8_t kRunFormat = 1;

constexpr std::array<std::pair<RunState, std::string_view>, 4> kStateNames{{
    {RunState::kRunning, "running"},
    {RunState::kSucceeded, "succeeded"},
    {RunState::kFailed, "failed"},
    {RunState::kCancelled, "cancelled"},
}};

std::string id_key(std::uint64_t id) { return KeyWriter().u64(id).take(); }

std::string index_key(const Run& run) {
  return KeyWriter().str(run.source).time(run.started_at).u64(run.id).take();
}

std::string encode(const Run& r) {
  std::string out;
  Packer p(out);
  p.u8(kRunFormat).str(r.source).str(r.kind).u8(static_cast<std::uint8_t>(r.state));
  p.time(r.started_at).opt_time(r.finished_at);
  p.boolean(r.snapshot_id.has_value()).varint(r.snapshot_id.value_or(0));
  p.boolean(r.parser_version.has_value()).varint(r.parser_version.value_or(0));
  p.varint(r.records).varint(r.rejects).str(r.error_kind).str(r.message).str(r.usage);
  return out;
}

std::expected<Run, Error> decode(std::uint64_t id, std::string_view value) {
  Unpacker u(value);
  Run r;
  r.id = id;
  if (u.u8() != kRunFormat) return std::unexpected(detail::corrupt("run"));
  r.source = u.str();
  r.kind = u.str();
  std::uint8_t state = u.u8();
  r.started_at = u.time();
  r.finished_at = u.opt_time();
  bool has_snapshot = u.boolean();
  std::uint64_t snapshot = u.varint();
  if (has_snapshot) r.snapshot_id = snapshot;
  bool has_version = u.boolean();
  std::uint32_t version = u.varint32();
  if (has_version) r.parser_version = version;
  r.records = u.varint();
  r.rejects = u.varint();
  r.error_kind = u.str();
  r.message = u.str();
  r.usage = u.str();
  if (!u.ok() || state > 3) return std::unexpected(detail::corrupt("run " + std::to_string(id)));
  r.state = static_cast<RunState>(state);
  return r;
}

}  // namespace

std::string_view to_string(RunState state) {
  for (const auto& [s, name] : kStateNames) {
    if (s == state) return name;
  }
  return "running";
}

std::optional<RunState> parse_run_state(std::string_view text) {
  for (const auto& [s, name] : kStateNames) {
    if (name == text) return s;
  }
  return std::nullopt;
}

std::expected<std::uint64_t, Error> Runs::add(WriteTxn& txn, const Run& run) const {
  STORE_TRY(detail::check_name("source name", run.source));
  Run r = run;
  STORE_ASSIGN(r.id, detail::next_id(txn, *dbs_, "runs"));
  STORE_TRY(txn.append(dbs_->runs, id_key(r.id), encode(r)));
  STORE_TRY(txn.put(dbs_->runs_by_source, index_key(r), {}));
  return r.id;
}

std::expected<void, Error> Runs::update(WriteTxn& txn, const Run& run) const {
  STORE_ASSIGN(auto stored, get(txn, run.id));
  if (!stored) {
    return std::unexpected(
        Error{ErrorKind::kNotFound, "there is no run " + std::to_string(run.id)});
  }
  Run r = run;
  r.source = stored->source;
  r.started_at = stored->started_at;
  return txn.put(dbs_->runs, id_key(r.id), encode(r));
}

std::expected<std::optional<Run>, Error> Runs::get(const Txn& txn, std::uint64_t id) const {
  STORE_ASSIGN(auto value, txn.get(dbs_->runs, id_key(id)));
  if (!value) return std::optional<Run>();
  STORE_ASSIGN(auto r, decode(id, *value));
  return std::optional<Run>(std::move(r));
}

std::expected<std::vector<Run>, Error> Runs::recent(const Txn& txn, std::size_t limit) const {
  std::vector<Run> out;
  if (limit == 0) return out;
  STORE_TRY(detail::for_each_prefix_reverse(
      txn, dbs_->runs, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        STORE_ASSIGN(auto r, decode(KeyReader(key).u64(), value));
        out.push_back(std::move(r));
        return out.size() < limit;
      }));
  return out;
}

std::expected<std::vector<Run>, Error> Runs::recent_for_source(const Txn& txn,
                                                               std::string_view source,
                                                               std::size_t limit) const {
  std::vector<Run> out;
  if (limit == 0) return out;
  STORE_TRY(detail::for_each_prefix_reverse(
      txn, dbs_->runs_by_source, KeyWriter().str(source).bytes(),
      [&](std::string_view key, std::string_view) -> std::expected<bool, Error> {
        std::uint64_t id = KeyReader(key.substr(key.size() - 8)).u64();
        STORE_ASSIGN(auto r, get(txn, id));
        if (!r) return std::unexpected(detail::corrupt("run index entry without its run"));
        out.push_back(std::move(*r));
        return out.size() < limit;
      }));
  return out;
}

std::expected<std::uint64_t, Error> Runs::prune(WriteTxn& txn, Time before) const {
  std::vector<Run> old;
  STORE_TRY(detail::for_each_prefix(
      txn, dbs_->runs, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        STORE_ASSIGN(auto r, decode(KeyReader(key).u64(), value));
        if (r.started_at < before) old.push_back(std::move(r));
        return true;
      }));
  for (const Run& r : old) {
    STORE_TRY(txn.del(dbs_->runs, id_key(r.id)));
    STORE_TRY(txn.del(dbs_->runs_by_source, index_key(r)));
  }
  return old.size();
}

}  // namespace store

// ---- verify ----

namespace store::detail {

std::expected<void, Error> verify_runs(const Txn& txn, const Dbs& dbs, VerifyReport& report) {
  std::uint64_t rows = 0;
  STORE_TRY(for_each_prefix(
      txn, dbs.runs, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        ++rows;
        std::uint64_t id = KeyReader(key).u64();
        std::string item = "run " + std::to_string(id);
        auto row = decode(id, value);
        if (!row) {
          add_damage(report, item, "cannot be decoded");
          return true;
        }
        STORE_ASSIGN(auto indexed, txn.get(dbs.runs_by_source, index_key(*row)));
        if (!indexed) add_damage(report, item, "is missing from index runs_by_source");
        return true;
      }));
  report.checked["runs"] = rows;
  return check_index_size(txn, dbs.runs_by_source, "runs_by_source", rows, report);
}

}  // namespace store::detail
