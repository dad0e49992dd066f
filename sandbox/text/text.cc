#include "sandbox/text/text.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace sandbox::text {
namespace {

using Byte = unsigned char;

// Bounds-checked byte access: 0 past the end, which matches no pattern below,
// so multi-byte checks need no separate length checks.
Byte byte_at(std::string_view s, size_t i) { return i < s.size() ? static_cast<Byte>(s[i]) : 0; }

constexpr bool is_digit(Byte c) { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(Byte c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_alnum(Byte c) { return is_digit(c) || is_alpha(c); }
constexpr Byte to_lower(Byte c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<Byte>(c - 'A' + 'a') : c;
}

// ASCII-case-insensitive equality; `lower` must already be lower case.
bool equals_lower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (to_lower(static_cast<Byte>(s[i])) != static_cast<Byte>(lower[i])) return false;
  }
  return true;
}

// Length in bytes of the whitespace character at s[i], 0 when there is none.
size_t space_len(std::string_view s, size_t i) {
  const Byte c = byte_at(s, i), c1 = byte_at(s, i + 1), c2 = byte_at(s, i + 2);
  switch (c) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '\f':
    case '\v':
      return 1;
    case 0xC2:  // U+0085, U+00A0
      return (c1 == 0x85 || c1 == 0xA0) ? 2 : 0;
    case 0xE1:  // U+1680
      return (c1 == 0x9A && c2 == 0x80) ? 3 : 0;
    case 0xE2:  // U+2000..U+200B, U+2028, U+2029, U+202F; U+205F
      if (c1 == 0x80) {
        return ((c2 >= 0x80 && c2 <= 0x8B) || c2 == 0xA8 || c2 == 0xA9 || c2 == 0xAF) ? 3 : 0;
      }
      return (c1 == 0x81 && c2 == 0x9F) ? 3 : 0;
    case 0xE3:  // U+3000
      return (c1 == 0x80 && c2 == 0x80) ? 3 : 0;
    case 0xEF:  // U+FEFF
      return (c1 == 0xBB && c2 == 0xBF) ? 3 : 0;
    default:
      return 0;
  }
}

// ---------------------------------------------------------------------------
// Numbers

enum class Sep : uint8_t { kNone, kDot, kComma, kApostrophe, kSpace };
constexpr size_t kSepKinds = 5;

bool is_dot_or_comma(Sep s) { return s == Sep::kDot || s == Sep::kComma; }

// The digit-group separator character at s[i] and its length in bytes.
Sep separator_at(std::string_view s, size_t i, size_t& len) {
  const Byte c = byte_at(s, i), c1 = byte_at(s, i + 1), c2 = byte_at(s, i + 2);
  len = 1;
  switch (c) {
    case '.':
      return Sep::kDot;
    case ',':
      return Sep::kComma;
    case '\'':
      return Sep::kApostrophe;
    case ' ':
      return Sep::kSpace;
    case 0xC2:  // U+00A0
      if (c1 == 0xA0) {
        len = 2;
        return Sep::kSpace;
      }
      break;
    case 0xE2:  // U+2009 THIN SPACE, U+202F, U+2019 RIGHT SINGLE QUOTATION MARK
      if (c1 == 0x80 && (c2 == 0x89 || c2 == 0xAF || c2 == 0x99)) {
        len = 3;
        return c2 == 0x99 ? Sep::kApostrophe : Sep::kSpace;
      }
      break;
    default:
      break;
  }
  len = 0;
  return Sep::kNone;
}

size_t digits_end(std::string_view s, size_t i) {
  while (is_digit(byte_at(s, i))) ++i;
  return i;
}

struct Group {
  size_t begin = 0;
  size_t end = 0;
  Sep sep = Sep::kNone;  // the separator before the group
  size_t size() const { return end - begin; }
};

// Walks the digit groups of a number: the first group at `start`, then every
// group that follows a single separator character. Reading a number walks its
// groups a few times over instead of storing them, so that "1,1,1,..." over
// megabytes needs no memory proportional to its length.
class GroupReader {
 public:
  GroupReader(std::string_view s, size_t start) : s_(s), pos_(start) {}

  bool next(Group& g) {
    size_t begin = pos_;
    Sep sep = Sep::kNone;
    if (started_) {
      size_t len = 0;
      sep = separator_at(s_, pos_, len);
      if (sep == Sep::kNone || !is_digit(byte_at(s_, pos_ + len))) return false;
      begin = pos_ + len;
    }
    started_ = true;
    g = Group{begin, digits_end(s_, begin), sep};
    pos_ = g.end;
    return true;
  }

  size_t pos() const { return pos_; }

