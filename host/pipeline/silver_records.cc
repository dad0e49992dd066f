#include "host/pipeline/silver_records.h"

#include "sandbox/schema.h"
#include "store/sha256.h"

namespace host::pipeline {

std::vector<store::RecordInput> to_record_inputs(const sandbox::RunOutcome& outcome) {
  sandbox::RunOutcome copy;
  copy.parser = outcome.parser;
  copy.records = outcome.records;
  return to_record_inputs(std::move(copy));
}

std::vector<store::RecordInput> to_record_inputs(sandbox::RunOutcome&& outcome) {
  std::vector<store::RecordInput> out;
  auto schema = sandbox::Schema::from_description(outcome.parser);
  out.reserve(outcome.records.size());
  for (auto& record : outcome.records) {
    std::string key = schema ? schema->record_key(record) : std::string();
    if (key.find_first_not_of('\x1f') == std::string::npos) {
      // No key declared (or all key fields empty): identify by content.
      key = "sha256:" + store::to_hex(store::sha256(
                            record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
    }
    if (key.size() > 400) key = "sha256:" + store::to_hex(store::sha256(key));
    out.push_back({std::move(key), std::move(record)});
  }
  return out;
}

}  // namespace host::pipeline
