// Silver: typed records, one per (source, record key), each with its lineage.
//
// A record's data is a JSON object (nlohmann::json) stored self-describing
// (MessagePack), so records written under any version of a parser's schema
// stay readable when later versions add or drop fields: reading gives back
// exactly the fields that were written.
//
// Lineage says where the current value came from: the bronze snapshot, the
// parser version (its number for the source, see store/versions.h), and when
// it was extracted. Upserting an unchanged value moves its lineage to the
// newer snapshot (so old snapshots can be retired) without touching its
// history. A changed value pushes the previous one, with its lineage, into
// the record's history; revisions count from 1 and keep counting if a
// record is erased and comes back.
//
// Each current record pins its lineage snapshot against bronze retention;
// history entries do not (their snapshot may since have been deleted).
//
// Thread safety: a Silver object is immutable and shared; transactions are
// per thread (see store/env.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/clock.h"
#include "store/env.h"
#include "store/error.h"

namespace store {

namespace detail {
struct Dbs;
}  // namespace detail

struct Lineage {
  std::uint64_t snapshot_id = 0;
  std::uint32_t parser_version = 0;
  Time extracted_at;

  bool operator==(const Lineage&) const = default;
};

// One record as a parser produced it. Keys may be any bytes (1 byte to
// 1 MiB); keys longer than 300 bytes are stored under a digest and sort by
// their first 200 bytes.
struct RecordInput {
  std::string key;
  nlohmann::json data;
};

struct SilverRecord {
  std::string source;
  std::string key;
  nlohmann::json data;
  Lineage lineage;
  std::uint32_t revision = 0;  // 1 for the first value, +1 at every change
  Time created_at;             // extraction time of revision 1
  Time changed_at;             // extraction time of this revision
};

// A record as stored, without decoding its data (fast paths: counting,
// filtering, copying bytes out). data_msgpack points into the map and is
// valid while the transaction lives.
struct SilverRecordView {
  std::string key;
  Lineage lineage;
  std::uint32_t revision = 0;
  Time created_at;
  Time changed_at;
  std::string_view data_msgpack;

  // Decodes data_msgpack; kCorrupt if it does not decode.
  std::expected<nlohmann::json, Error> data() const;
};

struct UpsertStats {
  std::uint64_t inserted = 0;
  std::uint64_t changed = 0;
  std::uint64_t unchanged = 0;
  std::uint64_t deleted = 0;  // replace_source() only

  bool operator==(const UpsertStats&) const = default;
};

// The records one parser run produced from one snapshot.
struct SnapshotRecords {
  Lineage lineage;
  std::span<const RecordInput> records;
};

struct SilverScanOptions {
  std::optional<Time> changed_since;    // changed_at >= this
  std::optional<Time> extracted_since;  // lineage.extracted_at >= this
};

class SilverScan;

class Silver {
 public:
  // Made by Store; `dbs` must outlive this object.
  explicit Silver(const detail::Dbs& dbs) : dbs_(&dbs) {}

  // Inserts or updates each record of `records` (all from `lineage`) under
  // (source, record.key). Later duplicates of a key in the same call win.
  // Does not check that the snapshot or version exist (verify() does).
  // Errors: kInvalidArgument (bad source name, empty or oversized key, data
  // that is not an object), kMapFull/kNoSpace, kCorrupt.
  std::expected<UpsertStats, Error> upsert(WriteTxn& txn, std::string_view source,
                                           const Lineage& lineage,
                                           std::span<const RecordInput> records) const;

  // Rebuilds a source's silver from a full re-run (host reprocess): upserts
  // every batch in order, then erases the source's records that no batch
  // produced (their last value goes to history). Atomic with the caller's
  // transaction.
  std::expected<UpsertStats, Error> replace_source(WriteTxn& txn, std::string_view source,
                                                   std::span<const SnapshotRecords> batches) const;

  std::expected<std::optional<SilverRecord>, Error> get(const Txn& txn, std::string_view source,
                                                        std::string_view key) const;
  std::expected<std::optional<SilverRecordView>, Error> get_view(const Txn& txn,
                                                                 std::string_view source,
                                                                 std::string_view key) const;

  // The values a record had before its current one, oldest first (revision
  // 1 first). Empty if it never changed or never existed.
  std::expected<std::vector<SilverRecord>, Error> history(const Txn& txn, std::string_view source,
                                                          std::string_view key) const;

  // Removes a record; its last value goes to history. Returns whether it was
  // there.
  std::expected<bool, Error> erase(WriteTxn& txn, std::string_view source,
                                   std::string_view key) const;

  // Current records of a source (maintained count, O(1)).
  std::expected<std::uint64_t, Error> count(const Txn& txn, std::string_view source) const;

  // Iterates a source's current records in key order (keys longer than 300
  // bytes sort by their first 200 bytes, then by digest). The scan holds a
  // cursor of txn and must not outlive it.
  std::expected<SilverScan, Error> scan(const Txn& txn, std::string_view source,
                                        const SilverScanOptions& options = {}) const;

 private:
  const detail::Dbs* dbs_;
};

class SilverScan {
 public:
  SilverScan(SilverScan&&) noexcept = default;
  SilverScan& operator=(SilverScan&&) noexcept = default;

  // The next matching record, or nullopt after the last.
  std::expected<std::optional<SilverRecordView>, Error> next();
  // As next(), decoding the data.
  std::expected<std::optional<SilverRecord>, Error> next_record();

 private:
  friend class Silver;
  SilverScan(Cursor cursor, std::string source, std::string prefix, SilverScanOptions options)
      : cursor_(std::move(cursor)),
        source_(std::move(source)),
        prefix_(std::move(prefix)),
        options_(options) {}

  Cursor cursor_;
  std::string source_;
  std::string prefix_;
  SilverScanOptions options_;
  bool started_ = false;
};

}  // namespace store
