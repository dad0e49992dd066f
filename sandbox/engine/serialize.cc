// Lua values -> JSON text, reading tables raw (no metamethod of the script's
// runs here) and enforcing the output limits as it goes.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/engine/context.h"
#include "sandbox/text/utf8.h"

namespace sandbox::engine {
namespace {

constexpr int kMaxDepth = 16;

void append_json_string(std::string& out, const char* s, std::size_t len) {
  static const char kHex[] = "0123456789abcdef";
  out += '"';
  const auto* p = reinterpret_cast<const unsigned char*>(s);
  std::size_t i = 0;
  while (i < len) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          if (c < 0x20) {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 15];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // Copy a well-formed UTF-8 sequence; replace anything else with U+FFFD.
    if (const std::size_t n = text::utf8_sequence(std::string_view(s + i, len - i)); n != 0) {
      out.append(s + i, n);
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  out += '"';
}

void append_number(std::string& out, double v) {
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
    out.append(buf, r.ptr);
  } else {
    // nlohmann's own shortest form ("0.0001", "1e+300"), so that the host
    // can pass a record's text on as it is (see sandbox/record_text.h).
    out.append(buf, nlohmann::detail::to_chars(buf, buf + sizeof buf, v));
  }
}

// Where a value sits in what was returned, spelled out only for an error
// message ("record 3 field 'tags'[2]"), not built for every field of every
// record.
struct Where {
  enum Kind { kValue, kRecord, kField, kItem };
  Kind kind = kValue;
  const Where* parent = nullptr;
  std::string_view field;  // kField
  std::size_t item = 0;    // kRecord, kItem: 1-based

  bool is_root() const { return kind == kValue || kind == kRecord; }
  std::string text() const {
    switch (kind) {
      case kValue:
        return "value";
      case kRecord:
        return "record " + std::to_string(item);
      case kField:
        return parent->text() + (parent->is_root() ? " field '" + std::string(field) + "'"
                                                   : "." + std::string(field));
      case kItem:
        return parent->text() + "[" + std::to_string(item) + "]";
    }
    return {};
  }
};

class Writer {
 public:
  Writer(lua_State* L, const Limits* limits, std::string& out)
      : L_(L), limits_(limits), out_(out) {}

  // Writes the value at `index`; `where` names it in error messages.
  bool write(int index, const Where& where, int depth, bool as_object) {
    const int t = lua_type(L_, index);
    switch (t) {
      case LUA_TSTRING: {
        std::size_t len = 0;
        const char* s = lua_tolstring(L_, index, &len);
        if (limits_ != nullptr && len > limits_->max_string_bytes) {
          return fail(ErrorKind::kOutput, where.text() + ": a string of " + std::to_string(len) +
                                              " bytes passes the limit of " +
                                              std::to_string(limits_->max_string_bytes) +
                                              " bytes per string");
        }
        append_json_string(out_, s, len);
        return true;
      }
      case LUA_TNUMBER: {
        const double v = lua_tonumber(L_, index);
        if (!std::isfinite(v)) {
          if (limits_ == nullptr) return out_ += "null", true;
          return fail(ErrorKind::kRuntime, where.text() + ": " +
                                               (std::isnan(v) ? "NaN" : "an infinite number") +
                                               " cannot be returned (JSON has no such number)");
        }
        append_number(out_, v);
        return true;
      }
      case LUA_TBOOLEAN:
        out_ += lua_toboolean(L_, index) ? "true" : "false";
        return true;
      case LUA_TTABLE:
        return write_table(index, where, depth, as_object);
      case LUA_TNIL:
        out_ += "null";
        return true;
      default:
        if (limits_ == nullptr) return out_ += "null", true;
        return fail(ErrorKind::kRuntime, where.text() + ": a " + lua_typename(L_, t) +
                                             " cannot be returned (only strings, numbers, "
                                             "booleans and lists of them)");
    }
  }

  Error error;

 private:
  bool fail(ErrorKind kind, std::string message) {
    error = {kind, std::move(message)};
    return false;
  }

