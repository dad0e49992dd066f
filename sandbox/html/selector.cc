#include "sandbox/html/selector.h"

#include <libxml/tree.h>

#include <algorithm>
#include <cstdint>
#include <list>
#include <mutex>
#include <new>
#include <unordered_map>
#include <utility>

namespace sandbox::html {
namespace {

constexpr std::size_t kMaxSelectorLength = 4096;
constexpr int kMaxNotDepth = 32;
// Bigger an+b coefficients cannot select anything a real page has and would
// only invite overflow.
constexpr std::int64_t kMaxNthNumber = 1'000'000'000;

// ---------------------------------------------------------------------------
// Characters. CSS is defined over code points; every byte >= 0x80 belongs to
// a non-ASCII code point, which CSS allows in names, so bytes suffice.

constexpr bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}
constexpr bool is_newline(char c) { return c == '\n' || c == '\r' || c == '\f'; }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
constexpr bool is_name_char(char c) { return is_name_start(c) || is_digit(c) || c == '-'; }
constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

void lower_in_place(std::string& s) {
  for (char& c : s) c = ascii_lower(c);
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// ---------------------------------------------------------------------------
// The compiled form.

enum class Combinator : std::uint8_t { kDescendant, kChild, kNextSibling, kLaterSibling };

enum class AttrOp : std::uint8_t {
  kExists,     // [a]
  kEquals,     // [a=v]
  kIncludes,   // [a~=v]
  kDashMatch,  // [a|=v]
  kPrefix,     // [a^=v]
  kSuffix,     // [a$=v]
  kSubstring,  // [a*=v]
};

// Declared in the order a compound tests them: cheap attribute lookups first,
// sibling walks next, subtree walks and nested selectors last.
enum class SimpleKind : std::uint8_t {
  kScope,
  kRoot,
  kId,
  kClass,
  kAttribute,
  kFirstChild,
  kLastChild,
  kOnlyChild,
  kFirstOfType,
  kLastOfType,
  kOnlyOfType,
  kNthChild,
  kNthLastChild,
  kNthOfType,
  kNthLastOfType,
  kEmpty,
  kContains,
  kNot,
};

struct ComplexSelector;

struct SimpleSelector {
  SimpleKind kind = SimpleKind::kScope;
  AttrOp op = AttrOp::kExists;
  bool ignore_case = false;  // value already lower-cased when set
  bool never = false;        // e.g. [a^=""], which CSS says matches nothing
  std::int64_t a = 0;        // an+b
  std::int64_t b = 0;
  std::string name;                   // attribute name, lower-case
  std::string value;                  // id, class, attribute value or :contains() text
  std::vector<std::size_t> kmp;       // :contains() failure function
  std::vector<ComplexSelector> list;  // :not() arguments
};

struct CompoundSelector {
  std::string tag;  // lower-case; empty means any element
  // Only `:scope` (explicit or implied by a leading combinator): the one
  // compound allowed to match a document node used as the scope.
  bool scope_only = false;
  // How the compound to the left (the next one in `compounds`) relates.
  Combinator combinator = Combinator::kDescendant;
  std::vector<SimpleSelector> simples;
};

struct ComplexSelector {
  std::vector<CompoundSelector> compounds;  // rightmost first: matching order
  bool leading_sibling = false;             // starts with '+' or '~'
};

}  // namespace

struct Selector::Program {
  std::vector<ComplexSelector> groups;
  bool has_leading_sibling = false;
};

namespace {

// ---------------------------------------------------------------------------
// Parsing. A recursive descent over bytes; every function returns false after
// recording the first error, so errors travel as values.

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  bool parse(Selector::Program& program) {
    if (s_.size() > kMaxSelectorLength) {
      return fail(kMaxSelectorLength,
                  "selector longer than " + std::to_string(kMaxSelectorLength) + " bytes");
    }
    if (!parse_list(program.groups, 0)) return false;
    for (const ComplexSelector& c : program.groups) {
      program.has_leading_sibling = program.has_leading_sibling || c.leading_sibling;
    }
    return true;
  }

  std::size_t error_position() const { return error_position_; }
  const std::string& error_message() const { return error_message_; }

 private:
  bool fail(std::size_t position, std::string message) {
    if (error_message_.empty()) {
      error_position_ = std::min(position, s_.size());
      error_message_ = std::move(message);
    }
    return false;
  }

  bool at_end() const { return pos_ >= s_.size(); }
  char at(std::size_t p) const { return p < s_.size() ? s_[p] : '\0'; }
  char peek() const { return at(pos_); }

  bool skip_ws() {
    const std::size_t start = pos_;
    while (!at_end() && is_ws(s_[pos_])) ++pos_;
    return pos_ != start;
  }

  // A backslash that starts an escape (not one before a newline or the end).
  bool escape_at(std::size_t p) const {
    return at(p) == '\\' && p + 1 < s_.size() && !is_newline(s_[p + 1]);
  }
  bool ident_at(std::size_t p) const {
    if (at(p) == '-') {
      return (p + 1 < s_.size() && (is_name_start(s_[p + 1]) || s_[p + 1] == '-')) ||
             escape_at(p + 1);
    }
    return (p < s_.size() && is_name_start(s_[p])) || escape_at(p);
  }
  bool name_at(std::size_t p) const {
    return (p < s_.size() && is_name_char(s_[p])) || escape_at(p);
  }

