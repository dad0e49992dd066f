#include "host/lifecycle/dropin.h"

#include <algorithm>
#include <optional>

#include <nlohmann/json.hpp>

#include "host/config/effective.h"
#include "host/lifecycle/validation.h"
#include "host/util/files.h"

namespace host::lifecycle {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string version_of(std::uint32_t number, const std::string& source) {
  return "version " + std::to_string(number) + " of " + source;
}

// The failing checks on one line.
std::string one_line(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  for (std::size_t pos = 0; (pos = text.find('\n', pos)) != std::string::npos;) {
    text.replace(pos, 1, "; ");
  }
  return text;
}

// Whether `name` is an existing source; an invalid name is no source.
std::expected<bool, std::string> source_exists(const store::Store& st, const std::string& name) {
  if (!store::check_source_name(name)) return false;
  auto txn = st.read();
  if (!txn) return std::unexpected(txn.error().message);
  auto s = st.sources().get(*txn, name);
  if (!s) return std::unexpected(s.error().message);
  return s->has_value();
}

std::expected<std::optional<std::uint32_t>, std::string> existing_version(
    const store::Store& st, const std::string& source, const store::Sha256Digest& sha) {
  auto txn = st.read();
  if (!txn) return std::unexpected(txn.error().message);
  auto n = st.versions().find_by_sha(*txn, source, sha);
  if (!n) return std::unexpected(n.error().message);
  return *n;
}

std::string unknown_source_detail(const fs::path& file, const std::string& source) {
  if (auto ok = store::check_source_name(source); !ok) {
    return "'" + source + "' cannot name a source (" + ok.error().message +
           "); name the file SOURCE.lua after the source it is for";
  }
  return "there is no source '" + source + "'; add it first with 'host add URL --name " + source +
         " --parser " + file.string() + "'";
}

// Stages a file whose content no version of `source` has, validates it,
// stores the report and promotes it if it passed and dropin.mode allows.
DropinOutcome stage_and_validate(store::Store& st, sandbox::Sandbox& box, const fs::path& file,
                                 const std::string& source, const std::string& script,
                                 const store::Sha256Digest& sha) {
  DropinOutcome out{file, source, DropinAction::kError, 0, ""};
  std::error_code ec;
  const fs::path absolute = fs::absolute(file, ec);
  const std::string origin = (ec ? file : absolute).lexically_normal().string();

  // The digest is checked again inside the write: another process scanning
  // the same directory may have staged the file meanwhile.
  struct Staged {
    std::uint32_t number = 0;
    bool is_new = false;
  };
  auto staged = st.update([&](store::WriteTxn& txn) -> std::expected<Staged, store::Error> {
    auto same = st.versions().find_by_sha(txn, source, sha);
    if (!same) return std::unexpected(same.error());
    if (*same) return Staged{**same, false};
    store::NewParserVersion v;
    v.script = script;
    v.author = {store::AuthorKind::kHuman, ""};
    v.note = "drop-in " + file.filename().string();
    v.origin = origin;
    v.created_at = store::now();
    auto n = st.versions().add(txn, source, v);
    if (!n) return std::unexpected(n.error());
    return Staged{*n, true};
  });
  if (!staged) {
    out.detail = "could not stage it for " + source + ": " + staged.error().message;
    return out;
  }
  out.version = staged->number;
  if (!staged->is_new) {
    out.action = DropinAction::kUnchanged;
    out.detail = "identical to " + version_of(out.version, source);
    return out;
  }
  const std::string staged_as = "staged as " + version_of(out.version, source);

  // A promotion may replace only the version that was active while this one
  // was compared with it.
  std::optional<std::uint32_t> active_before;
  {
    auto txn = st.read();
    if (!txn) {
      out.detail = staged_as + ", but could not read the store: " + txn.error().message;
      return out;
    }
    auto a = st.versions().active_number(*txn, source);
    if (!a) {
      out.detail = staged_as + ", but could not read the store: " + a.error().message;
      return out;
    }
    active_before = *a;
  }

  auto report = validate_version(st, box, source, out.version, validation_options(st, source));
  json report_json;
  std::string why;
  if (report) {
    report_json = report->to_json();
    why = one_line(report->failures());
  } else {
    // Nothing to validate against (or the store failed): recorded as a
    // failed check so that `host versions` says why it is not active.
    report_json = {
        {"passed", false},
        {"version", out.version},
        {"checks",
         json::array({{{"name", "validation"}, {"passed", false}, {"detail", report.error()}}})}};
    why = "validation: " + report.error();
  }
  const bool passed = report && report->passed;

  std::string mode;
  std::optional<std::uint32_t> active_now;
  auto done = st.update([&](store::WriteTxn& txn) -> std::expected<DropinAction, store::Error> {
    auto saved = st.versions().set_validation_report(txn, source, out.version, report_json.dump());
    if (!saved) return std::unexpected(saved.error());
    if (!passed) return DropinAction::kFailed;
    mode = config::value_for(st, txn, "dropin.mode", "");
    if (mode != "promote") return DropinAction::kStaged;
    auto a = st.versions().active_number(txn, source);
    if (!a) return std::unexpected(a.error());
    active_now = *a;
    if (active_now != active_before) return DropinAction::kStaged;
    auto promoted = st.versions().promote(txn, source, out.version, store::now());
    if (!promoted) return std::unexpected(promoted.error());
    return DropinAction::kPromoted;
  });
  if (!done) {
    out.detail = staged_as + ", but could not record its validation: " + done.error().message;
    return out;
  }
  out.action = *done;
  const std::string retry = "'host promote " + source + " " + std::to_string(out.version) + "'";
  switch (out.action) {
    case DropinAction::kPromoted:
      out.detail = staged_as + "; validation passed; now active" +
                   (active_before ? " (version " + std::to_string(*active_before) + " retired)"
                                  : std::string());
      break;
    case DropinAction::kStaged:
      out.detail = mode != "promote"
                       ? staged_as + "; validation passed; not promoted because dropin.mode is '" +
                             mode + "' (promote it with " + retry + ")"
                       : staged_as + "; validation passed, but the active version changed while " +
                             "it ran; validate it again with 'host validate " + source + " " +
                             std::to_string(out.version) + "', then " + retry;
      break;
    default:
      out.detail =
          staged_as + "; validation failed, so it stays staged" +
          (active_before ? " and version " + std::to_string(*active_before) + " stays active"
                         : std::string()) +
          ": " + why;
      break;
  }
  return out;
}

}  // namespace

