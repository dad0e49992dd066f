#include "store/health.h"

#include <array>
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

constexpr std::uint8_t kHealthFormat = 1;
constexpr std::uint8_t kTransitionFormat = 1;
constexpr std::uint8_t kNoState = 0xff;

constexpr std::array<std::pair<HealthState, std::string_view>, 4> kStateNames{{
    {HealthState::kActive, "ACTIVE"},
    {HealthState::kDegraded, "DEGRADED"},
    {HealthState::kQuarantined, "QUARANTINED"},
    {HealthState::kDead, "DEAD"},
}};

std::string source_key(std::string_view source) { return KeyWriter().str(source).take(); }

std::string state_key(HealthState state, std::string_view source) {
  return KeyWriter().u8(static_cast<std::uint8_t>(state)).str(source).take();
}

std::string counter_key(HealthState state) { return "health/" + std::string(to_string(state)); }

std::string encode(const SourceHealth& h) {
  std::string out;
  Packer(out)
      .u8(kHealthFormat)
      .u8(static_cast<std::uint8_t>(h.state))
      .varint(h.failures_in_row)
      .opt_time(h.last_success)
      .opt_time(h.last_failure)
      .str(h.last_error)
      .time(h.state_since)
      .time(h.updated_at);
  return out;
}

std::expected<SourceHealth, Error> decode(std::string source, std::string_view value) {
  Unpacker u(value);
  SourceHealth h;
  h.source = std::move(source);
  if (u.u8() != kHealthFormat) return std::unexpected(detail::corrupt("health of " + h.source));
  std::uint8_t state = u.u8();
  h.failures_in_row = u.varint32();
  h.last_success = u.opt_time();
  h.last_failure = u.opt_time();
  h.last_error = u.str();
  h.state_since = u.time();
  h.updated_at = u.time();
  if (!u.ok() || state >= kHealthStateCount) {
    return std::unexpected(detail::corrupt("health of " + h.source));
  }
  h.state = static_cast<HealthState>(state);
  return h;
}

}  // namespace

std::string_view to_string(HealthState state) {
  for (const auto& [s, name] : kStateNames) {
    if (s == state) return name;
  }
  return "ACTIVE";
}

std::optional<HealthState> parse_health_state(std::string_view text) {
  for (const auto& [s, name] : kStateNames) {
    if (name == text) return s;
  }
  return std::nullopt;
}

std::expected<void, Error> Health::put(WriteTxn& txn, const SourceHealth& health,
                                       std::string_view reason) const {
  STORE_TRY(detail::check_name("source name", health.source));
  STORE_ASSIGN(auto stored, get(txn, health.source));
  SourceHealth h = health;
  bool changed = !stored || stored->state != h.state;
  if (changed) {
    h.state_since = h.updated_at;
    if (stored) {
      STORE_TRY(txn.del(dbs_->health_by_state, state_key(stored->state, h.source)));
      STORE_TRY(detail::add_u64(txn, dbs_->counters, counter_key(stored->state), -1));
    }
    STORE_TRY(txn.put(dbs_->health_by_state, state_key(h.state, h.source), {}));
    STORE_TRY(detail::add_u64(txn, dbs_->counters, counter_key(h.state), 1));
    STORE_ASSIGN(std::uint64_t seq, detail::next_id(txn, *dbs_, "health_history"));
    std::string transition;
    Packer(transition)
        .u8(kTransitionFormat)
        .u8(stored ? static_cast<std::uint8_t>(stored->state) : kNoState)
        .u8(static_cast<std::uint8_t>(h.state))
        .time(h.updated_at)
        .str(reason);
    STORE_TRY(
        txn.put(dbs_->health_history, KeyWriter().str(h.source).u64(seq).bytes(), transition));
  } else {
    h.state_since = stored->state_since;
  }
  return txn.put(dbs_->health, source_key(h.source), encode(h));
}

std::expected<std::optional<SourceHealth>, Error> Health::get(const Txn& txn,
                                                              std::string_view source) const {
  STORE_ASSIGN(auto value, txn.get(dbs_->health, source_key(source)));
  if (!value) return std::optional<SourceHealth>();
  STORE_ASSIGN(auto h, decode(std::string(source), *value));
  return std::optional<SourceHealth>(std::move(h));
}

std::expected<std::vector<SourceHealth>, Error> Health::list(const Txn& txn, HealthState state,
                                                             std::size_t limit) const {
  std::vector<SourceHealth> out;
  std::string prefix = KeyWriter().u8(static_cast<std::uint8_t>(state)).take();
  STORE_TRY(detail::for_each_prefix(
      txn, dbs_->health_by_state, prefix,
      [&](std::string_view key, std::string_view) -> std::expected<bool, Error> {
        KeyReader r(key.substr(1));
        std::string source = r.str();
        if (!r.ok()) return std::unexpected(detail::corrupt("health index key"));
        STORE_ASSIGN(auto h, get(txn, source));
        if (!h) return std::unexpected(detail::corrupt("health index entry without its row"));
        out.push_back(std::move(*h));
        return limit == 0 || out.size() < limit;
      }));
  return out;
}

