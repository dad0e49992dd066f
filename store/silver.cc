#include "store/silver.h"

#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "store/bronze.h"
#include "store/detail/codec.h"
#include "store/detail/maintenance.h"
#include "store/detail/schema.h"
#include "store/detail/try.h"
#include "store/keys.h"
#include "store/sha256.h"

namespace store {
namespace {

using detail::Packer;
using detail::Unpacker;
using nlohmann::json;

constexpr std::uint8_t kRecordFormat = 1;
constexpr std::uint8_t kFlagFullKey = 1;
// Keys up to kMaxPlainKey bytes are stored whole; longer ones as their first
// kHashedPrefix bytes plus a digest, which keeps every LMDB key under its
// 511-byte limit.
constexpr std::size_t kMaxPlainKey = 300;
constexpr std::size_t kHashedPrefix = 200;
constexpr std::size_t kMaxKeyBytes = std::size_t{1} << 20;

void append_record_key(KeyWriter& w, std::string_view key) {
  if (key.size() <= kMaxPlainKey) {
    w.str(key);
    return;
  }
  w.escaped(key.substr(0, kHashedPrefix)).raw(std::string_view("\0\2", 2));
  w.raw(as_bytes(sha256(key)));
}

std::string record_key(std::string_view source, std::string_view key) {
  KeyWriter w;
  w.str(source);
  append_record_key(w, key);
  return w.take();
}

// record_key() into a per-thread buffer, for lookups on the read path: the
// result is valid until the thread's next call.
std::string_view lookup_key(std::string_view source, std::string_view key) {
  thread_local KeyWriter w;
  w.clear().str(source);
  append_record_key(w, key);
  return w.bytes();
}

std::string counter_key(std::string_view source) { return "silver/" + std::string(source); }

std::string pin_key(std::uint64_t snapshot) { return KeyWriter().u64(snapshot).take(); }

// The decoded fixed part of a record value; views point into the value.
struct Stored {
  Lineage lineage;
  std::uint32_t revision = 0;
  Time created_at;
  Time changed_at;
  std::optional<std::string_view> full_key;
  std::string_view data;
};

std::expected<Stored, Error> parse(std::string_view value) {
  Unpacker u(value);
  Stored s;
  if (u.u8() != kRecordFormat) return std::unexpected(detail::corrupt("silver record"));
  s.lineage.snapshot_id = u.varint();
  s.lineage.parser_version = u.varint32();
  s.lineage.extracted_at = u.time();
  s.revision = u.varint32();
  s.created_at = u.time();
  s.changed_at = u.time();
  std::uint8_t flags = u.u8();
  if (flags & kFlagFullKey) s.full_key = u.str();
  s.data = u.rest();
  if (!u.ok()) return std::unexpected(detail::corrupt("silver record"));
  return s;
}

void encode(std::string& out, const Lineage& lineage, std::uint32_t revision, Time created_at,
            Time changed_at, std::string_view full_key, std::string_view data) {
  out.clear();
  Packer p(out);
  p.u8(kRecordFormat)
      .varint(lineage.snapshot_id)
      .varint(lineage.parser_version)
      .time(lineage.extracted_at)
      .varint(revision)
      .time(created_at)
      .time(changed_at);
  if (full_key.empty()) {
    p.u8(0);
  } else {
    p.u8(kFlagFullKey).str(full_key);
  }
  p.raw(data);
}

std::expected<json, Error> decode_data(std::string_view msgpack) {
  try {
    return json::from_msgpack(msgpack.begin(), msgpack.end());
  } catch (const json::exception&) {
    return std::unexpected(detail::corrupt("silver record data"));
  }
}

// The record key stored in a silver (or history) key after the source.
std::expected<std::string, Error> key_of(std::string_view stored_key, const Stored& s) {
  if (s.full_key) return std::string(*s.full_key);
  KeyReader r(stored_key);
  r.str();
  std::string key = r.str();
  if (!r.ok()) return std::unexpected(detail::corrupt("silver key"));
  return key;
}

SilverRecord to_record(std::string_view source, std::string key, const Stored& s, json data) {
  SilverRecord r;
  r.source = std::string(source);
  r.key = std::move(key);
  r.data = std::move(data);
  r.lineage = s.lineage;
  r.revision = s.revision;
  r.created_at = s.created_at;
  r.changed_at = s.changed_at;
  return r;
}

// Per-call scratch space and the deltas applied once at the end.
class Batch {
 public:
  Batch(WriteTxn& txn, const detail::Dbs& dbs, std::string_view source)
      : txn_(txn), dbs_(dbs), source_(source) {}

