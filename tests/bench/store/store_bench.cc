// store_bench: the LMDB store against SQLite on the host's workload.
//
// Both sides get the same data, the same durability (LMDB: a sync on every
// commit; SQLite: WAL with synchronous=FULL) and an equivalent schema with
// the indexes the host's queries need:
//   bronze   20,000 pages of ~100 KB in transactions of 100 pages: SHA-256,
//            content-addressed bodies with reference counts, snapshot rows
//            and a (source, time) index;
//   silver   1,000,000 records of ~300 bytes (MessagePack) over 100 sources
//            in transactions of 1,000: upsert with lineage, history on
//            change, per-snapshot pins (SQLite: an index on snapshot_id);
//   pages/s  1,000 pages, one transaction (one durable commit) each, also
//            written with the plain LMDB C API (one database, key = id,
//            value = body: the floor under the store's figure), each
//            engine's time split into its work and its commit, with the
//            bytes and write calls per commit and the shape of the trees
//            a bronze put touches;
//   reads    100,000 random records (key -> lineage + data bytes) in read
//            transactions of 10,000, then the same with the JSON decoded;
//   status   10,000 sources with health rows and 100,000 tasks: counts per
//            state (the store: maintained counters; SQLite: GROUP BY on an
//            index), and the 20 most recent of 10,000 runs;
//   queue    claim + complete of the next of 100,000 tasks, one transaction
//            each; and a durable commit of one small value, the floor under
//            every one-item-per-transaction figure.
// They run interleaved, chunk by chunk, alternating which goes first, so
// that a busy neighbour on the machine slows all alike. Last, the disk's own
// price of durability: an fdatasync after a small write, and a write through
// an O_DSYNC descriptor (how LMDB writes its meta page).
//
// Usage: store_bench [--scale F] [--dir DIR] [--pages-only] [--preextend]
//   F < 1 for a quick run; --pages-only runs the per-page figure (on fresh
//   stores) and the sync floor only; --preextend, an experiment, writes
//   zeros past the end of both LMDB files before the per-page figure, so
//   that its commits overwrite instead of growing the file (what a commit's
//   file growth costs; the file size line then counts the zeros).
//   tests/bench/store/syscalls.sh counts each engine's sync and write calls
//   per commit with strace.
#include <fcntl.h>
#include <lmdb.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/store.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Config {
  std::size_t pages = 20'000;
  std::size_t page_bytes = 100 * 1024;
  std::size_t pages_per_txn = 100;
  std::size_t records = 1'000'000;
  std::size_t records_per_txn = 1'000;
  std::size_t sources = 100;
  std::size_t single_txn_pages = 1'000;
  std::size_t reads = 100'000;
  std::size_t status_sources = 10'000;
  std::size_t status_tasks = 100'000;
  std::size_t status_runs = 10'000;
  std::size_t status_repeats = 200;
  std::size_t queue_claims = 1'000;
};

// Seconds spent in each workload, and what came of it.
struct Results {
  double bronze = 0;
  double silver = 0;
  double single = 0;
  double reads = 0;
  double reads_json = 0;
  double status_total = 0;
  double status_max = 0;
  double recent_runs = 0;
  double queue = 0;
  double tiny = 0;
  std::uint64_t bytes_on_disk = 0;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "store_bench: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T ok(std::expected<T, store::Error> r, const char* what) {
  if (!r) die(std::string(what) + ": " + r.error().message);
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A moment on the wall clock and in this thread's CPU time: the difference
// between two tells working from waiting (for the disk).
struct Mark {
  Clock::time_point wall;
  double cpu = 0;

  static Mark now() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return {Clock::now(), static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9};
  }
};

// ---- the workload's data, identical for both stores ----

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

class Bodies {
 public:
  explicit Bodies(std::size_t bytes) : base_(bytes, ' ') {
    std::uint64_t s = 1;
    for (char& c : base_) {
      s = mix(s);
      c = static_cast<char>(' ' + s % 90);
    }
  }
  // A distinct body of the configured size for page i (no two alike: no dedup).
  void make(std::size_t i, std::string& out) const {
    out.assign(base_);
    std::uint64_t m = mix(i);
    std::size_t offset = m % (base_.size() - 64);
    std::string stamp = "<!-- page " + std::to_string(i) + " " + std::to_string(m) + " -->";
    out.replace(offset, stamp.size(), stamp);
  }

 private:
  std::string base_;
};

std::string source_name(std::size_t i) { return "source-" + std::to_string(i); }

std::string record_key(std::size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "sku-%016llx", static_cast<unsigned long long>(mix(i)));
  return buf;
}

json record_data(std::size_t i) {
  std::uint64_t m = mix(i * 7 + 1);
  return json{
      {"title", "Product " + std::to_string(i) + " - a sturdy thing for everyday use"},
      {"price", static_cast<double>(m % 100000) / 100.0},
      {"currency", "EUR"},
      {"url", "https://shop.example.test/products/" + std::to_string(m % 1000000) + "/detail"},
      {"description",
       "Made of recycled materials, ships in two days, ten-year warranty, available in several "
       "colours."},
      {"in_stock", m % 3 != 0},
      {"rating", static_cast<int>(m % 5) + 1},
      {"sku", record_key(i)}};
}

store::FetchedPage make_page(const Bodies& bodies, std::size_t i, std::string source) {
  store::FetchedPage p;
  p.source = std::move(source);
  p.url = "https://shop.example.test/page/" + std::to_string(i);
  p.fetched_at = store::from_micros(static_cast<std::int64_t>(i) * 1000);
  p.status = 200;
  p.headers = {{"content-type", "text/html"}, {"server", "bench"}};
  p.content_type = "text/html";
  bodies.make(i, p.body);
  return p;
}

// One snapshot's records: a batch of the silver workload.
struct RecordBatch {
  std::string source;
  std::uint64_t snapshot = 0;
  std::int64_t at = 0;
  std::vector<store::RecordInput> records;
};

struct Lookup {
  std::string source;
  std::string key;
};

// The per-page figure: what the store, SQLite and raw LMDB each do.
class PageWriter {
 public:
  virtual ~PageWriter() = default;
  // Writes page number `id` in one transaction, durable on return. Returns
  // when the transaction's work ended and its commit began.
  virtual Mark put_one(std::uint64_t id, const store::FetchedPage& page) = 0;
};

// What each store under test must do; one call is one transaction unless
// said otherwise.
class Subject : public PageWriter {
 public:
  virtual void add_versions(std::size_t sources) = 0;
  virtual void put_pages(std::span<const store::FetchedPage> pages) = 0;
  virtual void upsert(const RecordBatch& batch) = 0;
  // All lookups in one read transaction; decode: parse the JSON too.
  virtual void read(std::span<const Lookup> lookups, bool decode) = 0;
  virtual void populate_status(const Config& c) = 0;
  virtual void status_counts(std::size_t expected) = 0;
  virtual void recent_runs() = 0;
  virtual void claim_and_complete() = 0;
  virtual void tiny_commit(std::size_t k) = 0;
  virtual std::uint64_t bytes_on_disk() = 0;
};

