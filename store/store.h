// The store: everything the host knows, in one LMDB environment.
//
// Start here. Open a store with Store::open(dir); read through a ReadTxn from
// read(), write through update(fn); reach each table through its accessor:
//
//   bronze()    raw fetched pages, bodies stored once   store/bronze.h
//   silver()    typed records with lineage and history  store/silver.h
//   sources()   the sites                               store/sources.h
//   versions()  parser scripts and their states         store/versions.h
//   runs()      what the host did, and how it went      store/runs.h
//   tasks()     the persistent priority queue           store/tasks.h
//   health()    source health and its transitions       store/health.h
//   repairs()   parser repairs with their diffs         store/repairs.h
//   settings()  setting values, global and per source   store/settings.h
//   metrics()   time series per source                  store/metrics.h
//
//   store::OpenOptions options;
//   options.create_if_missing = true;
//   auto db = store::Store::open(dir, options);
//   if (!db) return fail(db.error().message);
//   auto put = db->update([&](store::WriteTxn& txn) {
//     return db->bronze().put(txn, page);  // returns std::expected<BronzePut, Error>
//   });
//   auto txn = db->read();
//   auto snapshot = db->bronze().get(*txn, put->id);
//
// Inside update(), return errors rather than throwing them: update() retries
// the function on a larger map when a write reports kMapFull.
//
// Errors: every call returns std::expected<T, Error> (store/error.h); nothing
// throws. A lookup that finds nothing returns an empty optional.
//
// Durability: a write is durable when update() returns success; a crash at
// any moment leaves the store as of the last successful update(), never a
// part of one.
//
// Processes and threads: several processes may open the same store (a
// daemon writing, CLI commands reading); one write transaction runs at a
// time across all of them. One process must not open the same store twice
// (open() refuses: kInUse). A Store is safe to share between threads; each
// transaction belongs to one thread at a time. See store/env.h.
//
// Schema: the store records its schema version. open() migrates an older
// store once, each step in one transaction (a crash mid-migration leaves the
// old version, and the next open() redoes the step); it refuses a newer one
// (kSchemaTooNew) without changing anything.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "store/bronze.h"
#include "store/env.h"
#include "store/error.h"
#include "store/health.h"
#include "store/metrics.h"
#include "store/repairs.h"
#include "store/runs.h"
#include "store/settings.h"
#include "store/silver.h"
#include "store/sources.h"
#include "store/tasks.h"
#include "store/verify.h"
#include "store/versions.h"

namespace store {

// The schema version this binary writes. Version 1 lacked the derived
// databases `counters`, `active_versions` and `bronze_pins`; the 1 -> 2
// migration builds them from the primary data.
inline constexpr std::uint32_t kSchemaVersion = 2;

struct OpenOptions {
  // Create the store if `dir` does not exist or is an empty directory.
  // Without it, a missing store is kNotAStore.
  bool create_if_missing = false;
  // Open for reading only: no migration (an older store is kSchemaTooOld),
  // update() fails with kPermission.
  bool read_only = false;
  // Map sizing; the map grows on demand (store/env.h).
  std::size_t initial_map_size = std::size_t{64} << 20;
  std::size_t max_map_size = std::size_t{1} << 40;
  std::chrono::milliseconds resize_wait{10'000};
};

struct BackupOptions {
  bool overwrite = false;  // replace an existing file (atomically)
};

struct DbStats {
  std::string name;
  std::uint64_t entries = 0;
  std::uint64_t pages = 0;  // branch + leaf + overflow
};

struct StoreStats {
  std::uint32_t schema_version = 0;
  std::size_t map_size = 0;
  std::size_t used_bytes = 0;
  std::uint64_t file_bytes = 0;
  unsigned readers_used = 0;
  unsigned max_readers = 0;
  std::vector<DbStats> databases;
};

class Store {
 public:
  // Opens the store in directory `dir` (files data.mdb and lock.mdb).
  // Errors, each with nothing changed on disk:
  //   kNotAStore     dir missing (without create_if_missing), not a
  //                  directory, a non-empty directory without a store, or
  //                  an LMDB file that is not ours;
  //   kSchemaTooNew  written by a newer binary;
  //   kSchemaTooOld  read_only and a migration is needed;
  //   kPermission    the directory or files are not accessible;
  //   kInUse         this process already has it open;
  //   kNoSpace, kIo, kCorrupt.
  static std::expected<Store, Error> open(const std::filesystem::path& dir,
                                          const OpenOptions& options = {});

  // Opens a backup file (as written by backup_to) read-only, without
  // locking: to inspect or verify it before a restore. A backup of an older
  // schema cannot be opened this way (kSchemaTooOld); restore it instead.
  static std::expected<Store, Error> open_backup(const std::filesystem::path& file);

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  // A snapshot for reading; see ReadTxn.
  std::expected<ReadTxn, Error> read() const;

  // Runs fn(WriteTxn&) -> std::expected<T, Error> in one write transaction
  // and commits it if fn succeeds (Env::update: fn may run again after the
  // map grows). Returns fn's result once durable.
  template <class Fn>
  auto update(Fn&& fn) -> std::invoke_result_t<Fn&, WriteTxn&> {
    return env().update(std::forward<Fn>(fn));
  }

  const Bronze& bronze() const;
  const Silver& silver() const;
  const Sources& sources() const;
  const Versions& versions() const;
  const Runs& runs() const;
  const Tasks& tasks() const;
  const Health& health() const;
  const Repairs& repairs() const;
  const Settings& settings() const;
  const Metrics& metrics() const;

  std::uint32_t schema_version() const;
  // The version open() migrated from, if it migrated.
  std::optional<std::uint32_t> migrated_from() const;
  const std::filesystem::path& dir() const;
  Env& env();
  const Env& env() const;

  // Writes a consistent, compacted copy of the store to `file` while readers
  // and writers carry on (one read transaction; writers are not blocked):
  // written to a temporary file beside it, fsynced, then renamed. Errors:
  // kExists (file exists, no overwrite), kNoSpace, kPermission, kIo.
  std::expected<void, Error> backup_to(const std::filesystem::path& file,
                                       const BackupOptions& options = {}) const;

  // Checks every bronze body against its SHA-256, every silver record's
  // lineage (snapshot and parser version exist, same source), every index
  // and counter against the data it derives from, and that every value
  // decodes. Damage is reported, never repaired. Runs in one read
  // transaction; costs a full read of the store.
  std::expected<VerifyReport, Error> verify() const;

  std::expected<StoreStats, Error> stats() const;

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The id of a process that has the store in `dir` open, if any (this
// process included). Reads LMDB's lock on dir/lock.mdb.
std::expected<std::optional<pid_t>, Error> store_user(const std::filesystem::path& dir);

// Replaces the store in `dir` (created if missing) with the backup `file`.
// Checks the backup first (an LMDB file of ours, a schema this binary
// knows; verify() if it is of the current schema) and refuses with kInUse,
// naming the process, if any process has the store open: stop the daemon
// and other commands using it, then run restore again. While it copies it
// holds LMDB's lock, so nobody opens the store half-restored. The previous
// data file is replaced atomically (rename). An older-schema backup is
// migrated at the next open().
std::expected<void, Error> restore(const std::filesystem::path& file,
                                   const std::filesystem::path& dir);

}  // namespace store