  std::expected<void, Error> upsert(const RecordInput& record, const Lineage& lineage,
                                    UpsertStats& stats) {
    if (record.key.empty() || record.key.size() > kMaxKeyBytes) {
      return std::unexpected(
          Error{ErrorKind::kInvalidArgument, "a silver record key must be 1 byte to 1 MiB long"});
    }
    if (!record.data.is_object()) {
      return std::unexpected(
          Error{ErrorKind::kInvalidArgument,
                "the data of silver record '" + record.key.substr(0, 80) + "' is not an object"});
    }
    key_.clear().str(source_);
    append_record_key(key_, record.key);
    data_.clear();
    json::to_msgpack(record.data, data_);
    std::string_view full_key =
        record.key.size() > kMaxPlainKey ? std::string_view(record.key) : std::string_view();

    STORE_ASSIGN(auto existing, txn_.get(dbs_.silver, key_.bytes()));
    if (existing) {
      STORE_ASSIGN(Stored old, parse(*existing));
      if (old.data == data_) {
        ++stats.unchanged;
        if (old.lineage == lineage) return {};
        encode(value_, lineage, old.revision, old.created_at, old.changed_at, full_key, data_);
        move_pin(old.lineage.snapshot_id, lineage.snapshot_id);
        return txn_.put(dbs_.silver, key_.bytes(), value_);
      }
      ++stats.changed;
      // Copy before writing: a write may move the page the view points into.
      std::string previous(*existing);
      hkey_.clear().raw(key_.bytes()).u32(old.revision);
      STORE_TRY(txn_.put(dbs_.silver_history, hkey_.bytes(), previous));
      encode(value_, lineage, old.revision + 1, old.created_at, lineage.extracted_at, full_key,
             data_);
      move_pin(old.lineage.snapshot_id, lineage.snapshot_id);
      return txn_.put(dbs_.silver, key_.bytes(), value_);
    }
    ++stats.inserted;
    STORE_ASSIGN(std::uint32_t last, last_history_revision());
    encode(value_, lineage, last + 1, lineage.extracted_at, lineage.extracted_at, full_key, data_);
    pins_[lineage.snapshot_id] += 1;
    count_delta_ += 1;
    return txn_.put(dbs_.silver, key_.bytes(), value_);
  }

  // Moves the current value of the record stored under `stored_key` into
  // history and deletes it. Returns whether it existed.
  std::expected<bool, Error> erase(std::string_view stored_key) {
    STORE_ASSIGN(auto existing, txn_.get(dbs_.silver, stored_key));
    if (!existing) return false;
    STORE_ASSIGN(Stored old, parse(*existing));
    std::string previous(*existing);
    hkey_.clear().raw(stored_key).u32(old.revision);
    STORE_TRY(txn_.put(dbs_.silver_history, hkey_.bytes(), previous));
    STORE_TRY(txn_.del(dbs_.silver, stored_key));
    pins_[old.lineage.snapshot_id] -= 1;
    count_delta_ -= 1;
    return true;
  }

  // Applies the aggregated pin and count changes.
  std::expected<void, Error> flush() {
    history_cursor_.reset();
    for (const auto& [snapshot, delta] : pins_) {
      if (delta != 0) STORE_TRY(detail::add_u64(txn_, dbs_.bronze_pins, pin_key(snapshot), delta));
    }
    pins_.clear();
    if (count_delta_ != 0) {
      STORE_TRY(detail::add_u64(txn_, dbs_.counters, counter_key(source_), count_delta_));
    }
    count_delta_ = 0;
    return {};
  }

 private:
  void move_pin(std::uint64_t from, std::uint64_t to) {
    if (from == to) return;
    pins_[from] -= 1;
    pins_[to] += 1;
  }

