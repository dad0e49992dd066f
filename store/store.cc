#include "store/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "store/detail/codec.h"
#include "store/detail/maintenance.h"
#include "store/detail/schema.h"
#include "store/detail/try.h"

namespace store {

struct Store::Impl {
  explicit Impl(Env e) : env(std::move(e)) {}

  Env env;
  detail::Dbs dbs;
  Bronze bronze{dbs};
  Silver silver{dbs};
  Sources sources{dbs};
  Versions versions{dbs};
  Runs runs{dbs};
  Tasks tasks{dbs};
  Health health{dbs};
  Repairs repairs{dbs};
  Settings settings{dbs};
  Metrics metrics{dbs};
  std::filesystem::path dir;
  std::uint32_t schema_version = 0;
  std::optional<std::uint32_t> migrated_from;
};

namespace {

namespace fs = std::filesystem;

constexpr std::uint32_t kLmdbMagic = 0xBEEFC0DE;

// A file descriptor owner.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

 private:
  int fd_;
};

Error errno_error(int err, const std::string& context) { return error_from_code(err, context); }

Error not_a_store(const fs::path& dir, std::string_view why) {
  return Error{ErrorKind::kNotAStore, dir.string() + " is not a store: " + std::string(why)};
}

// Checks the LMDB magic number of a data file without opening it as an
// environment, so that a foreign file is refused before LMDB creates its
// lock file next to it.
std::expected<void, Error> check_lmdb_file(const fs::path& file) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::unexpected(errno_error(errno, "reading " + file.string()));
  std::array<unsigned char, 24> header{};
  ssize_t n = ::pread(fd.get(), header.data(), header.size(), 0);
  if (n < 0) return std::unexpected(errno_error(errno, "reading " + file.string()));
  // An empty file is what a crash between LMDB creating the file and writing
  // its first pages leaves; LMDB initializes it like a new one.
  if (n == 0) return {};
  std::uint32_t magic = 0;
  if (n == static_cast<ssize_t>(header.size())) std::memcpy(&magic, header.data() + 16, 4);
  if (magic != kLmdbMagic) {
    return std::unexpected(Error{ErrorKind::kNotAStore,
                                 file.string() + " is not an LMDB data file (wrong magic number)"});
  }
  return {};
}

bool directory_is_empty(const fs::path& dir, std::error_code& ec) {
  return fs::directory_iterator(dir, ec) == fs::directory_iterator();
}

struct MetaState {
  bool present = false;  // a meta database exists
  bool empty_env = false;
  std::uint32_t version = 0;
};

// Reads the format marker and schema version in a read transaction; opens
// nothing with MDB_CREATE, so it changes nothing.
std::expected<MetaState, Error> read_meta(const Env& env, const fs::path& dir) {
  STORE_ASSIGN(auto txn, env.begin_read());
  MetaState state;
  STORE_ASSIGN(auto meta, env.open_dbi(txn, "meta", false));
  if (!meta) {
    // The unnamed database lists the named ones: empty means a fresh file.
    Dbi main;
    int rc = mdb_dbi_open(txn.handle(), nullptr, 0, &main.handle);
    if (rc != 0) return std::unexpected(error_from_code(rc, "reading " + dir.string()));
    STORE_ASSIGN(std::uint64_t entries, txn.entries(main));
    state.empty_env = entries == 0;
    return state;
  }
  state.present = true;
  STORE_ASSIGN(auto format, txn.get(*meta, detail::kMetaFormat));
  if (!format || *format != detail::kMetaFormatValue) {
    return std::unexpected(not_a_store(dir, "an LMDB environment of another program"));
  }
  STORE_ASSIGN(auto version, txn.get(*meta, detail::kMetaSchemaVersion));
  auto parsed = version ? detail::read_fixed64(*version) : std::nullopt;
  if (!parsed) return std::unexpected(detail::corrupt("the schema version"));
  state.version = static_cast<std::uint32_t>(*parsed);
  return state;
}

