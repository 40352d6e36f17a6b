#!/bin/sh
# Installs what is missing, builds skewd, and runs it in the foreground on
# http://127.0.0.1:8080.
#
# When no cluster is configured yet (no arguments, no ./data/skewd.db, no
# SKEWD_DATA_DIR), it runs `skewd demo`: the service with a simulated cluster
# already pulled, in a temporary folder (./data is not touched). Otherwise it
# runs `skewd serve` on the embedded SQLite default (./data/skewd.db); extra
# arguments go to `skewd serve` (e.g. --config skewd.yaml). SKEWD_RUN=serve or
# SKEWD_RUN=demo picks one explicitly.
set -eu
cd "$(dirname "$0")/.."
sh deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSKEWD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)"
mode=${SKEWD_RUN:-}
if [ -z "$mode" ]; then
	if [ $# -eq 0 ] && [ ! -e data/skewd.db ] && [ -z "${SKEWD_DATA_DIR:-}" ]; then
		mode=demo
	else
		mode=serve
	fi
fi
if [ "$mode" = demo ]; then
	echo "run-local: no cluster configured yet; starting 'skewd demo' (SKEWD_RUN=serve runs the service)"
	exec ./build/skewd demo "$@"
fi
exec ./build/skewd serve "$@"
