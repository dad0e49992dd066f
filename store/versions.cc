#include "store/versions.h"

#include <algorithm>
#include <array>
#include <map>
#include <utility>

#include "store/detail/codec.h"
#include "store/detail/maintenance.h"
#include "store/detail/schema.h"
#include "store/detail/try.h"
#include "store/keys.h"

namespace store {
namespace {

using detail::Packer;
using detail::Unpacker;

// Format 2 appends `origin`; format 1 values (no origin) are still read.
constexpr std::uint8_t kVersionFormat = 2;
constexpr std::uint8_t kVersionFormatNoOrigin = 1;

constexpr std::array<std::pair<VersionState, std::string_view>, 3> kStateNames{{
    {VersionState::kStaged, "staged"},
    {VersionState::kActive, "active"},
    {VersionState::kRetired, "retired"},
}};

std::string version_key(std::string_view source, std::uint32_t number) {
  return KeyWriter().str(source).u32(number).take();
}

std::string active_key(std::string_view source) { return KeyWriter().str(source).take(); }

std::string encode(const ParserVersion& v) {
  std::string out;
  Packer p(out);
  p.u8(kVersionFormat)
      .str(v.script)
      .raw(as_bytes(v.script_sha256))
      .u8(static_cast<std::uint8_t>(v.author.kind))
      .str(v.author.model)
      .u8(static_cast<std::uint8_t>(v.state))
      .str(v.validation_report)
      .str(v.note)
      .time(v.created_at)
      .opt_time(v.activated_at)
      .opt_time(v.retired_at)
      .str(v.origin);
  return out;
}

std::expected<ParserVersion, Error> decode(std::string_view source, std::uint32_t number,
                                           std::string_view value) {
  Unpacker u(value);
  ParserVersion v;
  v.source = std::string(source);
  v.number = number;
  const std::uint8_t format = u.u8();
  if (format != kVersionFormat && format != kVersionFormatNoOrigin) {
    return std::unexpected(detail::corrupt("parser version"));
  }
  v.script = u.str();
  auto sha = u.raw(32);
  if (sha.size() == 32) std::copy(sha.begin(), sha.end(), v.script_sha256.begin());
  std::uint8_t author = u.u8();
  v.author.model = u.str();
  std::uint8_t state = u.u8();
  v.validation_report = u.str();
  v.note = u.str();
  v.created_at = u.time();
  v.activated_at = u.opt_time();
  v.retired_at = u.opt_time();
  if (format == kVersionFormat) v.origin = u.str();
  if (!u.ok() || author > 2 || state > 2) {
    return std::unexpected(
        detail::corrupt("parser version " + std::string(source) + " #" + std::to_string(number)));
  }
  v.author.kind = static_cast<AuthorKind>(author);
  v.state = static_cast<VersionState>(state);
  return v;
}

std::expected<void, Error> bump_generation(WriteTxn& txn, const detail::Dbs& dbs) {
  STORE_ASSIGN(std::uint64_t g, detail::read_u64(txn, dbs.meta, detail::kMetaVersionsGeneration));
  return detail::write_u64(txn, dbs.meta, detail::kMetaVersionsGeneration, g + 1);
}

Error no_such_version(std::string_view source, std::uint32_t number) {
  return Error{ErrorKind::kNotFound, "source " + std::string(source) + " has no parser version " +
                                         std::to_string(number)};
}

}  // namespace

std::string_view to_string(VersionState state) {
  for (const auto& [s, name] : kStateNames) {
    if (s == state) return name;
  }
  return "staged";
}

std::optional<VersionState> parse_version_state(std::string_view text) {
  for (const auto& [s, name] : kStateNames) {
    if (name == text) return s;
  }
  return std::nullopt;
}

std::string to_string(const Author& author) {
  switch (author.kind) {
    case AuthorKind::kHuman:
      return "human";
    case AuthorKind::kHeuristic:
      return "heuristic";
    case AuthorKind::kLlm:
      return "llm:" + author.model;
  }
  return "human";
}

std::optional<Author> parse_author(std::string_view text) {
  if (text == "human") return Author{AuthorKind::kHuman, ""};
  if (text == "heuristic") return Author{AuthorKind::kHeuristic, ""};
  if (text.starts_with("llm:") && text.size() > 4) {
    return Author{AuthorKind::kLlm, std::string(text.substr(4))};
  }
  return std::nullopt;
}

std::expected<void, Error> Versions::put(WriteTxn& txn, const ParserVersion& version) const {
  return txn.put(dbs_->versions, version_key(version.source, version.number), encode(version));
}

std::expected<std::uint32_t, Error> Versions::add(WriteTxn& txn, std::string_view source,
                                                  const NewParserVersion& version) const {
  STORE_TRY(detail::check_name("source name", source));
  std::uint32_t last = 0;
  std::string prefix = KeyWriter().str(source).take();
  STORE_TRY(detail::for_each_prefix_reverse(
      txn, dbs_->versions, prefix,
      [&](std::string_view key, std::string_view) -> std::expected<bool, Error> {
        last = KeyReader(key.substr(prefix.size())).u32();
        return false;
      }));
  ParserVersion v;
  v.source = std::string(source);
  v.number = last + 1;
  v.script = version.script;
  v.script_sha256 = sha256(version.script);
  v.author = version.author;
  v.state = VersionState::kStaged;
  v.validation_report = version.validation_report;
  v.note = version.note;
  v.origin = version.origin;
  v.created_at = version.created_at;
  STORE_TRY(put(txn, v));
  return v.number;
}

std::expected<std::optional<ParserVersion>, Error> Versions::get(const Txn& txn,
                                                                 std::string_view source,
                                                                 std::uint32_t number) const {
  STORE_ASSIGN(auto value, txn.get(dbs_->versions, version_key(source, number)));
  if (!value) return std::optional<ParserVersion>();
  STORE_ASSIGN(auto v, decode(source, number, *value));
  return std::optional<ParserVersion>(std::move(v));
}

std::expected<std::vector<ParserVersion>, Error> Versions::list(const Txn& txn,
                                                                std::string_view source) const {
  std::vector<ParserVersion> out;
  std::string prefix = KeyWriter().str(source).take();
  STORE_TRY(detail::for_each_prefix(
      txn, dbs_->versions, prefix,
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        STORE_ASSIGN(auto v, decode(source, KeyReader(key.substr(prefix.size())).u32(), value));
        out.push_back(std::move(v));
        return true;
      }));
  return out;
}

