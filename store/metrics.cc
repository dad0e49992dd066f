#include "store/metrics.h"

#include "store/detail/codec.h"
#include "store/detail/maintenance.h"
#include "store/detail/schema.h"
#include "store/detail/try.h"
#include "store/keys.h"

namespace store {
namespace {

std::string series_prefix(std::string_view source, std::string_view name) {
  return KeyWriter().str(source).str(name).take();
}

std::expected<Sample, Error> decode(std::string_view key_time, std::string_view value) {
  KeyReader r(key_time);
  Sample s;
  s.at = r.time();
  detail::Unpacker u(value);
  s.value = u.f64();
  if (!r.ok() || !u.ok()) return std::unexpected(detail::corrupt("metric sample"));
  return s;
}

}  // namespace

std::expected<void, Error> Metrics::record(WriteTxn& txn, std::string_view source,
                                           std::string_view name, Time at, double value) const {
  STORE_TRY(detail::check_name("source name", source));
  STORE_TRY(detail::check_name("metric name", name));
  std::string encoded;
  detail::Packer(encoded).f64(value);
  return txn.put(dbs_->metrics, KeyWriter().str(source).str(name).time(at).bytes(), encoded);
}

std::expected<std::vector<Sample>, Error> Metrics::range(const Txn& txn, std::string_view source,
                                                         std::string_view name, Time from, Time to,
                                                         std::size_t limit) const {
  std::vector<Sample> out;
  std::string prefix = series_prefix(source, name);
  STORE_TRY(detail::for_each_prefix(
      txn, dbs_->metrics, prefix,
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        STORE_ASSIGN(Sample s, decode(key.substr(prefix.size()), value));
        if (s.at >= to) return false;
        out.push_back(s);
        return limit == 0 || out.size() < limit;
      },
      KeyWriter().raw(prefix).time(from).bytes()));
  return out;
}

std::expected<std::optional<Sample>, Error> Metrics::latest(const Txn& txn, std::string_view source,
                                                            std::string_view name) const {
  std::optional<Sample> out;
  std::string prefix = series_prefix(source, name);
  STORE_TRY(detail::for_each_prefix_reverse(
      txn, dbs_->metrics, prefix,
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        STORE_ASSIGN(out, decode(key.substr(prefix.size()), value));
        return false;
      }));
  return out;
}

std::expected<std::vector<std::string>, Error> Metrics::names(const Txn& txn,
                                                              std::string_view source) const {
  std::vector<std::string> out;
  std::string prefix = KeyWriter().str(source).take();
  STORE_ASSIGN(auto cursor, txn.cursor(dbs_->metrics));
  auto step = cursor.seek(prefix);
  while (true) {
    if (!step) return std::unexpected(std::move(step).error());
    if (!*step || !(*step)->first.starts_with(prefix)) return out;
    KeyReader r((*step)->first.substr(prefix.size()));
    std::string name = r.str();
    if (!r.ok()) return std::unexpected(detail::corrupt("metric key"));
    // Skip the rest of this series in one seek.
    auto next = prefix_end(series_prefix(source, name));
    out.push_back(std::move(name));
    if (!next) return out;
    step = cursor.seek(*next);
  }
}

std::expected<std::uint64_t, Error> Metrics::prune(WriteTxn& txn, Time before) const {
  std::uint64_t erased = 0;
  STORE_ASSIGN(auto cursor, txn.write_cursor(dbs_->metrics));
  auto step = cursor.first();
  while (true) {
    if (!step) return std::unexpected(std::move(step).error());
    if (!*step) return erased;
    KeyReader r((*step)->first);
    r.str();
    std::string name = r.str();
    Time at = r.time();
    if (!r.ok()) return std::unexpected(detail::corrupt("metric key"));
    if (at < before) {
      STORE_TRY(cursor.del());
      ++erased;
      step = cursor.next();
      continue;
    }
    // The rest of this series is newer: jump to the next series.
    std::string_view key = (*step)->first;
    auto next = prefix_end(key.substr(0, key.size() - 8));
    if (!next) return erased;
    std::string target = *next;
    step = cursor.seek(target);
  }
}

}  // namespace store

// ---- verify ----

namespace store::detail {

std::expected<void, Error> verify_metrics(const Txn& txn, const Dbs& dbs, VerifyReport& report) {
  std::uint64_t rows = 0;
  STORE_TRY(for_each_prefix(
      txn, dbs.metrics, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        ++rows;
        KeyReader r(key);
        std::string source = r.str();
        std::string name = r.str();
        if (!r.ok() || key.size() < 8 || !decode(key.substr(key.size() - 8), value)) {
          add_damage(report, "metric " + name + " of " + source, "a sample cannot be decoded");
        }
        return true;
      }));
  report.checked["metric samples"] = rows;
  return {};
}

}  // namespace store::detail