// Opens (and with `create`, creates) every database of the current schema.
std::expected<void, Error> open_all(const Env& env, const Txn& txn, detail::Dbs& dbs, bool create) {
  for (const auto& spec : detail::kDbSpecs) {
    STORE_ASSIGN(auto dbi, env.open_dbi(txn, spec.name, create));
    if (!dbi) {
      return std::unexpected(
          Error{ErrorKind::kCorrupt, "the store lacks its database " + std::string(spec.name)});
    }
    dbs.*spec.member = *dbi;
  }
  return {};
}

std::expected<void, Error> write_version(WriteTxn& txn, const detail::Dbs& dbs,
                                         std::uint32_t version) {
  return detail::write_u64(txn, dbs.meta, detail::kMetaSchemaVersion, version);
}

std::expected<void, Error> initialize(Env& env, detail::Dbs& dbs) {
  return env.update([&](WriteTxn& txn) -> std::expected<void, Error> {
    // Another process may have initialized it since we looked.
    STORE_ASSIGN(auto meta, env.open_dbi(txn, "meta", false));
    bool fresh = !meta;
    STORE_TRY(open_all(env, txn, dbs, true));
    if (!fresh) return {};
    STORE_TRY(txn.put(dbs.meta, detail::kMetaFormat, detail::kMetaFormatValue));
    STORE_TRY(write_version(txn, dbs, kSchemaVersion));
    std::string created;
    detail::Packer(created).time(now());
    return txn.put(dbs.meta, detail::kMetaCreatedAt, created);
  });
}

// One migration step: from `from` to from + 1.
struct Migration {
  std::uint32_t from;
  std::expected<void, Error> (*run)(WriteTxn& txn, const detail::Dbs& dbs);
};

std::expected<void, Error> migrate_1_to_2(WriteTxn& txn, const detail::Dbs& dbs) {
  STORE_TRY(detail::rebuild_silver_derived(txn, dbs));
  STORE_TRY(detail::rebuild_task_counters(txn, dbs));
  STORE_TRY(detail::rebuild_health_counters(txn, dbs));
  return detail::rebuild_active_versions(txn, dbs);
}

constexpr std::array<Migration, 1> kMigrations{{{1, &migrate_1_to_2}}};

std::expected<void, Error> migrate(Env& env, detail::Dbs& dbs, std::uint32_t from) {
  for (const Migration& m : kMigrations) {
    if (m.from < from) continue;
    STORE_TRY(env.update([&](WriteTxn& txn) -> std::expected<void, Error> {
      STORE_TRY(open_all(env, txn, dbs, true));
      // Re-read inside the transaction: another process may have migrated.
      STORE_ASSIGN(std::uint64_t current,
                   detail::read_u64(txn, dbs.meta, detail::kMetaSchemaVersion));
      if (current != m.from) return {};
      STORE_TRY(m.run(txn, dbs));
      return write_version(txn, dbs, m.from + 1);
    }));
  }
  return {};
}

std::expected<void, Error> fsync_dir(const fs::path& dir) {
  Fd fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) {
    return std::unexpected(errno_error(errno, "syncing directory " + dir.string()));
  }
  return {};
}

}  // namespace

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

