#include "sandbox/record_text.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <string>

#include "sandbox/text/text.h"
#include "sandbox/text/url.h"
#include "sandbox/text/utf8.h"

namespace sandbox {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}

  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool eat(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  // A string as nlohmann writes it: raw UTF-8 except for '"', '\\' and the
  // control characters, which take the escapes nlohmann uses (\b \f \n \r
  // \t, else \u00xx in lower case). `raw` is the text between the quotes;
  // `escaped` tells whether it holds an escape.
  bool string(std::string_view& raw, bool& escaped) {
    if (!eat('"')) return false;
    const std::size_t start = i_;
    escaped = false;
    while (i_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        raw = s_.substr(start, i_ - start);
        ++i_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        escaped = true;
        if (i_ + 1 >= s_.size()) return false;
        switch (s_[i_ + 1]) {
          case '"':
          case '\\':
          case 'b':
          case 'f':
          case 'n':
          case 'r':
          case 't':
            i_ += 2;
            continue;
          case 'u':
            if (!control_escape(s_.substr(i_ + 2, 4))) return false;
            i_ += 6;
            continue;
          default:
            return false;
        }
      }
      if (c < 0x80) {
        ++i_;
        continue;
      }
      const std::size_t n = text::utf8_sequence(s_.substr(i_));
      if (n == 0) return false;
      i_ += n;
    }
    return false;
  }

  // A number as nlohmann writes it: an integer that it reads back as one,
  // or the shortest form its to_chars() gives.
  bool number(bool& integer, double& value) {
    const std::size_t start = i_;
    eat('-');
    if (eat('0')) {
      if (digit()) return false;
    } else if (!digits()) {
      return false;
    }
    integer = true;
    if (eat('.')) {
      integer = false;
      if (!digits()) return false;
    }
    if (eat('e') || eat('E')) {
      integer = false;
      if (!eat('+') && !eat('-')) return false;
      if (!digits()) return false;
    }
    const std::string_view token = s_.substr(start, i_ - start);
    const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (ec != std::errc() || end != token.data() + token.size() || !std::isfinite(value)) {
      return false;
    }
    if (integer) {
      return token != "-0" && std::fabs(value) < 9007199254740992.0;  // read back as an integer
    }
    char buf[64];
    const char* written = nlohmann::detail::to_chars(buf, buf + sizeof buf, value);
    return std::string_view(buf, static_cast<std::size_t>(written - buf)) == token;
  }

 private:
  // \u00xx for a control character that has no short escape.
  static bool control_escape(std::string_view hex) {
    if (hex.size() != 4 || hex[0] != '0' || hex[1] != '0') return false;
    const auto lower_hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
    if ((hex[2] != '0' && hex[2] != '1') || !lower_hex(hex[3])) return false;
    const int v = (hex[2] - '0') * 16 + (hex[3] <= '9' ? hex[3] - '0' : hex[3] - 'a' + 10);
    return v != '\b' && v != '\t' && v != '\n' && v != '\f' && v != '\r';
  }
  bool digit() const { return i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9'; }
  bool digits() {
    const std::size_t start = i_;
    while (digit()) ++i_;
    return i_ > start;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

// One field's value, as Schema::check would judge it.
bool value_passes(Cursor& c, const FieldSpec& f) {
  switch (c.peek()) {
    case 'n':
      return c.eat("null") && !f.required;  // null is absent
    case 't':
      return c.eat("true") && f.type == FieldType::kBoolean;
    case 'f':
      return c.eat("false") && f.type == FieldType::kBoolean;
    case '"': {
      std::string_view raw;
      bool escaped = false;
      if (!c.string(raw, escaped)) return false;
      switch (f.type) {
        case FieldType::kString:
          return !(f.required && raw.empty());
        case FieldType::kUrl:
          return !escaped && text::is_http_url(raw);
        case FieldType::kDatetime:
          return !escaped && text::is_iso8601(raw);
        default:
          return false;
      }
    }
    case '[': {
      if (f.type != FieldType::kList || !c.eat('[')) return false;
      if (c.eat(']')) return true;
      do {
        std::string_view raw;
        bool escaped = false;
        if (!c.string(raw, escaped)) return false;
      } while (c.eat(','));
      return c.eat(']');
    }
    default: {
      bool integer = false;
      double value = 0;
      if (!c.number(integer, value)) return false;
      if (f.type == FieldType::kNumber) return true;
      return f.type == FieldType::kInteger && (integer || std::floor(value) == value);
    }
  }
}

}  // namespace

std::optional<std::vector<std::string_view>> split_json_array(std::string_view json) {
  std::size_t i = 0;
  const std::size_t n = json.size();
  auto skip_space = [&] {
    while (i < n && is_space(json[i])) ++i;
  };
  skip_space();
  if (i >= n || json[i] != '[') return std::nullopt;
  ++i;
  skip_space();
  std::vector<std::string_view> out;
  if (i < n && json[i] == ']') {
    ++i;
    skip_space();
    if (i != n) return std::nullopt;
    return out;
  }
  std::string open;  // brackets and braces not yet closed, innermost last
  while (true) {
    const std::size_t start = i;
    while (i < n) {
      const char c = json[i];
      if (c == '"') {
        for (++i; i < n && json[i] != '"'; ++i) {
          if (json[i] == '\\') ++i;
        }
        if (i >= n) return std::nullopt;
        ++i;
        continue;
      }
      if (c == '[' || c == '{') {
        open += c;
      } else if (c == ']' || c == '}') {
        if (open.empty()) {
          if (c == ']') break;  // the end of the array
          return std::nullopt;
        }
        if (open.back() != (c == ']' ? '[' : '{')) return std::nullopt;
        open.pop_back();
      } else if (c == ',' && open.empty()) {
        break;
      }
      ++i;
    }
    if (i >= n) return std::nullopt;
    std::string_view element = json.substr(start, i - start);
    while (!element.empty() && is_space(element.front())) element.remove_prefix(1);
    while (!element.empty() && is_space(element.back())) element.remove_suffix(1);
    if (element.empty()) return std::nullopt;
    out.push_back(element);
    if (json[i++] == ']') break;
  }
  skip_space();
  if (i != n) return std::nullopt;
  return out;
}

bool passes_as_written(const Schema& schema, std::string_view record) {
  // Keys come in byte order, as schema.fields are sorted: walking both
  // together finds undeclared, repeated and missing fields with no lookup.
  const std::vector<FieldSpec>& fields = schema.fields;
  std::size_t next = 0;
  Cursor c(record);
  if (!c.eat('{')) return false;
  if (!c.eat('}')) {
    do {
      std::string_view key;
      bool escaped = false;
      if (!c.string(key, escaped) || escaped) return false;
      while (next < fields.size() && std::string_view(fields[next].name) < key) {
        if (fields[next++].required) return false;  // a required field is missing
      }
      // Not the next declared field: undeclared, repeated or out of order.
      if (next == fields.size() || fields[next].name != key) return false;
      const FieldSpec& field = fields[next++];
      if (!c.eat(':') || !value_passes(c, field)) return false;
    } while (c.eat(','));
    if (!c.eat('}')) return false;
  }
  if (!c.at_end()) return false;
  for (; next < fields.size(); ++next) {
    if (fields[next].required) return false;
  }
  return true;
}

}  // namespace sandbox
