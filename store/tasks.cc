#include "store/tasks.h"

#include <algorithm>
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

constexpr std::uint8_t kTaskFormat = 1;
// Index code of PENDING tasks whose not_before had not come when they were
// written; claim() moves them to kPending's code once due.
constexpr std::uint8_t kDelayedCode = 5;

constexpr std::array<std::pair<TaskType, std::string_view>, 5> kTypeNames{{
    {TaskType::kScout, "scout"},
    {TaskType::kBuild, "build"},
    {TaskType::kValidate, "validate"},
    {TaskType::kExtract, "extract"},
    {TaskType::kRepair, "repair"},
}};
constexpr std::array<std::pair<TaskState, std::string_view>, 5> kStateNames{{
    {TaskState::kPending, "PENDING"},
    {TaskState::kInProgress, "IN_PROGRESS"},
    {TaskState::kDone, "DONE"},
    {TaskState::kFailed, "FAILED"},
    {TaskState::kCancelled, "CANCELLED"},
}};

// A task as stored, with the index bookkeeping the API does not show.
struct Stored {
  Task task;
  bool delayed = false;
};

std::string id_key(std::uint64_t id) { return KeyWriter().u64(id).take(); }

std::uint8_t code_of(const Stored& s) {
  return s.delayed ? kDelayedCode : static_cast<std::uint8_t>(s.task.state);
}

std::string state_key(const Stored& s) {
  return KeyWriter()
      .u8(code_of(s))
      .i32_desc(s.task.priority)
      .time(s.task.created_at)
      .u64(s.task.id)
      .take();
}

std::string counter_key(TaskState state) { return "tasks/" + std::string(to_string(state)); }

std::string encode(const Stored& s) {
  const Task& t = s.task;
  std::string out;
  Packer p(out);
  p.u8(kTaskFormat)
      .u8(static_cast<std::uint8_t>(t.type))
      .str(t.source)
      .u8(static_cast<std::uint8_t>(t.state))
      .boolean(s.delayed)
      .svarint(t.priority)
      .varint(t.attempts)
      .time(t.created_at)
      .time(t.updated_at)
      .time(t.not_before)
      .str(t.last_error)
      .str(t.lease_owner)
      .opt_time(t.lease_expiry)
      .str(t.payload);
  return out;
}

std::expected<Stored, Error> decode(std::uint64_t id, std::string_view value) {
  Unpacker u(value);
  Stored s;
  Task& t = s.task;
  t.id = id;
  if (u.u8() != kTaskFormat) return std::unexpected(detail::corrupt("task"));
  std::uint8_t type = u.u8();
  t.source = u.str();
  std::uint8_t state = u.u8();
  s.delayed = u.boolean();
  t.priority = static_cast<std::int32_t>(u.svarint());
  t.attempts = u.varint32();
  t.created_at = u.time();
  t.updated_at = u.time();
  t.not_before = u.time();
  t.last_error = u.str();
  t.lease_owner = u.str();
  t.lease_expiry = u.opt_time();
  t.payload = u.str();
  if (!u.ok() || type > 4 || state > 4) {
    return std::unexpected(detail::corrupt("task " + std::to_string(id)));
  }
  t.type = static_cast<TaskType>(type);
  t.state = static_cast<TaskState>(state);
  return s;
}

std::string type_value(TaskType type) {
  return std::string(1, static_cast<char>(static_cast<std::uint8_t>(type)));
}

Error no_such_task(std::uint64_t id) {
  return Error{ErrorKind::kNotFound, "there is no task " + std::to_string(id)};
}

// Writes a task and keeps every index and counter in step. `before` is the
// stored state it replaces (nullopt for a new task).
class Writer {
 public:
  Writer(WriteTxn& txn, const detail::Dbs& dbs) : txn_(txn), dbs_(dbs) {}

  std::expected<Stored, Error> load(std::uint64_t id) {
    STORE_ASSIGN(auto value, txn_.get(dbs_.tasks, id_key(id)));
    if (!value) return std::unexpected(no_such_task(id));
    return decode(id, *value);
  }