  std::string describe(std::size_t p) const {
    if (p >= s_.size()) return "the end";
    const auto c = static_cast<unsigned char>(s_[p]);
    if (c >= 0x20 && c < 0x7F) return std::string("'") + static_cast<char>(c) + "'";
    static constexpr char kHex[] = "0123456789abcdef";
    return std::string("byte 0x") + kHex[c >> 4] + kHex[c & 0xF];
  }

  // pos_ is at a backslash that escape_at() accepted.
  void consume_escape(std::string& out) {
    ++pos_;
    if (is_hex(s_[pos_])) {
      std::uint32_t cp = 0;
      for (int i = 0; i < 6 && !at_end() && is_hex(s_[pos_]); ++i, ++pos_) {
        const char c = s_[pos_];
        cp =
            cp * 16 + static_cast<std::uint32_t>(is_digit(c) ? c - '0' : ascii_lower(c) - 'a' + 10);
      }
      if (peek() == '\r' && at(pos_ + 1) == '\n') {
        pos_ += 2;
      } else if (!at_end() && is_ws(s_[pos_])) {
        ++pos_;
      }
      if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = 0xFFFD;
      append_utf8(out, cp);
      return;
    }
    out += s_[pos_++];
  }

  // Name characters and escapes; the caller checked where the name starts.
  void consume_name(std::string& out) {
    while (!at_end()) {
      if (is_name_char(s_[pos_])) {
        out += s_[pos_++];
      } else if (escape_at(pos_)) {
        consume_escape(out);
      } else {
        break;
      }
    }
  }

  bool consume_string(std::string& out) {
    const std::size_t start = pos_;
    const char quote = s_[pos_++];
    for (;;) {
      if (at_end()) {
        return fail(pos_, std::string(quote == '"' ? "expected '\"'" : "expected \"'\"") +
                              " to close the string opened at position " + std::to_string(start));
      }
      const char c = s_[pos_];
      if (c == quote) {
        ++pos_;
        return true;
      }
      if (is_newline(c)) return fail(pos_, "unexpected newline inside a string");
      if (c != '\\') {
        out += c;
        ++pos_;
      } else if (pos_ + 1 >= s_.size()) {
        ++pos_;  // a lone backslash at the end: reported as the unclosed string
      } else if (is_newline(s_[pos_ + 1])) {
        // An escaped newline continues the string onto the next line.
        pos_ += (s_[pos_ + 1] == '\r' && at(pos_ + 2) == '\n') ? 3 : 2;
      } else {
        consume_escape(out);
      }
    }
  }

  // selector-list, ending at the end of the text (depth 0) or at a ')' that
  // the caller consumes (inside :not()).
  bool parse_list(std::vector<ComplexSelector>& out, int depth) {
    const bool nested = depth > 0;
    for (;;) {
      skip_ws();
      if (at_end()) {
        if (out.empty()) {
          return fail(pos_, nested ? "expected a selector inside ':not()'" : "empty selector");
        }
        return fail(last_comma_, "unexpected ',' at the end");
      }
      if (peek() == ',') return fail(pos_, "expected a selector before ','");
      if (nested && peek() == ')') {
        if (out.empty()) return fail(pos_, "expected a selector inside ':not()'");
        return fail(last_comma_, "unexpected ',' before ')'");
      }
      out.emplace_back();
      if (!parse_complex(out.back(), depth)) return false;
      if (at_end()) {
        if (nested) return fail(pos_, "expected ')' to close ':not('");
        return true;
      }
      if (peek() == ',') {
        last_comma_ = pos_++;
        continue;
      }
      if (nested && peek() == ')') return true;
      return fail(pos_, "unexpected " + describe(pos_));
    }
  }

  bool combinator_at(char c) const { return c == '>' || c == '+' || c == '~'; }

  static Combinator combinator_of(char c) {
    switch (c) {
      case '>':
        return Combinator::kChild;
      case '+':
        return Combinator::kNextSibling;
      default:
        return Combinator::kLaterSibling;
    }
  }

