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
#define SDP_CURL_BIND(name) bind(f.name, "curl_" #name);
    SDP_CURL_FUNCTIONS(SDP_CURL_BIND)
#undef SDP_CURL_BIND
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
