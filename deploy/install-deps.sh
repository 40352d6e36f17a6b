#!/bin/sh
# Installs what skewd needs on Debian 12 (bookworm), skipping what is already there.
#   sh deploy/install-deps.sh          build and runtime packages
#   sh deploy/install-deps.sh --test   plus what the test suite needs
# Uses sudo when not run as root. Safe to run again.
set -eu

want_test=0
for arg in "$@"; do
	case "$arg" in
	--test) want_test=1 ;;
	*) echo "usage: $0 [--test]" >&2; exit 2 ;;
	esac
done

pkgs="build-essential cmake pkg-config libcivetweb-dev libcurl4-openssl-dev libjansson-dev
libsqlite3-dev libyaml-dev libssl-dev libarchive-dev"
if [ $want_test -eq 1 ]; then
	# prometheus: the Prometheus path is tested against the real server (test_prometheus).
	# chromium, firefox-esr: the dashboard tests (tests/lint/browser.sh, browser_firefox.sh).
	# wrk and civetweb: tests/bench/load.sh (wrk against skewd and against CivetWeb
	# serving a static file, the baseline).
	pkgs="$pkgs libcmocka-dev clang sqlite3 curl python3 python3-yaml kubectl prometheus chromium firefox-esr wrk civetweb"
fi

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
# Node.js and npm fetch the dashboard's libraries (web/package-lock.json, compiled
# into the binary) and run the OpenAPI linter and the browser tests; any Node >= 20 will do.
if ! command -v npm >/dev/null 2>&1; then
	missing="$missing nodejs npm"
fi

if [ -n "$missing" ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "installing:$missing"
	$sudo apt-get update -qq
	# kubectl is not in Debian 12 main on every mirror; install it only when available.
	for p in $missing; do
		if [ "$p" = kubectl ] && ! apt-cache show kubectl >/dev/null 2>&1; then
			echo "note: kubectl is not available from apt here; the kubectl fidelity test will be skipped" >&2
			missing=$(echo "$missing" | sed 's/ kubectl//')
		fi
	done
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The dashboard's pinned npm libraries (uPlot, diff2html), which the build embeds.
web="$(cd "$(dirname "$0")/.." && pwd)/web"
if [ -f "$web/package-lock.json" ] && { [ ! -d "$web/node_modules" ] || [ "$web/package-lock.json" -nt "$web/node_modules" ]; }; then
	npm ci --prefix "$web" --no-audit --no-fund --loglevel=error
fi
