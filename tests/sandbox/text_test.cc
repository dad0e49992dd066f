#include "sandbox/text/text.h"

#include <gtest/gtest.h>

#include "tests/sandbox/garbage.h"

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sandbox::text {
namespace {

// ---------------------------------------------------------------------------
// clean()

TEST(TextClean, CollapsesAsciiWhitespaceAndTrims) {
  EXPECT_EQ(clean("  Hello \t\n  world \r\n"), "Hello world");
  EXPECT_EQ(clean("a\fb\vc"), "a b c");
  EXPECT_EQ(clean("one"), "one");
}

TEST(TextClean, EmptyAndAllWhitespaceGiveEmpty) {
  EXPECT_EQ(clean(""), "");
  EXPECT_EQ(clean(" \t\n "), "");
  EXPECT_EQ(clean("\xC2\xA0\xE3\x80\x80"), "");
}

TEST(TextClean, CollapsesUnicodeSpaces) {
  // U+00A0, U+2002, U+2009, U+200B, U+202F, U+205F, U+3000.
  EXPECT_EQ(clean("a\xC2\xA0"
                  "b\xE2\x80\x82"
                  "c\xE2\x80\x89"
                  "d\xE2\x80\x8B"
                  "e\xE2\x80\xAF"
                  "f\xE2\x81\x9F"
                  "g\xE3\x80\x80h"),
            "a b c d e f g h");
  // A mixed run is one space.
  EXPECT_EQ(clean("a \xC2\xA0\t\xE3\x80\x80 b"), "a b");
  // Line and paragraph separators, NEL and a byte-order mark.
  EXPECT_EQ(clean("\xEF\xBB\xBF"
                  "a\xE2\x80\xA8"
                  "b\xE2\x80\xA9"
                  "c\xC2\x85"
                  "d"),
            "a b c d");
}

TEST(TextClean, KeepsOtherUnicodeUnchanged) {
  EXPECT_EQ(clean(" caf\xC3\xA9  \xE2\x82\xAC 5 "), "caf\xC3\xA9 \xE2\x82\xAC 5");
  // U+2010 HYPHEN shares its lead bytes with the spaces but is not one.
  EXPECT_EQ(clean("a\xE2\x80\x90z"), "a\xE2\x80\x90z");
}

TEST(TextClean, PassesInvalidUtf8Through) {
  // A lone lead byte, a truncated sequence at the end, stray continuations.
  EXPECT_EQ(clean("\xC2 x \xE2\x80"), "\xC2 x \xE2\x80");
  EXPECT_EQ(clean("\x80\xBF  \xFF"), "\x80\xBF \xFF");
  // A truncated space sequence at the very end is not a space.
  EXPECT_EQ(clean("a\xC2"), "a\xC2");
  EXPECT_EQ(clean(std::string_view("a\0b", 3)), std::string("a\0b", 3));
}

// ---------------------------------------------------------------------------
// number()

TEST(TextNumber, FirstNumberInText) {
  EXPECT_EQ(number("Rating: 4.5 of 5"), 4.5);
  EXPECT_EQ(number("In stock (22 available)"), 22);
  EXPECT_EQ(number("12"), 12);
  EXPECT_EQ(number("abc 7 def 8"), 7);
}

TEST(TextNumber, NoDigitIsNullopt) {
  EXPECT_EQ(number(""), std::nullopt);
  EXPECT_EQ(number("none"), std::nullopt);
  EXPECT_EQ(number("- . , e"), std::nullopt);
}

TEST(TextNumber, ThousandsAndDecimalSeparators) {
  EXPECT_EQ(number("1,234.56"), 1234.56);
  EXPECT_EQ(number("1.234,56"), 1234.56);
  EXPECT_EQ(number("1 234,56"), 1234.56);
  EXPECT_EQ(number("1'234.56"), 1234.56);
  EXPECT_EQ(number("1\xE2\x80\x99"
                   "234.56"),
            1234.56);
  EXPECT_EQ(number("1\xC2\xA0"
                   "234,56"),
            1234.56);
  EXPECT_EQ(number("1\xE2\x80\xAF"
                   "234,56"),
            1234.56);
  EXPECT_EQ(number("1\xE2\x80\x89"
                   "234"),
            1234);
  EXPECT_EQ(number("1,234,567.89"), 1234567.89);
  EXPECT_EQ(number("1.234.567,89"), 1234567.89);
  EXPECT_EQ(number("1,234,567"), 1234567);
  EXPECT_EQ(number("1 234 567"), 1234567);
}

TEST(TextNumber, LoneSeparatorBeforeThreeDigitsIsThousands) {
  EXPECT_EQ(number("1,234"), 1234);
  EXPECT_EQ(number("1.234"), 1234);
  EXPECT_EQ(number("123,456 items"), 123456);
}

TEST(TextNumber, LoneSeparatorOtherwiseIsDecimal) {
  EXPECT_EQ(number("1,5"), 1.5);
  EXPECT_EQ(number("3.14159"), 3.14159);
  EXPECT_EQ(number("0.125"), 0.125);  // leading zero: not a thousands group
  EXPECT_EQ(number("0,500"), 0.5);
  EXPECT_EQ(number("1234.567"), 1234.567);  // four digits before: not a group
  EXPECT_EQ(number("12,34"), 12.34);
}

TEST(TextNumber, IndianGrouping) {
  EXPECT_EQ(number("1,23,456.78"), 123456.78);
  EXPECT_EQ(number("12,34,567"), 1234567);
}

TEST(TextNumber, BrokenGroupingEndsTheNumber) {
  EXPECT_EQ(number("1.2.3"), 1.2);
  EXPECT_EQ(number("1,234,56"), 1234);
  EXPECT_EQ(number("12 34"), 12);
  EXPECT_EQ(number("5 10 15"), 5);
  EXPECT_EQ(number("1,234 5,678"), 1234);
}

TEST(TextNumber, SeparatorCountsOnlyBetweenDigits) {
  EXPECT_EQ(number("12,-"), 12);
  EXPECT_EQ(number("5. Next"), 5);
  EXPECT_EQ(number("1,  2"), 1);
  EXPECT_EQ(number("7,"), 7);
}

TEST(TextNumber, Signs) {
  EXPECT_EQ(number("-3.5"), -3.5);
  EXPECT_EQ(number("+7"), 7);
  EXPECT_EQ(number("\xE2\x88\x92"
                   "2"),
            -2);                   // U+2212 MINUS SIGN
  EXPECT_EQ(number("A-5"), 5);     // a hyphen inside a word is no sign
  EXPECT_EQ(number("10-20"), 10);  // a range
  EXPECT_EQ(number("x (-4)"), -4);
  EXPECT_FALSE(std::signbit(*number("-0")));
}

TEST(TextNumber, LeadingDecimalPoint) {
  EXPECT_EQ(number(".5"), 0.5);
  EXPECT_EQ(number("-.25"), -0.25);
  EXPECT_EQ(number("Vol.3"), 3);  // a dot after a letter is not a decimal point
}

TEST(TextNumber, ScientificNotation) {
  EXPECT_EQ(number("1e3"), 1000);
  EXPECT_EQ(number("1.5E-3"), 0.0015);
  EXPECT_EQ(number("2e+2 units"), 200);
  EXPECT_EQ(number("1.234e3"), 1234);  // an exponent makes a lone '.' decimal
  EXPECT_EQ(number("3 eggs"), 3);
  EXPECT_EQ(number("5em"), 5);
  EXPECT_EQ(number("2EUR"), 2);
}

TEST(TextNumber, OutOfRangeIsNulloptAndTinyIsZero) {
  EXPECT_EQ(number("1e400"), std::nullopt);
  EXPECT_EQ(number(std::string(400, '9')), std::nullopt);
  EXPECT_EQ(number("1e-400"), 0.0);
  EXPECT_EQ(number("0." + std::string(500, '0') + "1"), 0.0);
  EXPECT_EQ(number("1e999999999999999999999"), std::nullopt);
}

TEST(TextNumber, ManyDigitsConvertCorrectly) {
  // More digits than the converter keeps still round to the nearest double.
  const std::string long_pi =
      "3.14159265358979323846264338327950288419716939937510" + std::string(2000, '0');
  EXPECT_EQ(number(long_pi), 3.141592653589793);
  EXPECT_EQ(number("1" + std::string(300, '0')), 1e300);
  EXPECT_EQ(number(std::string(1000, '0') + "42"), 42);
}

// ---------------------------------------------------------------------------
// price()

TEST(TextPrice, CurrencySymbols) {
  EXPECT_EQ(price("\xC2\xA3"
                  "51.77"),
            51.77);  // £
  EXPECT_EQ(price("$1,234"), 1234);
  EXPECT_EQ(price("\xE2\x82\xAC 12,99"), 12.99);  // €
  EXPECT_EQ(price("\xC2\xA5"
                  "1,000"),
            1000);  // ¥
  EXPECT_EQ(price("\xC2\xA3"
                  "0.5"),
            0.5);
  EXPECT_EQ(price("0.99"), 0.99);
  EXPECT_EQ(price("\xE2\x82\xB9"
                  "1,23,456"),
            123456);  // ₹, Indian grouping
}

TEST(TextPrice, EuropeanThousandsAndDecimalComma) {
  EXPECT_EQ(price("1.234,50 \xE2\x82\xAC"), 1234.5);
  EXPECT_EQ(price("1.234.567,89"), 1234567.89);
  EXPECT_EQ(price("Price: 1 234,56 kr"), 1234.56);
  EXPECT_EQ(price("1\xC2\xA0"
                  "234,56\xC2\xA0kr"),
            1234.56);
  EXPECT_EQ(price("1\xE2\x80\xAF"
                  "234,56 \xE2\x82\xAC"),
            1234.56);
}

TEST(TextPrice, SwissApostrophe) { EXPECT_EQ(price("1'234.50 CHF"), 1234.5); }

TEST(TextPrice, CurrencyCodes) {
  EXPECT_EQ(price("USD 1,234.56"), 1234.56);
  EXPECT_EQ(price("USD 12"), 12);
  EXPECT_EQ(price("eur12"), 12);
  EXPECT_EQ(price("Rs. 499"), 499);
  EXPECT_EQ(price("99 z\xC5\x82"), 99);
}

TEST(TextPrice, DashAfterWholeAmount) {
  EXPECT_EQ(price("12,-"), 12);
  EXPECT_EQ(price("12.-"), 12);
  EXPECT_EQ(price("12,\xE2\x80\x93"), 12);  // en dash
}

TEST(TextPrice, EnglishThousands) {
  EXPECT_EQ(price("1,234,567.89"), 1234567.89);
  EXPECT_EQ(price("$1,234.5"), 1234.5);
}

TEST(TextPrice, NegativeAmounts) {
  EXPECT_EQ(price("-5.00"), -5);
  EXPECT_EQ(price("-$5.00"), -5);
  EXPECT_EQ(price("$-5.00"), -5);
  EXPECT_EQ(price("\xE2\x88\x92\xE2\x82\xAC"
                  "3"),
            -3);  // U+2212 then €
  EXPECT_EQ(price("USD -1,234.56"), -1234.56);
}

TEST(TextPrice, NoDigitIsNullopt) {
  EXPECT_EQ(price("Free"), std::nullopt);
  EXPECT_EQ(price(""), std::nullopt);
  EXPECT_EQ(price("$"), std::nullopt);
}

TEST(TextPrice, PrefersNumberNextToCurrency) {
  EXPECT_EQ(price("2 for \xC2\xA3"
                  "5.00"),
            5);
  EXPECT_EQ(price("In stock (3) 12,50 \xE2\x82\xAC"), 12.5);
  EXPECT_EQ(price("Was $20, now $15"), 20);
  EXPECT_EQ(price("Item 3: 12.99"), 3);  // no currency anywhere: the first number
}

TEST(TextPrice, WordsAreNotCurrencies) {
  // "eur" inside "Europe" and "kr" inside "kroner" are not markers.
  EXPECT_EQ(price("Europe 5, then 7 USD"), 7);
  EXPECT_EQ(price("4 krone 9"), 4);
  EXPECT_EQ(price("Try 3 for $5"), 5);
  EXPECT_EQ(price("6 ft tall, 40 CHF"), 40);
}

TEST(TextPrice, NoExponents) { EXPECT_EQ(price("2E5"), 2); }

// ---------------------------------------------------------------------------
// date()

TEST(TextDate, IsoDatesPassThrough) {
  EXPECT_EQ(date("2024-03-05"), "2024-03-05");
  EXPECT_EQ(date("  2024-3-5 "), "2024-03-05");
  EXPECT_EQ(date("2024/03/05"), "2024-03-05");
  EXPECT_EQ(date("2024.03.05"), "2024-03-05");
}

TEST(TextDate, IsoDateTimes) {
  EXPECT_EQ(date("2024-03-05T10:20:30Z"), "2024-03-05T10:20:30Z");
  EXPECT_EQ(date("2024-03-05T10:20:30+01:00"), "2024-03-05T10:20:30+01:00");
  EXPECT_EQ(date("2024-03-05T10:20:30.123-0530"), "2024-03-05T10:20:30-05:30");
  EXPECT_EQ(date("2024-03-05T10:20:30"), "2024-03-05T10:20:30");
  EXPECT_EQ(date("2024-03-05T10:20"), "2024-03-05T10:20:00");
  EXPECT_EQ(date("2024-03-05 10:20"), "2024-03-05T10:20:00");
  EXPECT_EQ(date("2024-03-05 10:20:30 UTC"), "2024-03-05T10:20:30Z");
  EXPECT_EQ(date("2024-03-05t10:20:30z"), "2024-03-05T10:20:30Z");
  EXPECT_EQ(date("2024-03-05T10:20:30+01"), "2024-03-05T10:20:30+01:00");
}

TEST(TextDate, HttpAndRfc2822Dates) {
  EXPECT_EQ(date("Tue, 05 Mar 2024 10:20:30 GMT"), "2024-03-05T10:20:30Z");
  EXPECT_EQ(date("Tue, 5 Mar 2024 10:20:30 +0100"), "2024-03-05T10:20:30+01:00");
  EXPECT_EQ(date("5 Mar 2024 10:20 -0800"), "2024-03-05T10:20:00-08:00");
  EXPECT_EQ(date("Tue, 05 Mar 2024 10:20:30 EST"), "2024-03-05T10:20:30-05:00");
  EXPECT_EQ(date("Tue, 05 Mar 2024 10:20:30 +0000 (UTC)"), "2024-03-05T10:20:30+00:00");
  // RFC 850 and asctime, the obsolete HTTP forms.
  EXPECT_EQ(date("Sunday, 06-Nov-94 08:49:37 GMT"), "1994-11-06T08:49:37Z");
  EXPECT_EQ(date("Sunday, 06-Nov-24 08:49:37 GMT"), "2024-11-06T08:49:37Z");
  EXPECT_EQ(date("Sun Nov  6 08:49:37 1994"), "1994-11-06T08:49:37");
}

TEST(TextDate, DayAndMonthName) {
  EXPECT_EQ(date("5 March 2024"), "2024-03-05");
  EXPECT_EQ(date("05 MARCH 2024"), "2024-03-05");
  EXPECT_EQ(date("5th of March 2024"), "2024-03-05");
  EXPECT_EQ(date("1st Sept 2024"), "2024-09-01");
  EXPECT_EQ(date("05-Mar-2024"), "2024-03-05");
  EXPECT_EQ(date("05/Mar/2024:10:20:30 +0100"), "2024-03-05T10:20:30+01:00");
  EXPECT_EQ(date("Tuesday 5 March 2024"), "2024-03-05");
}

TEST(TextDate, MonthNameAndDay) {
  EXPECT_EQ(date("March 5, 2024"), "2024-03-05");
  EXPECT_EQ(date("Mar 5 2024"), "2024-03-05");
  EXPECT_EQ(date("mar. 5th, 2024"), "2024-03-05");
  EXPECT_EQ(date("December 31, 2023 at 11:59 PM"), "2023-12-31T23:59:00");
  EXPECT_EQ(date("Jan 1, 2024, 12:05 a.m."), "2024-01-01T00:05:00");
  EXPECT_EQ(date("Tue Mar 05 2024 10:20:30 GMT+0100 (Central European Standard Time)"),
            "2024-03-05T10:20:30+01:00");
}

TEST(TextDate, NumericDayMonthNeedsOrder) {
  EXPECT_EQ(date("05/03/2024"), std::nullopt);
  EXPECT_EQ(date("25/03/2024"), std::nullopt);  // even when unambiguous
  EXPECT_EQ(date("05/03/2024", true), "2024-03-05");
  EXPECT_EQ(date("05-03-2024", DateOrder::kDayFirst), "2024-03-05");
  EXPECT_EQ(date("05/03/2024", DateOrder::kMonthFirst), "2024-05-03");
  EXPECT_EQ(date("05/03/2024 14:00", true), "2024-03-05T14:00:00");
  EXPECT_EQ(date("25/03/2024", DateOrder::kMonthFirst), std::nullopt);
}

TEST(TextDate, DottedNumericIsDayFirst) {
  EXPECT_EQ(date("05.03.2024"), "2024-03-05");
  EXPECT_EQ(date("5.3.2024 10:20"), "2024-03-05T10:20:00");
}

TEST(TextDate, ValidatesRanges) {
  EXPECT_EQ(date("2024-13-01"), std::nullopt);
  EXPECT_EQ(date("2024-00-10"), std::nullopt);
  EXPECT_EQ(date("2024-04-31"), std::nullopt);
  EXPECT_EQ(date("2024-02-30"), std::nullopt);
  EXPECT_EQ(date("2024-03-00"), std::nullopt);
  EXPECT_EQ(date("2024-03-05T24:00"), std::nullopt);
  EXPECT_EQ(date("2024-03-05T10:60"), std::nullopt);
  EXPECT_EQ(date("2024-03-05T10:20:60"), std::nullopt);
  EXPECT_EQ(date("2024-03-05T10:20+24:00"), std::nullopt);
  EXPECT_EQ(date("2024-03-05T10:20+01:60"), std::nullopt);
  EXPECT_EQ(date("32 March 2024"), std::nullopt);
  EXPECT_EQ(date("March 5, 2024 13:00 pm"), std::nullopt);
}

TEST(TextDate, LeapYears) {
  EXPECT_EQ(date("2024-02-29"), "2024-02-29");
  EXPECT_EQ(date("2000-02-29"), "2000-02-29");
  EXPECT_EQ(date("2023-02-29"), std::nullopt);
  EXPECT_EQ(date("1900-02-29"), std::nullopt);
  EXPECT_EQ(date("29 Feb 2100"), std::nullopt);
}

TEST(TextDate, UnrecognisedIsNullopt) {
  EXPECT_EQ(date(""), std::nullopt);
  EXPECT_EQ(date("   "), std::nullopt);
  EXPECT_EQ(date("yesterday"), std::nullopt);
  EXPECT_EQ(date("March 2024"), std::nullopt);  // no day
  EXPECT_EQ(date("Posted on March 5, 2024"), std::nullopt);
  EXPECT_EQ(date("2024-03-05 and more"), std::nullopt);
  EXPECT_EQ(date("20240-03-05"), std::nullopt);
  EXPECT_EQ(date("5 Mar 24"), std::nullopt);  // two-digit years only in RFC 850 form
  EXPECT_EQ(date("Foo, 5 March 2024"), std::nullopt);
  EXPECT_EQ(date(std::string(1000, '1')), std::nullopt);
}

// ---------------------------------------------------------------------------
// is_iso8601()

TEST(TextIsIso8601, AcceptsDatesAndDateTimes) {
  EXPECT_TRUE(is_iso8601("2024-03-05"));
  EXPECT_TRUE(is_iso8601("2024-03-05T10:20:30"));
  EXPECT_TRUE(is_iso8601("2024-03-05T10:20:30Z"));
  EXPECT_TRUE(is_iso8601("2024-03-05T10:20:30.123456+01:00"));
  EXPECT_TRUE(is_iso8601("2024-03-05T23:59:59-12:00"));
  EXPECT_TRUE(is_iso8601("2024-02-29"));
}

TEST(TextIsIso8601, RejectsLooseForms) {
  EXPECT_FALSE(is_iso8601(""));
  EXPECT_FALSE(is_iso8601("2024-3-5"));
  EXPECT_FALSE(is_iso8601("2024/03/05"));
  EXPECT_FALSE(is_iso8601(" 2024-03-05"));
  EXPECT_FALSE(is_iso8601("2024-03-05 "));
  EXPECT_FALSE(is_iso8601("2024-03-05 10:20:30"));
  EXPECT_FALSE(is_iso8601("2024-03-05t10:20:30"));
  EXPECT_FALSE(is_iso8601("2024-03-05T10:20"));
  EXPECT_FALSE(is_iso8601("2024-03-05T10:20:30."));
  EXPECT_FALSE(is_iso8601("2024-03-05T10:20:30z"));
  EXPECT_FALSE(is_iso8601("2024-03-05T10:20:30+0100"));
  EXPECT_FALSE(is_iso8601("2024-03-05T10:20:30+01"));
  EXPECT_FALSE(is_iso8601("2024-03-05T"));
  EXPECT_FALSE(is_iso8601("2024-03-05Z"));
}

TEST(TextIsIso8601, ChecksRanges) {
  EXPECT_FALSE(is_iso8601("2023-02-29"));
  EXPECT_FALSE(is_iso8601("2024-13-05"));
  EXPECT_FALSE(is_iso8601("2024-03-05T24:00:00"));
  EXPECT_FALSE(is_iso8601("2024-03-05T10:60:00"));
  EXPECT_FALSE(is_iso8601("2024-03-05T10:20:60"));
  EXPECT_FALSE(is_iso8601("2024-03-05T10:20:30+24:00"));
}

TEST(TextIsIso8601, AcceptsEveryDateOutput) {
  for (std::string_view in :
       {"Tue, 05 Mar 2024 10:20:30 GMT", "5 March 2024", "2024-03-05 10:20 +0530",
        "March 5, 2024 10:20 pm PDT", "Sun Nov 6 08:49:37 1994"}) {
    const auto out = date(in);
    ASSERT_TRUE(out.has_value()) << in;
    EXPECT_TRUE(is_iso8601(*out)) << in << " -> " << *out;
  }
}

// ---------------------------------------------------------------------------
// Hostile input

// Deterministic bytes biased towards the characters the scanners care about.
std::string garbage(uint32_t seed, size_t n) {
  static constexpr std::string_view kAlphabet =
      "0123456789.,'- +eE:/TZtz$\xC2\xA0\xE2\x80\xAF\xE2\x82\xAC\xE2\x88\x92\xFF\x80"
      "MarchJanSepmonTueampAMgmtUTC()";
  return sandbox::testing::garbage_from(kAlphabet, seed, n, 1);
}

TEST(TextHostile, GarbageNeverCrashes) {
  // Run under ASan/UBSan; the point is that nothing reads out of bounds.
  for (uint32_t seed = 0; seed < 3000; ++seed) {
    const std::string s = garbage(seed, seed % 40);
    const std::string c = clean(s);
    EXPECT_LE(c.size(), s.size());
    if (const auto n = number(s)) {
      EXPECT_TRUE(std::isfinite(*n));
    }
    if (const auto p = price(s)) {
      EXPECT_TRUE(std::isfinite(*p));
    }
    if (const auto d = date(s, static_cast<DateOrder>(seed % 3))) {
      EXPECT_TRUE(is_iso8601(*d)) << s << " -> " << *d;
    }
    is_iso8601(s);
  }
}

TEST(TextHostile, EveryPrefixOfMultiByteInput) {
  // Cutting UTF-8 sequences short at the end must not read past it.
  const std::string s =
      "\xE2\x88\x92\xE2\x82\xAC"
      "1\xE2\x80\xAF"
      "234,5\xC2\xA0kr Tue, 05 Mar 2024 10:20:30 GMT\xEF\xBB\xBF";
  for (size_t n = 0; n <= s.size(); ++n) {
    const std::string prefix = s.substr(0, n);
    clean(prefix);
    number(prefix);
    price(prefix);
    date(prefix);
    is_iso8601(prefix);
  }
}

}  // namespace
}  // namespace sandbox::text