std::expected<HealthCounts, Error> Health::counts(const Txn& txn) const {
  HealthCounts counts{};
  for (std::size_t i = 0; i < kHealthStateCount; ++i) {
    STORE_ASSIGN(counts[i],
                 detail::read_u64(txn, dbs_->counters, counter_key(static_cast<HealthState>(i))));
  }
  return counts;
}

std::expected<std::vector<HealthTransition>, Error> Health::transitions(const Txn& txn,
                                                                        std::string_view source,
                                                                        std::size_t limit) const {
  std::vector<HealthTransition> out;
  STORE_TRY(detail::for_each_prefix_reverse(
      txn, dbs_->health_history, source_key(source),
      [&](std::string_view, std::string_view value) -> std::expected<bool, Error> {
        Unpacker u(value);
        HealthTransition t;
        t.source = std::string(source);
        bool format_ok = u.u8() == kTransitionFormat;
        std::uint8_t from = u.u8();
        std::uint8_t to = u.u8();
        t.at = u.time();
        t.reason = u.str();
        if (!format_ok || !u.ok() || to >= kHealthStateCount ||
            (from != kNoState && from >= kHealthStateCount)) {
          return std::unexpected(detail::corrupt("health transition of " + t.source));
        }
        if (from != kNoState) t.from = static_cast<HealthState>(from);
        t.to = static_cast<HealthState>(to);
        out.push_back(std::move(t));
        return limit == 0 || out.size() < limit;
      }));
  return out;
}

std::expected<bool, Error> Health::erase(WriteTxn& txn, std::string_view source) const {
  STORE_ASSIGN(auto stored, get(txn, source));
  if (!stored) return false;
  STORE_TRY(txn.del(dbs_->health_by_state, state_key(stored->state, source)));
  STORE_TRY(detail::add_u64(txn, dbs_->counters, counter_key(stored->state), -1));
  STORE_TRY(txn.del(dbs_->health, source_key(source)));
  return true;
}

}  // namespace store

// ---- migrations and verify ----

namespace store::detail {

std::expected<void, Error> rebuild_health_counters(WriteTxn& txn, const Dbs& dbs) {
  HealthCounts counts{};
  STORE_TRY(for_each_prefix(
      txn, dbs.health, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        KeyReader r(key);
        STORE_ASSIGN(auto h, decode(r.str(), value));
        counts[static_cast<std::size_t>(h.state)] += 1;
        return true;
      }));
  for (std::size_t i = 0; i < kHealthStateCount; ++i) {
    std::string key = counter_key(static_cast<HealthState>(i));
    if (counts[i] == 0) {
      STORE_TRY(txn.del(dbs.counters, key));
    } else {
      STORE_TRY(write_u64(txn, dbs.counters, key, counts[i]));
    }
  }
  return {};
}

std::expected<void, Error> verify_health(const Txn& txn, const Dbs& dbs, VerifyReport& report) {
  HealthCounts counts{};
  std::uint64_t rows = 0;
  STORE_TRY(for_each_prefix(
      txn, dbs.health, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        ++rows;
        KeyReader r(key);
        std::string source = r.str();
        std::string item = "health of " + source;
        auto h = decode(source, value);
        if (!r.ok() || !h) {
          add_damage(report, item, "cannot be decoded");
          return true;
        }
        counts[static_cast<std::size_t>(h->state)] += 1;
        STORE_ASSIGN(auto indexed, txn.get(dbs.health_by_state, state_key(h->state, source)));
        if (!indexed) add_damage(report, item, "is missing from index health_by_state");
        return true;
      }));
  report.checked["health rows"] = rows;
  STORE_TRY(check_index_size(txn, dbs.health_by_state, "health_by_state", rows, report));
  for (std::size_t i = 0; i < kHealthStateCount; ++i) {
    std::string key = counter_key(static_cast<HealthState>(i));
    STORE_ASSIGN(std::uint64_t counted, read_u64(txn, dbs.counters, key));
    if (counted != counts[i]) {
      add_damage(report, "counter " + key,
                 "says " + std::to_string(counted) + ", there are " + std::to_string(counts[i]));
    }
  }
  std::uint64_t transitions = 0;
  STORE_TRY(for_each_prefix(
      txn, dbs.health_history, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        ++transitions;
        Unpacker u(value);
        bool format_ok = u.u8() == kTransitionFormat;
        u.u8();
        u.u8();
        u.time();
        u.str();
        if (!format_ok || !u.ok()) {
          KeyReader r(key);
          add_damage(report, "health history of " + r.str(), "an entry cannot be decoded");
        }
        return true;
      }));
  report.checked["health transitions"] = transitions;
  return {};
}

}  // namespace store::detail