 private:
  std::string_view s_;
  size_t pos_;
  bool started_ = false;
};

// Accumulates decimal digits and converts them once. Digits past kMaxDigits
// cannot change a double (correct rounding needs at most 767), so they only
// move the exponent; this keeps the conversion cheap for megabytes of digits.
class DecimalBuilder {
 public:
  void add_integer(std::string_view digits) {
    for (char c : digits) {
      if (digits_.empty() && c == '0') continue;
      if (digits_.size() < kMaxDigits) {
        digits_ += c;
      } else {
        ++exp10_;
      }
    }
  }

  void add_fraction(std::string_view digits) {
    for (char c : digits) {
      if (digits_.empty() && c == '0') {
        --exp10_;
      } else if (digits_.size() < kMaxDigits) {
        digits_ += c;
        --exp10_;
      }
    }
  }

  void add_exponent(int64_t e) { exp10_ += e; }

  std::optional<double> value() const {
    if (digits_.empty()) return 0.0;
    // The value lies in [10^(magnitude-1), 10^magnitude).
    const int64_t magnitude = exp10_ + static_cast<int64_t>(digits_.size());
    if (magnitude > 310) return std::nullopt;
    if (magnitude < -330) return 0.0;
    const std::string text = digits_ + "e" + std::to_string(exp10_);
    double v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc::result_out_of_range) {
      if (magnitude < 0) return 0.0;
      return std::nullopt;
    }
    if (ec != std::errc() || !std::isfinite(v)) return std::nullopt;
    return v;
  }

 private:
  static constexpr size_t kMaxDigits = 800;
  std::string digits_;
  int64_t exp10_ = 0;
};

// Length of an exponent ("e3", "E-12") at s[i], 0 when there is none. The
// value saturates far beyond double's range.
size_t exponent_at(std::string_view s, size_t i, int64_t& value) {
  const Byte c = byte_at(s, i);
  if (c != 'e' && c != 'E') return 0;
  size_t j = i + 1;
  const bool negative = byte_at(s, j) == '-';
  if (negative || byte_at(s, j) == '+') ++j;
  if (!is_digit(byte_at(s, j))) return 0;
  int64_t v = 0;
  for (; is_digit(byte_at(s, j)); ++j) {
    if (v < 1000000) v = v * 10 + (s[j] - '0');
  }
  value = negative ? -v : v;
  return j - i;
}

struct NumberMatch {
  size_t begin = 0;   // the sign, or the first digit or '.'
  size_t end = 0;     // one past the last character read as part of the number
  size_t resume = 0;  // where to look for the next number
  bool has_sign = false;
  std::optional<double> value;  // nullopt when out of range
};

// Reads the number whose first digit is s[start] (see number() in text.h).
// Without `want_value` only the extent is found, which is all price() needs
// for the numbers it skips.
NumberMatch read_groups(std::string_view s, size_t start, bool allow_exponent, bool want_value) {
  // Pass 1: the shape of the run of digit groups.
  GroupReader shape(s, start);
  Group g;
  shape.next(g);
  const Group first = g;
  size_t seps = 0;
  Sep last_sep = Sep::kNone;
  size_t last_size = 0;
  std::array<size_t, kSepKinds> count{};
  while (shape.next(g)) {
    ++seps;
    last_sep = g.sep;
    last_size = g.size();
    ++count[static_cast<size_t>(g.sep)];
  }
  const size_t run_end = shape.pos();
  int64_t exponent = 0;
  const size_t exponent_len = allow_exponent ? exponent_at(s, run_end, exponent) : 0;

  // Which separator is the decimal mark; they are numbered from 1, 0 is none.
  size_t decimal = 0;
  if (is_dot_or_comma(last_sep) && count[static_cast<size_t>(last_sep)] == 1) {
    if (seps >= 2) {
      decimal = seps;
    } else {
      const bool thousands =
          last_size == 3 && first.size() <= 3 && s[first.begin] != '0' && exponent_len == 0;
      if (!thousands) decimal = 1;
    }
  }
  const size_t grouping = decimal != 0 ? decimal - 1 : seps;

  // Pass 2: check the thousands grouping; `broken` is the first separator
  // that breaks it.
  size_t broken = 0;
  Sep first_sep = Sep::kNone;
  if (grouping > 0) {
    GroupReader check(s, start);
    check.next(g);
    if (first.size() > 3) broken = 1;
    bool indian = grouping >= 2 && first.size() <= 2;
    for (size_t k = 1; k <= grouping; ++k) {
      check.next(g);
      if (k == 1) first_sep = g.sep;
      if (broken == 0 && (g.sep != first_sep || g.size() != 3)) broken = k;
      const size_t indian_size = k < grouping ? 2 : 3;
      if (indian && (g.sep != Sep::kComma || g.size() != indian_size)) indian = false;
    }
    if (indian) broken = 0;
  }

  size_t integer_last = grouping;  // index of the last integer group
  size_t fraction = decimal;       // index of the fraction group, 0 for none
  if (broken != 0) {
    integer_last = broken - 1;
    fraction = (broken == 1 && is_dot_or_comma(first_sep)) ? 1 : 0;
  }

  // Pass 3: the value.
  DecimalBuilder builder;
  GroupReader read(s, start);
  size_t end = start;
  for (size_t k = 0; k <= integer_last && read.next(g); ++k) {
    if (want_value) builder.add_integer(s.substr(g.begin, g.size()));
    end = g.end;
  }
  if (fraction != 0 && read.next(g)) {
    if (want_value) builder.add_fraction(s.substr(g.begin, g.size()));
    end = g.end;
  }
  if (broken == 0 && exponent_len != 0) {
    builder.add_exponent(exponent);
    end = run_end + exponent_len;
  }

  NumberMatch m;
  m.begin = start;
  m.end = end;
  m.resume = end > run_end ? end : run_end;
  if (want_value) m.value = builder.value();
  return m;
}

