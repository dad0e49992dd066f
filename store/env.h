// RAII owners for LMDB: the environment (Env), read and write transactions
// (ReadTxn, WriteTxn), cursors and database handles. Most callers use them
// through store::Store (store/store.h); this header is for the tables and
// for tools that need raw access.
//
// Ownership
//   Env owns the MDB_env; destroying it closes the environment. Every
//   transaction and cursor must end before its Env is destroyed.
//   Transactions are move-only; their destructor aborts. commit() clears the
//   handle before calling mdb_txn_commit, because LMDB frees the transaction
//   even when the commit fails: after commit() the object is empty whatever
//   the result.
//   A Cursor must not outlive its transaction (a write transaction frees its
//   cursors when it ends). Views (std::string_view) returned by get() and
//   cursors point into the map: they are valid until the transaction ends,
//   and in a write transaction only until the next write to the same
//   database. Copy what must live longer.
//
// Thread safety
//   Env is safe to share between threads. The environment is opened with
//   MDB_NOTLS, so a thread may hold several read transactions and a read
//   transaction may be handed to another thread, but a transaction and its
//   cursors are used by one thread at a time. One write transaction exists at
//   a time across all threads and processes; begin_write() blocks until the
//   previous writer ends.
//
// Map growth
//   The map starts at EnvOptions::initial_map_size and grows when it fills:
//   a write that hits MDB_MAP_FULL marks its transaction, Env::update()
//   aborts it, grows the map (doubling, then 1 GiB steps, up to
//   max_map_size) and runs the function again. Growing requires that no
//   transaction of this process is open, so update() waits (at most
//   EnvOptions::resize_wait) for other threads to end theirs; a thread that
//   holds a read transaction while calling update() on a full map gets
//   kMapFull after that wait. When another process has grown the map,
//   begin_*() adopts the new size transparently.
//
// Durability
//   Never opened with MDB_NOSYNC, MDB_NOMETASYNC or MDB_WRITEMAP: a commit
//   that returned success is on disk (fdatasync) and survives a crash of the
//   process or of the machine.
#pragma once

#include <lmdb.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "store/error.h"

namespace store {

namespace detail {
struct EnvState;
}  // namespace detail

// A named database. Handles are plain values, valid for the lifetime of the
// Env that opened them; LMDB closes them with the environment.
struct Dbi {
  MDB_dbi handle = 0;
};

// A position in one database. Each positioning call returns the entry now
// under the cursor, or nullopt when there is none (past the end, or a key
// that does not exist).
class Cursor {
 public:
  using Entry = std::pair<std::string_view, std::string_view>;
  using Step = std::expected<std::optional<Entry>, Error>;

  Cursor(Cursor&& other) noexcept : cur_(std::exchange(other.cur_, nullptr)) {}
  Cursor& operator=(Cursor&& other) noexcept;
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  ~Cursor();

  Step first();
  Step last();
  Step next();
  Step prev();
  Step current();
  // The first entry whose key is >= key.
  Step seek(std::string_view key);
  // The entry with exactly this key.
  Step find(std::string_view key);

  MDB_cursor* handle() const { return cur_; }

 protected:
  explicit Cursor(MDB_cursor* cur) : cur_(cur) {}
  Step op(MDB_cursor_op op, std::string_view key = {});

  MDB_cursor* cur_ = nullptr;

  friend class Txn;
};

// A cursor of a write transaction: it can also change the entry under it.
class WriteCursor : public Cursor {
 public:
  // Writes key/value (flags as mdb_cursor_put: 0, MDB_CURRENT, MDB_APPEND,
  // MDB_NOOVERWRITE). The cursor is left on the written entry.
  std::expected<void, Error> put(std::string_view key, std::string_view value, unsigned flags = 0);
  // Deletes the entry under the cursor; next() then returns the entry that
  // followed it.
  std::expected<void, Error> del();

 private:
  WriteCursor(MDB_cursor* cur, detail::EnvState* env) : Cursor(cur), env_(env) {}
  detail::EnvState* env_;