  std::expected<void, Error> write(const std::optional<Stored>& before, Stored after, Time now) {
    Task& t = after.task;
    after.delayed = t.state == TaskState::kPending && t.not_before > now;
    if (t.state != TaskState::kInProgress) {
      t.lease_owner.clear();
      t.lease_expiry.reset();
    }
    if (before) STORE_TRY(remove_indexes(*before));
    STORE_TRY(txn_.put(dbs_.tasks_by_state, state_key(after), type_value(t.type)));
    if (after.delayed) {
      STORE_TRY(txn_.put(dbs_.tasks_delayed, KeyWriter().time(t.not_before).u64(t.id).bytes(), {}));
    }
    if (t.state == TaskState::kInProgress && t.lease_expiry) {
      STORE_TRY(
          txn_.put(dbs_.tasks_leases, KeyWriter().time(*t.lease_expiry).u64(t.id).bytes(), {}));
    }
    if (!before || before->task.state != t.state) {
      if (before)
        STORE_TRY(detail::add_u64(txn_, dbs_.counters, counter_key(before->task.state), -1));
      STORE_TRY(detail::add_u64(txn_, dbs_.counters, counter_key(t.state), 1));
    }
    if (!before) {
      STORE_TRY(txn_.append(dbs_.tasks, id_key(t.id), encode(after)));
      return txn_.put(dbs_.tasks_by_source, KeyWriter().str(t.source).u64(t.id).bytes(), {});
    }
    return txn_.put(dbs_.tasks, id_key(t.id), encode(after));
  }

  std::expected<void, Error> erase(const Stored& s) {
    STORE_TRY(remove_indexes(s));
    STORE_TRY(detail::add_u64(txn_, dbs_.counters, counter_key(s.task.state), -1));
    STORE_TRY(
        txn_.del(dbs_.tasks_by_source, KeyWriter().str(s.task.source).u64(s.task.id).bytes()));
    STORE_TRY(txn_.del(dbs_.tasks, id_key(s.task.id)));
    return {};
  }

 private:
  std::expected<void, Error> remove_indexes(const Stored& s) {
    STORE_TRY(txn_.del(dbs_.tasks_by_state, state_key(s)));
    if (s.delayed) {
      STORE_TRY(
          txn_.del(dbs_.tasks_delayed, KeyWriter().time(s.task.not_before).u64(s.task.id).bytes()));
    }
    if (s.task.state == TaskState::kInProgress && s.task.lease_expiry) {
      STORE_TRY(txn_.del(dbs_.tasks_leases,
                         KeyWriter().time(*s.task.lease_expiry).u64(s.task.id).bytes()));
    }
    return {};
  }

  WriteTxn& txn_;
  const detail::Dbs& dbs_;
};

std::expected<void, Error> check_lease(const Task& t, std::string_view owner) {
  if (t.state == TaskState::kInProgress && t.lease_owner == owner) return {};
  return std::unexpected(
      Error{ErrorKind::kConflict,
            "task " + std::to_string(t.id) + " is not leased to " + std::string(owner) +
                " (it is " + std::string(to_string(t.state)) +
                (t.lease_owner.empty() ? std::string() : ", leased to " + t.lease_owner) + ")"});
}

// Entries of an index keyed (time, id) with time <= now, oldest first.
std::expected<std::vector<std::uint64_t>, Error> due_ids(const Txn& txn, Dbi dbi, Time now) {
  std::vector<std::uint64_t> ids;
  STORE_TRY(detail::for_each_prefix(
      txn, dbi, "", [&](std::string_view key, std::string_view) -> std::expected<bool, Error> {
        KeyReader r(key);
        Time at = r.time();
        if (at > now) return false;
        ids.push_back(r.u64());
        return true;
      }));
  return ids;
}

}  // namespace

std::string_view to_string(TaskType type) {
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) return name;
  }
  return "scout";
}

std::optional<TaskType> parse_task_type(std::string_view text) {
  for (const auto& [t, name] : kTypeNames) {
    if (name == text) return t;
  }
  return std::nullopt;
}

std::string_view to_string(TaskState state) {
  for (const auto& [s, name] : kStateNames) {
    if (s == state) return name;
  }
  return "PENDING";
}

std::optional<TaskState> parse_task_state(std::string_view text) {
  for (const auto& [s, name] : kStateNames) {
    if (name == text) return s;
  }
  return std::nullopt;
}

std::expected<std::uint64_t, Error> Tasks::enqueue(WriteTxn& txn, const NewTask& task,
                                                   Time now) const {
  STORE_TRY(detail::check_name("source name", task.source));
  Stored s;
  Task& t = s.task;
  STORE_ASSIGN(t.id, detail::next_id(txn, *dbs_, "tasks"));
  t.type = task.type;
  t.source = task.source;
  t.state = TaskState::kPending;
  t.priority = task.priority;
  t.created_at = now;
  t.updated_at = now;
  t.not_before = task.not_before.value_or(now);
  t.payload = task.payload;
  STORE_TRY(Writer(txn, *dbs_).write(std::nullopt, std::move(s), now));
  return t.id;
}

