#include "store/bronze.h"

#include <algorithm>
#include <unordered_map>

#include "store/detail/codec.h"
#include "store/detail/maintenance.h"
#include "store/detail/schema.h"
#include "store/detail/try.h"
#include "store/keys.h"

namespace store {
namespace {

using detail::Packer;
using detail::Unpacker;

constexpr std::uint8_t kSnapshotFormat = 1;

std::string id_key(std::uint64_t id) { return KeyWriter().u64(id).take(); }

std::string source_prefix(std::string_view source) { return KeyWriter().str(source).take(); }

std::string index_key(std::string_view source, Time fetched_at, std::uint64_t id) {
  return KeyWriter().str(source).time(fetched_at).u64(id).take();
}

std::string encode(const Snapshot& s) {
  std::string out;
  out.reserve(128 + s.url.size());
  Packer p(out);
  p.u8(kSnapshotFormat).str(s.source).str(s.url).time(s.fetched_at).svarint(s.status);
  p.varint(s.headers.size());
  for (const auto& h : s.headers) p.str(h.name).str(h.value);
  p.str(s.content_type).raw(as_bytes(s.body_sha256)).varint(s.body_size);
  p.svarint(s.timings.dns.count())
      .svarint(s.timings.connect.count())
      .svarint(s.timings.tls.count())
      .svarint(s.timings.first_byte.count())
      .svarint(s.timings.total.count());
  return out;
}

std::expected<Snapshot, Error> decode(std::uint64_t id, std::string_view value) {
  Unpacker u(value);
  Snapshot s;
  s.id = id;
  if (u.u8() != kSnapshotFormat) return std::unexpected(detail::corrupt("bronze snapshot"));
  s.source = u.str();
  s.url = u.str();
  s.fetched_at = u.time();
  s.status = static_cast<int>(u.svarint());
  std::uint64_t n = u.varint();
  if (n > value.size()) return std::unexpected(detail::corrupt("bronze snapshot headers"));
  s.headers.reserve(n);
  for (std::uint64_t i = 0; i < n && u.ok(); ++i) {
    HttpHeader h;
    h.name = u.str();
    h.value = u.str();
    s.headers.push_back(std::move(h));
  }
  s.content_type = u.str();
  auto sha = u.raw(32);
  if (sha.size() == 32) std::copy(sha.begin(), sha.end(), s.body_sha256.begin());
  s.body_size = u.varint();
  s.timings.dns = std::chrono::microseconds(u.svarint());
  s.timings.connect = std::chrono::microseconds(u.svarint());
  s.timings.tls = std::chrono::microseconds(u.svarint());
  s.timings.first_byte = std::chrono::microseconds(u.svarint());
  s.timings.total = std::chrono::microseconds(u.svarint());
  if (!u.ok()) {
    return std::unexpected(detail::corrupt("bronze snapshot " + std::to_string(id)));
  }
  return s;
}

std::uint64_t id_from_index_key(std::string_view key) {
  // The id is the last 8 bytes of (source, fetched_at, id).
  if (key.size() < 8) return 0;
  return KeyReader(key.substr(key.size() - 8)).u64();
}

// Deletes a snapshot known to be unpinned; returns whether its body went.
std::expected<bool, Error> erase_unpinned(WriteTxn& txn, const detail::Dbs& dbs,
                                          const Snapshot& s) {
  STORE_TRY(txn.del(dbs.bronze_snapshots, id_key(s.id)));
  STORE_TRY(txn.del(dbs.bronze_by_source, index_key(s.source, s.fetched_at, s.id)));
  STORE_ASSIGN(std::uint64_t refs,
               detail::add_u64(txn, dbs.bronze_body_refs, as_bytes(s.body_sha256), -1));
  if (refs != 0) return false;
  STORE_TRY(txn.del(dbs.bronze_bodies, as_bytes(s.body_sha256)));
  return true;
}

}  // namespace

std::expected<BronzePut, Error> Bronze::put(WriteTxn& txn, const FetchedPage& page) const {
  STORE_TRY(detail::check_name("source name", page.source));
  Snapshot s;
  s.source = page.source;
  s.url = page.url;
  s.fetched_at = page.fetched_at;
  s.status = page.status;
  s.headers = page.headers;
  s.content_type = page.content_type;
  s.body_sha256 = sha256(page.body);
  s.body_size = page.body.size();
  s.timings = page.timings;

  BronzePut result;
  result.body_sha256 = s.body_sha256;
  std::string_view sha_key = as_bytes(s.body_sha256);
  STORE_ASSIGN(std::uint64_t refs, detail::add_u64(txn, dbs_->bronze_body_refs, sha_key, 1));
  if (refs == 1) {
    STORE_TRY(txn.put(dbs_->bronze_bodies, sha_key, page.body));
    result.body_was_new = true;
  }
  STORE_ASSIGN(result.id, detail::next_id(txn, *dbs_, "bronze"));
  s.id = result.id;
  STORE_TRY(txn.append(dbs_->bronze_snapshots, id_key(s.id), encode(s)));
  STORE_TRY(txn.put(dbs_->bronze_by_source, index_key(s.source, s.fetched_at, s.id), {}));
  return result;
}

std::expected<std::optional<Snapshot>, Error> Bronze::get(const Txn& txn, std::uint64_t id) const {
  STORE_ASSIGN(auto value, txn.get(dbs_->bronze_snapshots, id_key(id)));
  if (!value) return std::optional<Snapshot>();
  STORE_ASSIGN(auto s, decode(id, *value));
  return std::optional<Snapshot>(std::move(s));
}

std::expected<std::optional<std::string_view>, Error> Bronze::body(const Txn& txn,
                                                                   const Sha256Digest& sha) const {
  return txn.get(dbs_->bronze_bodies, as_bytes(sha));
}

std::expected<std::vector<Snapshot>, Error> Bronze::list(const Txn& txn, std::string_view source,
                                                         const SnapshotListOptions& options) const {
  std::vector<Snapshot> out;
  std::string prefix = source_prefix(source);
  auto visit = [&](std::string_view key, std::string_view) -> std::expected<bool, Error> {
    KeyReader r(key.substr(prefix.size()));
    Time fetched_at = r.time();
    if (options.since && fetched_at < *options.since) return !options.newest_first;
    STORE_ASSIGN(auto s, get(txn, id_from_index_key(key)));
    if (!s) return std::unexpected(detail::corrupt("bronze index entry without its snapshot"));
    out.push_back(std::move(*s));
    return options.limit == 0 || out.size() < options.limit;
  };
  if (options.newest_first) {
    STORE_TRY(detail::for_each_prefix_reverse(txn, dbs_->bronze_by_source, prefix, visit));
  } else {
    std::string from = options.since ? KeyWriter().str(source).time(*options.since).take() : "";
    STORE_TRY(detail::for_each_prefix(txn, dbs_->bronze_by_source, prefix, visit, from));
  }
  return out;
}

std::expected<std::optional<Snapshot>, Error> Bronze::latest(const Txn& txn,
                                                             std::string_view source) const {
  SnapshotListOptions options;
  options.limit = 1;
  options.newest_first = true;
  STORE_ASSIGN(auto list, this->list(txn, source, options));
  if (list.empty()) return std::optional<Snapshot>();
  return std::optional<Snapshot>(std::move(list.front()));
}

std::expected<std::uint64_t, Error> Bronze::count(const Txn& txn, std::string_view source) const {
  std::uint64_t n = 0;
  STORE_TRY(detail::for_each_prefix(
      txn, dbs_->bronze_by_source, source_prefix(source),
      [&](std::string_view, std::string_view) -> std::expected<bool, Error> {
        ++n;
        return true;
      }));
  return n;
}

std::expected<BronzeScan, Error> Bronze::scan(const Txn& txn, std::string_view source,
                                              std::optional<Time> since) const {
  STORE_ASSIGN(auto cursor, txn.cursor(dbs_->bronze_by_source));
  std::string prefix = source_prefix(source);
  std::string start = since ? KeyWriter().str(source).time(*since).take() : prefix;
  return BronzeScan(*this, txn, std::move(cursor), std::move(prefix), std::move(start));
}

std::expected<std::optional<SnapshotView>, Error> BronzeScan::next() {
  auto step = started_ ? cursor_.next() : cursor_.seek(start_);
  started_ = true;
  if (!step) return std::unexpected(std::move(step).error());
  if (!*step || !(*step)->first.starts_with(prefix_)) return std::optional<SnapshotView>();
  std::uint64_t id = id_from_index_key((*step)->first);
  STORE_ASSIGN(auto s, bronze_->get(*txn_, id));
  if (!s) return std::unexpected(detail::corrupt("bronze index entry without its snapshot"));
  STORE_ASSIGN(auto body, bronze_->body(*txn_, s->body_sha256));
  if (!body) {
    return std::unexpected(detail::corrupt("body of bronze snapshot " + std::to_string(id)));
  }
  return std::optional<SnapshotView>(SnapshotView{std::move(*s), *body});
}

std::expected<RetentionResult, Error> Bronze::apply_retention(WriteTxn& txn,
                                                              std::string_view source,
                                                              std::size_t keep_last) const {
  RetentionResult result;
  std::vector<std::uint64_t> candidates;
  std::size_t seen = 0;
  STORE_TRY(detail::for_each_prefix_reverse(
      txn, dbs_->bronze_by_source, source_prefix(source),
      [&](std::string_view key, std::string_view) -> std::expected<bool, Error> {
        if (++seen > keep_last) candidates.push_back(id_from_index_key(key));
        return true;
      }));
  for (std::uint64_t id : candidates) {
    STORE_ASSIGN(std::uint64_t pinned, pins(txn, id));
    if (pinned > 0) {
      ++result.pinned_kept;
      continue;
    }
    STORE_ASSIGN(auto s, get(txn, id));
    if (!s) return std::unexpected(detail::corrupt("bronze index entry without its snapshot"));
    STORE_ASSIGN(bool body_gone, erase_unpinned(txn, *dbs_, *s));
    ++result.snapshots_deleted;
    if (body_gone) ++result.bodies_deleted;
  }
  return result;
}

std::expected<bool, Error> Bronze::erase(WriteTxn& txn, std::uint64_t id) const {
  STORE_ASSIGN(auto s, get(txn, id));
  if (!s) return false;
  STORE_ASSIGN(std::uint64_t pinned, pins(txn, id));
  if (pinned > 0) {
    return std::unexpected(Error{ErrorKind::kConflict,
                                 "bronze snapshot " + std::to_string(id) + " is the lineage of " +
                                     std::to_string(pinned) + " silver record(s)"});
  }
  STORE_TRY(erase_unpinned(txn, *dbs_, *s));
  return true;
}

std::expected<std::uint64_t, Error> Bronze::pins(const Txn& txn, std::uint64_t id) const {
  return detail::read_u64(txn, dbs_->bronze_pins, id_key(id));
}

}  // namespace store

