#!/bin/sh
# Runs the whole test suite: installs what is missing, then builds and runs every
# test twice — a normal build and an AddressSanitizer+UndefinedBehaviorSanitizer
# build — under ctest, and the concurrency tests (ctest label "concurrency") a
# third time in a ThreadSanitizer build (build-tsan, only what they need).
# Exits non-zero when anything fails.
#   sh tests/run-all.sh            everything
#   SKEWD_SKIP_ASAN=1 sh tests/run-all.sh   only the normal build (quicker, local use)
#   SKEWD_SKIP_TSAN=1 sh tests/run-all.sh   without the ThreadSanitizer tree
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=$(nproc)

sh deploy/install-deps.sh --test
if [ -f tests/package.json ]; then
	# Pinned npm tools (OpenAPI linter, browser driver), from tests/package-lock.json.
	if [ ! -d tests/node_modules ] || [ tests/package-lock.json -nt tests/node_modules ]; then
		npm ci --prefix tests --no-audit --no-fund --loglevel=error
	fi
fi

run_suite() {
	dir=$1
	shift
	echo "== build $dir ($*)"
	cmake -S "$top" -B "$top/$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
	cmake --build "$top/$dir" -j"$jobs"
	echo "== test $dir"
	ctest --test-dir "$top/$dir" --output-on-failure -j"$jobs"
}

run_suite build
if [ "${SKEWD_SKIP_ASAN:-0}" != 1 ]; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		run_suite build-asan -DSKEWD_SANITIZE=ON
fi
if [ "${SKEWD_SKIP_TSAN:-0}" != 1 ]; then
	# The server's reports land in its stderr, which testkit checks; a report in
	# the test process (kubesim runs there) makes it exit non-zero.
	echo "== build build-tsan (-DSKEWD_TSAN=ON, the concurrency tests only)"
	cmake -S "$top" -B "$top/build-tsan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSKEWD_TSAN=ON >/dev/null
	cmake --build "$top/build-tsan" -j"$jobs" --target skewd kubesim test_http_concurrency test_concurrency_collect
	echo "== test build-tsan"
	TSAN_OPTIONS=halt_on_error=0:second_deadlock_stack=1 \
		ctest --test-dir "$top/build-tsan" --output-on-failure -j"$jobs" -L concurrency
fi
echo "== all suites passed"
