// Internal: the store's named databases, their handles, and helpers shared
// by the tables (id sequences, counters, prefix scans). Only for store/*.cc.
// docs/store.md describes every database and key layout.
#pragma once

#include <array>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "store/detail/try.h"
#include "store/env.h"
#include "store/error.h"
#include "store/keys.h"

namespace store::detail {

struct Dbs {
  Dbi meta;               // string -> bytes: format, schema_version, seq/*, generations
  Dbi counters;           // string -> fixed64: maintained counts (v2)
  Dbi bronze_snapshots;   // u64 id -> snapshot metadata
  Dbi bronze_by_source;   // (str source, time fetched_at, u64 id) -> ""
  Dbi bronze_bodies;      // sha256 (32 bytes) -> body
  Dbi bronze_body_refs;   // sha256 -> fixed64 number of snapshots with this body
  Dbi bronze_pins;        // u64 snapshot id -> fixed64 silver records pointing at it (v2)
  Dbi silver;             // (str source, record key) -> record
  Dbi silver_history;     // (str source, record key, u32 revision) -> superseded record
  Dbi sources;            // str name -> source
  Dbi versions;           // (str source, u32 number) -> parser version
  Dbi active_versions;    // str source -> u32 active number (v2)
  Dbi runs;               // u64 id -> run
  Dbi runs_by_source;     // (str source, time started_at, u64 id) -> ""
  Dbi tasks;              // u64 id -> task
  Dbi tasks_by_state;     // (u8 state, i32 desc priority, time created, u64 id) -> ""
  Dbi tasks_by_source;    // (str source, u64 id) -> ""
  Dbi tasks_delayed;      // (time not_before, u64 id) -> "" for PENDING tasks not yet due
  Dbi tasks_leases;       // (time lease_expiry, u64 id) -> "" for IN_PROGRESS tasks
  Dbi health;             // str source -> health
  Dbi health_by_state;    // (u8 state, str source) -> ""
  Dbi health_history;     // (str source, u64 seq) -> transition
  Dbi repairs;            // u64 id -> repair
  Dbi repairs_by_source;  // (str source, time created_at, u64 id) -> ""
  Dbi settings;           // (str scope, str name) -> setting ("" scope: global)
  Dbi metrics;            // (str source, str name, time at) -> f64
};

struct DbSpec {
  const char* name;
  Dbi Dbs::*member;
  std::uint32_t since_schema;  // first schema version that has it
};

inline constexpr std::array<DbSpec, 26> kDbSpecs{{
    {"meta", &Dbs::meta, 1},
    {"counters", &Dbs::counters, 2},
    {"bronze_snapshots", &Dbs::bronze_snapshots, 1},
    {"bronze_by_source", &Dbs::bronze_by_source, 1},
    {"bronze_bodies", &Dbs::bronze_bodies, 1},
    {"bronze_body_refs", &Dbs::bronze_body_refs, 1},
    {"bronze_pins", &Dbs::bronze_pins, 2},
    {"silver", &Dbs::silver, 1},
    {"silver_history", &Dbs::silver_history, 1},
    {"sources", &Dbs::sources, 1},
    {"versions", &Dbs::versions, 1},
    {"active_versions", &Dbs::active_versions, 2},
    {"runs", &Dbs::runs, 1},
    {"runs_by_source", &Dbs::runs_by_source, 1},
    {"tasks", &Dbs::tasks, 1},
    {"tasks_by_state", &Dbs::tasks_by_state, 1},
    {"tasks_by_source", &Dbs::tasks_by_source, 1},
    {"tasks_delayed", &Dbs::tasks_delayed, 1},
    {"tasks_leases", &Dbs::tasks_leases, 1},
    {"health", &Dbs::health, 1},
    {"health_by_state", &Dbs::health_by_state, 1},
    {"health_history", &Dbs::health_history, 1},
    {"repairs", &Dbs::repairs, 1},
    {"repairs_by_source", &Dbs::repairs_by_source, 1},
    {"settings", &Dbs::settings, 1},
    {"metrics", &Dbs::metrics, 1},
}};

// Meta keys.
inline constexpr std::string_view kMetaFormat = "format";
inline constexpr std::string_view kMetaFormatValue = "smart-data-pipeline store";
inline constexpr std::string_view kMetaSchemaVersion = "schema_version";
inline constexpr std::string_view kMetaCreatedAt = "created_at";
inline constexpr std::string_view kMetaVersionsGeneration = "versions_generation";

// The next value of the named id sequence (meta "seq/<name>"), from 1.
std::expected<std::uint64_t, Error> next_id(WriteTxn& txn, const Dbs& dbs, std::string_view name);

std::expected<std::uint64_t, Error> read_u64(const Txn& txn, Dbi dbi, std::string_view key);
std::expected<void, Error> write_u64(WriteTxn& txn, Dbi dbi, std::string_view key,
                                     std::uint64_t value);
// Adds delta to the fixed64 under key (absent: 0); deletes the entry at 0.
std::expected<std::uint64_t, Error> add_u64(WriteTxn& txn, Dbi dbi, std::string_view key,
                                            std::int64_t delta);

Error corrupt(std::string_view what);

// Checks a name used as a key component: 1..kMaxNameBytes bytes, no control
// characters. `what` names it in the error ("source name").
std::expected<void, Error> check_name(std::string_view what, std::string_view name);
inline constexpr std::size_t kMaxNameBytes = 100;

// Calls fn(key, value) -> std::expected<bool, Error> for every entry whose key
// starts with prefix, in key order from `from` (default: the prefix), until
// fn returns false.
template <class Fn>
std::expected<void, Error> for_each_prefix(const Txn& txn, Dbi dbi, std::string_view prefix,
                                           Fn&& fn, std::string_view from = {}) {
  STORE_ASSIGN(auto cursor, txn.cursor(dbi));
  std::string_view start = from.empty() ? prefix : from;
  // LMDB rejects an empty key: an empty prefix means "from the first entry".
  auto step = start.empty() ? cursor.first() : cursor.seek(start);
  while (true) {
    if (!step) return std::unexpected(std::move(step).error());
    if (!*step || !(*step)->first.starts_with(prefix)) return {};
    auto more = fn((*step)->first, (*step)->second);
    if (!more) return std::unexpected(std::move(more).error());
    if (!*more) return {};
    step = cursor.next();
  }
}

// As for_each_prefix, newest (greatest key) first.
template <class Fn>
std::expected<void, Error> for_each_prefix_reverse(const Txn& txn, Dbi dbi, std::string_view prefix,
                                                   Fn&& fn) {
  STORE_ASSIGN(auto cursor, txn.cursor(dbi));
  auto end = prefix_end(prefix);
  Cursor::Step step = end ? cursor.seek(*end) : cursor.last();
  if (end && step && *step) {
    step = cursor.prev();
  } else if (end && step && !*step) {
    step = cursor.last();
  }
  while (true) {
    if (!step) return std::unexpected(std::move(step).error());
    if (!*step || !(*step)->first.starts_with(prefix)) return {};
    auto more = fn((*step)->first, (*step)->second);
    if (!more) return std::unexpected(std::move(more).error());
    if (!*more) return {};
    step = cursor.prev();
  }
}

// Deletes every entry whose key starts with prefix; returns how many.
std::expected<std::uint64_t, Error> erase_prefix(WriteTxn& txn, Dbi dbi, std::string_view prefix);

}  // namespace store::detail