namespace {

// A PENDING task becomes IN_PROGRESS under `owner` until now + lease.
std::expected<std::optional<Task>, Error> lease_to(Writer& writer, const Stored& before,
                                                   std::string_view owner,
                                                   std::chrono::microseconds lease, Time now) {
  Stored after = before;
  Task& t = after.task;
  t.state = TaskState::kInProgress;
  t.attempts += 1;
  t.lease_owner = std::string(owner);
  t.lease_expiry = now + lease;
  t.updated_at = now;
  STORE_TRY(writer.write(before, after, now));
  return std::optional<Task>(std::move(after.task));
}

}  // namespace

std::expected<std::optional<Task>, Error> Tasks::claim(WriteTxn& txn, std::string_view owner,
                                                       std::chrono::microseconds lease, Time now,
                                                       std::span<const TaskType> types) const {
  Writer writer(txn, *dbs_);
  // Delayed tasks that have come due join the queue first.
  STORE_ASSIGN(auto due, due_ids(txn, dbs_->tasks_delayed, now));
  for (std::uint64_t id : due) {
    STORE_ASSIGN(Stored s, writer.load(id));
    STORE_TRY(writer.write(s, s, now));
  }
  std::optional<std::uint64_t> chosen;
  std::string prefix = KeyWriter().u8(static_cast<std::uint8_t>(TaskState::kPending)).take();
  STORE_TRY(detail::for_each_prefix(
      txn, dbs_->tasks_by_state, prefix,
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        if (!types.empty()) {
          if (value.size() != 1) return std::unexpected(detail::corrupt("task index entry"));
          auto type = static_cast<TaskType>(static_cast<std::uint8_t>(value[0]));
          if (std::find(types.begin(), types.end(), type) == types.end()) return true;
        }
        chosen = KeyReader(key.substr(key.size() - 8)).u64();
        return false;
      }));
  if (!chosen) return std::optional<Task>();
  STORE_ASSIGN(Stored before, writer.load(*chosen));
  return lease_to(writer, before, owner, lease, now);
}

std::expected<std::optional<Task>, Error> Tasks::claim_id(WriteTxn& txn, std::uint64_t id,
                                                          std::string_view owner,
                                                          std::chrono::microseconds lease,
                                                          Time now) const {
  Writer writer(txn, *dbs_);
  STORE_ASSIGN(Stored before, writer.load(id));
  if (before.task.state != TaskState::kPending) return std::optional<Task>();
  return lease_to(writer, before, owner, lease, now);
}

std::expected<void, Error> Tasks::extend_lease(WriteTxn& txn, std::uint64_t id,
                                               std::string_view owner, Time new_expiry,
                                               Time now) const {
  Writer writer(txn, *dbs_);
  STORE_ASSIGN(Stored before, writer.load(id));
  STORE_TRY(check_lease(before.task, owner));
  Stored after = before;
  after.task.lease_expiry = new_expiry;
  after.task.updated_at = now;
  return writer.write(before, std::move(after), now);
}

std::expected<void, Error> Tasks::complete(WriteTxn& txn, std::uint64_t id, std::string_view owner,
                                           Time now) const {
  Writer writer(txn, *dbs_);
  STORE_ASSIGN(Stored before, writer.load(id));
  STORE_TRY(check_lease(before.task, owner));
  Stored after = before;
  after.task.state = TaskState::kDone;
  after.task.updated_at = now;
  return writer.write(before, std::move(after), now);
}

std::expected<void, Error> Tasks::fail(WriteTxn& txn, std::uint64_t id, std::string_view owner,
                                       std::string_view error, Time now) const {
  Writer writer(txn, *dbs_);
  STORE_ASSIGN(Stored before, writer.load(id));
  STORE_TRY(check_lease(before.task, owner));
  Stored after = before;
  after.task.state = TaskState::kFailed;
  after.task.last_error = std::string(error);
  after.task.updated_at = now;
  return writer.write(before, std::move(after), now);
}

std::expected<void, Error> Tasks::requeue(WriteTxn& txn, std::uint64_t id, std::string_view owner,
                                          std::string_view error, Time not_before, Time now) const {
  Writer writer(txn, *dbs_);
  STORE_ASSIGN(Stored before, writer.load(id));
  switch (before.task.state) {
    case TaskState::kInProgress:
      STORE_TRY(check_lease(before.task, owner));
      break;
    case TaskState::kFailed:
    case TaskState::kCancelled:
      break;
    default:
      return std::unexpected(
          Error{ErrorKind::kConflict, "task " + std::to_string(id) + " is " +
                                          std::string(to_string(before.task.state)) +
                                          " and cannot be requeued"});
  }
  Stored after = before;
  after.task.state = TaskState::kPending;
  if (!error.empty()) after.task.last_error = std::string(error);
  after.task.not_before = not_before;
  after.task.updated_at = now;
  return writer.write(before, std::move(after), now);
}

