// Helpers shared by the store's tests: a temporary directory, a fixture with
// a fresh store, and must() to unwrap std::expected in test bodies.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <expected>
#include <filesystem>
#include <optional>
#include <source_location>
#include <stdexcept>
#include <string>
#include <utility>

#include "store/store.h"

namespace store::testing {

// Unwraps a result; on error records a failure at the caller's line and
// throws, which ends the test (gtest reports the exception).
template <class T>
T must(std::expected<T, Error> result,
       std::source_location where = std::source_location::current()) {
  if (!result) {
    ADD_FAILURE_AT(where.file_name(), static_cast<int>(where.line()))
        << "store error (" << to_string(result.error().kind) << "): " << result.error().message;
    throw std::runtime_error(result.error().message);
  }
  if constexpr (!std::is_void_v<T>) return std::move(*result);
}

// The error kind of a result that must have failed.
template <class T>
ErrorKind error_kind(const std::expected<T, Error>& result,
                     std::source_location where = std::source_location::current()) {
  if (result) {
    ADD_FAILURE_AT(where.file_name(), static_cast<int>(where.line())) << "expected an error";
    return ErrorKind::kInternal;
  }
  return result.error().kind;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sdp-store-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline OpenOptions create_options(std::size_t initial_map_size = std::size_t{4} << 20) {
  OpenOptions options;
  options.create_if_missing = true;
  options.initial_map_size = initial_map_size;
  return options;
}

// A fresh store in a temporary directory for every test.
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { store_.emplace(must(Store::open(store_dir(), create_options()))); }
  void TearDown() override { store_.reset(); }

  std::filesystem::path store_dir() const { return dir_.path() / "store"; }
  Store& store() { return *store_; }
  ReadTxn read() { return must(store_->read()); }
  // Reopens the store (closing it first).
  void reopen(const OpenOptions& options = create_options()) {
    store_.reset();
    store_.emplace(must(Store::open(store_dir(), options)));
  }

  TempDir dir_;
  std::optional<Store> store_;
};

inline FetchedPage make_page(std::string source, std::string body, Time fetched_at,
                             std::string url = "https://example.test/") {
  FetchedPage page;
  page.source = std::move(source);
  page.url = std::move(url);
  page.fetched_at = fetched_at;
  page.status = 200;
  page.headers = {{"content-type", "text/html"}, {"etag", "\"abc\""}};
  page.content_type = "text/html";
  page.body = std::move(body);
  page.timings.dns = std::chrono::microseconds(10);
  page.timings.total = std::chrono::microseconds(1234);
  return page;
}

// The whole content of a file ("" if it cannot be read).
inline std::string read_file(const std::filesystem::path& path) {
  std::string out;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return out;
  char buffer[65536];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) out.append(buffer, n);
  std::fclose(f);
  return out;
}

inline Time at_seconds(std::int64_t s) { return from_micros(s * 1'000'000); }

// What populate() wrote, for the checks that follow.
struct Sample {
  std::uint64_t snapshot_a = 0;
  std::uint64_t snapshot_b = 0;
  std::uint64_t pending_task = 0;
  std::uint64_t running_task = 0;
  std::uint64_t run = 0;
  std::uint64_t repair = 0;
};

// A small store with something in every table.
inline Sample populate(Store& s) {
  Sample out;
  must(s.update([&](WriteTxn& txn) -> std::expected<void, Error> {
    Source books;
    books.name = "books";
    books.url = "https://books.test/";
    books.created_at = books.updated_at = at_seconds(1);
    must(s.sources().put(txn, books));
    NewParserVersion v1;
    v1.script = "return parse_v1()";
    v1.author = Author{AuthorKind::kLlm, "model-x"};
    v1.created_at = at_seconds(1);
    must(s.versions().add(txn, "books", v1));
    must(s.versions().promote(txn, "books", 1, at_seconds(2)));
    out.snapshot_a =
        must(s.bronze().put(txn, make_page("books", "<html>a</html>", at_seconds(10)))).id;
    out.snapshot_b =
        must(s.bronze().put(txn, make_page("books", "<html>b</html>", at_seconds(20)))).id;
    std::vector<RecordInput> first = {{"isbn-1", {{"title", "One"}, {"price", 10}}},
                                      {"isbn-2", {{"title", "Two"}, {"price", 20}}}};
    must(s.silver().upsert(txn, "books", Lineage{out.snapshot_a, 1, at_seconds(11)}, first));
    std::vector<RecordInput> second = {{"isbn-1", {{"title", "One"}, {"price", 12}}}};
    must(s.silver().upsert(txn, "books", Lineage{out.snapshot_b, 1, at_seconds(21)}, second));
    NewTask task;
    task.type = TaskType::kExtract;
    task.source = "books";
    out.pending_task = must(s.tasks().enqueue(txn, task, at_seconds(30)));
    task.priority = 5;
    out.running_task = must(s.tasks().enqueue(txn, task, at_seconds(31)));
    must(s.tasks().claim(txn, "worker-1", std::chrono::seconds(60), at_seconds(32)));
    SourceHealth health;
    health.source = "books";
    health.state = HealthState::kDegraded;
    health.failures_in_row = 2;
    health.updated_at = at_seconds(40);
    must(s.health().put(txn, health, "two failures"));
    Run run;
    run.source = "books";
    run.kind = "extract";
    run.started_at = at_seconds(50);
    out.run = must(s.runs().add(txn, run));
    Repair repair;
    repair.source = "books";
    repair.created_at = at_seconds(60);
    repair.diff = "-a\n+b\n";
    out.repair = must(s.repairs().add(txn, repair));
    must(s.settings().set(txn, "fetch.timeout", "30s", at_seconds(70)));
    must(s.settings().set(txn, "fetch.timeout", "90s", at_seconds(70), "books"));
    must(s.metrics().record(txn, "books", "latency_ms", at_seconds(80), 12.5));
    return {};
  }));
  return out;
}

}  // namespace store::testing
