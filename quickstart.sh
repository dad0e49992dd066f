#!/usr/bin/env bash
# The main job, for now: build the host and run the bundled example parsers
# over the bundled example pages, printing the records as JSON Lines.
set -euo pipefail
cd "$(dirname "$0")"

bash .ci/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target host sdp-worker >/dev/null

echo "== books.toscrape.com (scripts/examples/books/books.lua)" >&2
build/bin/host parse scripts/examples/books/books.lua \
  scripts/examples/books/pages/index.html --url http://books.toscrape.com/index.html
echo "== quotes.toscrape.com/js/ (scripts/examples/quotes/quotes.lua)" >&2
build/bin/host parse scripts/examples/quotes/quotes.lua \
  scripts/examples/quotes/pages/js-index.html --url http://quotes.toscrape.com/js/
