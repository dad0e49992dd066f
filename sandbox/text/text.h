// Text helpers behind the SDK's sdk.text module. Pure functions on UTF-8,
// linear time in the input (scripts may pass megabytes), no locale.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sandbox::text {

// Collapses every run of whitespace (ASCII space, tab, CR, LF, FF, VT and
// U+00A0 NO-BREAK SPACE, U+2000..U+200B, U+202F, U+205F, U+3000) into one
// ASCII space and trims both ends.
std::string clean(std::string_view s);

// The first number in `s`: optional sign, digits with optional thousands
// separators and a decimal part. Understands "1,234.56", "1.234,56",
// "1 234,56", "12", "-3.5", "1e3" is 1000. A lone separator followed by exactly
// three digits is a thousands separator ("1,234" -> 1234, "1.234" -> 1234),
// otherwise a decimal point ("1,5" -> 1.5). nullopt when there is no digit.
std::optional<double> number(std::string_view s);

// A price: like number() but ignores currency symbols and codes around it
// ("£51.77", "1.234,50 €", "$1,234", "USD 12", "12,-"). nullopt when no digit.
std::optional<double> price(std::string_view s);

// Normalises a date or date-time to ISO 8601: "2024-03-05", "2024-03-05T10:20:30Z",
// "2024-03-05T10:20:30+01:00". Accepts ISO forms, RFC 2822/HTTP dates
// ("Tue, 05 Mar 2024 10:20:30 GMT"), "5 March 2024", "March 5, 2024",
// "Mar 5 2024", "05/03/2024" only with an explicit `day_first` hint, and
// "2024/03/05". nullopt when it cannot tell.
std::optional<std::string> date(std::string_view s, bool day_first = false);

// True when `s` is an ISO 8601 date ("2024-03-05") or date-time
// ("2024-03-05T10:20:30", optional fraction, optional "Z" or "+hh:mm").
bool is_iso8601(std::string_view s);

}  // namespace sandbox::text
