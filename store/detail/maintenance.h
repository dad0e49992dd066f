// Internal: per-table hooks used by migrations and verify(). Each is defined
// in the .cc of the table whose format it knows.
#pragma once

#include <expected>
#include <string>

#include "store/detail/schema.h"
#include "store/env.h"
#include "store/error.h"
#include "store/verify.h"

namespace store::detail {

// Rebuild derived data from primary data (migrations, repair tools). Each
// clears what it rebuilds first, so running it twice is harmless.
std::expected<void, Error> rebuild_silver_derived(WriteTxn& txn, const Dbs& dbs);  // counts, pins
std::expected<void, Error> rebuild_task_counters(WriteTxn& txn, const Dbs& dbs);
std::expected<void, Error> rebuild_health_counters(WriteTxn& txn, const Dbs& dbs);
std::expected<void, Error> rebuild_active_versions(WriteTxn& txn, const Dbs& dbs);

// Append damage to the report; return an error only when the check could
// not run at all.
std::expected<void, Error> verify_bronze(const Txn& txn, const Dbs& dbs, VerifyReport& report);
std::expected<void, Error> verify_silver(const Txn& txn, const Dbs& dbs, VerifyReport& report);
std::expected<void, Error> verify_versions(const Txn& txn, const Dbs& dbs, VerifyReport& report);
std::expected<void, Error> verify_tasks(const Txn& txn, const Dbs& dbs, VerifyReport& report);
std::expected<void, Error> verify_health(const Txn& txn, const Dbs& dbs, VerifyReport& report);
std::expected<void, Error> verify_runs(const Txn& txn, const Dbs& dbs, VerifyReport& report);
std::expected<void, Error> verify_repairs(const Txn& txn, const Dbs& dbs, VerifyReport& report);
std::expected<void, Error> verify_sources(const Txn& txn, const Dbs& dbs, VerifyReport& report);
std::expected<void, Error> verify_settings(const Txn& txn, const Dbs& dbs, VerifyReport& report);
std::expected<void, Error> verify_metrics(const Txn& txn, const Dbs& dbs, VerifyReport& report);

// Counts the entries of an index that verify found missing or extra, by
// comparing its size with the number of entries the data implies.
std::expected<void, Error> check_index_size(const Txn& txn, Dbi dbi, const char* name,
                                            std::uint64_t expected, VerifyReport& report);

inline void add_damage(VerifyReport& report, std::string item, std::string description) {
  report.damage.push_back({std::move(item), std::move(description)});
}

}  // namespace store::detail