// Reads ".5"-style numbers: s[start] is the '.', a digit follows.
NumberMatch read_fraction(std::string_view s, size_t start, bool allow_exponent) {
  const size_t digits = start + 1;
  const size_t digits_stop = digits_end(s, digits);
  DecimalBuilder builder;
  builder.add_fraction(s.substr(digits, digits_stop - digits));
  size_t end = digits_stop;
  int64_t exponent = 0;
  const size_t exponent_len = allow_exponent ? exponent_at(s, end, exponent) : 0;
  if (exponent_len != 0) {
    builder.add_exponent(exponent);
    end += exponent_len;
  }
  NumberMatch m;
  m.begin = start;
  m.end = end;
  m.resume = end;
  m.value = builder.value();
  return m;
}

// A '-' or U+2212 MINUS SIGN ('+' too when `plus`) ending just before s[i]
// that no letter or digit precedes; returns its length and sign.
size_t sign_before(std::string_view s, size_t i, bool plus, bool& negative) {
  size_t len = 0;
  if (i >= 1 && (s[i - 1] == '-' || (plus && s[i - 1] == '+'))) {
    len = 1;
    negative = s[i - 1] == '-';
  } else if (i >= 3 && s.substr(i - 3, 3) == "\xE2\x88\x92") {
    len = 3;
    negative = true;
  }
  if (len == 0) return 0;
  if (i > len && is_alnum(static_cast<Byte>(s[i - len - 1]))) return 0;
  return len;
}