  // pos_ is at the first non-space character; leaves pos_ at the ',', ')'
  // or end that follows, spaces skipped.
  bool parse_complex(ComplexSelector& out, int depth) {
    std::vector<CompoundSelector>& compounds = out.compounds;
    if (combinator_at(peek())) {
      if (depth > 0) {
        return fail(pos_, "unexpected " + describe(pos_) +
                              " inside ':not()': a selector there cannot start with a combinator");
      }
      // `> li` means `:scope > li`.
      CompoundSelector scope;
      scope.scope_only = true;
      scope.simples.emplace_back();
      scope.simples.back().kind = SimpleKind::kScope;
      compounds.push_back(std::move(scope));
      out.leading_sibling = peek() != '>';
      compounds.back().combinator = combinator_of(peek());
      combinator_pos_ = pos_++;
      skip_ws();
    }
    for (;;) {
      const std::size_t start = pos_;
      compounds.emplace_back();
      if (!parse_compound(compounds.back(), depth)) return false;
      if (pos_ == start) {
        if (compounds.size() == 1 || is_ws(at(combinator_pos_))) {
          return fail(pos_, "unexpected " + describe(pos_));
        }
        return fail(pos_, "expected a selector after " + describe(combinator_pos_) + ", found " +
                              describe(pos_));
      }
      const bool spaced = skip_ws();
      const char c = peek();
      if (at_end() || c == ',' || (depth > 0 && c == ')')) break;
      if (combinator_at(c)) {
        compounds.back().combinator = combinator_of(c);
        combinator_pos_ = pos_++;
        skip_ws();
      } else if (spaced) {
        compounds.back().combinator = Combinator::kDescendant;
        combinator_pos_ = pos_ - 1;
      } else if (c == '|') {
        return fail(pos_, "namespaces ('|') are not supported");
      } else if (ident_at(pos_) || c == '*') {
        return fail(pos_, "unexpected " + describe(pos_) +
                              ": a type selector must come first in a compound selector");
      } else if (c == ')') {
        return fail(pos_, "unexpected ')' without a matching '('");
      } else {
        return fail(pos_, "unexpected " + describe(pos_));
      }
    }
    // The last compound's combinator is meaningless; matching goes right to
    // left, so the combinator stored on compound i must describe i and i+1.
    std::reverse(compounds.begin(), compounds.end());
    for (std::size_t i = 0; i + 1 < compounds.size(); ++i) {
      compounds[i].combinator = compounds[i + 1].combinator;
    }
    compounds.back().combinator = Combinator::kDescendant;
    return true;
  }

  // Consumes nothing (and succeeds) when no compound starts at pos_.
  bool parse_compound(CompoundSelector& out, int depth) {
    if (peek() == '*') {
      ++pos_;
    } else if (ident_at(pos_)) {
      consume_name(out.tag);
      lower_in_place(out.tag);
    }
    for (;;) {
      const char c = peek();
      if (at_end()) break;
      if (c == '#' || c == '.') {
        ++pos_;
        SimpleSelector simple;
        simple.kind = c == '#' ? SimpleKind::kId : SimpleKind::kClass;
        // Lenient: CSS wants an identifier after '.', but pages use classes
        // and ids that start with a digit ("2col", "#123"), so any name goes.
        if (!name_at(pos_)) {
          return fail(pos_,
                      std::string("expected a name after '") + c + "', found " + describe(pos_));
        }
        consume_name(simple.value);
        out.simples.push_back(std::move(simple));
      } else if (c == '[') {
        if (!parse_attribute(out)) return false;
      } else if (c == ':') {
        if (!parse_pseudo(out, depth)) return false;
      } else {
        break;
      }
    }
    out.scope_only = out.tag.empty() && !out.simples.empty() &&
                     std::all_of(out.simples.begin(), out.simples.end(),
                                 [](const auto& s) { return s.kind == SimpleKind::kScope; });
    std::stable_sort(
        out.simples.begin(), out.simples.end(),
        [](const SimpleSelector& a, const SimpleSelector& b) { return a.kind < b.kind; });
    return true;
  }

  bool parse_attribute(CompoundSelector& out) {
    ++pos_;
    SimpleSelector simple;
    simple.kind = SimpleKind::kAttribute;
    skip_ws();
    if (!ident_at(pos_)) {
      if (peek() == '|' || (peek() == '*' && at(pos_ + 1) == '|')) {
        return fail(pos_, "namespaces ('|') are not supported");
      }
      return fail(pos_, "expected an attribute name after '[', found " + describe(pos_));
    }
    consume_name(simple.name);
    lower_in_place(simple.name);
    skip_ws();
    const char c = peek();
    if (c == ']' && !at_end()) {
      ++pos_;
      out.simples.push_back(std::move(simple));
      return true;
    }
    const std::size_t op_pos = pos_;
    if (c == '=') {
      simple.op = AttrOp::kEquals;
      ++pos_;
    } else if (at(pos_ + 1) == '=' && (c == '~' || c == '|' || c == '^' || c == '$' || c == '*')) {
      simple.op = c == '~'   ? AttrOp::kIncludes
                  : c == '|' ? AttrOp::kDashMatch
                  : c == '^' ? AttrOp::kPrefix
                  : c == '$' ? AttrOp::kSuffix
                             : AttrOp::kSubstring;
      pos_ += 2;
    } else if (at_end()) {
      return fail(pos_, "expected ']' to close the attribute selector");
    } else if (c == '|') {
      return fail(pos_, "namespaces ('|') are not supported");
    } else {
      return fail(pos_,
                  "expected an operator (=, ~=, |=, ^=, $=, *=) or ']' in the attribute "
                  "selector, found " +
                      describe(pos_));
    }
    skip_ws();
    if (peek() == '"' || peek() == '\'') {
      if (!consume_string(simple.value)) return false;
    } else if (name_at(pos_)) {
      // Lenient: bare values may start with a digit ([data-id=123]).
      consume_name(simple.value);
    } else {
      return fail(pos_, "expected a value after " + describe(op_pos) + " in the attribute " +
                            "selector, found " + describe(pos_));
    }
    const bool spaced = skip_ws();
    if (spaced && ident_at(pos_)) {
      const std::size_t flag_pos = pos_;
      std::string flag;
      consume_name(flag);
      lower_in_place(flag);
      if (flag == "i") {
        simple.ignore_case = true;
        lower_in_place(simple.value);
      } else if (flag != "s") {
        return fail(flag_pos, "unknown attribute flag '" + flag + "' (expected 'i' or 's')");
      }
      skip_ws();
    }
    if (peek() != ']' || at_end()) {
      return fail(pos_, "expected ']' to close the attribute selector, found " + describe(pos_));
    }
    ++pos_;
    const std::string& v = simple.value;
    switch (simple.op) {
      case AttrOp::kIncludes:
        simple.never = v.empty() || std::any_of(v.begin(), v.end(), is_ws);
        break;
      case AttrOp::kPrefix:
      case AttrOp::kSuffix:
      case AttrOp::kSubstring:
        simple.never = v.empty();
        break;
      default:
        break;
    }
    out.simples.push_back(std::move(simple));
    return true;
  }