// ---- verify ----

namespace store::detail {

std::expected<void, Error> verify_bronze(const Txn& txn, const Dbs& dbs, VerifyReport& report) {
  std::unordered_map<std::string, std::uint64_t> refs;  // body digest -> snapshots using it
  std::uint64_t snapshots = 0;
  STORE_TRY(for_each_prefix(
      txn, dbs.bronze_snapshots, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        ++snapshots;
        std::uint64_t id = KeyReader(key).u64();
        std::string item = "bronze snapshot " + std::to_string(id);
        auto s = decode(id, value);
        if (!s) {
          add_damage(report, item, "cannot be decoded");
          return true;
        }
        refs[std::string(as_bytes(s->body_sha256))] += 1;
        STORE_ASSIGN(auto indexed,
                     txn.get(dbs.bronze_by_source, index_key(s->source, s->fetched_at, id)));
        if (!indexed) add_damage(report, item, "is missing from index bronze_by_source");
        STORE_ASSIGN(auto body, txn.get(dbs.bronze_bodies, as_bytes(s->body_sha256)));
        if (!body) {
          add_damage(report, item, "its body " + to_hex(s->body_sha256) + " is missing");
        } else if (body->size() != s->body_size) {
          add_damage(report, item,
                     "its body has " + std::to_string(body->size()) + " bytes, the snapshot says " +
                         std::to_string(s->body_size));
        }
        return true;
      }));
  report.checked["bronze snapshots"] = snapshots;

