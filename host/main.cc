// `host`: the Smart Data Pipeline command line. Parses arguments and
// dispatches to host/commands/; everything else lives in the libraries.
#include <exception>
#include <iostream>

#include "host/cli/cli.h"

int main(int argc, char** argv) {
  try {
    return host::cli::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "host: internal error: " << e.what()
              << "\nThis is a bug; please report it with the command you ran.\n";
    return host::cli::kExitFailed;
  }
}
