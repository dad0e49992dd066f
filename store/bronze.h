// Bronze: every fetched response, as it came off the wire.
//
// A snapshot is one fetch: source, URL, time, status, headers, content type,
// timings, and the SHA-256 of its body. Bodies are stored once per distinct
// content (keyed by their digest) and counted; a body goes when its last
// snapshot goes. Snapshot ids grow with every put and are never reused.
//
// Retention keeps the newest `keep_last` snapshots of a source plus every
// snapshot a current silver record points to (its "pins"); everything else
// goes when apply_retention() runs.
//
// All calls take the caller's transaction: combine a put, a retention pass
// and silver upserts in one Store::update() to make them atomic together.
// Views returned here (bodies) live until that transaction ends.
//
// Thread safety: a Bronze object is immutable and shared; transactions are
// per thread (see store/env.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/clock.h"
#include "store/env.h"
#include "store/error.h"
#include "store/sha256.h"

namespace store {

namespace detail {
struct Dbs;
}  // namespace detail

// Default number of snapshots retention keeps per source.
inline constexpr std::size_t kDefaultKeepSnapshots = 20;

struct FetchTimings {
  std::chrono::microseconds dns{0};
  std::chrono::microseconds connect{0};
  std::chrono::microseconds tls{0};
  std::chrono::microseconds first_byte{0};
  std::chrono::microseconds total{0};

  bool operator==(const FetchTimings&) const = default;
};

struct HttpHeader {
  std::string name;
  std::string value;

  bool operator==(const HttpHeader&) const = default;
};

// What the fetcher hands to put().
struct FetchedPage {
  std::string source;  // a source name (1..100 bytes, no control characters)
  std::string url;
  Time fetched_at;
  int status = 0;  // HTTP status
  std::vector<HttpHeader> headers;
  std::string content_type;
  std::string body;
  FetchTimings timings;
};

// A stored fetch, without its body (see Bronze::body()).
struct Snapshot {
  std::uint64_t id = 0;
  std::string source;
  std::string url;
  Time fetched_at;
  int status = 0;
  std::vector<HttpHeader> headers;
  std::string content_type;
  Sha256Digest body_sha256{};
  std::uint64_t body_size = 0;
  FetchTimings timings;
};

struct BronzePut {
  std::uint64_t id = 0;
  Sha256Digest body_sha256{};
  bool body_was_new = false;  // false: an identical body was already stored
};

struct RetentionResult {
  std::uint64_t snapshots_deleted = 0;
  std::uint64_t bodies_deleted = 0;
  // Snapshots beyond keep_last that stayed because silver points to them.
  std::uint64_t pinned_kept = 0;
};

struct SnapshotListOptions {
  std::optional<Time> since;  // fetched_at >= since
  std::size_t limit = 0;      // 0: no limit
  bool newest_first = false;
};

// A snapshot with a view of its body, valid while the transaction lives.
struct SnapshotView {
  Snapshot snapshot;
  std::string_view body;
};

class BronzeScan;

class Bronze {
 public:
  // Made by Store; `dbs` must outlive this object.
  explicit Bronze(const detail::Dbs& dbs) : dbs_(&dbs) {}

  // Stores a fetch. Computes the body's SHA-256 and stores the body only if
  // no identical body is there. Errors: kInvalidArgument (bad source name),
  // kMapFull/kNoSpace (see Store::update), kCorrupt.
  std::expected<BronzePut, Error> put(WriteTxn& txn, const FetchedPage& page) const;

  std::expected<std::optional<Snapshot>, Error> get(const Txn& txn, std::uint64_t id) const;
  // The body with this digest, or nullopt if no snapshot has it.
  std::expected<std::optional<std::string_view>, Error> body(const Txn& txn,
                                                             const Sha256Digest& sha) const;

  // A source's snapshots in fetch order (oldest first unless newest_first).
  std::expected<std::vector<Snapshot>, Error> list(const Txn& txn, std::string_view source,
                                                   const SnapshotListOptions& options = {}) const;
  std::expected<std::optional<Snapshot>, Error> latest(const Txn& txn,
                                                       std::string_view source) const;
  std::expected<std::uint64_t, Error> count(const Txn& txn, std::string_view source) const;

  // Iterates a source's snapshots with their bodies, oldest first, fetched
  // at or after `since` (export, reprocess). The scan keeps a pointer to
  // txn: it must not outlive it, and txn must not be moved meanwhile.
  std::expected<BronzeScan, Error> scan(const Txn& txn, std::string_view source,
                                        std::optional<Time> since = std::nullopt) const;

  // Deletes the source's snapshots older than its newest keep_last, except
  // pinned ones, and bodies no snapshot uses any more.
  std::expected<RetentionResult, Error> apply_retention(
      WriteTxn& txn, std::string_view source, std::size_t keep_last = kDefaultKeepSnapshots) const;

  // Deletes one snapshot (and its body if unused). Returns false if absent;
  // kConflict if a silver record still points to it.
  std::expected<bool, Error> erase(WriteTxn& txn, std::uint64_t id) const;

  // Number of current silver records whose lineage is this snapshot.
  std::expected<std::uint64_t, Error> pins(const Txn& txn, std::uint64_t id) const;

 private:
  friend class BronzeScan;
  const detail::Dbs* dbs_;
};

// Cursor-backed iteration over one source's snapshots (Bronze::scan).
class BronzeScan {
 public:
  BronzeScan(BronzeScan&&) noexcept = default;
  BronzeScan& operator=(BronzeScan&&) noexcept = default;

  // The next snapshot, or nullopt after the last.
  std::expected<std::optional<SnapshotView>, Error> next();

 private:
  friend class Bronze;
  BronzeScan(const Bronze& bronze, const Txn& txn, Cursor cursor, std::string prefix,
             std::string start)
      : bronze_(&bronze),
        txn_(&txn),
        cursor_(std::move(cursor)),
        prefix_(std::move(prefix)),
        start_(std::move(start)) {}

  const Bronze* bronze_;
  const Txn* txn_;
  Cursor cursor_;
  std::string prefix_;
  std::string start_;
  bool started_ = false;
};

}  // namespace store
