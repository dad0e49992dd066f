#include "sandbox/schema.h"

#include <algorithm>
#include <cmath>

#include "sandbox/text/text.h"
#include "sandbox/text/url.h"

namespace sandbox {
namespace {

struct TypeName {
  std::string_view name;
  FieldType type;
};
constexpr TypeName kTypes[] = {
    {"string", FieldType::kString},   {"number", FieldType::kNumber},
    {"integer", FieldType::kInteger}, {"boolean", FieldType::kBoolean},
    {"url", FieldType::kUrl},         {"datetime", FieldType::kDatetime},
    {"list", FieldType::kList},
};
constexpr std::string_view kTypeList = "string, number, integer, boolean, url, datetime, list";

std::string render(const nlohmann::json& v) {
  std::string kind;
  switch (v.type()) {
    case nlohmann::json::value_t::string:
      kind = "string ";
      break;
    case nlohmann::json::value_t::boolean:
      kind = "boolean ";
      break;
    case nlohmann::json::value_t::array:
      kind = "list ";
      break;
    case nlohmann::json::value_t::object:
      kind = "table ";
      break;
    case nlohmann::json::value_t::null:
      return "nothing";
    default:
      kind = "number ";
      break;
  }
  std::string text = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return kind + text;
}

Error schema_error(std::string message) { return {ErrorKind::kSchema, std::move(message)}; }

}  // namespace

std::string_view to_string(FieldType type) {
  for (const auto& t : kTypes) {
    if (t.type == type) return t.name;
  }
  return "string";
}

std::string Rejected::to_string() const {
  return "record " + std::to_string(index + 1) + ": field '" + field + "': expected " + expected +
         ", got " + got;
}

std::expected<Schema, Error> Schema::from_description(const nlohmann::json& parser) {
  Schema schema;
  if (!parser.is_object()) return std::unexpected(schema_error("the parser has no description"));
  const auto it = parser.find("schema");
  if (it == parser.end() || !it->is_object() || it->empty()) {
    return std::unexpected(schema_error(
        "the parser declares no schema: add schema = { field = { type = \"string\" }, ... } to "
        "sdk.BaseParser:extend{...}"));
  }
  for (const auto& [name, spec] : it->items()) {
    FieldSpec field;
    field.name = name;
    std::string type_name;
    if (spec.is_string()) {
      type_name = spec.get<std::string>();
    } else if (spec.is_object()) {
      const auto t = spec.find("type");
      if (t == spec.end() || !t->is_string()) {
        return std::unexpected(schema_error("schema field '" + name +
                                            "' has no type: write { type = \"string\" } (one of " +
                                            std::string(kTypeList) + ")"));
      }
      type_name = t->get<std::string>();
      const auto r = spec.find("required");
      if (r != spec.end()) {
        if (!r->is_boolean()) {
          return std::unexpected(
              schema_error("schema field '" + name + "': required must be true or false"));
        }
        field.required = r->get<bool>();
      }
    } else {
      return std::unexpected(schema_error("schema field '" + name +
                                          "' must be a type name or a table { type = ... }"));
    }
    bool known = false;
    for (const auto& t : kTypes) {
      if (t.name == type_name) {
        field.type = t.type;
        known = true;
      }
    }
    if (!known) {
      return std::unexpected(schema_error("schema field '" + name + "' has unknown type '" +
                                          type_name + "'; use one of " + std::string(kTypeList)));
    }
    schema.fields.push_back(std::move(field));
  }
  std::sort(schema.fields.begin(), schema.fields.end(),
            [](const FieldSpec& a, const FieldSpec& b) { return a.name < b.name; });
  const auto key = parser.find("key");
  if (key != parser.end() && !key->is_null()) {
    const bool list_of_strings =
        key->is_array() && std::all_of(key->begin(), key->end(),
                                       [](const nlohmann::json& k) { return k.is_string(); });
    if (key->is_string()) {
      schema.key.push_back(key->get<std::string>());
    } else if (list_of_strings) {
      for (const auto& k : *key) schema.key.push_back(k.get<std::string>());
    } else if (!(key->is_array() && key->empty()) && !(key->is_object() && key->empty())) {
      return std::unexpected(schema_error("key must be a list of field names, e.g. { \"url\" }"));
    }
    for (const auto& k : schema.key) {
      if (schema.find(k) == nullptr) {
        return std::unexpected(schema_error("key field '" + k + "' is not declared in the schema"));
      }
    }
  }
  return schema;
}

const FieldSpec* Schema::find(std::string_view name) const {
  auto it = std::lower_bound(fields.begin(), fields.end(), name,
                             [](const FieldSpec& f, std::string_view n) { return f.name < n; });
  return it != fields.end() && it->name == name ? &*it : nullptr;
}

std::optional<Rejected> Schema::check(const nlohmann::json& record, std::size_t index) const {
  auto reject = [&](const std::string& field, std::string expected, std::string got) {
    return Rejected{index, field, std::move(expected), std::move(got), record};
  };
  if (!record.is_object()) return reject("", "a table of fields", render(record));
  for (const FieldSpec& f : fields) {
    const auto it = record.find(f.name);
    if (it == record.end() || it->is_null()) {
      if (f.required)
        return reject(f.name, "a " + std::string(to_string(f.type)) + " (required)", "nothing");
      continue;
    }
    const nlohmann::json& v = *it;
    switch (f.type) {
      case FieldType::kString:
        if (!v.is_string()) return reject(f.name, "string", render(v));
        if (f.required && v.get_ref<const std::string&>().empty()) {
          return reject(f.name, "a non-empty string (required)", "an empty string");
        }
        break;
      case FieldType::kNumber:
        if (!v.is_number()) return reject(f.name, "number", render(v));
        break;
      case FieldType::kInteger:
        if (!v.is_number_integer() &&
            !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>())) {
          return reject(f.name, "integer", render(v));
        }
        break;
      case FieldType::kBoolean:
        if (!v.is_boolean()) return reject(f.name, "boolean", render(v));
        break;
      case FieldType::kUrl:
        if (!v.is_string() || !text::is_http_url(v.get_ref<const std::string&>())) {
          return reject(f.name, "absolute http(s) URL", render(v));
        }
        break;
      case FieldType::kDatetime:
        if (!v.is_string() || !text::is_iso8601(v.get_ref<const std::string&>())) {
          return reject(f.name, "ISO 8601 date or date-time (e.g. 2024-03-05T10:20:30Z)",
                        render(v));
        }
        break;
      case FieldType::kList: {
        const bool ok =
            v.is_array() &&
            std::all_of(v.begin(), v.end(), [](const nlohmann::json& e) { return e.is_string(); });
        if (!ok) return reject(f.name, "list of strings", render(v));
        break;
      }
    }
  }
  for (const auto& [name, value] : record.items()) {
    if (find(name) == nullptr) {
      return reject(name, "no such field (it is not declared in the schema)", render(value));
    }
  }
  return std::nullopt;
}

std::string Schema::record_key(const nlohmann::json& record) const {
  std::string out;
  for (std::size_t i = 0; i < key.size(); ++i) {
    if (i > 0) out += '\x1f';
    const auto it = record.find(key[i]);
    if (it == record.end()) continue;
    out += it->is_string() ? it->get<std::string>() : it->dump();
  }
  return out;
}

}  // namespace sandbox