  bool parse_pseudo(CompoundSelector& out, int depth) {
    const std::size_t colon = pos_++;
    if (peek() == ':') {
      ++pos_;
      std::string name;
      if (ident_at(pos_)) consume_name(name);
      return fail(colon,
                  "unknown pseudo-element '::" + name + "' (pseudo-elements are not supported)");
    }
    if (!ident_at(pos_)) {
      return fail(pos_, "expected a pseudo-class name after ':', found " + describe(pos_));
    }
    std::string name;
    consume_name(name);
    lower_in_place(name);
    const bool call = peek() == '(';

    static constexpr std::pair<std::string_view, SimpleKind> kPlain[] = {
        {"first-child", SimpleKind::kFirstChild},
        {"last-child", SimpleKind::kLastChild},
        {"only-child", SimpleKind::kOnlyChild},
        {"first-of-type", SimpleKind::kFirstOfType},
        {"last-of-type", SimpleKind::kLastOfType},
        {"only-of-type", SimpleKind::kOnlyOfType},
        {"empty", SimpleKind::kEmpty},
        {"root", SimpleKind::kRoot},
        {"scope", SimpleKind::kScope},
    };
    static constexpr std::pair<std::string_view, SimpleKind> kFunctional[] = {
        {"nth-child", SimpleKind::kNthChild},
        {"nth-last-child", SimpleKind::kNthLastChild},
        {"nth-of-type", SimpleKind::kNthOfType},
        {"nth-last-of-type", SimpleKind::kNthLastOfType},
        {"not", SimpleKind::kNot},
        {"contains", SimpleKind::kContains},
    };
    SimpleSelector simple;
    for (const auto& [known, kind] : kPlain) {
      if (name != known) continue;
      if (call) return fail(pos_, "':" + name + "' does not take arguments");
      simple.kind = kind;
      out.simples.push_back(std::move(simple));
      return true;
    }
    const SimpleKind* kind = nullptr;
    for (const auto& entry : kFunctional) {
      if (name == entry.first) kind = &entry.second;
    }
    if (kind == nullptr) {
      return fail(colon, "unknown pseudo-class ':" + name + (call ? "()'" : "'"));
    }
    if (!call) return fail(pos_, "expected '(' after ':" + name + "'");
    ++pos_;
    simple.kind = *kind;
    switch (*kind) {
      case SimpleKind::kNot:
        if (depth + 1 > kMaxNotDepth) {
          return fail(colon,
                      "':not()' nested deeper than " + std::to_string(kMaxNotDepth) + " levels");
        }
        if (!parse_list(simple.list, depth + 1)) return false;
        ++pos_;  // parse_list stopped at ')'
        break;
      case SimpleKind::kContains:
        if (!parse_contains(simple)) return false;
        break;
      default:
        if (!parse_nth(simple, name)) return false;
        break;
    }
    out.simples.push_back(std::move(simple));
    return true;
  }

  bool expect_close(std::string_view name) {
    skip_ws();
    if (peek() != ')' || at_end()) {
      return fail(pos_,
                  "expected ')' to close ':" + std::string(name) + "(', found " + describe(pos_));
    }
    ++pos_;
    return true;
  }

  bool parse_contains(SimpleSelector& simple) {
    skip_ws();
    if (peek() == '"' || peek() == '\'') {
      if (!consume_string(simple.value)) return false;
    } else if (ident_at(pos_)) {
      consume_name(simple.value);
    } else {
      return fail(pos_, "expected a quoted string in ':contains()', found " + describe(pos_));
    }
    // Knuth-Morris-Pratt, so matching can stream over text nodes without
    // concatenating them.
    const std::string& p = simple.value;
    simple.kmp.assign(p.size(), 0);
    for (std::size_t i = 1, k = 0; i < p.size(); ++i) {
      while (k > 0 && p[i] != p[k]) k = simple.kmp[k - 1];
      if (p[i] == p[k]) ++k;
      simple.kmp[i] = k;
    }
    return expect_close("contains");
  }

  bool parse_number(std::int64_t& out, std::string_view name) {
    const std::size_t start = pos_;
    out = 0;
    while (!at_end() && is_digit(s_[pos_])) {
      out = out * 10 + (s_[pos_++] - '0');
      if (out > kMaxNthNumber) {
        return fail(start, "number too large in ':" + std::string(name) + "()'");
      }
    }
    return true;
  }

