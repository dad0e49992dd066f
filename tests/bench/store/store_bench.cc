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
//   pages/s  1,000 pages, one transaction (one durable commit) each;
//   reads    100,000 random records (key -> lineage + data bytes) in read
//            transactions of 10,000, then the same with the JSON decoded;
//   status   10,000 sources with health rows and 100,000 tasks: counts per
//            state (the store: maintained counters; SQLite: GROUP BY on an
//            index), and the 20 most recent of 10,000 runs;
//   queue    claim + complete of the next of 100,000 tasks, one transaction
//            each; and a durable commit of one small value, the floor under
//            every one-item-per-transaction figure.
// The two run interleaved, chunk by chunk, alternating which goes first, so
// that a busy neighbour on the machine slows both alike.
//
// Usage: store_bench [--scale F] [--dir DIR]   (F < 1 for a quick run)
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
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

// What each store under test must do; one call is one transaction unless
// said otherwise.
class Subject {
 public:
  virtual ~Subject() = default;
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
  fs::path base = fs::temp_directory_path();
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--scale" && i + 1 < argc) {
      scale = std::strtod(argv[++i], nullptr);
    } else if (arg == "--dir" && i + 1 < argc) {
      base = argv[++i];
    } else {
      std::fprintf(stderr, "usage: store_bench [--scale F] [--dir DIR]\n");
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

  progress("one page per transaction");
  for (std::size_t first = 0; first < c.single_txn_pages; first += 50) {
    std::vector<store::FetchedPage> chunk;
    for (std::size_t i = first; i < first + 50; ++i) {
      chunk.push_back(make_page(bodies, c.pages + i, "single"));
    }
    pair.run(&Results::single, [&](Subject& s) {
      for (const auto& page : chunk) s.put_pages(std::span(&page, 1));
    });
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
  return 0;
}