// ---- the LMDB store ----

class StoreSubject : public Subject {
 public:
  explicit StoreSubject(const fs::path& dir) : dir_(dir) {
    store::OpenOptions options;
    options.create_if_missing = true;
    options.initial_map_size = std::size_t{1} << 30;
    s_.emplace(ok(store::Store::open(dir, options), "open store"));
  }

  void add_versions(std::size_t sources) override {
    ok(s().update([&](store::WriteTxn& txn) -> std::expected<void, store::Error> {
      for (std::size_t i = 0; i < sources; ++i) {
        store::NewParserVersion v;
        v.script = "return {}";
        auto n = s().versions().add(txn, source_name(i), v);
        if (!n) return std::unexpected(n.error());
      }
      return {};
    }),
       "versions");
  }

  void put_pages(std::span<const store::FetchedPage> pages) override {
    ok(s().update([&](store::WriteTxn& txn) -> std::expected<void, store::Error> {
      for (const auto& page : pages) {
        auto put = s().bronze().put(txn, page);
        if (!put) return std::unexpected(put.error());
      }
      return {};
    }),
       "bronze");
  }

  Mark put_one(std::uint64_t, const store::FetchedPage& page) override {
    Mark work_done;
    ok(s().update([&](store::WriteTxn& txn) -> std::expected<void, store::Error> {
      auto put = s().bronze().put(txn, page);
      work_done = Mark::now();
      if (!put) return std::unexpected(put.error());
      return {};
    }),
       "bronze");
    return work_done;
  }

  void upsert(const RecordBatch& b) override {
    store::Lineage lineage{b.snapshot, 1, store::from_micros(b.at)};
    ok(s().update([&](store::WriteTxn& txn) -> std::expected<void, store::Error> {
      auto up = s().silver().upsert(txn, b.source, lineage, b.records);
      if (!up) return std::unexpected(up.error());
      return {};
    }),
       "silver");
  }

  void read(std::span<const Lookup> lookups, bool decode) override {
    auto txn = ok(s().read(), "read");
    for (const auto& l : lookups) {
      if (decode) {
        auto rec = ok(s().silver().get(txn, l.source, l.key), "get");
        if (!rec || rec->data.size() != 8) die("store: bad record");
      } else {
        auto v = ok(s().silver().get_view(txn, l.source, l.key), "get");
        if (!v || v->data_msgpack.empty() || v->lineage.parser_version != 1) die("store: missing");
      }
    }
  }

  void populate_status(const Config& c) override {
    std::mt19937_64 rng(7);
    ok(s().update([&](store::WriteTxn& txn) -> std::expected<void, store::Error> {
      for (std::size_t i = 0; i < c.status_sources; ++i) {
        store::SourceHealth h;
        h.source = source_name(i);
        h.state = static_cast<store::HealthState>(rng() % 4);
        h.updated_at = store::from_micros(static_cast<std::int64_t>(i));
        if (auto put = s().health().put(txn, h, "bench"); !put) return put;
      }
      for (std::size_t i = 0; i < c.status_runs; ++i) {
        store::Run run;
        run.source = source_name(i % c.status_sources);
        run.kind = "extract";
        run.state = store::RunState::kSucceeded;
        run.started_at = store::from_micros(static_cast<std::int64_t>(i));
        if (auto id = s().runs().add(txn, run); !id) return std::unexpected(id.error());
      }
      return {};
    }),
       "health");
    for (std::size_t first = 0; first < c.status_tasks; first += 10'000) {
      ok(s().update([&](store::WriteTxn& txn) -> std::expected<void, store::Error> {
        for (std::size_t i = first; i < std::min(first + 10'000, c.status_tasks); ++i) {
          store::NewTask t;
          t.type = static_cast<store::TaskType>(i % 5);
          t.source = source_name(i % c.status_sources);
          t.priority = static_cast<std::int32_t>(rng() % 10);
          auto id = s().tasks().enqueue(txn, t, store::from_micros(static_cast<std::int64_t>(i)));
          if (!id) return std::unexpected(id.error());
        }
        return {};
      }),
         "tasks");
    }
    // A tenth of the tasks claimed, nine in ten of those done.
    ok(s().update([&](store::WriteTxn& txn) -> std::expected<void, store::Error> {
      for (std::size_t i = 0; i < c.status_tasks / 10; ++i) {
        auto task = s().tasks().claim(txn, "w", std::chrono::seconds(60), kClaimTime);
        if (!task) return std::unexpected(task.error());
        if (i % 10 != 0) {
          if (auto d = s().tasks().complete(txn, (*task)->id, "w", kClaimTime); !d) return d;
        }
      }
      return {};
    }),
       "task states");
  }

  void status_counts(std::size_t expected) override {
    auto txn = ok(s().read(), "read");
    auto health = ok(s().health().counts(txn), "health counts");
    auto tasks = ok(s().tasks().counts(txn), "task counts");
    std::uint64_t sum = 0;
    for (auto n : health) sum += n;
    for (auto n : tasks) sum += n;
    if (sum != expected) die("store: wrong counts");
  }

  void recent_runs() override {
    auto txn = ok(s().read(), "read");
    if (ok(s().runs().recent(txn, 20), "recent runs").size() != 20) die("store: recent runs");
  }

  void claim_and_complete() override {
    ok(s().update([&](store::WriteTxn& txn) -> std::expected<void, store::Error> {
      auto task = s().tasks().claim(txn, "q", std::chrono::seconds(60), kClaimTime);
      if (!task) return std::unexpected(task.error());
      if (!*task) return std::unexpected(store::Error{store::ErrorKind::kNotFound, "empty"});
      return s().tasks().complete(txn, (*task)->id, "q", kClaimTime);
    }),
       "claim");
  }

  void tiny_commit(std::size_t k) override {
    ok(s().update([&](store::WriteTxn& txn) {
      return s().settings().set(txn, "bench.counter", std::to_string(k), store::now());
    }),
       "tiny commit");
  }

  std::uint64_t bytes_on_disk() override { return fs::file_size(dir_ / "data.mdb"); }

  store::Store& store() { return s(); }

 private:
  static constexpr store::Time kClaimTime = store::Time(std::chrono::seconds(1'000'000));
  store::Store& s() { return *s_; }
  fs::path dir_;
  std::optional<store::Store> s_;
};

// ---- SQLite ----

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* st) const { sqlite3_finalize(st); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

constexpr const char* kSchema = R"sql(
CREATE TABLE bodies(sha BLOB PRIMARY KEY, refs INTEGER NOT NULL, body BLOB NOT NULL);
CREATE TABLE snapshots(id INTEGER PRIMARY KEY, source TEXT NOT NULL, url TEXT, fetched_at INTEGER,
  status INTEGER, headers BLOB, content_type TEXT, body_sha BLOB, body_size INTEGER, timings BLOB);
CREATE INDEX snapshots_by_source ON snapshots(source, fetched_at, id);
CREATE TABLE silver(source TEXT, key TEXT, snapshot_id INTEGER, parser_version INTEGER,
  extracted_at INTEGER, revision INTEGER, created_at INTEGER, changed_at INTEGER, data BLOB,
  PRIMARY KEY(source, key)) WITHOUT ROWID;
CREATE INDEX silver_by_snapshot ON silver(snapshot_id);
CREATE TABLE silver_history(source TEXT, key TEXT, revision INTEGER, snapshot_id INTEGER,
  parser_version INTEGER, extracted_at INTEGER, created_at INTEGER, changed_at INTEGER, data BLOB,
  PRIMARY KEY(source, key, revision)) WITHOUT ROWID;
CREATE TABLE versions(source TEXT, number INTEGER, script TEXT, PRIMARY KEY(source, number));
CREATE TABLE health(source TEXT PRIMARY KEY, state INTEGER, failures INTEGER, updated_at INTEGER);
CREATE INDEX health_by_state ON health(state, source);
CREATE TABLE runs(id INTEGER PRIMARY KEY, source TEXT, kind TEXT, state INTEGER,
  started_at INTEGER);
CREATE INDEX runs_by_source ON runs(source, started_at, id);
CREATE TABLE tasks(id INTEGER PRIMARY KEY, type INTEGER, source TEXT, state INTEGER,
  priority INTEGER, attempts INTEGER, created_at INTEGER, updated_at INTEGER, not_before INTEGER,
  last_error TEXT, lease_owner TEXT, lease_expiry INTEGER, payload TEXT);
CREATE INDEX tasks_by_state ON tasks(state, priority DESC, created_at, id);
CREATE INDEX tasks_by_source ON tasks(source, id);
CREATE INDEX tasks_leases ON tasks(lease_expiry) WHERE state = 1;
CREATE TABLE settings(scope TEXT, name TEXT, value TEXT, updated_at INTEGER,
  PRIMARY KEY(scope, name)) WITHOUT ROWID;
)sql";

