// Small file helpers for commands.
#pragma once

#include <expected>
#include <string>

namespace host::util {

// Reads a whole file; the error says which file and why ("cannot read
// 'x.html': No such file or directory").
std::expected<std::string, std::string> read_file(const std::string& path);

// A guess at the Content-Type of a saved page from its extension, "" if none.
std::string content_type_for(const std::string& path);

}  // namespace host::util