  // an+b | odd | even, with the whitespace CSS allows around the sign of b.
  bool parse_nth(SimpleSelector& simple, const std::string& name) {
    skip_ws();
    const std::size_t start = pos_;
    const std::string bad = "expected an+b, 'odd' or 'even' in ':" + name + "()', found ";
    if (ident_at(pos_) && !(ascii_lower(peek()) == 'n' || peek() == '-')) {
      std::string word;
      consume_name(word);
      lower_in_place(word);
      if (word == "odd") {
        simple.a = 2;
        simple.b = 1;
      } else if (word == "even") {
        simple.a = 2;
        simple.b = 0;
      } else {
        return fail(start, bad + "'" + word + "'");
      }
      return expect_close(name);
    }
    std::int64_t sign = 1;
    if (peek() == '+' || peek() == '-') {
      sign = peek() == '-' ? -1 : 1;
      ++pos_;
    }
    const bool has_number = is_digit(peek()) && !at_end();
    std::int64_t number = 1;
    if (has_number && !parse_number(number, name)) return false;
    if (ascii_lower(peek()) == 'n' && !at_end()) {
      ++pos_;
      simple.a = sign * number;
      skip_ws();
      if (peek() == '+' || peek() == '-') {
        const std::int64_t b_sign = peek() == '-' ? -1 : 1;
        ++pos_;
        skip_ws();
        if (!is_digit(peek()) || at_end()) return fail(pos_, bad + describe(pos_));
        if (!parse_number(simple.b, name)) return false;
        simple.b *= b_sign;
      }
    } else if (has_number) {
      simple.b = sign * number;
    } else {
      return fail(start, bad + describe(start));
    }
    return expect_close(name);
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::size_t last_comma_ = 0;
  std::size_t combinator_pos_ = 0;
  std::size_t error_position_ = 0;
  std::string error_message_;
};

// ---------------------------------------------------------------------------
// Matching. Nothing here allocates except the attribute-value fallback for
// non-HTML trees (see with_attribute_value).

bool is_document(const xmlNode* n) {
  return n->type == XML_DOCUMENT_NODE || n->type == XML_HTML_DOCUMENT_NODE;
}

// `lower` is lower-case ASCII; libxml2 already lower-cases HTML names, but
// XML trees keep the author's case.
inline bool name_equals(const xmlChar* name, std::string_view lower) {
  if (name == nullptr) return false;
  // Most comparisons fail on the first byte; keep that path short.
  if (!lower.empty() && ascii_lower(static_cast<char>(name[0])) != lower[0]) return false;
  std::size_t i = 0;
  for (; i < lower.size(); ++i) {
    if (ascii_lower(static_cast<char>(name[i])) != lower[i] || name[i] == 0) return false;
  }
  return name[i] == 0;
}

bool same_name(const xmlNode* a, const xmlNode* b) {
  return a->name == b->name || xmlStrEqual(a->name, b->name);
}

const xmlNode* prev_element(const xmlNode* n) {
  for (n = n->prev; n != nullptr; n = n->prev) {
    if (n->type == XML_ELEMENT_NODE) return n;
  }
  return nullptr;
}

const xmlNode* next_element(const xmlNode* n) {
  for (n = n->next; n != nullptr; n = n->next) {
    if (n->type == XML_ELEMENT_NODE) return n;
  }
  return nullptr;
}

// The parent as far as selectors care: an element, or the document (which
// only a `:scope` compound can match).
const xmlNode* parent_of(const xmlNode* n) {
  const xmlNode* p = n->parent;
  if (p != nullptr && (p->type == XML_ELEMENT_NODE || is_document(p))) return p;
  return nullptr;
}

bool is_root(const xmlNode* n) { return n->parent != nullptr && is_document(n->parent); }

// The next node of `root`'s subtree in document order, entering `n`'s
// children only when asked (we never enter entity references or attributes).
const xmlNode* next_in_subtree(const xmlNode* n, const xmlNode* root, bool enter) {
  if (enter && n->children != nullptr) return n->children;
  while (n != root) {
    if (n->next != nullptr) return n->next;
    n = n->parent;
    if (n == nullptr) return nullptr;
  }
  return nullptr;
}

const xmlAttr* find_attribute(const xmlNode* element, std::string_view lower_name) {
  for (const xmlAttr* a = element->properties; a != nullptr; a = a->next) {
    if (name_equals(a->name, lower_name)) return a;
  }
  return nullptr;
}

// Calls `f` with the attribute's value. HTML attributes hold one text node
// (or none, for `<input disabled>` in some libxml2 versions), read in place;
// only XML trees with entity references need a joined copy.
template <typename F>
bool with_attribute_value(const xmlAttr* attr, F&& f) {
  const xmlNode* c = attr->children;
  if (c == nullptr) return f(std::string_view());
  if (c->next == nullptr && (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)) {
    return f(c->content ? std::string_view(reinterpret_cast<const char*>(c->content))
                        : std::string_view());
  }
  xmlChar* joined = xmlNodeListGetString(attr->doc, attr->children, 1);
  const bool result =
      f(joined ? std::string_view(reinterpret_cast<const char*>(joined)) : std::string_view());
  xmlFree(joined);
  return result;
}

bool equals(std::string_view text, std::string_view value, bool ignore_case) {
  if (text.size() != value.size()) return false;
  if (!ignore_case) return text == value;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (ascii_lower(text[i]) != value[i]) return false;
  }
  return true;
}

bool contains(std::string_view text, std::string_view value, bool ignore_case) {
  if (!ignore_case) return text.find(value) != std::string_view::npos;
  if (value.size() > text.size()) return false;
  for (std::size_t i = 0; i + value.size() <= text.size(); ++i) {
    if (equals(text.substr(i, value.size()), value, true)) return true;
  }
  return false;
}

// Whitespace-separated `list` contains `token`, split in place.
bool has_token(std::string_view list, std::string_view token, bool ignore_case) {
  if (!ignore_case) {
    // find() is memchr/memcmp underneath: much faster than splitting long
    // class lists ("col-xs-6 col-sm-4 ...") byte by byte.
    for (std::size_t at = list.find(token); at != std::string_view::npos;
         at = list.find(token, at + 1)) {
      const std::size_t end = at + token.size();
      if ((at == 0 || is_ws(list[at - 1])) && (end == list.size() || is_ws(list[end]))) {
        return true;
      }
    }
    return false;
  }
  std::size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && is_ws(list[i])) ++i;
    std::size_t end = i;
    while (end < list.size() && !is_ws(list[end])) ++end;
    if (end > i && equals(list.substr(i, end - i), token, ignore_case)) return true;
    i = end;
  }
  return false;
}

