#include "store/env.h"

#include <malloc.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <set>

namespace store {
namespace detail {

// Shared by an Env and its transactions; heap-allocated so that moving an Env
// does not move it.
struct EnvState {
  MDB_env* env = nullptr;
  std::filesystem::path path;
  std::string canonical;
  EnvOptions options;

  // Map resizing needs every transaction of this process closed: `active`
  // counts them, `resizing` holds new ones back while a resize waits.
  std::mutex mu;
  std::condition_variable cv;
  int active = 0;
  bool resizing = false;

  // Set by the (single) write transaction when a write hits MDB_MAP_FULL.
  std::atomic<bool> write_map_full{false};

  ~EnvState();
};

}  // namespace detail

namespace {

using detail::EnvState;

std::mutex& registry_mutex() {
  static std::mutex mu;
  return mu;
}
std::set<std::string>& registry() {
  static std::set<std::string> open_paths;
  return open_paths;
}

std::string canonical_of(const std::filesystem::path& path) {
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(path, ec);
  return ec ? path.lexically_normal().string() : canonical.string();
}

constexpr std::size_t kMiB = std::size_t{1} << 20;
constexpr std::size_t kGiB = std::size_t{1} << 30;

void tune_malloc_once() {
  static const bool tuned = [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    return true;
  }();
  static_cast<void>(tuned);
}

std::size_t round_up(std::size_t size, std::size_t unit) { return (size + unit - 1) / unit * unit; }

std::size_t next_map_size(std::size_t current, std::size_t max) {
  std::size_t next = current < kGiB ? current * 2 : current + kGiB;
  return std::min(round_up(next, kMiB), max);
}

void enter(EnvState& s) {
  std::unique_lock lock(s.mu);
  s.cv.wait(lock, [&] { return !s.resizing; });
  ++s.active;
}

void leave(EnvState& s) {
  std::lock_guard lock(s.mu);
  --s.active;
  if (s.active == 0 && s.resizing) s.cv.notify_all();
}

// Resizes the map to `target` (0: adopt the size another process set).
// Requires that the caller holds no transaction of this environment.
std::expected<void, Error> resize(EnvState& s, std::size_t target) {
  std::unique_lock lock(s.mu);
  if (s.resizing) {
    // Another thread is already resizing; its result serves us too.
    s.cv.wait(lock, [&] { return !s.resizing; });
    return {};
  }
  s.resizing = true;
  bool drained = s.cv.wait_for(lock, s.options.resize_wait, [&] { return s.active == 0; });
  auto finish = [&] {
    s.resizing = false;
    s.cv.notify_all();
  };
  if (!drained) {
    int open = s.active;
    finish();
    return std::unexpected(Error{
        ErrorKind::kMapFull,
        "the store's map is full and cannot grow while " + std::to_string(open) +
            " transaction(s) of this process stay open; end long read transactions and retry"});
  }
  int rc = 0;
  if (target == 0) {
    rc = mdb_env_set_mapsize(s.env, 0);
  } else {
    MDB_envinfo info;
    mdb_env_info(s.env, &info);
    if (info.me_mapsize >= s.options.max_map_size) {
      finish();
      return std::unexpected(
          Error{ErrorKind::kMapFull, "the store reached its maximum size of " +
                                         std::to_string(s.options.max_map_size >> 20) + " MiB"});
    }
    rc = mdb_env_set_mapsize(s.env, std::max(target, info.me_mapsize));
  }
  finish();
  if (rc != 0) return std::unexpected(error_from_code(rc, "resizing the store's map"));
  return {};
}

// Grows the map ahead of need when it is 80% used and nothing else of this
// process is open, so that most writers never pay for a MAP_FULL retry.
void maybe_grow_early(EnvState& s) {
  MDB_envinfo info;
  MDB_stat stat;
  if (mdb_env_info(s.env, &info) != 0 || mdb_env_stat(s.env, &stat) != 0) return;
  std::size_t used = (info.me_last_pgno + 1) * stat.ms_psize;
  if (used * 5 < info.me_mapsize * 4 || info.me_mapsize >= s.options.max_map_size) return;
  std::lock_guard lock(s.mu);
  if (s.resizing || s.active != 0) return;
  mdb_env_set_mapsize(s.env, next_map_size(info.me_mapsize, s.options.max_map_size));
}

// LMDB reports a short write as EIO. Its usual causes are a full disk and a
// file size limit, which deserve their own clear error; tell them apart
// after the fact.
int refine_write_error(const EnvState& s, int rc) {
  if (rc != EIO) return rc;
  std::filesystem::path dir = s.options.no_subdir ? s.path.parent_path() : s.path;
  struct statvfs vfs {};
  if (::statvfs(dir.empty() ? "." : dir.c_str(), &vfs) == 0 &&
      static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize < 16 * kMiB) {
    return ENOSPC;
  }
  rlimit limit{};
  struct stat st {};
  std::filesystem::path file = s.options.no_subdir ? s.path : s.path / "data.mdb";
  if (::getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      ::stat(file.c_str(), &st) == 0 &&
      static_cast<std::uint64_t>(st.st_size) + kMiB >= limit.rlim_cur) {
    return EFBIG;
  }
  return rc;
}

}  // namespace

detail::EnvState::~EnvState() {
  if (env != nullptr) mdb_env_close(env);
  if (!canonical.empty()) {
    std::lock_guard lock(registry_mutex());
    registry().erase(canonical);
  }
}

bool env_open_in_this_process(const std::filesystem::path& path) {
  std::string canonical = canonical_of(path);
  std::lock_guard lock(registry_mutex());
  return registry().contains(canonical);
}

// ---- Cursor ----

Cursor& Cursor::operator=(Cursor&& other) noexcept {
  if (this != &other) {
    if (cur_ != nullptr) mdb_cursor_close(cur_);
    cur_ = std::exchange(other.cur_, nullptr);
  }
  return *this;
}

Cursor::~Cursor() {
  if (cur_ != nullptr) mdb_cursor_close(cur_);
}

Cursor::Step Cursor::op(MDB_cursor_op op, std::string_view key) {
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  MDB_val v{0, nullptr};
  int rc = mdb_cursor_get(cur_, &k, &v, op);
  if (rc == MDB_NOTFOUND) return std::optional<Entry>();
  if (rc != 0) return std::unexpected(error_from_code(rc, "reading through a cursor"));
  return std::optional<Entry>(Entry{{static_cast<const char*>(k.mv_data), k.mv_size},
                                    {static_cast<const char*>(v.mv_data), v.mv_size}});
}

Cursor::Step Cursor::first() { return op(MDB_FIRST); }
Cursor::Step Cursor::last() { return op(MDB_LAST); }
Cursor::Step Cursor::next() { return op(MDB_NEXT); }
Cursor::Step Cursor::prev() { return op(MDB_PREV); }
Cursor::Step Cursor::current() { return op(MDB_GET_CURRENT); }
Cursor::Step Cursor::seek(std::string_view key) { return op(MDB_SET_RANGE, key); }
Cursor::Step Cursor::find(std::string_view key) { return op(MDB_SET_KEY, key); }

std::expected<void, Error> WriteCursor::put(std::string_view key, std::string_view value,
                                            unsigned flags) {
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  MDB_val v{value.size(), const_cast<char*>(value.data())};
  int rc = mdb_cursor_put(cur_, &k, &v, flags);
  if (rc == 0) return {};
  if (rc == MDB_MAP_FULL) env_->write_map_full = true;
  return std::unexpected(error_from_code(rc, "writing through a cursor"));
}

std::expected<void, Error> WriteCursor::del() {
  int rc = mdb_cursor_del(cur_, 0);
  if (rc == 0) return {};
  if (rc == MDB_MAP_FULL) env_->write_map_full = true;
  return std::unexpected(error_from_code(rc, "deleting through a cursor"));
}

// ---- Txn ----

Txn::Txn(Txn&& other) noexcept
    : env_(std::exchange(other.env_, nullptr)), txn_(std::exchange(other.txn_, nullptr)) {}

Txn& Txn::operator=(Txn&& other) noexcept {
  if (this != &other) {
    end_abort();
    env_ = std::exchange(other.env_, nullptr);
    txn_ = std::exchange(other.txn_, nullptr);
  }
  return *this;
}

Txn::~Txn() { end_abort(); }

void Txn::end_abort() {
  if (txn_ == nullptr) return;
  mdb_txn_abort(std::exchange(txn_, nullptr));
  leave(*std::exchange(env_, nullptr));
}

std::expected<void, Error> Txn::end_commit() {
  if (txn_ == nullptr) {
    return std::unexpected(Error{ErrorKind::kInternal, "commit of a transaction that has ended"});
  }
  // LMDB frees the transaction whatever mdb_txn_commit returns.
  MDB_txn* txn = std::exchange(txn_, nullptr);
  EnvState* env = std::exchange(env_, nullptr);
  int rc = mdb_txn_commit(txn);
  leave(*env);
  if (rc == 0) return {};
  if (rc == MDB_MAP_FULL) env->write_map_full = true;
  return std::unexpected(error_from_code(refine_write_error(*env, rc),
                                         "committing to the store at " + env->path.string()));
}

std::expected<std::optional<std::string_view>, Error> Txn::get(Dbi dbi,
                                                               std::string_view key) const {
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  MDB_val v{0, nullptr};
  int rc = mdb_get(txn_, dbi.handle, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string_view>();
  if (rc != 0) return std::unexpected(error_from_code(rc, "reading from the store"));
  return std::optional<std::string_view>(
      std::string_view(static_cast<const char*>(v.mv_data), v.mv_size));
}

std::expected<Cursor, Error> Txn::cursor(Dbi dbi) const {
  MDB_cursor* cur = nullptr;
  int rc = mdb_cursor_open(txn_, dbi.handle, &cur);
  if (rc != 0) return std::unexpected(error_from_code(rc, "opening a cursor"));
  return Cursor(cur);
}

std::expected<std::uint64_t, Error> Txn::entries(Dbi dbi) const {
  MDB_stat stat;
  int rc = mdb_stat(txn_, dbi.handle, &stat);
  if (rc != 0) return std::unexpected(error_from_code(rc, "reading database statistics"));
  return stat.ms_entries;
}

// ---- WriteTxn ----

std::expected<void, Error> WriteTxn::put_flags(Dbi dbi, std::string_view key,
                                               std::string_view value, unsigned flags) {
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  MDB_val v{value.size(), const_cast<char*>(value.data())};
  int rc = mdb_put(txn_, dbi.handle, &k, &v, flags);
  if (rc == 0) return {};
  if (rc == MDB_MAP_FULL) env_->write_map_full = true;
  return std::unexpected(error_from_code(rc, "writing to the store"));
}

std::expected<void, Error> WriteTxn::put(Dbi dbi, std::string_view key, std::string_view value) {
  return put_flags(dbi, key, value, 0);
}

std::expected<void, Error> WriteTxn::put_new(Dbi dbi, std::string_view key,
                                             std::string_view value) {
  return put_flags(dbi, key, value, MDB_NOOVERWRITE);
}

std::expected<void, Error> WriteTxn::append(Dbi dbi, std::string_view key, std::string_view value) {
  return put_flags(dbi, key, value, MDB_APPEND);
}

std::expected<bool, Error> WriteTxn::del(Dbi dbi, std::string_view key) {
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  int rc = mdb_del(txn_, dbi.handle, &k, nullptr);
  if (rc == 0) return true;
  if (rc == MDB_NOTFOUND) return false;
  if (rc == MDB_MAP_FULL) env_->write_map_full = true;
  return std::unexpected(error_from_code(rc, "deleting from the store"));
}

std::expected<void, Error> WriteTxn::clear(Dbi dbi) {
  int rc = mdb_drop(txn_, dbi.handle, 0);
  if (rc == 0) return {};
  if (rc == MDB_MAP_FULL) env_->write_map_full = true;
  return std::unexpected(error_from_code(rc, "clearing a database"));
}

std::expected<void, Error> WriteTxn::drop(Dbi dbi) {
  int rc = mdb_drop(txn_, dbi.handle, 1);
  if (rc == 0) return {};
  if (rc == MDB_MAP_FULL) env_->write_map_full = true;
  return std::unexpected(error_from_code(rc, "dropping a database"));
}

std::expected<WriteCursor, Error> WriteTxn::write_cursor(Dbi dbi) {
  MDB_cursor* cur = nullptr;
  int rc = mdb_cursor_open(txn_, dbi.handle, &cur);
  if (rc != 0) return std::unexpected(error_from_code(rc, "opening a cursor"));
  return WriteCursor(cur, env_);
}

bool WriteTxn::map_full() const { return env_ != nullptr && env_->write_map_full.load(); }

// ---- Env ----

Env::Env(std::unique_ptr<EnvState> state) : state_(std::move(state)) {}
Env::Env(Env&& other) noexcept = default;
Env& Env::operator=(Env&& other) noexcept = default;
Env::~Env() = default;

std::expected<Env, Error> Env::open(const std::filesystem::path& path, const EnvOptions& options) {
  if (options.tune_malloc) tune_malloc_once();
  auto state = std::make_unique<EnvState>();
  state->path = path;
  state->options = options;
  // LMDB must not have one environment open twice in a process (closing
  // either would drop the other's locks): claim the path first.
  {
    std::string canonical = canonical_of(path);
    std::lock_guard lock(registry_mutex());
    if (registry().contains(canonical)) {
      return std::unexpected(Error{
          ErrorKind::kInUse, "the store at " + path.string() + " is already open in this process"});
    }
    registry().insert(canonical);
    state->canonical = std::move(canonical);
  }
  state->options.max_map_size = round_up(std::max(options.max_map_size, kMiB), kMiB);
  std::string where = "opening the store at " + path.string();
  int rc = mdb_env_create(&state->env);
  if (rc != 0) {
    state->env = nullptr;
    return std::unexpected(error_from_code(rc, where));
  }
  unsigned flags = MDB_NOTLS;
  if (options.read_only) flags |= MDB_RDONLY;
  if (options.no_subdir) flags |= MDB_NOSUBDIR;
  if (options.no_lock) flags |= MDB_NOLOCK;
  std::size_t map_size = std::min(round_up(std::max(options.initial_map_size, kMiB), kMiB),
                                  state->options.max_map_size);
  if ((rc = mdb_env_set_maxdbs(state->env, options.max_dbs)) != 0 ||
      (rc = mdb_env_set_maxreaders(state->env, options.max_readers)) != 0 ||
      (rc = mdb_env_set_mapsize(state->env, map_size)) != 0 ||
      (rc = mdb_env_open(state->env, path.c_str(), flags, options.file_mode)) != 0) {
    return std::unexpected(error_from_code(rc, where));
  }
  if (!options.no_lock) {
    int dead = 0;
    mdb_reader_check(state->env, &dead);
  }
  return Env(std::move(state));
}

std::expected<ReadTxn, Error> Env::begin_read() const {
  EnvState& s = *state_;
  for (int attempt = 0; attempt < 16; ++attempt) {
    enter(s);
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(s.env, nullptr, MDB_RDONLY, &txn);
    if (rc == 0) return ReadTxn(&s, txn);
    leave(s);
    if (rc != MDB_MAP_RESIZED) {
      return std::unexpected(error_from_code(rc, "starting a read transaction"));
    }
    if (auto adopted = resize(s, 0); !adopted) return std::unexpected(adopted.error());
  }
  return std::unexpected(Error{ErrorKind::kInternal, "the store's map keeps changing size"});
}

std::expected<WriteTxn, Error> Env::begin_write() {
  EnvState& s = *state_;
  if (s.options.read_only) {
    return std::unexpected(
        Error{ErrorKind::kPermission, "the store at " + s.path.string() + " is open read-only"});
  }
  maybe_grow_early(s);
  for (int attempt = 0; attempt < 16; ++attempt) {
    enter(s);
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(s.env, nullptr, 0, &txn);
    if (rc == 0) {
      s.write_map_full = false;
      return WriteTxn(&s, txn);
    }
    leave(s);
    if (rc != MDB_MAP_RESIZED) {
      return std::unexpected(error_from_code(rc, "starting a write transaction"));
    }
    if (auto adopted = resize(s, 0); !adopted) return std::unexpected(adopted.error());
  }
  return std::unexpected(Error{ErrorKind::kInternal, "the store's map keeps changing size"});
}

std::expected<std::optional<Dbi>, Error> Env::open_dbi(const Txn& txn, const std::string& name,
                                                       bool create) const {
  Dbi dbi;
  int rc = mdb_dbi_open(txn.handle(), name.c_str(), create ? MDB_CREATE : 0, &dbi.handle);
  if (rc == MDB_NOTFOUND) return std::optional<Dbi>();
  if (rc != 0) return std::unexpected(error_from_code(rc, "opening database " + name));
  return std::optional<Dbi>(dbi);
}

std::expected<void, Error> Env::grow() {
  MDB_envinfo info;
  mdb_env_info(state_->env, &info);
  return resize(*state_, next_map_size(info.me_mapsize, state_->options.max_map_size));
}

std::expected<EnvInfo, Error> Env::info() const {
  MDB_envinfo info;
  MDB_stat stat;
  int rc = mdb_env_info(state_->env, &info);
  if (rc == 0) rc = mdb_env_stat(state_->env, &stat);
  if (rc != 0) return std::unexpected(error_from_code(rc, "reading the store's statistics"));
  EnvInfo out;
  out.map_size = info.me_mapsize;
  out.page_size = stat.ms_psize;
  out.used_bytes = (info.me_last_pgno + 1) * stat.ms_psize;
  out.max_readers = info.me_maxreaders;
  out.readers_used = info.me_numreaders;
  out.last_txn_id = info.me_last_txnid;
  return out;
}

std::expected<void, Error> Env::copy_to_fd(int fd, bool compact) const {
  // The copy runs its own read transaction: count it so that no resize
  // unmaps the map under it.
  enter(*state_);
  int rc = mdb_env_copyfd2(state_->env, fd, compact ? MDB_CP_COMPACT : 0);
  leave(*state_);
  if (rc != 0) return std::unexpected(error_from_code(rc, "copying the store"));
  return {};
}

MDB_env* Env::handle() const { return state_->env; }
const std::filesystem::path& Env::path() const { return state_->path; }
bool Env::read_only() const { return state_->options.read_only; }

}  // namespace store
