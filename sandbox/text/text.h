// Text helpers behind the SDK's sdk.text module. Pure functions on UTF-8,
// linear time in the input (scripts may pass megabytes), no locale, no global
// state, so they are safe to call from any thread. They never throw (other
// than std::bad_alloc) and accept any bytes: invalid UTF-8 is never an error,
// it simply matches nothing.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sandbox::text {

// Collapses every run of whitespace (ASCII space, tab, CR, LF, FF, VT and
// U+00A0 NO-BREAK SPACE, U+2000..U+200B, U+202F, U+205F, U+3000, plus the
// rest of Unicode's White_Space: U+0085, U+1680, U+2028, U+2029, and U+FEFF
// ZERO WIDTH NO-BREAK SPACE, a stray byte-order mark) into one ASCII space and
// trims both ends. Every other byte, including invalid UTF-8, is copied
// unchanged.
std::string clean(std::string_view s);

// The first number in `s`: optional sign, digits with optional thousands
// separators and a decimal part. Understands "1,234.56", "1.234,56",
// "1 234,56", "1'234.56", "12", "-3.5", ".5"; "1e3" is 1000.
//
// Digit groups may be separated by one '.' or ',' (thousands separator or
// decimal mark), or by one apostrophe (' or U+2019), space, U+00A0, U+2009 or
// U+202F (thousands separator only). A separator counts only between two
// digits. Which one is the decimal mark:
//   1. The last separator, when it is '.' or ',' and that character appears
//      once and after other separators: "1,234.56", "1.234,56", "1 234,56".
//   2. A '.' or ',' that appears more than once separates thousands:
//      "1,234,567" -> 1234567.
//   3. A lone '.' or ',' separates thousands when exactly three digits follow
//      it and one to three digits not starting with 0 precede it, and no
//      exponent follows: "1,234" -> 1234, "1.234" -> 1234 (even where a
//      European meant 1.234). Otherwise it is the decimal mark: "1,5" -> 1.5,
//      "0.125", "1234.567", "3.14159", "1.234e3" -> 1234.
// Thousands groups have three digits (the first one to three), or follow the
// Indian lakh grouping with commas ("1,23,456.78"). Where the grouping breaks,
// the number ends before the offending separator, except that a '.' or ','
// breaking the very first group is read as the decimal mark: "1.2.3" -> 1.2,
// "1,234,56" -> 1234, "12 34" -> 12.
//
// A '-', '+' or U+2212 MINUS SIGN directly before the digits is the sign unless
// a letter or digit precedes it ("A-5" -> 5, "10-20" -> 10). An exponent
// ("e3", "E-2") must directly follow the digits. nullopt when there is no
// digit, or when the number is outside double's range.
std::optional<double> number(std::string_view s);

// A price: read like number() but without exponents ("2E5" -> 2), preferring
// the first number with a currency marker next to it (only spaces between),
// and falling back to the first number when none has one:
// "2 for £5.00" -> 5, "In stock (3) 12,50 €" -> 12.5, "Total 51.77" -> 51.77.
// Currency markers: the symbols $ ¢ £ ¤ ¥ ฿ 円 元 ﷼ ＄ ￡ ￥ and U+20A0..U+20C0
// (€ ₹ ₽ ₩ ₺ ...), common ISO 4217 codes (USD, EUR, GBP, CHF, ..., any case)
// and kr, zł, Kč, lei, Rs, Fr, руб as whole words. A '-' directly before a
// leading marker makes the price negative ("-$5" -> -5). Examples: "£51.77",
// "1.234,50 €", "$1,234", "USD 1,234.56", "12,-" -> 12,
// "Price: 1 234,56 kr", "1'234.50 CHF", "¥1,000" -> 1000.
// nullopt when there is no digit ("Free") or the number is out of range.
std::optional<double> price(std::string_view s);

// How to read an all-numeric date whose first two fields could be either day
// or month ("05/03/2024", "05-03-2024").
enum class DateOrder {
  kUnknown,     // refuse them: nullopt
  kDayFirst,    // 05/03/2024 is 5 March
  kMonthFirst,  // 05/03/2024 is May 3
};

// Normalises a date or date-time to ISO 8601: "2024-03-05" for a date,
// "2024-03-05T10:20:30" for a date-time, followed by "Z" (for Z, UTC, GMT, UT)
// or "+hh:mm" / "-hh:mm" when the input names a zone. Seconds default to 00 and
// fractions of a second are dropped. The whole of `s` (whitespace aside) must
// be one date in one of these forms, matched case-insensitively:
//   - year first: "2024-03-05", "2024/03/05", "2024.3.5", optionally followed
//     by a time ("2024-03-05T10:20:30.5+01:00", "2024-03-05 10:20");
//   - RFC 2822 / HTTP dates: "Tue, 05 Mar 2024 10:20:30 GMT",
//     "5 Mar 2024 10:20 +0100", RFC 850 "Tuesday, 05-Mar-24 10:20:30 GMT"
//     (two-digit years: 00..69 are 20xx, 70..99 are 19xx) and asctime
//     "Tue Mar  5 10:20:30 2024"; a leading weekday is skipped, not checked;
//   - day and month name: "5 March 2024", "5th of March 2024", "05-Mar-2024",
//     "05/Mar/2024:10:20:30 +0100";
//   - month name and day: "March 5, 2024", "Mar. 5th 2024", "Mar 5 2024";
//   - "05.03.2024" is always day first; "05/03/2024" and "05-03-2024" need
//     `order` (with kUnknown they give nullopt, even when a field is over 12,
//     so that a script fails on its first page rather than on the 13th day).
// Month names are English, full or three letters ("Sept" too). Times are
// "10:20", "10:20:30" or "10:20:30.123", optionally with "am"/"pm" and a zone:
// "Z", "+01", "+0100", "+01:00", "UTC", "GMT+1", or EST, EDT, CST, CDT, MST,
// MDT, PST, PDT; a trailing "(comment)" is ignored. nullopt when the form is
// not recognised or a field is out of range (month 1..12, day valid for the
// month in the proleptic Gregorian calendar, hour 0..23, minute and second
// 0..59, zone offset up to 23:59).
std::optional<std::string> date(std::string_view s, DateOrder order);

// The same, with `day_first` meaning DateOrder::kDayFirst and its absence
// DateOrder::kUnknown.
std::optional<std::string> date(std::string_view s, bool day_first = false);

// True when `s` is exactly an ISO 8601 date ("2024-03-05") or date-time
// ("2024-03-05T10:20:30", optional fraction ".123", optional "Z" or "+hh:mm" /
// "-hh:mm"), in the RFC 3339 profile: upper-case 'T' and 'Z', two-digit fields,
// seconds required, ranges checked as in date(), no surrounding whitespace.
// Every date-time that date() returns passes.
bool is_iso8601(std::string_view s);

}  // namespace sandbox::text