bool match_attribute(const SimpleSelector& s, const xmlNode* element) {
  const xmlAttr* attr = find_attribute(element, s.name);
  if (attr == nullptr || s.never) return false;
  if (s.op == AttrOp::kExists) return true;
  return with_attribute_value(attr, [&s](std::string_view v) {
    const std::string_view want = s.value;
    const bool ci = s.ignore_case;
    switch (s.op) {
      case AttrOp::kEquals:
        return equals(v, want, ci);
      case AttrOp::kIncludes:
        return has_token(v, want, ci);
      case AttrOp::kDashMatch:
        return equals(v, want, ci) || (v.size() > want.size() && v[want.size()] == '-' &&
                                       equals(v.substr(0, want.size()), want, ci));
      case AttrOp::kPrefix:
        return v.size() >= want.size() && equals(v.substr(0, want.size()), want, ci);
      case AttrOp::kSuffix:
        return v.size() >= want.size() && equals(v.substr(v.size() - want.size()), want, ci);
      case AttrOp::kSubstring:
        return contains(v, want, ci);
      case AttrOp::kExists:
        break;
    }
    return true;
  });
}

bool match_class(const std::string& name, const xmlNode* element) {
  const xmlAttr* attr = find_attribute(element, "class");
  return attr != nullptr && with_attribute_value(attr, [&name](std::string_view v) {
           return has_token(v, name, false);
         });
}

bool match_id(const std::string& id, const xmlNode* element) {
  const xmlAttr* attr = find_attribute(element, "id");
  return attr != nullptr &&
         with_attribute_value(attr, [&id](std::string_view v) { return v == id; });
}

bool nth_matches(std::int64_t a, std::int64_t b, std::int64_t position) {
  if (a == 0) return position == b;
  const std::int64_t d = position - b;
  return d % a == 0 && d / a >= 0;
}

// 1-based position among element siblings, counting from the front or the
// back, optionally only siblings with the same name.
std::int64_t position_of(const xmlNode* element, bool from_end, bool of_type) {
  std::int64_t position = 1;
  const xmlNode* n = element;
  while ((n = from_end ? next_element(n) : prev_element(n)) != nullptr) {
    if (!of_type || same_name(n, element)) ++position;
  }
  return position;
}

bool is_empty(const xmlNode* element) {
  for (const xmlNode* c = element->children; c != nullptr; c = c->next) {
    switch (c->type) {
      case XML_ELEMENT_NODE:
      case XML_ENTITY_REF_NODE:
        return false;
      case XML_TEXT_NODE:
      case XML_CDATA_SECTION_NODE:
        if (c->content != nullptr && c->content[0] != 0) return false;
        break;
      default:
        break;  // comments and processing instructions do not count
    }
  }
  return true;
}

// Substring search over the concatenated descendant text, streamed.
bool text_contains(const xmlNode* element, const SimpleSelector& s) {
  const std::string& needle = s.value;
  if (needle.empty()) return true;
  std::size_t matched = 0;
  for (const xmlNode* n = element->children; n != nullptr;
       n = next_in_subtree(n, element, n->type == XML_ELEMENT_NODE)) {
    if ((n->type != XML_TEXT_NODE && n->type != XML_CDATA_SECTION_NODE) || !n->content) continue;
    for (const xmlChar* p = n->content; *p != 0; ++p) {
      const char c = static_cast<char>(*p);
      while (matched > 0 && needle[matched] != c) matched = s.kmp[matched - 1];
      if (needle[matched] == c) ++matched;
      if (matched == needle.size()) return true;
    }
  }
  return false;
}

struct MatchContext {
  const xmlNode* scope;
};

bool match_any(const std::vector<ComplexSelector>& groups, const xmlNode* element,
               const MatchContext& ctx, bool only_leading_sibling = false);

