#include "store/detail/schema.h"

#include "store/detail/codec.h"

namespace store::detail {

std::expected<std::uint64_t, Error> read_u64(const Txn& txn, Dbi dbi, std::string_view key) {
  STORE_ASSIGN(auto value, txn.get(dbi, key));
  if (!value) return 0;
  auto parsed = read_fixed64(*value);
  if (!parsed) return std::unexpected(corrupt("counter " + std::string(key)));
  return *parsed;
}

std::expected<void, Error> write_u64(WriteTxn& txn, Dbi dbi, std::string_view key,
                                     std::uint64_t value) {
  return txn.put(dbi, key, fixed64(value));
}

std::expected<std::uint64_t, Error> add_u64(WriteTxn& txn, Dbi dbi, std::string_view key,
                                            std::int64_t delta) {
  STORE_ASSIGN(std::uint64_t value, read_u64(txn, dbi, key));
  if (delta < 0 && static_cast<std::uint64_t>(-delta) > value) {
    return std::unexpected(corrupt("counter " + std::string(key) + " would go below zero"));
  }
  value += static_cast<std::uint64_t>(delta);
  if (value == 0) {
    STORE_TRY(txn.del(dbi, key));
  } else {
    STORE_TRY(write_u64(txn, dbi, key, value));
  }
  return value;
}

std::expected<std::uint64_t, Error> next_id(WriteTxn& txn, const Dbs& dbs, std::string_view name) {
  std::string key = "seq/" + std::string(name);
  STORE_ASSIGN(std::uint64_t last, read_u64(txn, dbs.meta, key));
  STORE_TRY(write_u64(txn, dbs.meta, key, last + 1));
  return last + 1;
}

Error corrupt(std::string_view what) {
  return Error{ErrorKind::kCorrupt,
               "damaged data in the store: " + std::string(what) +
                   " cannot be decoded (run `host verify`; restore a backup if it fails)"};
}

std::expected<void, Error> check_name(std::string_view what, std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) {
    return std::unexpected(Error{
        ErrorKind::kInvalidArgument,
        std::string(what) + " must be 1 to " + std::to_string(kMaxNameBytes) + " bytes long"});
  }
  for (char c : name) {
    auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) {
      return std::unexpected(Error{ErrorKind::kInvalidArgument,
                                   std::string(what) + " must not contain control characters"});
    }
  }
  return {};
}

std::expected<std::uint64_t, Error> erase_prefix(WriteTxn& txn, Dbi dbi, std::string_view prefix) {
  STORE_ASSIGN(auto cursor, txn.write_cursor(dbi));
  std::uint64_t erased = 0;
  auto step = prefix.empty() ? cursor.first() : cursor.seek(prefix);
  while (true) {
    if (!step) return std::unexpected(std::move(step).error());
    if (!*step || !(*step)->first.starts_with(prefix)) return erased;
    STORE_TRY(cursor.del());
    ++erased;
    // LMDB leaves a cursor on the entry after the deleted one; next() returns it.
    step = cursor.next();
  }
}

}  // namespace store::detail

#include "store/detail/maintenance.h"

namespace store::detail {

std::expected<void, Error> check_index_size(const Txn& txn, Dbi dbi, const char* name,
                                            std::uint64_t expected, VerifyReport& report) {
  STORE_ASSIGN(std::uint64_t entries, txn.entries(dbi));
  if (entries != expected) {
    add_damage(report, std::string("index ") + name,
               "has " + std::to_string(entries) + " entries where the data implies " +
                   std::to_string(expected));
  }
  return {};
}

}  // namespace store::detail