  friend class WriteTxn;
};

// The operations both transaction kinds support. Not constructible itself.
class Txn {
 public:
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  MDB_txn* handle() const { return txn_; }
  bool is_open() const { return txn_ != nullptr; }

  // The value stored under key, or nullopt.
  std::expected<std::optional<std::string_view>, Error> get(Dbi dbi, std::string_view key) const;
  std::expected<Cursor, Error> cursor(Dbi dbi) const;
  // Number of entries in the database (O(1), from the B-tree header).
  std::expected<std::uint64_t, Error> entries(Dbi dbi) const;

 protected:
  Txn() = default;
  Txn(detail::EnvState* env, MDB_txn* txn) : env_(env), txn_(txn) {}
  Txn(Txn&& other) noexcept;
  Txn& operator=(Txn&& other) noexcept;
  ~Txn();
  // Aborts if open; always leaves the object empty.
  void end_abort();
  // Clears the handle, then commits it.
  std::expected<void, Error> end_commit();

  detail::EnvState* env_ = nullptr;
  MDB_txn* txn_ = nullptr;
};

// A read-only snapshot of the whole store: it sees exactly the transactions
// committed before it began. Keep it short: a long reader keeps LMDB from
// reusing pages freed after it began, and blocks map growth in this process.
class ReadTxn : public Txn {
 public:
  ReadTxn(ReadTxn&&) noexcept = default;
  ReadTxn& operator=(ReadTxn&&) noexcept = default;
  ~ReadTxn() = default;

  void abort() { end_abort(); }
  // Only needed to keep database handles opened inside this transaction
  // (Env::open_dbi); otherwise just let it go out of scope.
  std::expected<void, Error> commit() { return end_commit(); }

 private:
  using Txn::Txn;
  friend class Env;
};

// The one write transaction. Nothing it writes is visible to anyone, nor
// durable, until commit() succeeds; destroying it uncommitted discards
// everything.
class WriteTxn : public Txn {
 public:
  WriteTxn(WriteTxn&&) noexcept = default;
  WriteTxn& operator=(WriteTxn&&) noexcept = default;
  ~WriteTxn() = default;

  // Stores value under key, replacing any previous value.
  std::expected<void, Error> put(Dbi dbi, std::string_view key, std::string_view value);
  // Stores value under key only if the key is absent; kExists otherwise.
  std::expected<void, Error> put_new(Dbi dbi, std::string_view key, std::string_view value);
  // Stores under a key greater than every key in the database (cheaper, and
  // fills pages completely); kExists if it is not greater.
  std::expected<void, Error> append(Dbi dbi, std::string_view key, std::string_view value);
  // Removes key; returns whether it was there.
  std::expected<bool, Error> del(Dbi dbi, std::string_view key);
  // Removes every entry of the database.
  std::expected<void, Error> clear(Dbi dbi);
  // Removes the database itself (its handle becomes invalid after commit).
  std::expected<void, Error> drop(Dbi dbi);
  std::expected<WriteCursor, Error> write_cursor(Dbi dbi);

  // True once a write in this transaction hit MDB_MAP_FULL; the transaction
  // is then unusable and Env::update() retries it on a larger map.
  bool map_full() const;

  std::expected<void, Error> commit() { return end_commit(); }
  void abort() { end_abort(); }

