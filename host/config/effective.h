// The settings that apply to one source, read from the store and typed.
#pragma once

#include <string_view>

#include "sandbox/limits.h"
#include "store/store.h"

namespace host::config {

// The value of setting `name` for `source` ("" for global): the source's
// override, else the global value, else the registry default.
std::string value_for(const store::Store& st, const store::Txn& txn, std::string_view name,
                      std::string_view source);

// The sandbox limits for runs of `source`'s parser.
sandbox::Limits sandbox_limits(const store::Store& st, const store::Txn& txn,
                               std::string_view source);

}  // namespace host::config