std::expected<void, Error> Tasks::cancel(WriteTxn& txn, std::uint64_t id, Time now) const {
  Writer writer(txn, *dbs_);
  STORE_ASSIGN(Stored before, writer.load(id));
  if (before.task.state != TaskState::kPending && before.task.state != TaskState::kInProgress) {
    return std::unexpected(Error{
        ErrorKind::kConflict,
        "task " + std::to_string(id) + " is already " + std::string(to_string(before.task.state))});
  }
  Stored after = before;
  after.task.state = TaskState::kCancelled;
  after.task.updated_at = now;
  return writer.write(before, std::move(after), now);
}

std::expected<void, Error> Tasks::set_priority(WriteTxn& txn, std::uint64_t id,
                                               std::int32_t priority, Time now) const {
  Writer writer(txn, *dbs_);
  STORE_ASSIGN(Stored before, writer.load(id));
  Stored after = before;
  after.task.priority = priority;
  after.task.updated_at = now;
  return writer.write(before, std::move(after), now);
}

std::expected<std::uint64_t, Error> Tasks::expire_leases(WriteTxn& txn, Time now) const {
  Writer writer(txn, *dbs_);
  STORE_ASSIGN(auto expired, due_ids(txn, dbs_->tasks_leases, now));
  for (std::uint64_t id : expired) {
    STORE_ASSIGN(Stored before, writer.load(id));
    Stored after = before;
    after.task.state = TaskState::kPending;
    after.task.last_error = "lease expired (held by " + before.task.lease_owner + ")";
    after.task.updated_at = now;
    STORE_TRY(writer.write(before, std::move(after), now));
  }
  return expired.size();
}

std::expected<std::uint64_t, Error> Tasks::purge(WriteTxn& txn, TaskState state,
                                                 Time before) const {
  if (state == TaskState::kPending || state == TaskState::kInProgress) {
    return std::unexpected(
        Error{ErrorKind::kInvalidArgument, "only DONE, FAILED or CANCELLED tasks can be purged"});
  }
  std::vector<Stored> old;
  std::string prefix = KeyWriter().u8(static_cast<std::uint8_t>(state)).take();
  STORE_TRY(detail::for_each_prefix(
      txn, dbs_->tasks_by_state, prefix,
      [&](std::string_view key, std::string_view) -> std::expected<bool, Error> {
        std::uint64_t id = KeyReader(key.substr(key.size() - 8)).u64();
        STORE_ASSIGN(auto value, txn.get(dbs_->tasks, id_key(id)));
        if (!value) return std::unexpected(detail::corrupt("task index entry without its task"));
        STORE_ASSIGN(Stored s, decode(id, *value));
        if (s.task.updated_at < before) old.push_back(std::move(s));
        return true;
      }));
  Writer writer(txn, *dbs_);
  for (const Stored& s : old) STORE_TRY(writer.erase(s));
  return old.size();
}

std::expected<std::optional<Task>, Error> Tasks::get(const Txn& txn, std::uint64_t id) const {
  STORE_ASSIGN(auto value, txn.get(dbs_->tasks, id_key(id)));
  if (!value) return std::optional<Task>();
  STORE_ASSIGN(Stored s, decode(id, *value));
  return std::optional<Task>(std::move(s.task));
}

std::expected<std::vector<Task>, Error> Tasks::list(const Txn& txn, TaskState state,
                                                    std::size_t limit) const {
  std::vector<Task> out;
  auto visit = [&](std::string_view key, std::string_view) -> std::expected<bool, Error> {
    STORE_ASSIGN(auto t, get(txn, KeyReader(key.substr(key.size() - 8)).u64()));
    if (!t) return std::unexpected(detail::corrupt("task index entry without its task"));
    out.push_back(std::move(*t));
    return limit == 0 || out.size() < limit;
  };
  STORE_TRY(detail::for_each_prefix(
      txn, dbs_->tasks_by_state, KeyWriter().u8(static_cast<std::uint8_t>(state)).bytes(), visit));
  if (state == TaskState::kPending && (limit == 0 || out.size() < limit)) {
    STORE_TRY(detail::for_each_prefix(txn, dbs_->tasks_by_state,
                                      KeyWriter().u8(kDelayedCode).bytes(), visit));
  }
  return out;
}

