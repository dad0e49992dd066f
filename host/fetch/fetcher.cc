#include "host/fetch/fetcher.h"

#include <cctype>
#include <future>

namespace host::fetch {

std::string FetchResponse::header(std::string_view name) const {
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    const std::string& n = it->first;
    if (n.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < n.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(n[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (same) return it->second;
  }
  return {};
}

FetchResult fetch_blocking(Fetcher& fetcher, FetchRequest request) {
  std::promise<FetchResult> promise;
  std::future<FetchResult> future = promise.get_future();
  fetcher.submit(std::move(request),
                 [&promise](FetchResult result) { promise.set_value(std::move(result)); });
  return future.get();
}

}  // namespace host::fetch