std::expected<std::optional<std::uint32_t>, Error> Versions::find_by_sha(
    const Txn& txn, std::string_view source, const Sha256Digest& sha) const {
  STORE_ASSIGN(auto all, list(txn, source));
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (it->script_sha256 == sha) return std::optional<std::uint32_t>(it->number);
  }
  return std::optional<std::uint32_t>();
}

std::expected<std::optional<std::uint32_t>, Error> Versions::active_number(
    const Txn& txn, std::string_view source) const {
  STORE_ASSIGN(auto value, txn.get(dbs_->active_versions, active_key(source)));
  if (!value) return std::optional<std::uint32_t>();
  KeyReader r(*value);
  std::uint32_t number = r.u32();
  if (!r.ok()) return std::unexpected(detail::corrupt("active version of " + std::string(source)));
  return std::optional<std::uint32_t>(number);
}

std::expected<std::optional<ParserVersion>, Error> Versions::active(const Txn& txn,
                                                                    std::string_view source) const {
  STORE_ASSIGN(auto number, active_number(txn, source));
  if (!number) return std::optional<ParserVersion>();
  return get(txn, source, *number);
}

std::expected<void, Error> Versions::promote(WriteTxn& txn, std::string_view source,
                                             std::uint32_t number, Time now) const {
  STORE_ASSIGN(auto target, get(txn, source, number));
  if (!target) return std::unexpected(no_such_version(source, number));
  STORE_ASSIGN(auto current, active_number(txn, source));
  if (current == number && target->state == VersionState::kActive) return {};
  if (current && *current != number) {
    STORE_ASSIGN(auto previous, get(txn, source, *current));
    if (previous) {
      previous->state = VersionState::kRetired;
      previous->retired_at = now;
      STORE_TRY(put(txn, *previous));
    }
  }
  target->state = VersionState::kActive;
  target->activated_at = now;
  STORE_TRY(put(txn, *target));
  STORE_TRY(txn.put(dbs_->active_versions, active_key(source), KeyWriter().u32(number).bytes()));
  return bump_generation(txn, *dbs_);
}

