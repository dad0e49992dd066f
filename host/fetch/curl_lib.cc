#include "host/fetch/curl_lib.h"

#include <dlfcn.h>

#include <mutex>

namespace host::fetch::curl {
namespace {

// The soname of Debian's libcurl4 (OpenSSL): the ABI the headers describe.
constexpr const char* kSoname = "libcurl.so.4";

struct Loaded {
  Lib lib{};
  bool ok = false;
  std::string error;
};

const Loaded& loaded() {
  static Loaded l;
  static std::once_flag once;
  std::call_once(once, [] {
    // Never closed: libcurl stays for the life of the process, as if linked.
    void* h = ::dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) {
      const char* why = ::dlerror();
      l.error = std::string("cannot load libcurl (") + (why ? why : kSoname) +
                "): install it with 'apt-get install libcurl4'";
      return;
    }
    bool complete = true;
    auto bind = [&](auto& field, const char* name) {
      field = reinterpret_cast<std::remove_reference_t<decltype(field)>>(::dlsym(h, name));
      if (field == nullptr && complete) {
        complete = false;
        l.error = std::string(kSoname) + " has no " + name +
                  ": the host needs libcurl 7.80 or newer ('apt-get install libcurl4')";
      }
    };
    Lib& f = l.lib;
    bind(f.global_init, "curl_global_init");
    bind(f.easy_init, "curl_easy_init");
    bind(f.easy_cleanup, "curl_easy_cleanup");
    bind(f.easy_setopt, "curl_easy_setopt");
    bind(f.easy_getinfo, "curl_easy_getinfo");
    bind(f.easy_strerror, "curl_easy_strerror");
    bind(f.multi_init, "curl_multi_init");
    bind(f.multi_cleanup, "curl_multi_cleanup");
    bind(f.multi_add_handle, "curl_multi_add_handle");
    bind(f.multi_remove_handle, "curl_multi_remove_handle");
    bind(f.multi_perform, "curl_multi_perform");
    bind(f.multi_poll, "curl_multi_poll");
    bind(f.multi_wakeup, "curl_multi_wakeup");
    bind(f.multi_info_read, "curl_multi_info_read");
    bind(f.multi_strerror, "curl_multi_strerror");
    bind(f.slist_append, "curl_slist_append");
    bind(f.slist_free_all, "curl_slist_free_all");
    bind(f.getdate, "curl_getdate");
    bind(f.url, "curl_url");
    bind(f.url_cleanup, "curl_url_cleanup");
    bind(f.url_set, "curl_url_set");
    bind(f.url_get, "curl_url_get");
    bind(f.url_strerror, "curl_url_strerror");
    bind(f.free, "curl_free");
    l.ok = complete;
  });
  return l;
}

}  // namespace

const Lib* load() {
  const Loaded& l = loaded();
  return l.ok ? &l.lib : nullptr;
}

const std::string& load_error() { return loaded().error; }

}  // namespace host::fetch::curl
