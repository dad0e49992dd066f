// Metrics: time series per source and metric name (fetch latency, records
// per run, rejects, bytes...). One sample per (source, name, time): a second
// sample at the same microsecond replaces the first.
//
// Thread safety: a Metrics object is immutable and shared.
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/clock.h"
#include "store/env.h"
#include "store/error.h"

namespace store {

namespace detail {
struct Dbs;
}  // namespace detail

struct Sample {
  Time at;
  double value = 0;

  bool operator==(const Sample&) const = default;
};

class Metrics {
 public:
  explicit Metrics(const detail::Dbs& dbs) : dbs_(&dbs) {}

  // name: 1..100 bytes, no control characters.
  std::expected<void, Error> record(WriteTxn& txn, std::string_view source, std::string_view name,
                                    Time at, double value) const;
  // Samples with from <= at < to, oldest first. limit 0: all.
  std::expected<std::vector<Sample>, Error> range(const Txn& txn, std::string_view source,
                                                  std::string_view name, Time from, Time to,
                                                  std::size_t limit = 0) const;
  std::expected<std::optional<Sample>, Error> latest(const Txn& txn, std::string_view source,
                                                     std::string_view name) const;
  // The metric names a source has samples for.
  std::expected<std::vector<std::string>, Error> names(const Txn& txn,
                                                       std::string_view source) const;
  // Deletes every sample (all sources) older than `before`; returns how many.
  std::expected<std::uint64_t, Error> prune(WriteTxn& txn, Time before) const;

 private:
  const detail::Dbs* dbs_;
};

}  // namespace store
