// `host`: the Smart Data Pipeline command line. Parses arguments and
// dispatches to host/commands/; everything else lives in the libraries.
#include <malloc.h>

#include <exception>
#include <iostream>

#include "host/cli/cli.h"

int main(int argc, char** argv) {
  // Page bodies (up to fetch.max_body) come and go with every page. Above
  // glibc's default threshold each would be mapped and unmapped, paying
  // page faults every time (they stood out in `host parse`'s profile);
  // keep them in the heap. (The store sets the same when opened.)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  try {
    return host::cli::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "host: internal error: " << e.what()
              << "\nThis is a bug; please report it with the command you ran.\n";
    return host::cli::kExitFailed;
  }
}
