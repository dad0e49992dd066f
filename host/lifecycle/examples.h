// The examples a parser declares about itself, and checking them: like
// contracts in other scraping frameworks.
//
//   examples = {
//     { page = "pages/index.html", url = "http://books.toscrape.com/index.html",
//       expect = { count = 20, min_count = 10,
//                  records = { [1] = { title = "A Light in the Attic", price = 51.77 } } } },
//   }
//
// `page` is relative to the script's directory. `records[i]` lists fields
// record i must have with these values (numbers within 1e-9 relative).
#pragma once

#include <nlohmann/json.hpp>

#include <expected>
#include <string>
#include <vector>

#include "sandbox/sandbox.h"

namespace host::lifecycle {

struct ExampleResult {
  std::string page;  // as declared
  bool passed = false;
  std::vector<std::string> problems;  // one sentence each
  std::size_t records = 0;
};

// The parser's self-description (name, schema, key, examples), obtained by
// loading the script once. The error says why it could not be loaded.
std::expected<nlohmann::json, sandbox::Error> describe_parser(sandbox::Sandbox& box,
                                                              const sandbox::Script& script);

// Runs every declared example. An error if the parser declares none.
std::expected<std::vector<ExampleResult>, std::string> check_examples(
    sandbox::Sandbox& box, const sandbox::Script& script, const std::string& script_dir);

}  // namespace host::lifecycle
