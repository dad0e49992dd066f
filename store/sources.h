// Sources: the sites the host scrapes, by name. The name is the key every
// other table uses (bronze, silver, versions, tasks, health, ...).
//
// Source names are 1..100 bytes with no control characters; every call that
// takes a source name to write checks it (kInvalidArgument). Erasing a
// source removes only its row here; its data in other tables stays until
// the host removes it.
//
// Thread safety: a Sources object is immutable and shared.
#pragma once

#include <cstdint>
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

// Checks a source name: 1..100 bytes, no control characters.
std::expected<void, Error> check_source_name(std::string_view name);

struct Source {
  std::string name;
  std::string url;  // the start URL
  bool enabled = true;
  std::string description;
  std::string config;  // JSON text owned by the host (schedule, fetch options, ...)
  Time created_at;
  Time updated_at;
};

class Sources {
 public:
  explicit Sources(const detail::Dbs& dbs) : dbs_(&dbs) {}

  // Inserts or replaces the source named source.name.
  std::expected<void, Error> put(WriteTxn& txn, const Source& source) const;
  std::expected<std::optional<Source>, Error> get(const Txn& txn, std::string_view name) const;
  // All sources by name.
  std::expected<std::vector<Source>, Error> list(const Txn& txn) const;
  std::expected<bool, Error> erase(WriteTxn& txn, std::string_view name) const;
  std::expected<std::uint64_t, Error> count(const Txn& txn) const;

 private:
  const detail::Dbs* dbs_;
};

}  // namespace store