  bool write_table(int index, const Where& where, int depth, bool as_object) {
    if (index < 0) index += lua_gettop(L_) + 1;
    const void* id = lua_topointer(L_, index);
    if (depth > kMaxDepth || std::find(path_.begin(), path_.end(), id) != path_.end()) {
      if (limits_ == nullptr) return out_ += "null", true;
      return fail(ErrorKind::kRuntime,
                  where.text() +
                      (depth > kMaxDepth ? ": tables nested deeper than 16 levels"
                                         : ": a table that contains itself (a cycle)") +
                      " cannot be returned");
    }
    if (!lua_checkstack(L_, 6)) {
      return fail(ErrorKind::kRuntime, where.text() + ": nested too deeply");
    }
    const std::size_t n = lua_objlen(L_, index);
    std::size_t entries = 0;
    bool string_keys_only = true;
    lua_pushnil(L_);
    while (lua_next(L_, index) != 0) {
      ++entries;
      if (lua_type(L_, -2) != LUA_TSTRING) string_keys_only = false;
      lua_pop(L_, 1);
    }
    path_.push_back(id);
    bool ok = true;
    if (entries == 0) {
      out_ += as_object ? "{}" : "[]";
    } else if (!as_object && n == entries) {
      out_ += '[';
      for (std::size_t i = 1; ok && i <= n; ++i) {
        if (i > 1) out_ += ',';
        lua_rawgeti(L_, index, static_cast<int>(i));
        const Where item{Where::kItem, &where, {}, i};
        ok = write(-1, item, depth + 1, false);
        lua_pop(L_, 1);
      }
      out_ += ']';
    } else if (string_keys_only) {
      // The keys are the table's own strings, alive while it is on the stack.
      std::vector<std::string_view> keys;
      keys.reserve(entries);
      lua_pushnil(L_);
      while (lua_next(L_, index) != 0) {
        std::size_t len = 0;
        const char* k = lua_tolstring(L_, -2, &len);  // a string: no conversion in place
        keys.emplace_back(k, len);
        lua_pop(L_, 1);
      }
      std::sort(keys.begin(), keys.end());  // byte order, as nlohmann's objects sort
      out_ += '{';
      for (std::size_t i = 0; ok && i < keys.size(); ++i) {
        if (i > 0) out_ += ',';
        append_json_string(out_, keys[i].data(), keys[i].size());
        out_ += ':';
        lua_pushlstring(L_, keys[i].data(), keys[i].size());
        lua_rawget(L_, index);
        const Where field{Where::kField, &where, keys[i], 0};
        ok = write(-1, field, depth + 1, false);
        lua_pop(L_, 1);
      }
      out_ += '}';
    } else if (limits_ == nullptr) {
      // Descriptions may use sparse lists ({ [3] = {...} }): keys as text.
      std::vector<std::pair<std::string, int>> keys;
      lua_pushnil(L_);
      while (lua_next(L_, index) != 0) {
        const int kt = lua_type(L_, -2);
        if (kt == LUA_TSTRING) {
          std::size_t len = 0;
          const char* k = lua_tolstring(L_, -2, &len);
          keys.emplace_back(std::string(k, len), 0);
        } else if (kt == LUA_TNUMBER) {
          std::string k;
          append_number(k, lua_tonumber(L_, -2));
          keys.emplace_back(k, 1);
        }
        lua_pop(L_, 1);
      }
      std::sort(keys.begin(), keys.end());
      out_ += '{';
      for (std::size_t i = 0; ok && i < keys.size(); ++i) {
        if (i > 0) out_ += ',';
        append_json_string(out_, keys[i].first.data(), keys[i].first.size());
        out_ += ':';
        if (keys[i].second) {
          lua_pushnumber(L_, std::strtod(keys[i].first.c_str(), nullptr));
        } else {
          lua_pushlstring(L_, keys[i].first.data(), keys[i].first.size());
        }
        lua_rawget(L_, index);
        ok = write(-1, where, depth + 1, false);
        lua_pop(L_, 1);
      }
      out_ += '}';
    } else {
      ok =
          fail(ErrorKind::kRuntime,
               where.text() + (as_object ? ": field names must be strings"
                                         : ": a table mixing list items and named fields cannot be "
                                           "returned"));
    }
    path_.pop_back();
    return ok;
  }

  lua_State* L_;
  const Limits* limits_;  // null: lenient mode for descriptions
  std::string& out_;
  std::vector<const void*> path_;
};

}  // namespace

bool records_to_json(lua_State* L, int index, const Limits& limits, std::string& out,
                     std::uint64_t& count, Error& error) {
  if (index < 0) index += lua_gettop(L) + 1;
  if (lua_type(L, index) != LUA_TTABLE) {
    error = {ErrorKind::kRuntime,
             std::string("parse() must return a list of records (a table), got ") +
                 lua_typename(L, lua_type(L, index))};
    return false;
  }
  const std::size_t n = lua_objlen(L, index);
  std::size_t entries = 0;
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    ++entries;
    lua_pop(L, 1);
  }
  if (entries != n) {
    error = {ErrorKind::kRuntime,
             "parse() must return a list of records (keys 1..n); the table it returned has "
             "other keys or holes"};
    return false;
  }
  if (n > limits.max_records) {
    error = {ErrorKind::kOutput, "parse() returned " + std::to_string(n) +
                                     " records; the limit is " +
                                     std::to_string(limits.max_records) + " per page"};
    return false;
  }
  out.clear();
  out += '[';
  Writer writer(L, &limits, out);
  for (std::size_t i = 1; i <= n; ++i) {
    if (i > 1) out += ',';
    lua_rawgeti(L, index, static_cast<int>(i));
    const Where where{Where::kRecord, nullptr, {}, i};
    if (lua_type(L, -1) != LUA_TTABLE) {
      error = {ErrorKind::kRuntime, where.text() + " is a " + lua_typename(L, lua_type(L, -1)) +
                                        ", not a table of fields"};
      lua_pop(L, 1);
      return false;
    }
    const bool ok = writer.write(-1, where, 0, true);
    lua_pop(L, 1);
    if (!ok) {
      error = writer.error;
      return false;
    }
    if (out.size() > limits.max_output_bytes) {
      error = {ErrorKind::kOutput, "the records pass the output limit of " +
                                       std::to_string(limits.max_output_bytes) + " bytes"};
      return false;
    }
  }
  out += ']';
  count = n;
  return true;
}

std::string value_to_json(lua_State* L, int index) {
  std::string out;
  Writer writer(L, nullptr, out);
  const Where where{Where::kValue, nullptr, {}, 0};
  if (!writer.write(index, where, 0, false)) return "null";
  return out;
}

}  // namespace sandbox::engine
