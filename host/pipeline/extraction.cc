#include "host/pipeline/extraction.h"

#include <chrono>

namespace host::pipeline {

sandbox::Page to_page(const fetch::FetchResponse& response) {
  sandbox::Page page;
  page.url = response.url;
  page.status = response.status;
  for (const auto& [name, value] : response.headers) page.headers.emplace_back(name, value);
  page.body = response.body;
  return page;
}

sandbox::RunOutcome run_parser(sandbox::Sandbox& box, const sandbox::Script& script,
                               fetch::FetchResponse& response, const sandbox::Limits& limits) {
  std::string body = std::move(response.body);
  sandbox::Page page = to_page(response);  // the URL and headers; the body is lent below
  page.body = std::move(body);
  sandbox::RunOutcome outcome = box.run(script, page, limits);
  response.body = std::move(page.body);
  return outcome;
}

store::FetchedPage to_fetched_page(std::string_view source, fetch::FetchResponse&& response,
                                   store::Time fetched_at) {
  using std::chrono::microseconds;
  auto us = [](double ms) { return microseconds(static_cast<std::int64_t>(ms * 1000.0)); };
  store::FetchedPage p;
  p.source = std::string(source);
  p.url = std::move(response.url);
  p.fetched_at = fetched_at;
  p.status = response.status;
  p.headers.reserve(response.headers.size());
  for (auto& [name, value] : response.headers)
    p.headers.push_back({std::move(name), std::move(value)});
  p.content_type = std::move(response.content_type);
  p.body = std::move(response.body);
  p.timings.dns = us(response.timings.dns_ms);
  p.timings.connect = us(response.timings.connect_ms);
  p.timings.tls = us(response.timings.tls_ms);
  p.timings.first_byte = us(response.timings.first_byte_ms);
  p.timings.total = us(response.timings.total_ms);
  return p;
}

health::FailureKind failure_of(const fetch::FetchError& error) {
  using fetch::FetchErrorKind;
  switch (error.kind) {
    case FetchErrorKind::kNetwork:
    case FetchErrorKind::kTimeout:
    case FetchErrorKind::kCancelled:
    case FetchErrorKind::kRedirect:
      return health::FailureKind::kNetwork;
    case FetchErrorKind::kHttpStatus:
      return health::FailureKind::kHttpStatus;
    case FetchErrorKind::kRobots:
      return health::FailureKind::kRobots;
    case FetchErrorKind::kBlocked:
    case FetchErrorKind::kTooLarge:
    case FetchErrorKind::kContentType:
    case FetchErrorKind::kInvalidRequest:
      return health::FailureKind::kBlocked;
  }
  return health::FailureKind::kNetwork;
}

health::FailureKind failure_of(const sandbox::Error& error) {
  using sandbox::ErrorKind;
  switch (error.kind) {
    case ErrorKind::kTimeout:
    case ErrorKind::kMemory:
    case ErrorKind::kOutput:
    case ErrorKind::kForbidden:
      return health::FailureKind::kSandboxLimit;
    case ErrorKind::kSchema:
      return health::FailureKind::kSchema;
    default:
      return health::FailureKind::kParseError;
  }
}

std::string describe(const sandbox::RunOutcome& outcome) {
  if (!outcome.ok()) {
    return std::string(sandbox::to_string(outcome.error->kind)) + ": " + outcome.error->message;
  }
  if (!outcome.records.empty()) return std::to_string(outcome.records.size()) + " records";
  if (outcome.rejects.empty()) return "no records";
  return "all " + std::to_string(outcome.rejects.size()) +
         " records rejected; first: " + outcome.rejects.front().to_string();
}

std::optional<health::FailureKind> unusable(const sandbox::RunOutcome& outcome) {
  if (!outcome.ok()) return failure_of(*outcome.error);
  if (outcome.records.empty()) {
    return outcome.rejects.empty() ? health::FailureKind::kZeroRecords
                                   : health::FailureKind::kSchema;
  }
  return std::nullopt;
}

}  // namespace host::pipeline