  // The highest revision in the history of key_ (0 if none): a record that
  // was erased and comes back continues its numbering.
  std::expected<std::uint32_t, Error> last_history_revision() {
    if (!history_cursor_) {
      STORE_ASSIGN(std::uint64_t entries, txn_.entries(dbs_.silver_history));
      if (entries == 0) return 0;
      STORE_ASSIGN(auto cursor, txn_.cursor(dbs_.silver_history));
      history_cursor_.emplace(std::move(cursor));
    }
    auto end = prefix_end(key_.bytes());
    Cursor::Step step = end ? history_cursor_->seek(*end) : history_cursor_->last();
    if (step && *step) {
      step = history_cursor_->prev();
    } else if (step) {
      step = history_cursor_->last();
    }
    if (!step) return std::unexpected(std::move(step).error());
    if (!*step || !(*step)->first.starts_with(key_.bytes()) ||
        (*step)->first.size() != key_.bytes().size() + 4) {
      return 0;
    }
    return KeyReader((*step)->first.substr(key_.bytes().size())).u32();
  }

  WriteTxn& txn_;
  const detail::Dbs& dbs_;
  std::string_view source_;
  KeyWriter key_;
  KeyWriter hkey_;
  std::string data_;
  std::string value_;
  std::map<std::uint64_t, std::int64_t> pins_;
  std::int64_t count_delta_ = 0;
  std::optional<Cursor> history_cursor_;
};

bool matches(const Stored& s, const SilverScanOptions& options) {
  if (options.changed_since && s.changed_at < *options.changed_since) return false;
  if (options.extracted_since && s.lineage.extracted_at < *options.extracted_since) return false;
  return true;
}

}  // namespace

std::expected<json, Error> SilverRecordView::data() const { return decode_data(data_msgpack); }

std::expected<UpsertStats, Error> Silver::upsert(WriteTxn& txn, std::string_view source,
                                                 const Lineage& lineage,
                                                 std::span<const RecordInput> records) const {
  STORE_TRY(detail::check_name("source name", source));
  UpsertStats stats;
  Batch batch(txn, *dbs_, source);
  for (const RecordInput& record : records) STORE_TRY(batch.upsert(record, lineage, stats));
  STORE_TRY(batch.flush());
  return stats;
}

std::expected<UpsertStats, Error> Silver::replace_source(
    WriteTxn& txn, std::string_view source, std::span<const SnapshotRecords> batches) const {
  STORE_TRY(detail::check_name("source name", source));
  UpsertStats stats;
  Batch batch(txn, *dbs_, source);
  std::unordered_set<std::string> produced;
  for (const SnapshotRecords& b : batches) {
    for (const RecordInput& record : b.records) {
      STORE_TRY(batch.upsert(record, b.lineage, stats));
      produced.insert(record_key(source, record.key));
    }
  }
  std::vector<std::string> stale;
  STORE_TRY(detail::for_each_prefix(
      txn, dbs_->silver, KeyWriter().str(source).bytes(),
      [&](std::string_view key, std::string_view) -> std::expected<bool, Error> {
        if (!produced.contains(std::string(key))) stale.emplace_back(key);
        return true;
      }));
  for (const std::string& key : stale) {
    STORE_ASSIGN(bool erased, batch.erase(key));
    if (erased) ++stats.deleted;
  }
  STORE_TRY(batch.flush());
  return stats;
}

std::expected<std::optional<SilverRecordView>, Error> Silver::get_view(const Txn& txn,
                                                                       std::string_view source,
                                                                       std::string_view key) const {
  STORE_ASSIGN(auto value, txn.get(dbs_->silver, lookup_key(source, key)));
  if (!value) return std::optional<SilverRecordView>();
  STORE_ASSIGN(Stored s, parse(*value));
  SilverRecordView view;
  view.key = std::string(key);
  view.lineage = s.lineage;
  view.revision = s.revision;
  view.created_at = s.created_at;
  view.changed_at = s.changed_at;
  view.data_msgpack = s.data;
  return std::optional<SilverRecordView>(std::move(view));
}

std::expected<std::optional<SilverRecord>, Error> Silver::get(const Txn& txn,
                                                              std::string_view source,
                                                              std::string_view key) const {
  STORE_ASSIGN(auto value, txn.get(dbs_->silver, lookup_key(source, key)));
  if (!value) return std::optional<SilverRecord>();
  STORE_ASSIGN(Stored s, parse(*value));
  STORE_ASSIGN(json data, decode_data(s.data));
  return std::optional<SilverRecord>(to_record(source, std::string(key), s, std::move(data)));
}

std::expected<std::vector<SilverRecord>, Error> Silver::history(const Txn& txn,
                                                                std::string_view source,
                                                                std::string_view key) const {
  std::vector<SilverRecord> out;
  std::string prefix = record_key(source, key);
  STORE_TRY(detail::for_each_prefix(
      txn, dbs_->silver_history, prefix,
      [&](std::string_view k, std::string_view value) -> std::expected<bool, Error> {
        if (k.size() != prefix.size() + 4) return true;
        STORE_ASSIGN(Stored s, parse(value));
        STORE_ASSIGN(json data, decode_data(s.data));
        out.push_back(to_record(source, std::string(key), s, std::move(data)));
        return true;
      }));
  return out;
}

std::expected<bool, Error> Silver::erase(WriteTxn& txn, std::string_view source,
                                         std::string_view key) const {
  STORE_TRY(detail::check_name("source name", source));
  Batch batch(txn, *dbs_, source);
  STORE_ASSIGN(bool erased, batch.erase(record_key(source, key)));
  STORE_TRY(batch.flush());
  return erased;
}

std::expected<std::uint64_t, Error> Silver::count(const Txn& txn, std::string_view source) const {
  return detail::read_u64(txn, dbs_->counters, counter_key(source));
}

std::expected<SilverScan, Error> Silver::scan(const Txn& txn, std::string_view source,
                                              const SilverScanOptions& options) const {
  STORE_ASSIGN(auto cursor, txn.cursor(dbs_->silver));
  return SilverScan(std::move(cursor), std::string(source), KeyWriter().str(source).take(),
                    options);
}

std::expected<std::optional<SilverRecordView>, Error> SilverScan::next() {
  auto step = started_ ? cursor_.next() : cursor_.seek(prefix_);
  started_ = true;
  while (true) {
    if (!step) return std::unexpected(std::move(step).error());
    if (!*step || !(*step)->first.starts_with(prefix_)) return std::optional<SilverRecordView>();
    STORE_ASSIGN(Stored s, parse((*step)->second));
    if (matches(s, options_)) {
      SilverRecordView view;
      STORE_ASSIGN(view.key, key_of((*step)->first, s));
      view.lineage = s.lineage;
      view.revision = s.revision;
      view.created_at = s.created_at;
      view.changed_at = s.changed_at;
      view.data_msgpack = s.data;
      return std::optional<SilverRecordView>(std::move(view));
    }
    step = cursor_.next();
  }
}

std::expected<std::optional<SilverRecord>, Error> SilverScan::next_record() {
  STORE_ASSIGN(auto view, next());
  if (!view) return std::optional<SilverRecord>();
  STORE_ASSIGN(json data, view->data());
  SilverRecord r;
  r.source = source_;
  r.key = std::move(view->key);
  r.data = std::move(data);
  r.lineage = view->lineage;
  r.revision = view->revision;
  r.created_at = view->created_at;
  r.changed_at = view->changed_at;
  return std::optional<SilverRecord>(std::move(r));
}

}  // namespace store