std::expected<std::vector<Task>, Error> Tasks::list_for_source(const Txn& txn,
                                                               std::string_view source,
                                                               std::size_t limit) const {
  std::vector<Task> out;
  STORE_TRY(detail::for_each_prefix(
      txn, dbs_->tasks_by_source, KeyWriter().str(source).bytes(),
      [&](std::string_view key, std::string_view) -> std::expected<bool, Error> {
        STORE_ASSIGN(auto t, get(txn, KeyReader(key.substr(key.size() - 8)).u64()));
        if (!t) return std::unexpected(detail::corrupt("task index entry without its task"));
        out.push_back(std::move(*t));
        return limit == 0 || out.size() < limit;
      }));
  return out;
}

std::expected<TaskCounts, Error> Tasks::counts(const Txn& txn) const {
  TaskCounts counts{};
  for (std::size_t i = 0; i < kTaskStateCount; ++i) {
    STORE_ASSIGN(counts[i],
                 detail::read_u64(txn, dbs_->counters, counter_key(static_cast<TaskState>(i))));
  }
  return counts;
}

}  // namespace store

// ---- migrations and verify ----

namespace store::detail {

std::expected<void, Error> rebuild_task_counters(WriteTxn& txn, const Dbs& dbs) {
  TaskCounts counts{};
  STORE_TRY(for_each_prefix(
      txn, dbs.tasks, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        STORE_ASSIGN(Stored s, decode(KeyReader(key).u64(), value));
        counts[static_cast<std::size_t>(s.task.state)] += 1;
        return true;
      }));
  for (std::size_t i = 0; i < kTaskStateCount; ++i) {
    std::string key = counter_key(static_cast<TaskState>(i));
    if (counts[i] == 0) {
      STORE_TRY(txn.del(dbs.counters, key));
    } else {
      STORE_TRY(write_u64(txn, dbs.counters, key, counts[i]));
    }
  }
  return {};
}

std::expected<void, Error> verify_tasks(const Txn& txn, const Dbs& dbs, VerifyReport& report) {
  TaskCounts counts{};
  std::uint64_t tasks = 0, delayed = 0, leased = 0;
  STORE_TRY(for_each_prefix(
      txn, dbs.tasks, "",
      [&](std::string_view key, std::string_view value) -> std::expected<bool, Error> {
        ++tasks;
        std::uint64_t id = KeyReader(key).u64();
        std::string item = "task " + std::to_string(id);
        auto s = decode(id, value);
        if (!s) {
          add_damage(report, item, "cannot be decoded");
          return true;
        }
        const Task& t = s->task;
        counts[static_cast<std::size_t>(t.state)] += 1;
        STORE_ASSIGN(auto in_state, txn.get(dbs.tasks_by_state, state_key(*s)));
        if (!in_state) add_damage(report, item, "is missing from index tasks_by_state");
        STORE_ASSIGN(auto in_source,
                     txn.get(dbs.tasks_by_source, KeyWriter().str(t.source).u64(id).bytes()));
        if (!in_source) add_damage(report, item, "is missing from index tasks_by_source");
        if (s->delayed) {
          ++delayed;
          STORE_ASSIGN(auto in_delayed,
                       txn.get(dbs.tasks_delayed, KeyWriter().time(t.not_before).u64(id).bytes()));
          if (!in_delayed) add_damage(report, item, "is missing from index tasks_delayed");
        }
        if (t.state == TaskState::kInProgress && t.lease_expiry) {
          ++leased;
          STORE_ASSIGN(auto in_leases, txn.get(dbs.tasks_leases,
                                               KeyWriter().time(*t.lease_expiry).u64(id).bytes()));
          if (!in_leases) add_damage(report, item, "is missing from index tasks_leases");
        }
        return true;
      }));
  report.checked["tasks"] = tasks;
  STORE_TRY(check_index_size(txn, dbs.tasks_by_state, "tasks_by_state", tasks, report));
  STORE_TRY(check_index_size(txn, dbs.tasks_by_source, "tasks_by_source", tasks, report));
  STORE_TRY(check_index_size(txn, dbs.tasks_delayed, "tasks_delayed", delayed, report));
  STORE_TRY(check_index_size(txn, dbs.tasks_leases, "tasks_leases", leased, report));
  for (std::size_t i = 0; i < kTaskStateCount; ++i) {
    std::string key = counter_key(static_cast<TaskState>(i));
    STORE_ASSIGN(std::uint64_t counted, read_u64(txn, dbs.counters, key));
    if (counted != counts[i]) {
      add_damage(report, "counter " + key,
                 "says " + std::to_string(counted) + ", there are " + std::to_string(counts[i]));
    }
  }
  return {};
}

}  // namespace store::detail
