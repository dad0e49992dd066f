// Turning a run's records into silver records: each gets its key from the
// parser's declared key fields (or a content hash when it declares none).
#pragma once

#include <vector>

#include "sandbox/outcome.h"
#include "store/silver.h"

namespace host::pipeline {

// The silver inputs for the records of a successful run. Records whose key
// fields are all empty are keyed by content.
std::vector<store::RecordInput> to_record_inputs(const sandbox::RunOutcome& outcome);
// The same, moving the records out of `outcome` instead of copying them.
std::vector<store::RecordInput> to_record_inputs(sandbox::RunOutcome&& outcome);

}  // namespace host::pipeline