// ---- migrations and verify ----

namespace store::detail {
namespace {

// Counts current records per source and per lineage snapshot.
struct SilverTally {
  std::map<std::string, std::uint64_t> per_source;
  std::unordered_map<std::uint64_t, std::uint64_t> pins;
};

}  // namespace

std::expected<void, Error> rebuild_silver_derived(WriteTxn& txn, const Dbs& dbs) {
  SilverTally tally;
  STORE_TRY(for_each_prefix(
      txn, dbs.silver, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        KeyReader r(key);
        std::string source = r.str();
        STORE_ASSIGN(Stored s, parse(value));
        if (!r.ok()) return std::unexpected(corrupt("silver key"));
        tally.per_source[source] += 1;
        tally.pins[s.lineage.snapshot_id] += 1;
        return true;
      }));
  STORE_TRY(txn.clear(dbs.bronze_pins));
  STORE_TRY(erase_prefix(txn, dbs.counters, "silver/"));
  for (const auto& [snapshot, n] : tally.pins)
    STORE_TRY(write_u64(txn, dbs.bronze_pins, pin_key(snapshot), n));
  for (const auto& [source, n] : tally.per_source) {
    STORE_TRY(write_u64(txn, dbs.counters, counter_key(source), n));
  }
  return {};
}

std::expected<void, Error> verify_silver(const Txn& txn, const Dbs& dbs, VerifyReport& report) {
  SilverTally tally;
  Bronze bronze(dbs);
  std::unordered_map<std::uint64_t, std::optional<std::string>> snapshot_sources;
  std::set<std::pair<std::string, std::uint32_t>> known_versions;
  std::uint64_t records = 0;
  STORE_TRY(for_each_prefix(
      txn, dbs.silver, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        ++records;
        KeyReader r(key);
        std::string source = r.str();
        auto s = parse(value);
        if (!r.ok() || !s) {
          add_damage(report, "silver record " + source, "cannot be decoded");
          return true;
        }
        auto record_key = key_of(key, *s);
        std::string item = "silver record " + source + "/" + (record_key ? *record_key : "?");
        if (!record_key) add_damage(report, item, "its key cannot be decoded");
        if (!decode_data(s->data)) add_damage(report, item, "its data cannot be decoded");
        tally.per_source[source] += 1;
        std::uint64_t snapshot = s->lineage.snapshot_id;
        tally.pins[snapshot] += 1;
        auto cached = snapshot_sources.find(snapshot);
        if (cached == snapshot_sources.end()) {
          auto stored = bronze.get(txn, snapshot);
          std::optional<std::string> snapshot_source;
          if (stored && *stored) snapshot_source = (*stored)->source;
          cached = snapshot_sources.emplace(snapshot, std::move(snapshot_source)).first;
        }
        if (!cached->second) {
          add_damage(report, item,
                     "its lineage snapshot " + std::to_string(snapshot) + " does not exist");
        } else if (*cached->second != source) {
          add_damage(report, item,
                     "its lineage snapshot " + std::to_string(snapshot) + " belongs to source " +
                         *cached->second);
        }
        std::pair<std::string, std::uint32_t> version{source, s->lineage.parser_version};
        if (!known_versions.contains(version)) {
          STORE_ASSIGN(auto found,
                       txn.get(dbs.versions, KeyWriter().str(source).u32(version.second).bytes()));
          if (found) {
            known_versions.insert(version);
          } else {
            add_damage(report, item,
                       "its parser version " + std::to_string(version.second) + " does not exist");
          }
        }
        return true;
      }));
  report.checked["silver records"] = records;

  STORE_TRY(for_each_prefix(
      txn, dbs.bronze_pins, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        std::uint64_t snapshot = KeyReader(key).u64();
        auto pinned = read_fixed64(value);
        auto it = tally.pins.find(snapshot);
        std::uint64_t actual = it == tally.pins.end() ? 0 : it->second;
        if (!pinned || *pinned != actual) {
          add_damage(report, "index bronze_pins",
                     "counts " + (pinned ? std::to_string(*pinned) : std::string("?")) +
                         " record(s) for snapshot " + std::to_string(snapshot) + ", there are " +
                         std::to_string(actual));
        }
        return true;
      }));
  STORE_TRY(check_index_size(txn, dbs.bronze_pins, "bronze_pins", tally.pins.size(), report));

  std::uint64_t counted_sources = 0;
  STORE_TRY(for_each_prefix(
      txn, dbs.counters, "silver/",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        ++counted_sources;
        std::string source(key.substr(7));
        auto counted = read_fixed64(value);
        auto it = tally.per_source.find(source);
        std::uint64_t actual = it == tally.per_source.end() ? 0 : it->second;
        if (!counted || *counted != actual) {
          add_damage(report, "counter " + std::string(key),
                     "says " + (counted ? std::to_string(*counted) : std::string("?")) +
                         ", there are " + std::to_string(actual));
        }
        return true;
      }));
  if (counted_sources != tally.per_source.size()) {
    add_damage(report, "counters silver/*",
               "count " + std::to_string(counted_sources) + " source(s), records exist for " +
                   std::to_string(tally.per_source.size()));
  }

  std::uint64_t history = 0;
  STORE_TRY(for_each_prefix(
      txn, dbs.silver_history, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        ++history;
        auto s = parse(value);
        if (!s || !decode_data(s->data) || key.size() < 4 ||
            KeyReader(key.substr(key.size() - 4)).u32() != s->revision) {
          KeyReader r(key);
          add_damage(report, "silver history of " + r.str(), "an entry cannot be decoded");
        }
        return true;
      }));
  report.checked["silver history entries"] = history;
  return {};
}

}  // namespace store::detail
