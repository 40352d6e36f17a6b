#!/bin/sh
# Installs what is missing, builds skewd, and runs the service in the foreground
# on the embedded SQLite default (./data/skewd.db, http://127.0.0.1:8080).
# Extra arguments go to `skewd serve` (e.g. --config skewd.yaml).
set -eu
cd "$(dirname "$0")/.."
sh deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSKEWD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)"
exec ./build/skewd serve "$@"