class SqliteSubject : public Subject {
 public:
  explicit SqliteSubject(const fs::path& file) : file_(file) {
    sqlite3* raw = nullptr;
    if (sqlite3_open(file.c_str(), &raw) != SQLITE_OK) die("sqlite open");
    db_.reset(raw);
    exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;");
    exec(kSchema);
    begin_ = prepare("BEGIN");
    commit_ = prepare("COMMIT");
    find_body_ = prepare("SELECT refs FROM bodies WHERE sha = ?");
    add_ref_ = prepare("UPDATE bodies SET refs = refs + 1 WHERE sha = ?");
    ins_body_ = prepare("INSERT INTO bodies(sha, refs, body) VALUES(?, 1, ?)");
    ins_snap_ = prepare(
        "INSERT INTO snapshots(source, url, fetched_at, status, headers, content_type, body_sha, "
        "body_size, timings) VALUES(?,?,?,?,?,?,?,?,?)");
    find_record_ =
        prepare("SELECT revision, changed_at, data FROM silver WHERE source = ? AND key = ?");
    ins_record_ = prepare("INSERT INTO silver VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
    to_history_ = prepare(
        "INSERT INTO silver_history SELECT source, key, revision, snapshot_id, parser_version, "
        "extracted_at, created_at, changed_at, data FROM silver WHERE source = ? AND key = ?");
    upd_record_ = prepare(
        "UPDATE silver SET snapshot_id = ?, parser_version = ?, extracted_at = ?, revision = ?, "
        "changed_at = ?, data = ? WHERE source = ? AND key = ?");
    get_record_ = prepare(
        "SELECT snapshot_id, parser_version, extracted_at, revision, created_at, changed_at, data "
        "FROM silver WHERE source = ? AND key = ?");
    next_task_ = prepare(
        "SELECT id FROM tasks WHERE state = 0 AND not_before <= ? "
        "ORDER BY priority DESC, created_at, id LIMIT 1");
    claim_ = prepare(
        "UPDATE tasks SET state = 1, attempts = attempts + 1, lease_owner = 'q', "
        "lease_expiry = ?, updated_at = ? WHERE id = ?");
    complete_ = prepare(
        "UPDATE tasks SET state = 2, updated_at = ? WHERE id = ? AND state = 1 AND "
        "lease_owner = 'q'");
    set_ = prepare("INSERT OR REPLACE INTO settings VALUES('', 'bench.counter', ?, ?)");
    health_counts_ = prepare("SELECT state, count(*) FROM health GROUP BY state");
    task_counts_ = prepare("SELECT state, count(*) FROM tasks GROUP BY state");
    recent_ = prepare("SELECT * FROM runs ORDER BY id DESC LIMIT 20");
  }

  void add_versions(std::size_t sources) override {
    exec("BEGIN");
    auto ins = prepare("INSERT INTO versions VALUES(?, 1, 'return {}')");
    for (std::size_t i = 0; i < sources; ++i) {
      std::string name = source_name(i);
      text(ins.get(), 1, name);
      done(ins.get());
    }
    exec("COMMIT");
  }

  void put_pages(std::span<const store::FetchedPage> pages) override {
    done(begin_.get());
    for (const auto& p : pages) put_page(p);
    done(commit_.get());
  }

  Mark put_one(std::uint64_t, const store::FetchedPage& page) override {
    done(begin_.get());
    put_page(page);
    auto work_done = Mark::now();
    done(commit_.get());
    return work_done;
  }

  // The store's upsert, step for step: read, compare, history, write.
  void upsert(const RecordBatch& b) override {
    done(begin_.get());
    for (const auto& rec : b.records) {
      packed_.clear();
      json::to_msgpack(rec.data, packed_);
      text(find_record_.get(), 1, b.source);
      text(find_record_.get(), 2, rec.key);
      if (sqlite3_step(find_record_.get()) == SQLITE_ROW) {
        std::int64_t revision = sqlite3_column_int64(find_record_.get(), 0);
        std::int64_t changed_at = sqlite3_column_int64(find_record_.get(), 1);
        const void* old = sqlite3_column_blob(find_record_.get(), 2);
        auto old_size = static_cast<std::size_t>(sqlite3_column_bytes(find_record_.get(), 2));
        bool same = old_size == packed_.size() && std::memcmp(old, packed_.data(), old_size) == 0;
        sqlite3_reset(find_record_.get());
        if (!same) {
          text(to_history_.get(), 1, b.source);
          text(to_history_.get(), 2, rec.key);
          done(to_history_.get());
          ++revision;
          changed_at = b.at;
        }
        sqlite3_bind_int64(upd_record_.get(), 1, static_cast<std::int64_t>(b.snapshot));
        sqlite3_bind_int(upd_record_.get(), 2, 1);
        sqlite3_bind_int64(upd_record_.get(), 3, b.at);
        sqlite3_bind_int64(upd_record_.get(), 4, revision);
        sqlite3_bind_int64(upd_record_.get(), 5, changed_at);
        blob(upd_record_.get(), 6, packed_.data(), packed_.size());
        text(upd_record_.get(), 7, b.source);
        text(upd_record_.get(), 8, rec.key);
        done(upd_record_.get());
      } else {
        sqlite3_reset(find_record_.get());
        sqlite3_stmt* st = ins_record_.get();
        text(st, 1, b.source);
        text(st, 2, rec.key);
        sqlite3_bind_int64(st, 3, static_cast<std::int64_t>(b.snapshot));
        sqlite3_bind_int(st, 4, 1);
        sqlite3_bind_int64(st, 5, b.at);
        sqlite3_bind_int(st, 6, 1);
        sqlite3_bind_int64(st, 7, b.at);
        sqlite3_bind_int64(st, 8, b.at);
        blob(st, 9, packed_.data(), packed_.size());
        done(st);
      }
    }
    done(commit_.get());
  }

  void read(std::span<const Lookup> lookups, bool decode) override {
    sqlite3_stmt* st = get_record_.get();
    done(begin_.get());
    for (const auto& l : lookups) {
      text(st, 1, l.source);
      text(st, 2, l.key);
      if (sqlite3_step(st) != SQLITE_ROW) die("sqlite: missing record");
      std::int64_t lineage = 0;
      for (int col = 0; col < 6; ++col) lineage += sqlite3_column_int64(st, col);
      auto data = static_cast<const char*>(sqlite3_column_blob(st, 6));
      auto size = static_cast<std::size_t>(sqlite3_column_bytes(st, 6));
      if (lineage == 0 || size == 0) die("sqlite: bad record");
      if (decode && json::from_msgpack(data, data + size).size() != 8) die("sqlite: bad record");
      sqlite3_reset(st);
    }
    done(commit_.get());
  }

  void populate_status(const Config& c) override {
    std::mt19937_64 rng(7);
    exec("BEGIN");
    auto health = prepare("INSERT INTO health VALUES(?, ?, 0, ?)");
    for (std::size_t i = 0; i < c.status_sources; ++i) {
      std::string name = source_name(i);
      text(health.get(), 1, name);
      sqlite3_bind_int(health.get(), 2, static_cast<int>(rng() % 4));
      sqlite3_bind_int64(health.get(), 3, static_cast<std::int64_t>(i));
      done(health.get());
    }
    auto run =
        prepare("INSERT INTO runs(source, kind, state, started_at) VALUES(?, 'extract', 1, ?)");
    for (std::size_t i = 0; i < c.status_runs; ++i) {
      std::string name = source_name(i % c.status_sources);
      text(run.get(), 1, name);
      sqlite3_bind_int64(run.get(), 2, static_cast<std::int64_t>(i));
      done(run.get());
    }
    auto task = prepare(
        "INSERT INTO tasks(type, source, state, priority, attempts, created_at, updated_at, "
        "not_before, payload) VALUES(?, ?, 0, ?, 0, ?, ?, ?, '')");
    for (std::size_t i = 0; i < c.status_tasks; ++i) {
      std::string name = source_name(i % c.status_sources);
      sqlite3_bind_int(task.get(), 1, static_cast<int>(i % 5));
      text(task.get(), 2, name);
      sqlite3_bind_int(task.get(), 3, static_cast<int>(rng() % 10));
      for (int col = 4; col <= 6; ++col) {
        sqlite3_bind_int64(task.get(), col, static_cast<std::int64_t>(i));
      }
      done(task.get());
    }
    exec("COMMIT");
    // The same mix as the store: a tenth claimed, nine in ten of those done.
    exec(
        "UPDATE tasks SET state = CASE WHEN rk % 10 = 1 THEN 1 ELSE 2 END, attempts = 1 FROM "
        "(SELECT id AS tid, row_number() OVER (ORDER BY priority DESC, created_at, id) AS rk "
        "FROM tasks WHERE state = 0) WHERE id = tid AND rk <= (SELECT count(*) / 10 FROM tasks)");
  }

  void status_counts(std::size_t expected) override {
    done(begin_.get());
    std::int64_t sum = 0;
    for (sqlite3_stmt* st : {health_counts_.get(), task_counts_.get()}) {
      while (sqlite3_step(st) == SQLITE_ROW) sum += sqlite3_column_int64(st, 1);
      sqlite3_reset(st);
    }
    done(commit_.get());
    if (static_cast<std::size_t>(sum) != expected) die("sqlite: wrong counts");
  }

  void recent_runs() override {
    int rows = 0;
    while (sqlite3_step(recent_.get()) == SQLITE_ROW) ++rows;
    sqlite3_reset(recent_.get());
    if (rows != 20) die("sqlite: recent runs");
  }

  void claim_and_complete() override {
    constexpr std::int64_t t = 1'000'000'000'000;
    exec("BEGIN IMMEDIATE");
    sqlite3_bind_int64(next_task_.get(), 1, t);
    if (sqlite3_step(next_task_.get()) != SQLITE_ROW) die("sqlite: queue empty");
    std::int64_t id = sqlite3_column_int64(next_task_.get(), 0);
    sqlite3_reset(next_task_.get());
    sqlite3_bind_int64(claim_.get(), 1, t + 60'000'000);
    sqlite3_bind_int64(claim_.get(), 2, t);
    sqlite3_bind_int64(claim_.get(), 3, id);
    done(claim_.get());
    sqlite3_bind_int64(complete_.get(), 1, t);
    sqlite3_bind_int64(complete_.get(), 2, id);
    done(complete_.get());
    done(commit_.get());
  }

  void tiny_commit(std::size_t k) override {
    std::string value = std::to_string(k);
    done(begin_.get());
    text(set_.get(), 1, value);
    sqlite3_bind_int64(set_.get(), 2, static_cast<std::int64_t>(k));
    done(set_.get());
    done(commit_.get());
  }

  std::uint64_t bytes_on_disk() override {
    exec("PRAGMA wal_checkpoint(TRUNCATE)");
    return fs::file_size(file_);
  }

 private:
  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string message = err != nullptr ? err : "?";
      sqlite3_free(err);
      die("sqlite: " + message);
    }
  }
  Stmt prepare(const char* sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) !=
        SQLITE_OK) {
      die(std::string("sqlite prepare: ") + sqlite3_errmsg(db_.get()));
    }
    return Stmt(st);
  }
  void done(sqlite3_stmt* st) {
    if (sqlite3_step(st) != SQLITE_DONE) die(std::string("sqlite: ") + sqlite3_errmsg(db_.get()));
    sqlite3_reset(st);
  }
  static void text(sqlite3_stmt* st, int i, const std::string& s) {
    sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
  }
  static void blob(sqlite3_stmt* st, int i, const void* data, std::size_t size) {
    sqlite3_bind_blob64(st, i, data, size, SQLITE_STATIC);
  }

  // The store's bronze put: digest, body once with a count, snapshot row.
  void put_page(const store::FetchedPage& p) {
    store::Sha256Digest sha = store::sha256(p.body);
    blob(find_body_.get(), 1, sha.data(), sha.size());
    bool exists = sqlite3_step(find_body_.get()) == SQLITE_ROW;
    sqlite3_reset(find_body_.get());
    if (exists) {
      blob(add_ref_.get(), 1, sha.data(), sha.size());
      done(add_ref_.get());
    } else {
      blob(ins_body_.get(), 1, sha.data(), sha.size());
      blob(ins_body_.get(), 2, p.body.data(), p.body.size());
      done(ins_body_.get());
    }
    std::string headers;
    for (const auto& h : p.headers) headers += h.name + ": " + h.value + "\n";
    std::int64_t timings[5] = {};
    sqlite3_stmt* st = ins_snap_.get();
    text(st, 1, p.source);
    text(st, 2, p.url);
    sqlite3_bind_int64(st, 3, store::to_micros(p.fetched_at));
    sqlite3_bind_int(st, 4, p.status);
    blob(st, 5, headers.data(), headers.size());
    text(st, 6, p.content_type);
    blob(st, 7, sha.data(), sha.size());
    sqlite3_bind_int64(st, 8, static_cast<std::int64_t>(p.body.size()));
    blob(st, 9, timings, sizeof timings);
    done(st);
  }

  fs::path file_;
  Db db_;
  Stmt begin_, commit_, find_body_, add_ref_, ins_body_, ins_snap_, find_record_, ins_record_,
      to_history_, upd_record_, get_record_, next_task_, claim_, complete_, set_, health_counts_,
      task_counts_, recent_;
  std::string packed_;
};

