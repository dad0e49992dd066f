// A unified diff of two texts, line by line (as `diff -u` prints it).
#pragma once

#include <string>
#include <string_view>

namespace host::util {

// "--- a_name\n+++ b_name\n@@ -1,3 +1,4 @@\n ..." with `context` lines
// around each change; "" when the texts are equal. Texts over 20,000 lines
// fall back to one hunk replacing everything.
std::string unified_diff(std::string_view a, std::string_view b, std::string_view a_name,
                         std::string_view b_name, int context = 3);

}  // namespace host::util