std::expected<Store, Error> Store::open(const fs::path& dir, const OpenOptions& options) {
  std::error_code ec;
  bool exists = fs::exists(dir, ec);
  if (ec) return std::unexpected(errno_error(ec.value(), "looking at " + dir.string()));
  bool create = options.create_if_missing && !options.read_only;
  if (!exists) {
    if (!create)
      return std::unexpected(Error{ErrorKind::kNotAStore, "there is no store at " + dir.string()});
    fs::create_directories(dir, ec);
    if (ec) return std::unexpected(errno_error(ec.value(), "creating " + dir.string()));
  } else if (!fs::is_directory(dir, ec)) {
    return std::unexpected(not_a_store(dir, "not a directory"));
  }
  if (env_open_in_this_process(dir)) {
    return std::unexpected(Error{
        ErrorKind::kInUse, "the store at " + dir.string() + " is already open in this process"});
  }
  fs::path data = dir / "data.mdb";
  bool has_data = fs::exists(data, ec);
  if (ec) return std::unexpected(errno_error(ec.value(), "looking at " + data.string()));
  if (!has_data) {
    bool empty = directory_is_empty(dir, ec);
    if (ec) return std::unexpected(errno_error(ec.value(), "listing " + dir.string()));
    if (!empty) {
      return std::unexpected(
          not_a_store(dir,
                      "the directory holds other files and no data.mdb; choose a new or "
                      "empty directory for a new store"));
    }
    if (!create)
      return std::unexpected(Error{ErrorKind::kNotAStore, "there is no store at " + dir.string()});
  } else {
    STORE_TRY(check_lmdb_file(data));
  }

  EnvOptions env_options;
  env_options.initial_map_size = options.initial_map_size;
  env_options.max_map_size = options.max_map_size;
  env_options.read_only = options.read_only;
  env_options.resize_wait = options.resize_wait;
  STORE_ASSIGN(Env env, Env::open(dir, env_options));
  auto impl = std::make_unique<Impl>(std::move(env));
  impl->dir = dir;
  Env& e = impl->env;

  STORE_ASSIGN(MetaState meta, read_meta(e, dir));
  if (!meta.present) {
    if (!meta.empty_env)
      return std::unexpected(not_a_store(dir, "an LMDB environment of another program"));
    if (!create)
      return std::unexpected(Error{ErrorKind::kNotAStore, "there is no store at " + dir.string()});
    STORE_TRY(initialize(e, impl->dbs));
    meta.version = kSchemaVersion;
  }
  if (meta.version > kSchemaVersion) {
    return std::unexpected(
        Error{ErrorKind::kSchemaTooNew,
              "the store at " + dir.string() + " has schema version " +
                  std::to_string(meta.version) + ", newer than this program knows (" +
                  std::to_string(kSchemaVersion) + "); use a newer version of the program"});
  }
  if (meta.version == 0) return std::unexpected(detail::corrupt("the schema version"));
  if (meta.version < kSchemaVersion) {
    if (options.read_only) {
      return std::unexpected(Error{
          ErrorKind::kSchemaTooOld,
          "the store at " + dir.string() + " has schema version " + std::to_string(meta.version) +
              " and must be migrated to " + std::to_string(kSchemaVersion) +
              "; open it once read-write (any command that writes) to migrate it"});
    }
    STORE_TRY(migrate(e, impl->dbs, meta.version));
    impl->migrated_from = meta.version;
  }
  impl->schema_version = kSchemaVersion;

  if (options.read_only) {
    STORE_ASSIGN(auto txn, e.begin_read());
    STORE_TRY(open_all(e, txn, impl->dbs, false));
    STORE_TRY(txn.commit());  // keeps the handles
  } else {
    STORE_TRY(e.update([&](WriteTxn& txn) { return open_all(e, txn, impl->dbs, true); }));
  }
  return Store(std::move(impl));
}

std::expected<Store, Error> Store::open_backup(const fs::path& file) {
  STORE_TRY(check_lmdb_file(file));
  EnvOptions env_options;
  env_options.read_only = true;
  env_options.no_subdir = true;
  env_options.no_lock = true;
  STORE_ASSIGN(Env env, Env::open(file, env_options));
  auto impl = std::make_unique<Impl>(std::move(env));
  impl->dir = file;
  STORE_ASSIGN(MetaState meta, read_meta(impl->env, file));
  if (!meta.present) return std::unexpected(not_a_store(file, "not a backup of a store"));
  if (meta.version > kSchemaVersion) {
    return std::unexpected(Error{
        ErrorKind::kSchemaTooNew,
        "the backup " + file.string() + " has schema version " + std::to_string(meta.version) +
            ", newer than this program knows (" + std::to_string(kSchemaVersion) + ")"});
  }
  if (meta.version < kSchemaVersion) {
    return std::unexpected(Error{
        ErrorKind::kSchemaTooOld,
        "the backup " + file.string() + " has schema version " + std::to_string(meta.version)});
  }
  impl->schema_version = meta.version;
  STORE_ASSIGN(auto txn, impl->env.begin_read());
  STORE_TRY(open_all(impl->env, txn, impl->dbs, false));
  STORE_TRY(txn.commit());
  return Store(std::move(impl));
}

std::expected<ReadTxn, Error> Store::read() const { return impl_->env.begin_read(); }

