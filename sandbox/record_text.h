// The records a worker sends, as text: split into one text per record and
// checked against the schema without building a JSON tree.
//
// The worker writes records in the form nlohmann's dump() prints them (keys
// in byte order, no spaces, the same escapes and number forms). A caller that
// only passes records on as text (`host parse`) then needs neither a parse
// nor a dump per record: over the parse benchmark's 1,000 pages that pair
// took 0.12 s of the host process's 0.18 s. Nothing here trusts the worker:
// whatever is not certainly well-formed, canonical and valid goes the slow
// way, through nlohmann and Schema::check.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "sandbox/schema.h"

namespace sandbox {

// The text of each element of the JSON array `json` ("[{...},{...}]"), or
// nullopt when `json` is not an array whose brackets, braces and strings
// balance. The elements themselves are not validated.
std::optional<std::vector<std::string_view>> split_json_array(std::string_view json);

// True only when `record` is a JSON object that certainly passes `schema`
// (as Schema::check would find) and is written exactly as nlohmann's
// dump(-1, ' ', false) would write it. False means "not certain": parse it
// and check it the slow way.
bool passes_as_written(const Schema& schema, std::string_view record);

}  // namespace sandbox
