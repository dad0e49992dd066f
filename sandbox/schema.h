// A parser's declared schema, and the check every returned record must pass.
#pragma once

#include <nlohmann/json.hpp>

#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/error.h"
#include "sandbox/outcome.h"

namespace sandbox {

enum class FieldType { kString, kNumber, kInteger, kBoolean, kUrl, kDatetime, kList };

std::string_view to_string(FieldType type);

struct FieldSpec {
  std::string name;
  FieldType type = FieldType::kString;
  bool required = false;
};

struct Schema {
  std::vector<FieldSpec> fields;  // sorted by name
  std::vector<std::string> key;   // fields that identify a record (may be empty)

  // Reads the `schema` and `key` of a parser description:
  //   schema = { title = { type = "string", required = true }, price = "number" }
  // Errors (kind kSchema) name the field and list the accepted types.
  static std::expected<Schema, Error> from_description(const nlohmann::json& parser);

  const FieldSpec* find(std::string_view name) const;

  // Checks one record; returns the first problem found, if any. A record with
  // a field the schema does not declare is rejected too (it catches typos).
  std::optional<Rejected> check(const nlohmann::json& record, std::size_t index) const;

  // The record's key as text ("url=http://..."), or "" when the schema has
  // no key; fields are joined with '\x1f'.
  std::string record_key(const nlohmann::json& record) const;
};

}  // namespace sandbox
