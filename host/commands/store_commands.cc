// host records | backup | restore | verify: reading the store out, and
// keeping it safe.
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "host/cli/cli.h"
#include "host/cli/open_store.h"
#include "host/util/atomic_file.h"
#include "host/util/time_format.h"
#include "store/sha256.h"

namespace host::cli {
namespace {

using nlohmann::json;

struct RecordsArgs {
  std::string source;
  std::string layer = "silver";
  std::string format = "jsonl";
  std::string since;
  std::string out;
};

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

std::string csv_value(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return csv_field(v.get<std::string>());
  return csv_field(v.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Where the export goes: stdout, or an atomic file with a .sha256 beside it.
class Sink {
 public:
  static std::expected<Sink, std::string> open(const std::string& path) {
    Sink s;
    if (!path.empty()) {
      auto f = util::AtomicFile::create(path);
      if (!f) return std::unexpected(f.error());
      s.file_ = std::make_unique<util::AtomicFile>(std::move(*f));
      s.path_ = path;
    }
    return s;
  }
  void write(std::string_view data) {
    if (file_) {
      file_->write(data);
    } else {
      std::cout << data;
    }
  }
  std::expected<void, std::string> finish() {
    if (!file_) {
      std::cout.flush();
      return {};
    }
    if (auto r = file_->commit(); !r) return r;
    const std::string name = std::filesystem::path(path_).filename().string();
    return util::write_file_atomically(path_ + ".sha256", file_->sha256_hex() + "  " + name + "\n");
  }

 private:
  std::unique_ptr<util::AtomicFile> file_;
  std::string path_;
};

int run_records(const Globals& g, const RecordsArgs& a) {
  std::optional<store::Time> since;
  if (!a.since.empty()) {
    auto t = util::parse_time(a.since, store::now());
    if (!t) {
      std::cerr << "host records: --since: " << t.error() << "\n";
      return kExitUsage;
    }
    since = *t;
  }
  auto st = open_store(g, StoreMode::kRead);
  if (!st) return fail(st.error());
  auto txn = st->read();
  if (!txn) return fail(txn.error().message);
  auto src = st->sources().get(*txn, a.source);
  if (!src) return fail(src.error().message);
  if (!*src) return fail("no source named '" + a.source + "' ('host status' lists the sources)");
  auto sink = Sink::open(a.out);
  if (!sink) return fail(sink.error());

  std::uint64_t n = 0;
  if (a.layer == "silver") {
    store::SilverScanOptions options;
    options.changed_since = since;
    // CSV needs the columns first: collect them in a first pass.
    std::set<std::string> columns;
    if (a.format == "csv") {
      auto scan = st->silver().scan(*txn, a.source, options);
      if (!scan) return fail(scan.error().message);
      for (;;) {
        auto r = scan->next_record();
        if (!r) return fail(r.error().message);
        if (!*r) break;
        for (const auto& [k, v] : (*r)->data.items()) columns.insert(k);
      }
      std::string header;
      for (const auto& c : columns) header += csv_field(c) + ",";
      sink->write(header + "_key,_snapshot,_parser_version,_extracted_at,_revision\n");
    }
    auto scan = st->silver().scan(*txn, a.source, options);
    if (!scan) return fail(scan.error().message);
    for (;;) {
      auto r = scan->next_record();
      if (!r) return fail("cannot read silver records: " + r.error().message);
      if (!*r) break;
      const store::SilverRecord& rec = **r;
      if (a.format == "csv") {
        std::string line;
        for (const auto& c : columns) {
          const auto it = rec.data.find(c);
          line += (it == rec.data.end() ? std::string() : csv_value(*it)) + ",";
        }
        line += csv_field(rec.key) + "," + std::to_string(rec.lineage.snapshot_id) + "," +
                std::to_string(rec.lineage.parser_version) + "," +
                util::format_time(rec.lineage.extracted_at) + "," + std::to_string(rec.revision) +
                "\n";
        sink->write(line);
      } else {
        json j = rec.data;
        j["_key"] = rec.key;
        j["_snapshot"] = rec.lineage.snapshot_id;
        j["_parser_version"] = rec.lineage.parser_version;
        j["_extracted_at"] = util::format_time(rec.lineage.extracted_at);
        j["_revision"] = rec.revision;
        sink->write(dump(j) + "\n");
      }
      ++n;
    }
  } else {
    auto scan = st->bronze().scan(*txn, a.source, since);
    if (!scan) return fail(scan.error().message);
    if (a.format == "csv") sink->write("id,url,fetched_at,status,content_type,sha256,size\n");
    for (;;) {
      auto v = scan->next();
      if (!v) return fail("cannot read bronze snapshots: " + v.error().message);
      if (!*v) break;
      const store::Snapshot& s = (*v)->snapshot;
      if (a.format == "csv") {
        sink->write(std::to_string(s.id) + "," + csv_field(s.url) + "," +
                    util::format_time(s.fetched_at) + "," + std::to_string(s.status) + "," +
                    csv_field(s.content_type) + "," + store::to_hex(s.body_sha256) + "," +
                    std::to_string(s.body_size) + "\n");
      } else {
        json headers = json::array();
        for (const auto& h : s.headers) headers.push_back({h.name, h.value});
        sink->write(dump(json{{"id", s.id},
                              {"url", s.url},
                              {"fetched_at", util::format_time(s.fetched_at)},
                              {"status", s.status},
                              {"content_type", s.content_type},
                              {"headers", headers},
                              {"sha256", store::to_hex(s.body_sha256)},
                              {"size", s.body_size},
                              {"body", std::string((*v)->body)}}) +
                    "\n");
      }
      ++n;
    }
  }
  if (auto done = sink->finish(); !done) return fail(done.error());
  if (!a.out.empty()) {
    std::cerr << "wrote " << n << " " << a.layer << " record(s) to " << a.out << " (and " << a.out
              << ".sha256)\n";
  }
  return kExitOk;
}

int run_backup(const Globals& g, const std::string& file, bool force) {
  auto st = open_store(g, StoreMode::kRead);
  if (!st) return fail(st.error());
  store::BackupOptions options;
  options.overwrite = force;
  if (auto r = st->backup_to(file, options); !r) {
    std::string message = "backup failed: " + r.error().message;
    if (r.error().kind == store::ErrorKind::kExists) message += " (add --force to replace it)";
    return fail(message);
  }
  std::cout << "backed up " << g.data_dir << " to " << file << "\n";
  return kExitOk;
}

int run_restore(const Globals& g, const std::string& file) {
  if (auto r = store::restore(file, g.data_dir); !r) {
    return fail("restore refused: " + r.error().message);
  }
  std::cout << "restored " << file << " into " << g.data_dir << "\n";
  return kExitOk;
}

int run_verify(const Globals& g, bool as_json) {
  auto st = open_store(g, StoreMode::kRead);
  if (!st) return fail(st.error());
  auto report = st->verify();
  if (!report) return fail("verify could not read the store: " + report.error().message);
  if (as_json) {
    json damage = json::array();
    for (const auto& d : report->damage) {
      damage.push_back({{"item", d.item}, {"description", d.description}});
    }
    std::cout << json{{"ok", report->ok()}, {"checked", report->checked}, {"damage", damage}}.dump(
                     2)
              << "\n";
  } else {
    for (const auto& [what, count] : report->checked) {
      std::cout << "checked " << count << " " << what << "\n";
    }
    for (const auto& d : report->damage) {
      std::cerr << "damaged: " << d.item << ": " << d.description << "\n";
    }
    std::cout << (report->ok() ? "the store is intact\n"
                               : std::to_string(report->damage.size()) + " damaged item(s)\n");
  }
  return report->ok() ? kExitOk : kExitFailed;
}

}  // namespace

Command register_records(CLI::App& root, const Globals& globals) {
  auto a = std::make_shared<RecordsArgs>();
  CLI::App* app =
      root.add_subcommand("records", "Export a source's records (silver) or raw pages (bronze)");
  app->add_option("source", a->source, "Source name")->required();
  app->add_option("--layer", a->layer, "silver (typed records) or bronze (raw pages)")
      ->check(CLI::IsMember({"silver", "bronze"}));
  app->add_option("--format", a->format, "jsonl or csv")->check(CLI::IsMember({"jsonl", "csv"}));
  app->add_option("--since", a->since,
                  "Only what changed (silver) or was fetched (bronze) since: 2026-11-01, "
                  "2026-11-01T12:00:00Z, or 24h / 7d ago");
  app->add_option("--out", a->out,
                  "Write to FILE atomically (with FILE.sha256 beside it) instead of stdout");
  return Command{app, [a, &globals] { return run_records(globals, *a); }};
}

Command register_backup(CLI::App& root, const Globals& globals) {
  auto file = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  CLI::App* app = root.add_subcommand(
      "backup", "Write a consistent, compacted copy of the store (safe while the host runs)");
  app->add_option("file", *file, "Backup file to write")->required();
  app->add_flag("--force", *force, "Replace the file if it exists");
  return Command{app, [=, &globals] { return run_backup(globals, *file, *force); }};
}

Command register_restore(CLI::App& root, const Globals& globals) {
  auto file = std::make_shared<std::string>();
  CLI::App* app = root.add_subcommand(
      "restore", "Replace the store with a backup (refused while any process uses the store)");
  app->add_option("file", *file, "Backup file written by 'host backup'")->required();
  return Command{app, [=, &globals] { return run_restore(globals, *file); }};
}

Command register_verify(CLI::App& root, const Globals& globals) {
  auto as_json = std::make_shared<bool>(false);
  CLI::App* app = root.add_subcommand(
      "verify",
      "Check every bronze body against its SHA-256, every silver record's lineage and every "
      "index; exit 1 naming each damaged item");
  app->add_flag("--json", *as_json, "Print the report as JSON");
  return Command{app, [=, &globals] { return run_verify(globals, *as_json); }};
}

}  // namespace host::cli
