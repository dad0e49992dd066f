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

// The libcurl functions the host calls, by their names without "curl_".
struct Lib {
  decltype(&::curl_global_init) global_init;
  decltype(&::curl_easy_init) easy_init;
  decltype(&::curl_easy_cleanup) easy_cleanup;
  decltype(&::curl_easy_setopt) easy_setopt;
  decltype(&::curl_easy_getinfo) easy_getinfo;
  decltype(&::curl_easy_strerror) easy_strerror;
  decltype(&::curl_multi_init) multi_init;
  decltype(&::curl_multi_cleanup) multi_cleanup;
  decltype(&::curl_multi_add_handle) multi_add_handle;
  decltype(&::curl_multi_remove_handle) multi_remove_handle;
  decltype(&::curl_multi_perform) multi_perform;
  decltype(&::curl_multi_poll) multi_poll;
  decltype(&::curl_multi_wakeup) multi_wakeup;
  decltype(&::curl_multi_info_read) multi_info_read;
  decltype(&::curl_multi_strerror) multi_strerror;
  decltype(&::curl_slist_append) slist_append;
  decltype(&::curl_slist_free_all) slist_free_all;
  decltype(&::curl_getdate) getdate;
  decltype(&::curl_url) url;
  decltype(&::curl_url_cleanup) url_cleanup;
  decltype(&::curl_url_set) url_set;
  decltype(&::curl_url_get) url_get;
  decltype(&::curl_url_strerror) url_strerror;
  decltype(&::curl_free) free;
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