const Bronze& Store::bronze() const { return impl_->bronze; }
const Silver& Store::silver() const { return impl_->silver; }
const Sources& Store::sources() const { return impl_->sources; }
const Versions& Store::versions() const { return impl_->versions; }
const Runs& Store::runs() const { return impl_->runs; }
const Tasks& Store::tasks() const { return impl_->tasks; }
const Health& Store::health() const { return impl_->health; }
const Repairs& Store::repairs() const { return impl_->repairs; }
const Settings& Store::settings() const { return impl_->settings; }
const Metrics& Store::metrics() const { return impl_->metrics; }
std::uint32_t Store::schema_version() const { return impl_->schema_version; }
std::optional<std::uint32_t> Store::migrated_from() const { return impl_->migrated_from; }
const fs::path& Store::dir() const { return impl_->dir; }
Env& Store::env() { return impl_->env; }
const Env& Store::env() const { return impl_->env; }

std::expected<void, Error> Store::backup_to(const fs::path& file,
                                            const BackupOptions& options) const {
  std::error_code ec;
  if (!options.overwrite && fs::exists(file, ec)) {
    return std::unexpected(
        Error{ErrorKind::kExists, file.string() + " exists; remove it or ask to overwrite it"});
  }
  fs::path tmp = file;
  tmp += ".tmp-" + std::to_string(::getpid());
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return std::unexpected(errno_error(errno, "creating " + tmp.string()));
  auto fail = [&](Error error) -> std::expected<void, Error> {
    fd.reset();
    ::unlink(tmp.c_str());
    return std::unexpected(std::move(error));
  };
  if (auto copied = impl_->env.copy_to_fd(fd.get(), true); !copied) {
    Error error = copied.error();
    error.message = "writing the backup " + file.string() + ": " + error.message;
    return fail(std::move(error));
  }
  if (::fsync(fd.get()) != 0) return fail(errno_error(errno, "syncing " + tmp.string()));
  fd.reset();
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    return fail(errno_error(errno, "renaming " + tmp.string() + " to " + file.string()));
  }
  return fsync_dir(file.parent_path());
}

std::expected<VerifyReport, Error> Store::verify() const {
  VerifyReport report;
  STORE_ASSIGN(auto txn, impl_->env.begin_read());
  const detail::Dbs& dbs = impl_->dbs;
  using Check = std::expected<void, Error> (*)(const Txn&, const detail::Dbs&, VerifyReport&);
  constexpr std::array<std::pair<const char*, Check>, 10> kChecks{{
      {"bronze", &detail::verify_bronze},
      {"silver", &detail::verify_silver},
      {"versions", &detail::verify_versions},
      {"tasks", &detail::verify_tasks},
      {"health", &detail::verify_health},
      {"runs", &detail::verify_runs},
      {"repairs", &detail::verify_repairs},
      {"sources", &detail::verify_sources},
      {"settings", &detail::verify_settings},
      {"metrics", &detail::verify_metrics},
  }};
  for (const auto& [name, check] : kChecks) {
    auto checked = check(txn, dbs, report);
    if (checked) continue;
    // A page LMDB cannot read is damage too; keep checking the others.
    if (checked.error().kind != ErrorKind::kCorrupt) return std::unexpected(checked.error());
    detail::add_damage(report, name, checked.error().message);
  }
  return report;
}

std::expected<StoreStats, Error> Store::stats() const {
  StoreStats out;
  out.schema_version = impl_->schema_version;
  STORE_ASSIGN(EnvInfo info, impl_->env.info());
  out.map_size = info.map_size;
  out.used_bytes = info.used_bytes;
  out.readers_used = info.readers_used;
  out.max_readers = info.max_readers;
  std::error_code ec;
  fs::path data = impl_->env.path();
  if (fs::is_directory(data, ec)) data /= "data.mdb";
  auto size = fs::file_size(data, ec);
  out.file_bytes = ec ? 0 : size;
  STORE_ASSIGN(auto txn, impl_->env.begin_read());
  for (const auto& spec : detail::kDbSpecs) {
    MDB_stat stat;
    int rc = mdb_stat(txn.handle(), (impl_->dbs.*spec.member).handle, &stat);
    if (rc != 0) return std::unexpected(error_from_code(rc, "reading database statistics"));
    out.databases.push_back({spec.name, stat.ms_entries,
                             stat.ms_branch_pages + stat.ms_leaf_pages + stat.ms_overflow_pages});
  }
  return out;
}