bool match_simple(const SimpleSelector& s, const xmlNode* element, const MatchContext& ctx) {
  switch (s.kind) {
    case SimpleKind::kScope:
      return ctx.scope != nullptr ? element == ctx.scope : is_root(element);
    case SimpleKind::kRoot:
      return is_root(element);
    case SimpleKind::kId:
      return match_id(s.value, element);
    case SimpleKind::kClass:
      return match_class(s.value, element);
    case SimpleKind::kAttribute:
      return match_attribute(s, element);
    case SimpleKind::kFirstChild:
      return prev_element(element) == nullptr;
    case SimpleKind::kLastChild:
      return next_element(element) == nullptr;
    case SimpleKind::kOnlyChild:
      return prev_element(element) == nullptr && next_element(element) == nullptr;
    case SimpleKind::kFirstOfType:
      return position_of(element, false, true) == 1;
    case SimpleKind::kLastOfType:
      return position_of(element, true, true) == 1;
    case SimpleKind::kOnlyOfType:
      return position_of(element, false, true) == 1 && position_of(element, true, true) == 1;
    case SimpleKind::kNthChild:
      return nth_matches(s.a, s.b, position_of(element, false, false));
    case SimpleKind::kNthLastChild:
      return nth_matches(s.a, s.b, position_of(element, true, false));
    case SimpleKind::kNthOfType:
      return nth_matches(s.a, s.b, position_of(element, false, true));
    case SimpleKind::kNthLastOfType:
      return nth_matches(s.a, s.b, position_of(element, true, true));
    case SimpleKind::kEmpty:
      return is_empty(element);
    case SimpleKind::kContains:
      return text_contains(element, s);
    case SimpleKind::kNot:
      return !match_any(s.list, element, ctx);
  }
  return false;
}

bool match_compound(const CompoundSelector& c, const xmlNode* node, const MatchContext& ctx) {
  if (node->type != XML_ELEMENT_NODE) return c.scope_only && node == ctx.scope;
  if (!c.tag.empty() && !name_equals(node->name, c.tag)) return false;
  for (const SimpleSelector& s : c.simples) {
    if (!match_simple(s, node, ctx)) return false;
  }
  return true;
}

// Servo's right-to-left matcher (selectors crate, matching.rs): the result of
// a failed attempt tells the caller how far back it must restart, which keeps
// chains like `a b c d` from retrying every ancestor combination.
enum class Outcome {
  kMatched,
  kRestartFromLaterSibling,  // this element failed; a later sibling may not
  kRestartFromDescendant,    // retry from the nearest descendant combinator
  kFailedGlobally,           // no element further out can match either
};

const xmlNode* step(const xmlNode* n, Combinator c) {
  switch (c) {
    case Combinator::kDescendant:
    case Combinator::kChild:
      return parent_of(n);
    case Combinator::kNextSibling:
    case Combinator::kLaterSibling:
      return n->type == XML_ELEMENT_NODE ? prev_element(n) : nullptr;
  }
  return nullptr;
}

// A cheap first test before match_from(): most candidates fail on the tag.
inline bool tag_may_match(const CompoundSelector& c, const xmlNode* node) {
  return c.tag.empty() || node->type != XML_ELEMENT_NODE || name_equals(node->name, c.tag);
}

Outcome match_from(const ComplexSelector& cx, std::size_t i, const xmlNode* node,
                   const MatchContext& ctx) {
  const CompoundSelector& compound = cx.compounds[i];
  if (!match_compound(compound, node, ctx)) return Outcome::kRestartFromLaterSibling;
  if (i + 1 == cx.compounds.size()) return Outcome::kMatched;
  const Combinator comb = compound.combinator;
  const bool sibling = comb == Combinator::kNextSibling || comb == Combinator::kLaterSibling;
  const Outcome not_found = sibling ? Outcome::kRestartFromDescendant : Outcome::kFailedGlobally;
  const CompoundSelector& left = cx.compounds[i + 1];
  for (const xmlNode* next = step(node, comb); next != nullptr; next = step(next, comb)) {
    // Skipping the call when the tag differs is the same as match_from()
    // returning kRestartFromLaterSibling, handled as below.
    if (!tag_may_match(left, next)) {
      if (comb == Combinator::kNextSibling) return Outcome::kRestartFromLaterSibling;
      if (comb == Combinator::kChild) return Outcome::kRestartFromDescendant;
      continue;
    }
    const Outcome r = match_from(cx, i + 1, next, ctx);
    if (r == Outcome::kMatched || r == Outcome::kFailedGlobally) return r;
    if (comb == Combinator::kNextSibling) return r;
    if (comb == Combinator::kChild) return Outcome::kRestartFromDescendant;
    if (comb == Combinator::kLaterSibling && r == Outcome::kRestartFromDescendant) return r;
  }
  return not_found;
}

bool match_any(const std::vector<ComplexSelector>& groups, const xmlNode* element,
               const MatchContext& ctx, bool only_leading_sibling) {
  for (const ComplexSelector& cx : groups) {
    if (only_leading_sibling && !cx.leading_sibling) continue;
    if (!tag_may_match(cx.compounds.front(), element)) continue;
    if (match_from(cx, 0, element, ctx) == Outcome::kMatched) return true;
  }
  return false;
}

