#include "host/cli/open_store.h"

#include <filesystem>

namespace host::cli {

bool store_missing(const Globals& globals) {
  std::error_code ec;
  const std::filesystem::path dir(globals.data_dir);
  if (!std::filesystem::exists(dir, ec)) return true;
  return std::filesystem::is_directory(dir, ec) && std::filesystem::is_empty(dir, ec);
}

std::expected<store::Store, std::string> open_store(const Globals& globals, StoreMode mode) {
  store::OpenOptions options;
  options.create_if_missing = mode == StoreMode::kWrite;
  auto opened = store::Store::open(globals.data_dir, options);
  if (opened) return std::move(*opened);
  const store::Error& e = opened.error();
  std::string message = e.message;
  if (e.kind == store::ErrorKind::kNotAStore && store_missing(globals)) {
    message = "no store at '" + globals.data_dir +
              "' yet; pass --data DIR (or set SDP_DATA) to use another, or run a command that "
              "creates it (e.g. 'host config set')";
  }
  return std::unexpected(message);
}

}  // namespace host::cli