// ---- raw LMDB: the floor under the store's per-page figure ----

struct EnvCloser {
  void operator()(MDB_env* env) const { mdb_env_close(env); }
};
struct TxnAborter {
  void operator()(MDB_txn* txn) const { mdb_txn_abort(txn); }
};
using LmdbEnv = std::unique_ptr<MDB_env, EnvCloser>;
using LmdbTxn = std::unique_ptr<MDB_txn, TxnAborter>;

void check(int rc, const char* what) {
  if (rc != 0) die(std::string("raw lmdb: ") + what + ": " + mdb_strerror(rc));
}

LmdbTxn begin(MDB_env* env, unsigned flags) {
  MDB_txn* txn = nullptr;
  check(mdb_txn_begin(env, nullptr, flags, &txn), "begin");
  return LmdbTxn(txn);
}

// LMDB frees the transaction whatever the commit returns: let go first.
void commit(LmdbTxn txn) { check(mdb_txn_commit(txn.release()), "commit"); }

// The issue's raw LMDB: the C API with the default, durable flags (no
// MDB_NOSYNC, MDB_NOMETASYNC or MDB_WRITEMAP), one named database, key =
// big-endian id, value = the body; no digest, no index, no counter.
class RawLmdb : public PageWriter {
 public:
  RawLmdb(const fs::path& dir, std::size_t map_size) {
    fs::create_directories(dir);
    MDB_env* env = nullptr;
    check(mdb_env_create(&env), "create");
    env_.reset(env);
    check(mdb_env_set_maxdbs(env, 1), "maxdbs");
    check(mdb_env_set_mapsize(env, map_size), "mapsize");
    check(mdb_env_open(env, dir.c_str(), 0, 0644), "open");
    LmdbTxn txn = begin(env, 0);
    check(mdb_dbi_open(txn.get(), "pages", MDB_CREATE, &dbi_), "open database");
    commit(std::move(txn));
  }