// The next number at or after s[from]; its value only with `want_value`.
std::optional<NumberMatch> find_number(std::string_view s, size_t from, bool allow_exponent,
                                       bool want_value = true) {
  for (size_t i = from; i < s.size(); ++i) {
    const Byte c = static_cast<Byte>(s[i]);
    const bool leading_dot =
        c == '.' && is_digit(byte_at(s, i + 1)) && (i == 0 || !is_alnum(byte_at(s, i - 1)));
    if (!is_digit(c) && !leading_dot) continue;
    NumberMatch m = leading_dot ? read_fraction(s, i, allow_exponent)
                                : read_groups(s, i, allow_exponent, want_value);
    bool negative = false;
    const size_t sign_len = sign_before(s, i, /*plus=*/true, negative);
    if (sign_len != 0) {
      m.begin = i - sign_len;
      m.has_sign = true;
      if (negative && m.value && *m.value != 0) m.value = -*m.value;
    }
    return m;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Currency markers for price()

constexpr std::string_view kCurrencySymbols[] = {
    "$",
    "\xC2\xA2",      // ¢
    "\xC2\xA3",      // £
    "\xC2\xA4",      // ¤
    "\xC2\xA5",      // ¥
    "\xE0\xB8\xBF",  // ฿
    "\xE5\x86\x86",  // 円
    "\xE5\x85\x83",  // 元
    "\xEF\xB7\xBC",  // ﷼
    "\xEF\xBC\x84",  // ＄
    "\xEF\xBF\xA1",  // ￡
    "\xEF\xBF\xA5",  // ￥
};

// Whole words, lower case, each between spaces (see kCurrencyKeys); ASCII letters match in any
// case. The last three are zł, Kč and руб.
constexpr std::string_view kCurrencyWords =
    " usd eur gbp jpy cny rmb chf cad aud nzd hkd sgd sek nok dkk isk pln czk huf ron bgn rub"
    " uah ils inr pkr brl mxn ars clp cop zar krw twd thb idr myr php vnd aed sar qar egp ngn"
    " kes kr lei rs fr sfr z\xC5\x82 k\xC4\x8D \xD1\x80\xD1\x83\xD0\xB1 ";

// The longest currency word, in bytes.
constexpr size_t kMaxCurrencyWord = 6;

// A word of up to kMaxCurrencyWord bytes, lower-cased, packed into an integer
// with its length in the top byte, so that a lookup is one binary search.
constexpr uint64_t pack_word(std::string_view w) {
  uint64_t key = 0;
  for (char c : w) key = key << 8 | to_lower(static_cast<Byte>(c));
  return key | static_cast<uint64_t>(w.size()) << 56;
}

constexpr size_t count_words(std::string_view list) {
  size_t n = 0;
  for (size_t i = 1; i < list.size(); ++i) n += list[i] == ' ' ? 1 : 0;
  return n;
}

constexpr auto kCurrencyKeys = [] {
  std::array<uint64_t, count_words(kCurrencyWords)> keys{};
  size_t n = 0;
  for (size_t i = 1; i < kCurrencyWords.size();) {
    const size_t space = kCurrencyWords.find(' ', i);
    keys[n++] = pack_word(kCurrencyWords.substr(i, space - i));
    i = space + 1;
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}();

bool is_currency_word(std::string_view w) {
  if (w.size() < 2 || w.size() > kMaxCurrencyWord) return false;
  return std::binary_search(kCurrencyKeys.begin(), kCurrencyKeys.end(), pack_word(w));
}

// Separator-like spaces that may sit between a price and its currency.
size_t price_space_len(std::string_view s, size_t i) {
  size_t len = 0;
  return separator_at(s, i, len) == Sep::kSpace ? len : 0;
}

// Whether a letter (ASCII, or any non-ASCII byte that is not part of a space)
// ends just before s[i] / starts at s[i].
bool letter_before(std::string_view s, size_t i) {
  if (i == 0) return false;
  const Byte c = static_cast<Byte>(s[i - 1]);
  if (c < 0x80) return is_alpha(c);
  return !(i >= 2 && price_space_len(s, i - 2) == 2) && !(i >= 3 && price_space_len(s, i - 3) == 3);
}

bool letter_at(std::string_view s, size_t i) {
  const Byte c = byte_at(s, i);
  if (c < 0x80) return is_alpha(c);
  return price_space_len(s, i) == 0;
}

// The word ending at s[end] / starting at s[begin]; empty when there is none
// or when it is longer than any currency word (the scan is bounded by that).
std::string_view word_ending_at(std::string_view s, size_t end) {
  size_t j = end;
  while (end - j <= kMaxCurrencyWord && letter_before(s, j)) --j;
  return end - j > kMaxCurrencyWord ? std::string_view() : s.substr(j, end - j);
}

std::string_view word_starting_at(std::string_view s, size_t begin) {
  size_t j = begin;
  while (j - begin <= kMaxCurrencyWord && letter_at(s, j)) ++j;
  return j - begin > kMaxCurrencyWord ? std::string_view() : s.substr(begin, j - begin);
}

// U+20A0..U+20C0, the Currency Symbols block as far as it is assigned.
bool currency_block_at(std::string_view s, size_t i) {
  const Byte c1 = byte_at(s, i + 1), c2 = byte_at(s, i + 2);
  return byte_at(s, i) == 0xE2 &&
         ((c1 == 0x82 && c2 >= 0x80 && c2 <= 0xBF) || (c1 == 0x83 && c2 == 0x80));
}

// Length of the currency symbol at s[i], 0 when there is none.
size_t symbol_at(std::string_view s, size_t i) {
  if (currency_block_at(s, i)) return 3;
  for (std::string_view m : kCurrencySymbols) {
    if (s.substr(i < s.size() ? i : s.size()).starts_with(m)) return m.size();
  }
  return 0;
}

// Start of a currency marker ending at s[end] (an optional '.' after a word,
// as in "Rs. 5"), or npos.
size_t marker_ending_at(std::string_view s, size_t end) {
  if (end == 0) return std::string_view::npos;
  const Byte last = static_cast<Byte>(s[end - 1]);
  if (last == '$') return end - 1;
  if (last >= 0x80) {
    for (size_t len = 2; len <= 3 && len <= end; ++len) {
      if (symbol_at(s, end - len) == len) return end - len;
    }
  }
  const size_t word_end = last == '.' ? end - 1 : end;
  const std::string_view w = word_ending_at(s, word_end);
  if (is_currency_word(w)) return word_end - w.size();
  return std::string_view::npos;
}

bool marker_starting_at(std::string_view s, size_t begin) {
  return symbol_at(s, begin) != 0 || is_currency_word(word_starting_at(s, begin));
}

size_t skip_spaces_back(std::string_view s, size_t i) {
  while (i > 0) {
    if (s[i - 1] == ' ') {
      i -= 1;
    } else if (i >= 2 && price_space_len(s, i - 2) == 2) {
      i -= 2;
    } else if (i >= 3 && price_space_len(s, i - 3) == 3) {
      i -= 3;
    } else {
      break;
    }
  }
  return i;
}

size_t skip_spaces_forward(std::string_view s, size_t i) {
  while (size_t len = price_space_len(s, i)) i += len;
  return i;
}

// Whether `m` has a currency marker next to it; sets `negative` when a sign
// precedes a leading marker ("-$5").
bool has_currency(std::string_view s, const NumberMatch& m, bool& negative) {
  const size_t before = marker_ending_at(s, skip_spaces_back(s, m.begin));
  if (before != std::string_view::npos) {
    if (!m.has_sign) sign_before(s, before, /*plus=*/false, negative);
    return true;
  }
  return marker_starting_at(s, skip_spaces_forward(s, m.end));
}

// ---------------------------------------------------------------------------
// Dates

// Dates are short; anything longer after clean() is not one, and the cap keeps
// every step below constant time.
constexpr size_t kMaxDateLength = 128;

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}

  bool done() const { return i_ >= s_.size(); }
  size_t pos() const { return i_; }
  void set_pos(size_t i) { i_ = i; }
  Byte peek(size_t ahead = 0) const { return byte_at(s_, i_ + ahead); }

  bool eat(char c) {
    if (done() || s_[i_] != c) return false;
    ++i_;
    return true;
  }

  // A run of digits of length min..max (no digit may follow it).
  bool number(size_t min, size_t max, int& out) {
    size_t j = i_;
    int v = 0;
    for (; is_digit(byte_at(s_, j)); ++j) {
      if (j - i_ < 9) v = v * 10 + (s_[j] - '0');
    }
    const size_t len = j - i_;
    if (len < min || len > max) return false;
    out = v;
    i_ = j;
    return true;
  }

  // A run of ASCII letters, possibly empty.
  std::string_view word() {
    const size_t begin = i_;
    while (is_alpha(byte_at(s_, i_))) ++i_;
    return s_.substr(begin, i_ - begin);
  }

  // Whether the input continues with a time ("10:" or "9:").
  bool at_time() const {
    return is_digit(peek()) && (peek(1) == ':' || (is_digit(peek(1)) && peek(2) == ':'));
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

struct DateTime {
  int year = 0;
  int month = 0;
  int day = 0;
  bool has_time = false;
  int hour = 0;
  int minute = 0;
  int second = 0;
  enum class Zone { kNone, kUtc, kOffset } zone = Zone::kNone;
  char zone_sign = '+';
  int zone_hour = 0;
  int zone_minute = 0;
};

int month_from_name(std::string_view w) {
  static constexpr std::array<std::string_view, 12> kNames = {
      "january", "february", "march",     "april",   "may",      "june",
      "july",    "august",   "september", "october", "november", "december"};
  if (w.size() < 3) return 0;
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (equals_lower(w, kNames[i]) || equals_lower(w, kNames[i].substr(0, 3))) {
      return static_cast<int>(i) + 1;
    }
  }
  return equals_lower(w, "sept") ? 9 : 0;
}

bool is_weekday_name(std::string_view w) {
  static constexpr std::array<std::string_view, 7> kNames = {
      "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
  if (w.size() < 3) return false;
  for (std::string_view name : kNames) {
    if (equals_lower(w, name) || equals_lower(w, name.substr(0, 3))) return true;
  }
  return equals_lower(w, "tues") || equals_lower(w, "thur") || equals_lower(w, "thurs");
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[static_cast<size_t>(m - 1)];
}

bool valid_date(const DateTime& dt) {
  return dt.month >= 1 && dt.month <= 12 && dt.day >= 1 &&
         dt.day <= days_in_month(dt.year, dt.month);
}

// "+01", "+0100", "+01:00", "+1" (as in "GMT+1").
bool parse_offset(Cursor& c, DateTime& dt) {
  const size_t save = c.pos();
  const char sign = static_cast<char>(c.peek());
  if (sign != '+' && sign != '-') return false;
  c.eat(sign);
  const size_t digits = c.pos();
  int v = 0;
  if (!c.number(1, 4, v)) {
    c.set_pos(save);
    return false;
  }
  int h = v, m = 0;
  const size_t len = c.pos() - digits;
  if (len == 4) {
    h = v / 100;
    m = v % 100;
  } else if (len == 3) {
    c.set_pos(save);
    return false;
  } else if (len == 2 && c.peek() == ':') {
    c.eat(':');
    if (!c.number(2, 2, m)) {
      c.set_pos(save);
      return false;
    }
  }
  dt.zone = DateTime::Zone::kOffset;
  dt.zone_sign = sign;
  dt.zone_hour = h;
  dt.zone_minute = m;
  return true;
}

bool parse_zone(Cursor& c, DateTime& dt) {
  if (parse_offset(c, dt)) return true;
  const size_t save = c.pos();
  const std::string_view w = c.word();
  if (equals_lower(w, "z")) {
    dt.zone = DateTime::Zone::kUtc;
    return true;
  }
  if (equals_lower(w, "utc") || equals_lower(w, "gmt") || equals_lower(w, "ut")) {
    dt.zone = DateTime::Zone::kUtc;
    parse_offset(c, dt);  // "GMT+0100"
    return true;
  }
  struct Named {
    std::string_view name;
    int offset;
  };
  static constexpr std::array<Named, 8> kZones = {{{"est", -5},
                                                   {"edt", -4},
                                                   {"cst", -6},
                                                   {"cdt", -5},
                                                   {"mst", -7},
                                                   {"mdt", -6},
                                                   {"pst", -8},
                                                   {"pdt", -7}}};
  for (const Named& z : kZones) {
    if (equals_lower(w, z.name)) {
      dt.zone = DateTime::Zone::kOffset;
      dt.zone_sign = '-';
      dt.zone_hour = -z.offset;
      dt.zone_minute = 0;
      return true;
    }
  }
  c.set_pos(save);
  return false;
}

// "am", "pm", "a.m.", "p.m."; sets `pm`.
bool parse_meridiem(Cursor& c, bool& pm) {
  const size_t save = c.pos();
  const std::string_view w = c.word();
  if (equals_lower(w, "am") || equals_lower(w, "pm")) {
    pm = equals_lower(w, "pm");
    return true;
  }
  if ((equals_lower(w, "a") || equals_lower(w, "p")) && c.eat('.') && equals_lower(c.word(), "m")) {
    c.eat('.');
    pm = equals_lower(w, "p");
    return true;
  }
  c.set_pos(save);
  return false;
}

// "10:20", "10:20:30", "10:20:30.123", then optional am/pm and zone.
bool parse_time(Cursor& c, DateTime& dt) {
  if (!c.number(1, 2, dt.hour) || !c.eat(':') || !c.number(2, 2, dt.minute)) return false;
  if (c.eat(':')) {
    if (!c.number(2, 2, dt.second)) return false;
    if ((c.peek() == '.' || c.peek() == ',') && is_digit(c.peek(1))) {
      c.set_pos(c.pos() + 1);
      while (is_digit(c.peek())) c.set_pos(c.pos() + 1);
    }
  }
  size_t save = c.pos();
  c.eat(' ');
  bool pm = false;
  if (parse_meridiem(c, pm)) {
    if (dt.hour < 1 || dt.hour > 12) return false;
    dt.hour = dt.hour % 12 + (pm ? 12 : 0);
  } else {
    c.set_pos(save);
  }
  save = c.pos();
  c.eat(' ');
  if (!parse_zone(c, dt)) c.set_pos(save);
  dt.has_time = true;
  return dt.hour < 24 && dt.minute < 60 && dt.second < 60 && dt.zone_hour < 24 &&
         dt.zone_minute < 60;
}

// A trailing " (comment)" as in RFC 2822 or JavaScript's Date.toString().
void skip_comment(Cursor& c, std::string_view s) {
  const size_t save = c.pos();
  c.eat(' ');
  if (c.peek() == '(' && s.back() == ')') {
    c.set_pos(s.size());
  } else {
    c.set_pos(save);
  }
}

// What may follow a complete date: nothing, or a separator and a time.
// `iso` allows 'T' as the separator.
bool parse_tail(Cursor& c, std::string_view s, DateTime& dt, bool iso) {
  if (c.done()) return true;
  bool separated = false;
  if (iso && (c.eat('T') || c.eat('t'))) {
    separated = true;
  } else {
    separated = c.eat(',');
    separated = c.eat(' ') || separated;
    if (!iso) {
      const size_t save = c.pos();
      if (equals_lower(c.word(), "at") && c.eat(' ')) {
        separated = true;
      } else {
        c.set_pos(save);
      }
      if (!separated) separated = c.eat(':');  // "05/Mar/2024:10:20:30"
    }
  }
  if (!separated || !parse_time(c, dt)) return false;
  skip_comment(c, s);
  return c.done();
}

// "2024-03-05", "2024/03/05", "2024.03.05", then optionally a time.
bool parse_year_first(std::string_view s, DateTime& dt) {
  Cursor c(s);
  if (!c.number(4, 4, dt.year)) return false;
  const char sep = static_cast<char>(c.peek());
  if (sep != '-' && sep != '/' && sep != '.') return false;
  c.eat(sep);
  if (!c.number(1, 2, dt.month) || !c.eat(sep) || !c.number(1, 2, dt.day)) return false;
  return parse_tail(c, s, dt, /*iso=*/sep == '-');
}

// "05.03.2024" (day first), "05/03/2024" and "05-03-2024" (as `order` says).
bool parse_numeric_day_month(std::string_view s, DateOrder order, DateTime& dt) {
  Cursor c(s);
  int a = 0, b = 0;
  if (!c.number(1, 2, a)) return false;
  const char sep = static_cast<char>(c.peek());
  if (sep != '-' && sep != '/' && sep != '.') return false;
  c.eat(sep);
  if (!c.number(1, 2, b) || !c.eat(sep) || !c.number(4, 4, dt.year)) return false;
  if (sep == '.' || order == DateOrder::kDayFirst) {
    dt.day = a;
    dt.month = b;
  } else if (order == DateOrder::kMonthFirst) {
    dt.month = a;
    dt.day = b;
  } else {
    return false;
  }
  return parse_tail(c, s, dt, /*iso=*/false);
}

void skip_ordinal_suffix(Cursor& c) {
  const size_t save = c.pos();
  const std::string_view w = c.word();
  if (!(equals_lower(w, "st") || equals_lower(w, "nd") || equals_lower(w, "rd") ||
        equals_lower(w, "th"))) {
    c.set_pos(save);
  }
}

// "5 March 2024", "5th of March 2024", "05-Mar-24", "05/Mar/2024".
bool parse_day_month_name(Cursor& c, std::string_view s, DateTime& dt) {
  if (!c.number(1, 2, dt.day)) return false;
  skip_ordinal_suffix(c);
  c.eat('.');
  char sep = ' ';
  if (c.eat('-')) {
    sep = '-';
  } else if (c.eat('/')) {
    sep = '/';
  } else if (!c.eat(' ')) {
    return false;
  }
  if (sep == ' ') {
    const size_t save = c.pos();
    if (!(equals_lower(c.word(), "of") && c.eat(' '))) c.set_pos(save);
  }
  dt.month = month_from_name(c.word());
  if (dt.month == 0) return false;
  c.eat('.');
  if (sep == ' ') {
    c.eat(',');
    if (!c.eat(' ')) return false;
  } else if (!c.eat(sep)) {
    return false;
  }
  const size_t year_begin = c.pos();
  if (!c.number(2, 4, dt.year)) return false;
  const size_t year_len = c.pos() - year_begin;
  if (year_len == 3 || (year_len == 2 && sep != '-')) return false;
  if (year_len == 2) dt.year += dt.year < 70 ? 2000 : 1900;
  return parse_tail(c, s, dt, /*iso=*/false);
}

// "March 5, 2024", "Mar. 5th 2024", asctime's "Mar 5 10:20:30 2024".
bool parse_month_name_day(Cursor& c, std::string_view s, DateTime& dt) {
  dt.month = month_from_name(c.word());
  if (dt.month == 0) return false;
  c.eat('.');
  if (!c.eat(' ') || !c.number(1, 2, dt.day)) return false;
  skip_ordinal_suffix(c);
  if (c.eat(',')) {
    c.eat(' ');
  } else if (!c.eat(' ')) {
    return false;
  }
  if (c.at_time()) {
    if (!parse_time(c, dt) || !c.eat(' ') || !c.number(4, 4, dt.year)) return false;
    skip_comment(c, s);
    return c.done();
  }
  if (!c.number(4, 4, dt.year)) return false;
  return parse_tail(c, s, dt, /*iso=*/false);
}

bool parse_with_names(std::string_view s, DateTime& dt) {
  Cursor c(s);
  const size_t save = c.pos();
  if (is_weekday_name(c.word())) {
    c.eat('.');
    const bool comma = c.eat(',');
    if (!c.eat(' ') && !comma) return false;
  } else {
    c.set_pos(save);
  }
  if (is_digit(c.peek())) return parse_day_month_name(c, s, dt);
  return parse_month_name_day(c, s, dt);
}

void append_padded(std::string& out, int v, int width) {
  char buf[8];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, static_cast<size_t>(width));
}

std::string format(const DateTime& dt) {
  std::string out;
  append_padded(out, dt.year, 4);
  out += '-';
  append_padded(out, dt.month, 2);
  out += '-';
  append_padded(out, dt.day, 2);
  if (!dt.has_time) return out;
  out += 'T';
  append_padded(out, dt.hour, 2);
  out += ':';
  append_padded(out, dt.minute, 2);
  out += ':';
  append_padded(out, dt.second, 2);
  if (dt.zone == DateTime::Zone::kUtc) {
    out += 'Z';
  } else if (dt.zone == DateTime::Zone::kOffset) {
    out += dt.zone_sign;
    append_padded(out, dt.zone_hour, 2);
    out += ':';
    append_padded(out, dt.zone_minute, 2);
  }
  return out;
}

}  // namespace

std::string clean(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (size_t i = 0; i < s.size();) {
    if (const size_t len = space_len(s, i)) {
      pending_space = !out.empty();
      i += len;
      continue;
    }
    if (pending_space) {
      out += ' ';
      pending_space = false;
    }
    out += s[i];
    ++i;
  }
  return out;
}

std::optional<double> number(std::string_view s) {
  const auto m = find_number(s, 0, /*allow_exponent=*/true);
  if (!m) return std::nullopt;
  return m->value;
}

std::optional<double> price(std::string_view s) {
  std::optional<double> first;
  bool seen = false;
  for (size_t from = 0;;) {
    auto m = find_number(s, from, /*allow_exponent=*/false, /*want_value=*/!seen);
    if (!m) break;
    if (!seen) {
      first = m->value;
      seen = true;
    } else {
      m->value.reset();
    }
    bool negative = false;
    if (has_currency(s, *m, negative)) {
      // Read again from its start, this time for the value.
      if (!m->value) m = find_number(s, m->begin, /*allow_exponent=*/false);
      std::optional<double> value = m ? m->value : std::nullopt;
      if (negative && value && *value != 0) value = -*value;
      return value;
    }
    from = m->resume;
  }
  return first;
}

std::optional<std::string> date(std::string_view s, DateOrder order) {
  // Trim before clean() so that megabytes of padding are not copied.
  size_t begin = 0;
  while (const size_t len = space_len(s, begin)) begin += len;
  size_t end = begin;
  for (size_t i = begin; i < s.size();) {
    if (const size_t len = space_len(s, i)) {
      i += len;
    } else {
      end = ++i;
    }
  }
  if (end == begin || end - begin > 4 * kMaxDateLength) return std::nullopt;
  const std::string cleaned = clean(s.substr(begin, end - begin));
  if (cleaned.size() > kMaxDateLength) return std::nullopt;

  DateTime dt;
  bool ok = false;
  if (is_digit(byte_at(cleaned, 0)) && is_digit(byte_at(cleaned, 1)) &&
      is_digit(byte_at(cleaned, 2)) && is_digit(byte_at(cleaned, 3))) {
    ok = parse_year_first(cleaned, dt);
  } else if (is_digit(byte_at(cleaned, 0))) {
    dt = DateTime{};
    ok = parse_numeric_day_month(cleaned, order, dt);
    if (!ok) {
      dt = DateTime{};
      ok = parse_with_names(cleaned, dt);
    }
  } else {
    ok = parse_with_names(cleaned, dt);
  }
  if (!ok || !valid_date(dt)) return std::nullopt;
  return format(dt);
}

std::optional<std::string> date(std::string_view s, bool day_first) {
  return date(s, day_first ? DateOrder::kDayFirst : DateOrder::kUnknown);
}

bool is_iso8601(std::string_view s) {
  Cursor c(s);
  DateTime dt;
  if (!c.number(4, 4, dt.year) || !c.eat('-') || !c.number(2, 2, dt.month) || !c.eat('-') ||
      !c.number(2, 2, dt.day) || !valid_date(dt)) {
    return false;
  }
  if (c.done()) return true;
  if (!c.eat('T') || !c.number(2, 2, dt.hour) || !c.eat(':') || !c.number(2, 2, dt.minute) ||
      !c.eat(':') || !c.number(2, 2, dt.second)) {
    return false;
  }
  if (c.eat('.')) {
    if (!is_digit(c.peek())) return false;
    while (is_digit(c.peek())) c.set_pos(c.pos() + 1);
  }
  if (c.eat('Z')) {
    // UTC
  } else if (c.eat('+') || c.eat('-')) {
    if (!c.number(2, 2, dt.zone_hour) || !c.eat(':') || !c.number(2, 2, dt.zone_minute)) {
      return false;
    }
  }
  return c.done() && dt.hour < 24 && dt.minute < 60 && dt.second < 60 && dt.zone_hour < 24 &&
         dt.zone_minute < 60;
}

}  // namespace sandbox::text