std::expected<void, Error> Versions::retire(WriteTxn& txn, std::string_view source,
                                            std::uint32_t number, Time now) const {
  STORE_ASSIGN(auto target, get(txn, source, number));
  if (!target) return std::unexpected(no_such_version(source, number));
  STORE_ASSIGN(auto current, active_number(txn, source));
  if (current == number) STORE_TRY(txn.del(dbs_->active_versions, active_key(source)));
  target->state = VersionState::kRetired;
  target->retired_at = now;
  STORE_TRY(put(txn, *target));
  return bump_generation(txn, *dbs_);
}

std::expected<void, Error> Versions::set_validation_report(WriteTxn& txn, std::string_view source,
                                                           std::uint32_t number,
                                                           std::string_view report) const {
  STORE_ASSIGN(auto target, get(txn, source, number));
  if (!target) return std::unexpected(no_such_version(source, number));
  target->validation_report = std::string(report);
  return put(txn, *target);
}

std::expected<void, Error> Versions::set_origin(WriteTxn& txn, std::string_view source,
                                                std::uint32_t number,
                                                std::string_view origin) const {
  STORE_ASSIGN(auto target, get(txn, source, number));
  if (!target) return std::unexpected(no_such_version(source, number));
  target->origin = std::string(origin);
  return put(txn, *target);
}

std::expected<std::uint64_t, Error> Versions::generation(const Txn& txn) const {
  return detail::read_u64(txn, dbs_->meta, detail::kMetaVersionsGeneration);
}

}  // namespace store

// ---- migrations and verify ----

namespace store::detail {

std::expected<void, Error> rebuild_active_versions(WriteTxn& txn, const Dbs& dbs) {
  STORE_TRY(txn.clear(dbs.active_versions));
  return for_each_prefix(
      txn, dbs.versions, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        KeyReader r(key);
        std::string source = r.str();
        std::uint32_t number = r.u32();
        if (!r.ok()) return std::unexpected(corrupt("parser version key"));
        STORE_ASSIGN(auto v, decode(source, number, value));
        // Ascending numbers: with several ACTIVE rows the newest wins.
        if (v.state == VersionState::kActive) {
          STORE_TRY(
              txn.put(dbs.active_versions, active_key(source), KeyWriter().u32(number).bytes()));
        }
        return true;
      });
}

std::expected<void, Error> verify_versions(const Txn& txn, const Dbs& dbs, VerifyReport& report) {
  std::map<std::string, std::uint32_t> active;
  std::uint64_t versions = 0;
  STORE_TRY(for_each_prefix(
      txn, dbs.versions, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        ++versions;
        KeyReader r(key);
        std::string source = r.str();
        std::uint32_t number = r.u32();
        std::string item = "parser version " + source + " #" + std::to_string(number);
        auto v = decode(source, number, value);
        if (!r.ok() || !v) {
          add_damage(report, item, "cannot be decoded");
          return true;
        }
        if (sha256(v->script) != v->script_sha256) {
          add_damage(report, item, "its script does not match its SHA-256");
        }
        if (v->state == VersionState::kActive) {
          if (active.contains(source)) {
            add_damage(report, item, "is one of several ACTIVE versions of " + source);
          }
          active[source] = number;
        }
        return true;
      }));
  report.checked["parser versions"] = versions;
  std::uint64_t indexed = 0;
  STORE_TRY(for_each_prefix(
      txn, dbs.active_versions, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        ++indexed;
        KeyReader r(key);
        std::string source = r.str();
        KeyReader n(value);
        std::uint32_t number = n.u32();
        auto it = active.find(source);
        if (!r.ok() || !n.ok() || it == active.end() || it->second != number) {
          add_damage(report, "index active_versions",
                     "names version " + std::to_string(number) + " of " + source +
                         ", which is not its ACTIVE version");
        }
        return true;
      }));
  if (indexed != active.size()) {
    add_damage(report, "index active_versions",
               "lists " + std::to_string(indexed) + " source(s), " + std::to_string(active.size()) +
                   " have an ACTIVE version");
  }
  return {};
}

}  // namespace store::detail
