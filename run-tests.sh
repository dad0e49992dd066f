#!/usr/bin/env bash
# Builds everything with warnings as errors and runs every test, then builds
# again with AddressSanitizer + UndefinedBehaviorSanitizer and runs them again.
set -euo pipefail
cd "$(dirname "$0")"
jobs=$(nproc)

bash .ci/deps.sh

echo "== Release build (-Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSDP_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs" --timeout 600)

echo "== ASan + UBSan build"
# -O1 without debug info: the sanitizers still see everything, and the build
# takes half the time of -O2 -g.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Sanitize -DSDP_SANITIZE=ON -DSDP_WERROR=ON \
  -DCMAKE_CXX_FLAGS_SANITIZE="-O1" -DCMAKE_C_FLAGS_SANITIZE="-O1" >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan &&
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure -j"$jobs" --timeout 900)
