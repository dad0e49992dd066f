// libcurl, opened with dlopen on first use instead of linked.
//
// Linked, libcurl and the two dozen libraries it pulls in (TLS, LDAP, GSSAPI,
// SSH, IDN, ...) are loaded and relocated before main() by every `host`
// command: about 10 ms on the 2-core machine, a quarter of what `host status`
// takes over 10,000 sources. Only fetching and URL handling need libcurl, so
// they open it (load()) and everything else starts without it.
#pragma once

#include <curl/curl.h>

#include <string>

namespace host::fetch::curl {

// The libcurl functions the host calls, by their names without "curl_"; one
// list, so that the table and its binding cannot drift apart.
#define SDP_CURL_FUNCTIONS(X) \
  X(global_init)              \
  X(easy_init)                \
  X(easy_cleanup)             \
  X(easy_setopt)              \
  X(easy_getinfo)             \
  X(easy_strerror)            \
  X(multi_init)               \
  X(multi_cleanup)            \
  X(multi_add_handle)         \
  X(multi_remove_handle)      \
  X(multi_perform)            \
  X(multi_poll)               \
  X(multi_wakeup)             \
  X(multi_info_read)          \
  X(multi_strerror)           \
  X(slist_append)             \
  X(slist_free_all)           \
  X(getdate)                  \
  X(url)                      \
  X(url_cleanup)              \
  X(url_set)                  \
  X(url_get)                  \
  X(url_strerror)             \
  X(free)

struct Lib {
#define SDP_CURL_FIELD(name) decltype(&::curl_##name) name;
  SDP_CURL_FUNCTIONS(SDP_CURL_FIELD)
#undef SDP_CURL_FIELD
};

// Opens libcurl once (thread-safe; later calls return the same answer).
// nullptr when it cannot be opened or lacks a function; load_error() then
// says which and what to install.
const Lib* load();
const std::string& load_error();

// The opened library. Call only once load() has returned non-null: the
// fetcher and the URL functions check load() at their entry points.
inline const Lib& lib() { return *load(); }

}  // namespace host::fetch::curl
