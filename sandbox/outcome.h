// What one run of a parser over one page produced.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/error.h"

namespace sandbox {

struct Usage {
  double cpu_ms = 0;              // CPU time the run used inside the sandbox
  double wall_ms = 0;             // wall time seen by the caller, IPC included
  std::uint64_t peak_memory = 0;  // peak of the run's memory budget, in bytes
};

// A record the parser returned that broke its schema.
struct Rejected {
  std::size_t index = 0;  // 0-based position in what parse() returned
  std::string field;      // the offending field
  std::string expected;   // "number", "absolute http(s) URL", "a value (required)"
  std::string got;        // a short rendering of what was there ("string \"£51.77\"")
  nlohmann::json record;  // the record as returned
  // "record 3: field 'price': expected number, got string \"£51.77\""
  std::string to_string() const;
};

struct RunOutcome {
  // Set when the run failed; records and rejects are then empty.
  std::optional<Error> error;
  // The parser's self-description: {"name", "schema", "key", "examples", ...}
  // as far as the script got before any failure (null if it never loaded).
  nlohmann::json parser = nullptr;
  std::vector<nlohmann::json> records;  // the records that passed the schema
  // The same, as text, when the run was asked for RecordForm::kText (and
  // `records` is then empty): each record as nlohmann's dump() writes it.
  std::vector<std::string> record_texts;
  std::vector<Rejected> rejects;  // the ones that did not
  std::string log;                // what the script print()ed, bounded
  Usage usage;

  bool ok() const { return !error.has_value(); }
};

}  // namespace sandbox