  std::uint64_t bodies = 0;
  STORE_TRY(for_each_prefix(
      txn, dbs.bronze_bodies, "",
      [&](std::string_view key, std::string_view body) -> std::expected<bool, Error> {
        ++bodies;
        Sha256Digest expected{};
        if (key.size() == expected.size()) std::copy(key.begin(), key.end(), expected.begin());
        std::string item = "bronze body " + to_hex(expected);
        if (key.size() != expected.size() || sha256(body) != expected) {
          add_damage(report, item, "its content does not match its SHA-256");
        }
        auto it = refs.find(std::string(key));
        if (it == refs.end()) add_damage(report, item, "no snapshot uses it");
        STORE_ASSIGN(std::uint64_t counted, read_u64(txn, dbs.bronze_body_refs, key));
        std::uint64_t actual = it == refs.end() ? 0 : it->second;
        if (counted != actual) {
          add_damage(report, "index bronze_body_refs",
                     "counts " + std::to_string(counted) + " snapshot(s) for body " +
                         to_hex(expected) + ", there are " + std::to_string(actual));
        }
        return true;
      }));
  report.checked["bronze bodies"] = bodies;
  STORE_TRY(check_index_size(txn, dbs.bronze_body_refs, "bronze_body_refs", refs.size(), report));

  STORE_TRY(
      for_each_prefix(txn, dbs.bronze_by_source, "",
                      [&](std::string_view key, std::string_view) -> std::expected<bool, Error> {
                        KeyReader r(key);
                        std::string source = r.str();
                        Time fetched_at = r.time();
                        std::uint64_t id = r.u64();
                        if (!r.ok() || !r.at_end()) {
                          add_damage(report, "index bronze_by_source", "has a malformed key");
                          return true;
                        }
                        STORE_ASSIGN(auto value, txn.get(dbs.bronze_snapshots, id_key(id)));
                        auto s = value ? decode(id, *value) : std::expected<Snapshot, Error>();
                        if (!value || !s || s->source != source || s->fetched_at != fetched_at) {
                          add_damage(report, "index bronze_by_source",
                                     "entry for snapshot " + std::to_string(id) + " of " + source +
                                         " does not match a snapshot");
                        }
                        return true;
                      }));
  return check_index_size(txn, dbs.bronze_by_source, "bronze_by_source", snapshots, report);
}

}  // namespace store::detail