  Mark put_one(std::uint64_t id, const store::FetchedPage& page) override {
    LmdbTxn txn = begin(env_.get(), 0);
    std::array<unsigned char, 8> key;
    for (std::size_t i = 0; i < key.size(); ++i) {
      key[i] = static_cast<unsigned char>(id >> (56 - 8 * i));
    }
    MDB_val k{key.size(), key.data()};
    MDB_val v{page.body.size(), const_cast<char*>(page.body.data())};
    check(mdb_put(txn.get(), dbi_, &k, &v, 0), "put");
    auto work_done = Mark::now();
    commit(std::move(txn));
    return work_done;
  }

  MDB_env* env() const { return env_.get(); }
  MDB_dbi dbi() const { return dbi_; }

 private:
  LmdbEnv env_;
  MDB_dbi dbi_ = 0;
};

// ---- what a commit costs ----

// The process's write(2)-family totals from /proc/self/io: bytes handed to
// the kernel (wchar) and calls (syscw). The bench runs one engine at a time,
// so a difference around one engine's chunk is that engine's.
struct IoCount {
  std::uint64_t bytes = 0;
  std::uint64_t calls = 0;
};

IoCount io_now() {
  std::ifstream in("/proc/self/io");
  IoCount io;
  std::string name;
  std::uint64_t value = 0;
  while (in >> name >> value) {
    if (name == "wchar:") io.bytes = value;
    if (name == "syscw:") io.calls = value;
  }
  return io;
}

// The disk's own counters for the device holding `dir`
// (/sys/dev/block/MAJ:MIN/stat): write requests and cache flushes it
// completed. They count every process's I/O: read them on a quiet machine.
struct DiskCount {
  std::uint64_t writes = 0;
  std::uint64_t flushes = 0;
};

class Disk {
 public:
  explicit Disk(const fs::path& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
      stat_ = "/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" +
              std::to_string(minor(st.st_dev)) + "/stat";
    }
  }
  // Zeros when the counters cannot be read (flushes: before Linux 5.5).
  DiskCount now() const {
    std::ifstream in(stat_);
    std::vector<std::uint64_t> f;
    std::uint64_t v = 0;
    while (in >> v) f.push_back(v);
    DiskCount d;
    if (f.size() > 4) d.writes = f[4];
    if (f.size() > 15) d.flushes = f[15];
    return d;
  }

 private:
  std::string stat_;
};

std::uint64_t last_page(MDB_env* env) {
  MDB_envinfo info;
  check(mdb_env_info(env, &info), "env info");
  return info.me_last_pgno;
}

// One engine's per-page figure, taken apart.
struct PageCost {
  double seconds = 0;          // whole transactions, begin to durable
  double commit = 0;           // of which the commit: write-out and syncs
  double commit_cpu = 0;       // of which this thread ran (the rest: waiting)
  IoCount io;                  // written during the transactions
  DiskCount disk;              // what reached the device meanwhile
  std::uint64_t appended = 0;  // LMDB: pages added at the end of the file
};

// The B-tree behind one LMDB database, as mdb_stat sees it: a put on a
// random key dirties `depth` pages of it (the path from root to leaf), a
// value too big for a leaf adds its overflow pages.
void print_tree(MDB_txn* txn, MDB_dbi dbi, const char* name) {
  MDB_stat st;
  check(mdb_stat(txn, dbi, &st), "stat");
  std::printf("  %-22s depth %u  entries %9zu  branch %6zu  leaf %7zu  overflow %8zu\n", name,
              st.ms_depth, st.ms_entries, st.ms_branch_pages, st.ms_leaf_pages,
              st.ms_overflow_pages);
}