 private:
  using Txn::Txn;
  std::expected<void, Error> put_flags(Dbi dbi, std::string_view key, std::string_view value,
                                       unsigned flags);
  friend class Env;
};

struct EnvOptions {
  // The first map size; the map grows on demand (see "Map growth").
  std::size_t initial_map_size = std::size_t{64} << 20;
  // Growth stops here: writes then fail with kMapFull.
  std::size_t max_map_size = std::size_t{1} << 40;
  unsigned max_dbs = 64;
  unsigned max_readers = 254;
  bool read_only = false;
  // The path is the data file itself, not a directory (backups).
  bool no_subdir = false;
  // No lock file (MDB_NOLOCK): only for files no other process uses, such as
  // a backup being checked before a restore. Implies a single user.
  bool no_lock = false;
  mode_t file_mode = 0644;
  // How long a map resize waits for this process's other transactions.
  std::chrono::milliseconds resize_wait{10'000};
  // Raise glibc's malloc trim and mmap thresholds (once per process, the
  // first time an Env opens): LMDB allocates and frees a transaction's dirty
  // pages on every commit, and with the defaults glibc hands them back to
  // the kernel and faults them in again each time, which halves the rate of
  // small write transactions. Freed memory up to 256 MiB stays in the heap.
  bool tune_malloc = true;
};

struct EnvInfo {
  std::size_t map_size = 0;
  std::size_t used_bytes = 0;  // highest page in use, times the page size
  std::uint32_t page_size = 0;
  unsigned max_readers = 0;
  unsigned readers_used = 0;
  std::uint64_t last_txn_id = 0;
};

class Env {
 public:
  // Opens (creating the files if needed and allowed) the environment at
  // path, a directory unless options.no_subdir. Clears reader slots left by
  // dead processes. Errors: kInUse (this process has it open already: LMDB
  // forbids that), kPermission, kNotAStore (not an LMDB file), kNoSpace,
  // kResource, kIo.
  static std::expected<Env, Error> open(const std::filesystem::path& path,
                                        const EnvOptions& options = {});

  Env(Env&& other) noexcept;
  Env& operator=(Env&& other) noexcept;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  ~Env();

  std::expected<ReadTxn, Error> begin_read() const;
  // Blocks while another thread or process writes.
  std::expected<WriteTxn, Error> begin_write();

  // Runs fn(WriteTxn&) -> std::expected<T, Error> in a write transaction and
  // commits it when fn succeeds. On MDB_MAP_FULL the transaction is aborted,
  // the map grown and fn run again from the start, so fn must not keep
  // effects outside the transaction across attempts. fn's error aborts the
  // transaction and is returned as is. Returns fn's value once committed.
  template <class Fn>
  auto update(Fn&& fn) -> std::invoke_result_t<Fn&, WriteTxn&>;

  // Opens a named database in txn; with create (write transactions only)
  // makes it if missing. Returns nullopt if it does not exist. A handle
  // opened in a read transaction survives only if that transaction commits.
  std::expected<std::optional<Dbi>, Error> open_dbi(const Txn& txn, const std::string& name,
                                                    bool create) const;

  // Grows the map one step (see "Map growth").
  std::expected<void, Error> grow();

  std::expected<EnvInfo, Error> info() const;
  // Writes a consistent copy of the environment to fd (mdb_env_copyfd2),
  // compacted (free pages omitted, pages renumbered) when compact is true.
  // Runs in its own read transaction; writers are not blocked.
  std::expected<void, Error> copy_to_fd(int fd, bool compact) const;

  MDB_env* handle() const;
  const std::filesystem::path& path() const;
  bool read_only() const;

 private:
  explicit Env(std::unique_ptr<detail::EnvState> state);
  std::unique_ptr<detail::EnvState> state_;
};

// True if an Env of this process has `path` open (compared after
// canonicalization). Used by restore(), which cannot see its own process's
// LMDB locks.
bool env_open_in_this_process(const std::filesystem::path& path);

template <class Fn>
auto Env::update(Fn&& fn) -> std::invoke_result_t<Fn&, WriteTxn&> {
  using Result = std::invoke_result_t<Fn&, WriteTxn&>;
  while (true) {
    auto txn = begin_write();
    if (!txn) return std::unexpected(std::move(txn).error());
    Result result = fn(*txn);
    bool map_full = txn->map_full();
    if (result && !map_full) {
      auto committed = txn->commit();
      if (committed) return result;
      if (committed.error().kind != ErrorKind::kMapFull) {
        return std::unexpected(std::move(committed).error());
      }
      map_full = true;
    }
    if (!map_full) return result;
    txn->abort();
    if (auto grown = grow(); !grown) return std::unexpected(std::move(grown).error());
  }
}

}  // namespace store