// Calls `emit` for each match in document order; stops when it returns false.
// The elements below the scope come first; then, for selectors that start
// with '+' or '~', the scope's later siblings and their subtrees.
template <typename Emit>
void for_each_match(const Selector::Program& program, const xmlNode* scope, Emit&& emit) {
  // Only these have children that are the tree's own nodes (an entity
  // reference's children belong to its declaration).
  if (scope->type != XML_ELEMENT_NODE && scope->type != XML_DOCUMENT_FRAG_NODE &&
      !is_document(scope)) {
    return;
  }
  const MatchContext ctx{scope};
  for (const xmlNode* n = scope->children; n != nullptr;
       n = next_in_subtree(n, scope, n->type == XML_ELEMENT_NODE)) {
    if (n->type == XML_ELEMENT_NODE && match_any(program.groups, n, ctx) && !emit(n)) return;
  }
  if (!program.has_leading_sibling || scope->type != XML_ELEMENT_NODE) return;
  for (const xmlNode* sibling = next_element(scope); sibling != nullptr;
       sibling = next_element(sibling)) {
    for (const xmlNode* n = sibling; n != nullptr;
         n = next_in_subtree(n, sibling, n->type == XML_ELEMENT_NODE)) {
      if (n->type == XML_ELEMENT_NODE && match_any(program.groups, n, ctx, true) && !emit(n)) {
        return;
      }
    }
  }
}

}  // namespace

std::string SelectorError::to_string() const {
  return "invalid CSS selector '" + selector + "': " + message + " at position " +
         std::to_string(position);
}

Selector::Selector(std::string text, std::unique_ptr<Program> program)
    : text_(std::move(text)), program_(std::move(program)) {}

Selector::~Selector() = default;

std::expected<std::shared_ptr<const Selector>, SelectorError> Selector::compile(
    std::string_view text) {
  try {
    auto program = std::make_unique<Program>();
    Parser parser(text);
    if (!parser.parse(*program)) {
      return std::unexpected(
          SelectorError{std::string(text), parser.error_position(), parser.error_message()});
    }
    return std::shared_ptr<const Selector>(new Selector(std::string(text), std::move(program)));
  } catch (const std::bad_alloc&) {
    return std::unexpected(SelectorError{{}, 0, "out of memory compiling the selector"});
  }
}

bool Selector::matches(const xmlNode* element, const xmlNode* scope) const {
  if (element == nullptr || element->type != XML_ELEMENT_NODE) return false;
  return match_any(program_->groups, element, MatchContext{scope});
}

void Selector::select(const xmlNode* scope, std::vector<xmlNode*>& out, std::size_t limit) const {
  if (scope == nullptr || limit == 0) return;
  std::size_t found = 0;
  try {
    for_each_match(*program_, scope, [&](const xmlNode* n) {
      // libxml2's API is not const-correct; the caller owns the tree.
      out.push_back(const_cast<xmlNode*>(n));
      return ++found < limit;
    });
  } catch (const std::bad_alloc&) {
    // Keep what fit; the caller's own limits report the memory pressure.
  }
}

xmlNode* Selector::select_first(const xmlNode* scope) const {
  if (scope == nullptr) return nullptr;
  const xmlNode* first = nullptr;
  for_each_match(*program_, scope, [&first](const xmlNode* n) {
    first = n;
    return false;
  });
  return const_cast<xmlNode*>(first);
}

// ---------------------------------------------------------------------------
// SelectorCache: LRU over a list; the index keys are views of the list's own
// strings, so a hit allocates nothing.

struct SelectorCache::Impl {
  using Result = std::expected<std::shared_ptr<const Selector>, SelectorError>;
  struct Entry {
    std::string text;
    Result result;
  };

  explicit Impl(std::size_t cap) : capacity(cap) {}

  std::mutex mutex;
  const std::size_t capacity;
  std::list<Entry> entries;  // most recently used first
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index;
};

SelectorCache::SelectorCache(std::size_t capacity) : impl_(std::make_unique<Impl>(capacity)) {}

SelectorCache::~SelectorCache() = default;

std::expected<std::shared_ptr<const Selector>, SelectorError> SelectorCache::get(
    std::string_view text) {
  {
    const std::lock_guard<std::mutex> lock(impl_->mutex);
    if (auto it = impl_->index.find(text); it != impl_->index.end()) {
      impl_->entries.splice(impl_->entries.begin(), impl_->entries, it->second);
      return it->second->result;
    }
  }
  // Compile outside the lock so one slow compile does not stall other
  // threads; a concurrent miss on the same text just compiles it twice.
  Impl::Result result = Selector::compile(text);
  if (impl_->capacity == 0) return result;
  try {
    const std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->index.find(text) != impl_->index.end()) return result;
    impl_->entries.push_front(Impl::Entry{std::string(text), result});
    try {
      impl_->index.emplace(impl_->entries.front().text, impl_->entries.begin());
    } catch (...) {
      impl_->entries.pop_front();
      throw;
    }
    if (impl_->entries.size() > impl_->capacity) {
      impl_->index.erase(impl_->entries.back().text);
      impl_->entries.pop_back();
    }
  } catch (const std::bad_alloc&) {
    // Not caching is always correct.
  }
  return result;
}

}  // namespace sandbox::html
