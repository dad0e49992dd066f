// Validating a parser version before it may replace the active one: it runs
// in the sandbox over the source's latest stored pages and is compared with
// the active version on the same pages, and it must pass the example pages
// it declares (read beside the file it was staged from, its origin).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/sandbox.h"
#include "store/store.h"

namespace host::lifecycle {

struct ValidationOptions {
  std::size_t snapshots = 5;       // validate.snapshots
  double min_schema_ratio = 0.95;  // validate.min_schema_ratio
  double count_tolerance = 0.8;    // validate.count_tolerance
};

struct Check {
  // "loads"; with a declared `source` field, "source"; with stored pages,
  // "pages_parse", "schema_ratio", "required_fields" and (with an active
  // version) "record_count"; with declared examples, "examples".
  std::string name;
  bool passed = false;
  std::string detail;  // for a human: what was measured against what
};

struct ValidationReport {
  bool passed = false;
  std::uint32_t version = 0;
  std::optional<std::uint32_t> compared_with;  // the active version, if any
  std::size_t pages = 0;                       // stored pages run
  std::size_t examples = 0;                    // declared examples run
  std::uint64_t records = 0;
  std::uint64_t rejected = 0;
  std::uint64_t active_records = 0;
  std::vector<Check> checks;
  // Versus the active version, by record key.
  std::vector<std::string> added, removed, changed;

  nlohmann::json to_json() const;
  // The failing checks, one line each ("record_count: 12 records, the active
  // version returns 20 (at least 16 needed)").
  std::string failures() const;
};

// Reads the options from the store's settings for `source`.
ValidationOptions validation_options(const store::Store& st, const std::string& source);

// Validates `version` of `source`: loads it once (the "loads" check), runs
// it and the active version over the latest stored pages, and runs the
// examples it declares from the directory of its origin file (a missing
// origin or page file fails the "examples" check, saying to stage the version
// again from its directory). A source with no stored pages is validated on
// its examples alone. Errors are for what prevents validating at all (no such
// version; no stored pages and no examples in a script that loads; the store
// fails); a version that fails its checks is a report with passed == false.
// Thread safety: safe to call concurrently (the sandbox and store are).
std::expected<ValidationReport, std::string> validate_version(const store::Store& st,
                                                              sandbox::Sandbox& box,
                                                              const std::string& source,
                                                              std::uint32_t version,
                                                              const ValidationOptions& options);

}  // namespace host::lifecycle