// LMDB's free list (database 0): one record per transaction that freed
// pages, each a list of page numbers. A commit rewrites the records it
// consumed and adds its own; a multi-page value (a body) needs a run of
// consecutive free pages, which LMDB looks for by merging records.
void print_free_list(MDB_txn* txn) {
  MDB_cursor* raw = nullptr;
  check(mdb_cursor_open(txn, 0, &raw), "cursor on the free list");
  std::unique_ptr<MDB_cursor, decltype(&mdb_cursor_close)> cursor(raw, &mdb_cursor_close);
  std::uint64_t records = 0;
  std::uint64_t pages = 0;
  MDB_val k, v;
  for (int rc = mdb_cursor_get(raw, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(raw, &k, &v, MDB_NEXT)) {
    std::size_t n = 0;
    std::memcpy(&n, v.mv_data, sizeof n);  // an IDL: the count, then the ids
    ++records;
    pages += n;
  }
  print_tree(txn, 0, "(free list)");
  std::printf("  %-22s %llu records holding %llu free pages\n", "",
              static_cast<unsigned long long>(records), static_cast<unsigned long long>(pages));
}

// The trees a bronze put touches in the store, and the raw database.
void print_trees(store::Store& s, const RawLmdb& raw) {
  std::printf("\nB-trees written by one bronze put (4 KiB pages)\n store:\n");
  {
    auto txn = ok(s.read(), "read");
    for (const char* name :
         {"bronze_bodies", "bronze_body_refs", "bronze_snapshots", "bronze_by_source", "meta"}) {
      auto dbi = ok(s.env().open_dbi(txn, name, false), "open database");
      if (!dbi) die(std::string("store: no database ") + name);
      print_tree(txn.handle(), dbi->handle, name);
    }
    print_tree(txn.handle(), 1, "(main: database roots)");
    print_free_list(txn.handle());
  }
  std::printf(" raw LMDB:\n");
  LmdbTxn txn = begin(raw.env(), MDB_RDONLY);
  print_tree(txn.get(), raw.dbi(), "pages");
  print_tree(txn.get(), 1, "(main: database roots)");
  print_free_list(txn.get());
}

// ---- the disk's price of durability ----

class Fd {
 public:
  Fd(const fs::path& file, int flags) : fd_(::open(file.c_str(), flags, 0644)) {
    if (fd_ < 0) die("cannot open " + file.string() + ": " + std::strerror(errno));
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { ::close(fd_); }
  int get() const { return fd_; }

 private:
  int fd_;
};

// `rounds` runs of one way to make a write durable: the median time, and
// the disk's write requests and flushes per run.
struct Probe {
  double ms = 0;
  double writes = 0;
  double flushes = 0;
};

Probe probe(const Disk& disk, int rounds, const std::function<void()>& step) {
  std::vector<double> ms;
  DiskCount before = disk.now();
  for (int i = 0; i < rounds; ++i) {
    auto start = Clock::now();
    step();
    ms.push_back(seconds_since(start) * 1000);
  }
  DiskCount after = disk.now();
  std::nth_element(ms.begin(), ms.begin() + rounds / 2, ms.end());
  auto per_run = [&](std::uint64_t n) { return static_cast<double>(n) / rounds; };
  return {ms[static_cast<std::size_t>(rounds / 2)], per_run(after.writes - before.writes),
          per_run(after.flushes - before.flushes)};
}

void must(bool good, const char* what) {
  if (!good) die(std::string("sync probe: ") + what + ": " + std::strerror(errno));
}

// The commit protocols without an engine: LMDB's data sync (pages written
// at the end of the file, then fdatasync) and its meta page (a small
// overwrite through an O_DSYNC descriptor); SQLite's WAL sync (frames
// overwriting a WAL file reused after checkpoints, then fdatasync). A write
// that grows the file makes fdatasync write the file's metadata too (size,
// block allocation: a journal commit, or on ext4 without a journal, more
// synchronous writes).
void print_sync_floor(const fs::path& dir, const Disk& disk, std::size_t page_bytes) {
  constexpr int kRounds = 200;
  fs::path file = dir / "sync-probe";
  std::string block(page_bytes, 'x');
  auto pwrite_all = [](int fd, const std::string& data, std::size_t size, std::size_t at) {
    must(::pwrite(fd, data.data(), size, static_cast<off_t>(at)) == static_cast<ssize_t>(size),
         "pwrite");
  };
  Fd fd(file, O_RDWR | O_CREAT | O_TRUNC);
  pwrite_all(fd.get(), block, block.size(), 0);
  must(::fdatasync(fd.get()) == 0, "fdatasync");
  std::size_t end = block.size();
  auto write_sync = [&](std::size_t size, bool append) {
    return [&, size, append] {
      pwrite_all(fd.get(), block, size, append ? end : 0);
      if (append) end += size;
      must(::fdatasync(fd.get()) == 0, "fdatasync");
    };
  };
  Fd dsync(file, O_RDWR | O_DSYNC);
  struct Row {
    const char* what;
    Probe p;
  };
  Row rows[] = {
      {"4 KiB overwrite + fdatasync", probe(disk, kRounds, write_sync(4096, false))},
      {"4 KiB append (file grows) + fdatasync", probe(disk, kRounds, write_sync(4096, true))},
      {"page-sized overwrite + fdatasync", probe(disk, kRounds, write_sync(block.size(), false))},
      {"page-sized append (file grows) + fdatasync",
       probe(disk, kRounds, write_sync(block.size(), true))},
      {"136-byte overwrite, O_DSYNC (LMDB's meta page)",
       probe(disk, kRounds, [&] { pwrite_all(dsync.get(), block, 136, 16); })},
  };
  std::printf("\nthe disk's price of durability (%d runs each)\n", kRounds);
  std::printf("  %-48s %10s %12s %12s\n", "", "median ms", "disk writes", "disk flushes");
  for (const Row& r : rows) {
    std::printf("  %-48s %10.3f %12.2f %12.2f\n", r.what, r.p.ms, r.p.writes, r.p.flushes);
  }
  fs::remove(file);
}

// An experiment: writes zeros past the end of an LMDB data file and syncs
// them, so that the commits that follow overwrite blocks the file already
// has instead of growing it. Neither LMDB nor the store does this.
void preextend(const fs::path& file, std::size_t bytes) {
  Fd fd(file, O_WRONLY);
  off_t end = ::lseek(fd.get(), 0, SEEK_END);
  must(end >= 0, "lseek");
  std::string zeros(std::size_t{1} << 20, '\0');
  for (std::size_t done = 0; done < bytes; done += zeros.size()) {
    must(::pwrite(fd.get(), zeros.data(), zeros.size(), end + static_cast<off_t>(done)) ==
             static_cast<ssize_t>(zeros.size()),
         "pwrite");
  }
  must(::fdatasync(fd.get()) == 0, "fdatasync");
}

// ---- the driver ----

// Runs `work` on both subjects for one chunk, alternating who goes first,
// and adds each one's seconds to its result field.
class Pair {
 public:
  Pair(Subject& a, Subject& b) : subjects_{&a, &b} {}

  void run(double Results::*field, const std::function<void(Subject&)>& work) {
    for (int k = 0; k < 2; ++k) {
      int side = (round_ + k) % 2;
      auto start = Clock::now();
      work(*subjects_[side]);
      double s = seconds_since(start);
      results_[side].*field += s;
      if (field == &Results::status_total) {
        results_[side].status_max = std::max(results_[side].status_max, s);
      }
    }
    ++round_;
  }

  Results& result(int side) { return results_[side]; }

 private:
  std::array<Subject*, 2> subjects_;
  std::array<Results, 2> results_;
  std::size_t round_ = 0;
};

void progress(const char* what) {
  std::printf("  %s\n", what);
  std::fflush(stdout);
}

// Runs the per-page figure on the three writers: each chunk of 50 pages on
// each, rotating which goes first. Pages ids run from first_id.
std::array<PageCost, 3> time_pages(const Config& c, const Bodies& bodies, std::uint64_t first_id,
                                   const std::array<PageWriter*, 3>& writers,
                                   const std::array<MDB_env*, 3>& envs, const Disk& disk) {
  std::array<PageCost, 3> costs;
  std::size_t round = 0;
  for (std::size_t first = 0; first < c.single_txn_pages; first += 50, ++round) {
    std::vector<store::FetchedPage> chunk;
    for (std::size_t i = first; i < first + 50; ++i) {
      chunk.push_back(make_page(bodies, first_id + i, "single"));
    }
    for (std::size_t k = 0; k < writers.size(); ++k) {
      std::size_t side = (round + k) % writers.size();
      PageCost& cost = costs[side];
      IoCount io = io_now();
      DiskCount device = disk.now();
      std::uint64_t pages = envs[side] != nullptr ? last_page(envs[side]) : 0;
      auto start = Clock::now();
      for (std::size_t j = 0; j < chunk.size(); ++j) {
        Mark work_done = writers[side]->put_one(first_id + first + j, chunk[j]);
        Mark end = Mark::now();
        cost.commit += std::chrono::duration<double>(end.wall - work_done.wall).count();
        cost.commit_cpu += end.cpu - work_done.cpu;
      }
      cost.seconds += seconds_since(start);
      IoCount after = io_now();
      cost.io.bytes += after.bytes - io.bytes;
      cost.io.calls += after.calls - io.calls;
      DiskCount device_after = disk.now();
      cost.disk.writes += device_after.writes - device.writes;
      cost.disk.flushes += device_after.flushes - device.flushes;
      if (envs[side] != nullptr) cost.appended += last_page(envs[side]) - pages;
    }
  }
  return costs;
}

void print_pages(const Config& c, const std::array<PageCost, 3>& costs, std::size_t preextended) {
  auto n = static_cast<double>(c.single_txn_pages);
  auto rate = [&](const PageCost& cost) { return n / cost.seconds; };
  std::printf("\none transaction per page: %zu pages of %zu KiB, each commit durable\n",
              c.single_txn_pages, c.page_bytes / 1024);
  if (preextended != 0) {
    std::printf("(--preextend: both LMDB files grown by %zu MiB of zeros beforehand)\n",
                preextended >> 20);
  }
  std::printf("%-10s %8s %9s %8s %9s %7s %8s %7s %7s %7s %8s\n", "", "pages/s", "ms/commit",
              "ms work", "ms commit", "of CPU", "KiB wrtn", "writes", "disk wr", "flushes",
              "appended");
  const char* names[] = {"LMDB store", "SQLite", "raw LMDB"};
  for (std::size_t i = 0; i < costs.size(); ++i) {
    const PageCost& cost = costs[i];
    auto per = [&](std::uint64_t x) { return static_cast<double>(x) / n; };
    std::printf("%-10s %8.1f %9.3f %8.3f %9.3f %7.3f %8.1f %7.1f %7.1f %7.2f", names[i], rate(cost),
                cost.seconds * 1000 / n, (cost.seconds - cost.commit) * 1000 / n,
                cost.commit * 1000 / n, cost.commit_cpu * 1000 / n, per(cost.io.bytes) / 1024,
                per(cost.io.calls), per(cost.disk.writes), per(cost.disk.flushes));
    if (i != 1) std::printf(" %8.1f", per(cost.appended));
    std::printf("\n");
  }
  std::printf(
      "(per commit. ms work: begin and the writes, before the commit; of CPU: the\n"
      " commit's CPU time in this thread, the rest waits for the disk; KiB wrtn,\n"
      " writes: handed to write(2) and kin; disk wr, flushes: requests the device\n"
      " completed, from any process; appended: 4 KiB pages added at the end of the\n"
      " file. SQLite's figures include its checkpoints)\n");
  std::printf("store/SQLite %.2fx (target >= 1.5x)   raw/SQLite %.2fx   store/raw %.2fx\n",
              rate(costs[0]) / rate(costs[1]), rate(costs[2]) / rate(costs[1]),
              rate(costs[0]) / rate(costs[2]));
  std::fflush(stdout);  // the end of the phase, for syscalls.sh
}

void print(const Config& c, const Results& a, const Results& b) {
  auto rate = [](double n, double seconds) { return n / seconds; };
  auto line = [](const char* what, double x, double y, bool higher_is_better, const char* target) {
    double ratio = higher_is_better ? x / y : y / x;
    std::printf("%-46s %12.3f %12.3f %8.2fx   %s\n", what, x, y, ratio, target);
  };
  double mb = static_cast<double>(c.pages * c.page_bytes) / (1 << 20);
  std::printf("\nLMDB store vs SQLite (WAL, synchronous=FULL); both durable at every commit\n");
  std::printf("%zu pages x %zu KiB, %zu records, %zu reads, %zu sources, %zu tasks\n\n", c.pages,
              c.page_bytes / 1024, c.records, c.reads, c.status_sources, c.status_tasks);
  std::printf("%-46s %12s %12s %9s   %s\n", "workload", "LMDB store", "SQLite", "ratio", "target");
  line("bronze writes, 100 pages/txn (MB/s)", mb / a.bronze, mb / b.bronze, true, ">= 1.5x");
  line("silver upserts, 1,000/txn (records/s)", rate(c.records, a.silver),
       rate(c.records, b.silver), true, ">= 1.5x");
  line("one transaction per page (pages/s)", rate(c.single_txn_pages, a.single),
       rate(c.single_txn_pages, b.single), true, ">= 1.5x");
  line("random record reads (reads/s)", rate(c.reads, a.reads), rate(c.reads, b.reads), true,
       ">= 3x");
  line("random reads + JSON decode (reads/s)", rate(c.reads, a.reads_json),
       rate(c.reads, b.reads_json), true, "");
  double n = static_cast<double>(c.status_repeats);
  line("counts per state, average (ms)", a.status_total * 1000 / n, b.status_total * 1000 / n,
       false, "< 10 ms");
  line("counts per state, slowest (ms)", a.status_max * 1000, b.status_max * 1000, false,
       "< 10 ms");
  line("20 most recent runs (ms)", a.recent_runs * 1000 / n, b.recent_runs * 1000 / n, false, "");
  line("queue claim + complete, 1/txn (ops/s)", rate(c.queue_claims, a.queue),
       rate(c.queue_claims, b.queue), true, "");
  line("durable commit of one value (commits/s)", rate(c.queue_claims, a.tiny),
       rate(c.queue_claims, b.tiny), true, "");
  std::printf("%-46s %12.1f %12.1f\n", "file size (MiB)",
              static_cast<double>(a.bytes_on_disk) / 1048576.0,
              static_cast<double>(b.bytes_on_disk) / 1048576.0);
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  double scale = 1.0;
  bool pages_only = false;
  bool preextend_files = false;
  fs::path base = fs::temp_directory_path();
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--scale" && i + 1 < argc) {
      scale = std::strtod(argv[++i], nullptr);
    } else if (arg == "--dir" && i + 1 < argc) {
      base = argv[++i];
    } else if (arg == "--pages-only") {
      pages_only = true;
    } else if (arg == "--preextend") {
      preextend_files = true;
    } else {
      std::fprintf(stderr,
                   "usage: store_bench [--scale F] [--dir DIR] [--pages-only] [--preextend]\n");
      return 2;
    }
  }
  auto scaled = [&](std::size_t n, std::size_t unit) {
    auto v = static_cast<std::size_t>(static_cast<double>(n) * scale);
    return std::max(unit, v / unit * unit);
  };
  c.pages = scaled(c.pages, c.pages_per_txn * 10);
  c.records = scaled(c.records, c.records_per_txn * 10);
  c.single_txn_pages = scaled(c.single_txn_pages, 50);
  c.reads = scaled(c.reads, 10'000);
  c.queue_claims = scaled(c.queue_claims, 50);

  std::string tmpl = (base / "store-bench-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) die("cannot create a directory in " + base.string());
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{tmpl};

  StoreSubject lmdb(cleanup.dir / "lmdb");
  SqliteSubject sql(cleanup.dir / "bench.sqlite");
  Pair pair(lmdb, sql);
  Bodies bodies(c.page_bytes);
  lmdb.add_versions(std::max(c.sources, c.status_sources));
  sql.add_versions(std::max(c.sources, c.status_sources));

  // --pages-only: the per-page figure on fresh stores.
  if (!pages_only) {
    progress("bronze");
    for (std::size_t first = 0; first < c.pages; first += c.pages_per_txn * 10) {
      std::vector<store::FetchedPage> chunk;
      for (std::size_t i = first; i < std::min(first + c.pages_per_txn * 10, c.pages); ++i) {
        chunk.push_back(make_page(bodies, i, source_name(i % c.sources)));
      }
      pair.run(&Results::bronze, [&](Subject& s) {
        for (std::size_t k = 0; k < chunk.size(); k += c.pages_per_txn) {
          s.put_pages(std::span(chunk).subspan(k, std::min(c.pages_per_txn, chunk.size() - k)));
        }
      });
    }

    progress("silver");
    for (std::size_t first = 0; first < c.records; first += c.records_per_txn * 10) {
      std::vector<RecordBatch> chunk;
      for (std::size_t b = first; b < std::min(first + c.records_per_txn * 10, c.records);
           b += c.records_per_txn) {
        RecordBatch batch;
        std::size_t n = b / c.records_per_txn;
        batch.source = source_name(n % c.sources);
        batch.snapshot = 1 + n % c.pages;
        batch.at = static_cast<std::int64_t>(b);
        for (std::size_t i = b; i < std::min(b + c.records_per_txn, c.records); ++i) {
          batch.records.push_back({record_key(i), record_data(i)});
        }
        chunk.push_back(std::move(batch));
      }
      pair.run(&Results::silver, [&](Subject& s) {
        for (const auto& batch : chunk) s.upsert(batch);
      });
    }
  }

  progress("one page per transaction");
  Disk disk(cleanup.dir);
  RawLmdb raw(cleanup.dir / "raw",
              std::max(std::size_t{1} << 30, 2 * c.single_txn_pages * c.page_bytes));
  // Room for every page and its tree pages, rounded to MiB.
  std::size_t preextended =
      preextend_files ? (c.single_txn_pages * (c.page_bytes + (64 << 10)) + (1 << 20)) >> 20 << 20
                      : 0;
  if (preextend_files) {
    preextend(cleanup.dir / "lmdb" / "data.mdb", preextended);
    preextend(cleanup.dir / "raw" / "data.mdb", preextended);
  }
  auto costs = time_pages(c, bodies, c.pages, {&lmdb, &sql, &raw},
                          {lmdb.store().env().handle(), nullptr, raw.env()}, disk);
  pair.result(0).single = costs[0].seconds;
  pair.result(1).single = costs[1].seconds;
  print_pages(c, costs, preextended);
  print_trees(lmdb.store(), raw);
  if (pages_only) {
    print_sync_floor(cleanup.dir, disk, c.page_bytes);
    return 0;
  }

  progress("reads");
  {
    std::mt19937_64 rng(42);
    std::vector<Lookup> lookups;
    for (std::size_t k = 0; k < c.reads; ++k) {
      std::size_t i = rng() % c.records;
      lookups.push_back({source_name((i / c.records_per_txn) % c.sources), record_key(i)});
    }
    // Warm-up: both read from a warm page cache.
    lmdb.read(lookups, false);
    sql.read(lookups, false);
    for (std::size_t first = 0; first < lookups.size(); first += 10'000) {
      auto part =
          std::span(lookups).subspan(first, std::min<std::size_t>(10'000, lookups.size() - first));
      pair.run(&Results::reads, [&](Subject& s) { s.read(part, false); });
      pair.run(&Results::reads_json, [&](Subject& s) { s.read(part, true); });
    }
  }

  progress("status");
  lmdb.populate_status(c);
  sql.populate_status(c);
  for (std::size_t k = 0; k < c.status_repeats; ++k) {
    pair.run(&Results::status_total,
             [&](Subject& s) { s.status_counts(c.status_sources + c.status_tasks); });
    pair.run(&Results::recent_runs, [&](Subject& s) { s.recent_runs(); });
  }

  progress("queue and small commits");
  for (std::size_t first = 0; first < c.queue_claims; first += 50) {
    pair.run(&Results::queue, [&](Subject& s) {
      for (std::size_t k = 0; k < 50; ++k) s.claim_and_complete();
    });
    pair.run(&Results::tiny, [&](Subject& s) {
      for (std::size_t k = first; k < first + 50; ++k) s.tiny_commit(k);
    });
  }

  pair.result(0).bytes_on_disk = lmdb.bytes_on_disk();
  pair.result(1).bytes_on_disk = sql.bytes_on_disk();
  print(c, pair.result(0), pair.result(1));
  print_sync_floor(cleanup.dir, disk, c.page_bytes);
  return 0;
}
