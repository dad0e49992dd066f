// Parser versions: every script a source has had, numbered from 1 per
// source, with its SHA-256, author, state and validation report.
//
// States: a version is added STAGED; promote() makes it ACTIVE and retires
// the previously active one; retire() takes one out of service. A source has
// at most one ACTIVE version. Silver lineage names versions by number.
//
// Hot swap: a long-running process notices a promotion cheaply, either by
// reading active_number(source) (one lookup) before each run, or by polling
// generation(), a store-wide counter bumped by every promote() and
// retire().
//
// Thread safety: a Versions object is immutable and shared.
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
#include "store/sha256.h"

namespace store {

namespace detail {
struct Dbs;
}  // namespace detail

enum class VersionState : std::uint8_t { kStaged = 0, kActive = 1, kRetired = 2 };

// "staged", "active", "retired".
std::string_view to_string(VersionState state);
std::optional<VersionState> parse_version_state(std::string_view text);

enum class AuthorKind : std::uint8_t { kHuman = 0, kHeuristic = 1, kLlm = 2 };

struct Author {
  AuthorKind kind = AuthorKind::kHuman;
  std::string model;  // kLlm only: the model's name

  bool operator==(const Author&) const = default;
};

// "human", "heuristic", "llm:MODEL".
std::string to_string(const Author& author);
// Inverse of to_string; nullopt for anything else (or "llm:" without a model).
std::optional<Author> parse_author(std::string_view text);

struct ParserVersion {
  std::string source;
  std::uint32_t number = 0;
  std::string script;
  Sha256Digest script_sha256{};
  Author author;
  VersionState state = VersionState::kStaged;
  std::string validation_report;  // JSON text written by the validator; "" until then
  std::string note;
  // The absolute path of the file it was staged from, "" when unknown (an
  // older store, or a version not made from a file). Example pages the
  // script declares are read relative to this file's directory.
  std::string origin;
  Time created_at;
  std::optional<Time> activated_at;  // last promotion
  std::optional<Time> retired_at;    // last retirement
};

struct NewParserVersion {
  std::string script;
  Author author;
  std::string validation_report;
  std::string note;
  std::string origin;  // see ParserVersion::origin
  Time created_at;
};

class Versions {
 public:
  explicit Versions(const detail::Dbs& dbs) : dbs_(&dbs) {}

  // Adds a STAGED version and returns its number (last number + 1).
  std::expected<std::uint32_t, Error> add(WriteTxn& txn, std::string_view source,
                                          const NewParserVersion& version) const;

  std::expected<std::optional<ParserVersion>, Error> get(const Txn& txn, std::string_view source,
                                                         std::uint32_t number) const;
  // All versions of a source, by number.
  std::expected<std::vector<ParserVersion>, Error> list(const Txn& txn,
                                                        std::string_view source) const;
  // The newest version of the source whose script has this digest.
  std::expected<std::optional<std::uint32_t>, Error> find_by_sha(const Txn& txn,
                                                                 std::string_view source,
                                                                 const Sha256Digest& sha) const;

  // The number of the ACTIVE version (one lookup), or nullopt.
  std::expected<std::optional<std::uint32_t>, Error> active_number(const Txn& txn,
                                                                   std::string_view source) const;
  std::expected<std::optional<ParserVersion>, Error> active(const Txn& txn,
                                                            std::string_view source) const;

  // Makes `number` the ACTIVE version, retiring the previous one. Promoting
  // the active version again is a no-op. kNotFound if there is no such
  // version.
  std::expected<void, Error> promote(WriteTxn& txn, std::string_view source, std::uint32_t number,
                                     Time now) const;
  // Retires a version (if it was ACTIVE the source has none afterwards).
  std::expected<void, Error> retire(WriteTxn& txn, std::string_view source, std::uint32_t number,
                                    Time now) const;
  std::expected<void, Error> set_validation_report(WriteTxn& txn, std::string_view source,
                                                   std::uint32_t number,
                                                   std::string_view report) const;
  // Records where a version's file now is (the same script staged again
  // from another place). kNotFound if there is no such version.
  std::expected<void, Error> set_origin(WriteTxn& txn, std::string_view source,
                                        std::uint32_t number, std::string_view origin) const;

  // Store-wide counter bumped by every promote() and retire().
  std::expected<std::uint64_t, Error> generation(const Txn& txn) const;

 private:
  std::expected<void, Error> put(WriteTxn& txn, const ParserVersion& version) const;
  const detail::Dbs* dbs_;
};

}  // namespace store