std::expected<std::optional<pid_t>, Error> store_user(const fs::path& dir) {
  if (env_open_in_this_process(dir)) return std::optional<pid_t>(::getpid());
  fs::path lock = dir / "lock.mdb";
  // Never open lock.mdb if this process had it open: closing any descriptor
  // of it would drop the process's LMDB locks (checked above).
  Fd fd(::open(lock.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::optional<pid_t>();
    return std::unexpected(errno_error(errno, "reading " + lock.string()));
  }
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  probe.l_start = 0;
  probe.l_len = 1;
  if (::fcntl(fd.get(), F_GETLK, &probe) != 0) {
    return std::unexpected(errno_error(errno, "checking the lock of " + lock.string()));
  }
  if (probe.l_type == F_UNLCK) return std::optional<pid_t>();
  return std::optional<pid_t>(probe.l_pid);
}

std::expected<void, Error> restore(const fs::path& file, const fs::path& dir) {
  // 1. The backup must be sound.
  {
    auto backup = Store::open_backup(file);
    if (!backup && backup.error().kind != ErrorKind::kSchemaTooOld) {
      return std::unexpected(backup.error());
    }
    if (backup) {
      STORE_ASSIGN(VerifyReport report, backup->verify());
      if (!report.ok()) {
        return std::unexpected(Error{
            ErrorKind::kCorrupt,
            "the backup " + file.string() + " is damaged (" + std::to_string(report.damage.size()) +
                " item(s); first: " + report.damage.front().item + ": " +
                report.damage.front().description + "); nothing was restored"});
      }
    }
  }
  // 2. Nobody may have the store open, and nobody may open it while we copy.
  auto in_use = [&](pid_t pid) {
    return Error{ErrorKind::kInUse,
                 "the store at " + dir.string() + " is in use by process " + std::to_string(pid) +
                     "; stop it (the host daemon, or another command using the store) and run "
                     "restore again"};
  };
  if (env_open_in_this_process(dir)) return std::unexpected(in_use(::getpid()));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return std::unexpected(errno_error(ec.value(), "creating " + dir.string()));
  fs::path lock = dir / "lock.mdb";
  Fd lock_fd(::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!lock_fd.valid()) return std::unexpected(errno_error(errno, "opening " + lock.string()));
  struct flock hold {};
  hold.l_type = F_WRLCK;
  hold.l_whence = SEEK_SET;
  hold.l_start = 0;
  hold.l_len = 1;
  if (::fcntl(lock_fd.get(), F_SETLK, &hold) != 0) {
    struct flock probe = hold;
    pid_t pid = 0;
    if (::fcntl(lock_fd.get(), F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK) pid = probe.l_pid;
    return std::unexpected(in_use(pid));
  }
  // 3. Copy beside the data file, sync, and rename over it.
  fs::path data = dir / "data.mdb";
  fs::path tmp = dir / "data.mdb.restore-tmp";
  Fd in(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return std::unexpected(errno_error(errno, "reading " + file.string()));
  Fd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!out.valid()) return std::unexpected(errno_error(errno, "creating " + tmp.string()));
  auto fail = [&](Error error) -> std::expected<void, Error> {
    out.reset();
    ::unlink(tmp.c_str());
    return std::unexpected(std::move(error));
  };
  std::vector<char> buffer(std::size_t{1} << 20);
  while (true) {
    ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno_error(errno, "reading " + file.string()));
    }
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(out.get(), buffer.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0) {
        if (errno == EINTR) continue;
        return fail(errno_error(errno, "writing " + tmp.string()));
      }
      done += w;
    }
  }
  if (::fsync(out.get()) != 0) return fail(errno_error(errno, "syncing " + tmp.string()));
  out.reset();
  if (::rename(tmp.c_str(), data.c_str()) != 0) {
    return fail(errno_error(errno, "replacing " + data.string()));
  }
  return fsync_dir(dir);
}

}  // namespace store