std::string_view to_string(DropinAction action) {
  switch (action) {
    case DropinAction::kUnchanged:
      return "unchanged";
    case DropinAction::kUnknownSource:
      return "unknown-source";
    case DropinAction::kPromoted:
      return "promoted";
    case DropinAction::kStaged:
      return "staged";
    case DropinAction::kFailed:
      return "failed";
    case DropinAction::kError:
      return "error";
  }
  return "error";
}

bool DropinScan::ok() const {
  return std::none_of(files.begin(), files.end(),
                      [](const DropinOutcome& f) { return f.action == DropinAction::kError; });
}

std::expected<DropinScan, std::string> scan_dropins(store::Store& st, sandbox::Sandbox& box,
                                                    const fs::path& dir, DropinCache& cache,
                                                    const LogFn& log) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    return std::unexpected("the scripts directory '" + dir.string() +
                           "' does not exist; create it or pass --scripts DIR");
  }
  if (!fs::is_directory(dir, ec)) {
    return std::unexpected("'" + dir.string() +
                           "' is not a directory; pass the scripts directory with --scripts DIR");
  }
  std::vector<fs::path> files;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code file_ec;
    if (it->path().extension() == ".lua" && it->is_regular_file(file_ec)) {
      files.push_back(it->path());
    }
  }
  if (ec) return std::unexpected("cannot list '" + dir.string() + "': " + ec.message());
  std::sort(files.begin(), files.end());

  // Forget files that are gone.
  std::map<std::string, DropinCache::Entry> entries;
  for (const fs::path& file : files) {
    if (auto e = cache.entries_.find(file.string()); e != cache.entries_.end()) {
      entries.insert(*e);
    }
  }
  cache.entries_ = std::move(entries);

  DropinScan scan;
  for (const fs::path& file : files) {
    DropinCache::Entry& e = cache.entries_[file.string()];
    DropinOutcome out{file, file.stem().string(), DropinAction::kError, 0, ""};
    auto report = [&](DropinOutcome o) {
      if (o.action == DropinAction::kError) {
        // A lasting error (an unreadable file) is logged once, not every scan.
        const bool again = o.detail == e.last_error;
        e = DropinCache::Entry{};
        e.last_error = o.detail;
        if (again) {
          scan.files.push_back(std::move(o));
          return;
        }
      } else {
        e.last_error.clear();
      }
      if (o.action != DropinAction::kUnchanged && log) {
        log("drop-in " + o.file.string() + ": " + o.detail);
      }
      scan.files.push_back(std::move(o));
    };

    // Stat before reading: a write racing the read changes the stat again.
    std::error_code mtime_ec, size_ec;
    const auto mtime = fs::last_write_time(file, mtime_ec);
    const auto size = fs::file_size(file, size_ec);
    if (mtime_ec || size_ec) {
      out.detail = "cannot stat it: " + (mtime_ec ? mtime_ec : size_ec).message();
      report(std::move(out));
      continue;
    }
    const bool same_stat = (e.handled || e.unknown) && e.mtime == mtime && e.size == size;
    if (same_stat && e.handled) {
      out.action = DropinAction::kUnchanged;
      out.version = e.version;
      out.detail = "identical to " + version_of(e.version, out.source);
      report(std::move(out));
      continue;
    }
    auto exists = source_exists(st, out.source);
    if (!exists) {
      out.detail = "could not read the store: " + exists.error();
      report(std::move(out));
      continue;
    }
    if (same_stat && e.unknown && !*exists) {
      out.action = DropinAction::kUnknownSource;
      out.detail = unknown_source_detail(file, out.source);
      scan.files.push_back(std::move(out));  // logged when first seen
      continue;
    }

    auto script = util::read_file(file.string());
    if (!script) {
      out.detail = script.error();
      report(std::move(out));
      continue;
    }
    const store::Sha256Digest sha = store::sha256(*script);
    if (sha != e.sha) e.logged = false;
    e.mtime = mtime;
    e.size = size;
    e.sha = sha;
    e.handled = e.unknown = false;
    if (!*exists) {
      e.unknown = true;
      out.action = DropinAction::kUnknownSource;
      out.detail = unknown_source_detail(file, out.source);
      if (e.logged) {
        scan.files.push_back(std::move(out));
      } else {
        e.logged = true;
        report(std::move(out));
      }
      continue;
    }
    auto known = existing_version(st, out.source, sha);
    if (!known) {
      out.detail = "could not read the store: " + known.error();
      report(std::move(out));
      continue;
    }
    if (*known) {
      e.handled = true;
      e.version = **known;
      out.action = DropinAction::kUnchanged;
      out.version = e.version;
      out.detail = "identical to " + version_of(e.version, out.source);
      report(std::move(out));
      continue;
    }
    DropinOutcome result = stage_and_validate(st, box, file, out.source, *script, sha);
    if (result.action != DropinAction::kError) {
      e.handled = true;
      e.version = result.version;
    }
    report(std::move(result));
  }
  return scan;
}

}  // namespace host::lifecycle
