#!/bin/sh
# Short libFuzzer runs of the parsers that read untrusted bytes, on seed corpora
# from tests/fixtures (copies of ../shared/corpus), plus a replay of every saved
# regression input in tests/fuzz/regressions/<target>/. A crash, leak or sanitizer
# report fails the test. Long runs for docs/reliability.md are done by hand with
# the same build lines (see tests/fuzz/*.c).
#   FUZZ_SECONDS   seconds per target (default 15)
set -u
src=${SKEWD_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
secs=${FUZZ_SECONDS:-15}
pass=0
fail=0
if ! command -v clang >/dev/null 2>&1; then
	echo "clang not found (deploy/install-deps.sh --test installs it)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
work=$(mktemp -d /tmp/skewd-fuzz-XXXXXX) || exit 2
trap 'rm -rf "$work"' EXIT
# strict_string_checks: a string function must not read past what it was given
# (CI's ASan suite sets it too; found strndup on a name at the end of the input).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}strict_string_checks=1"
cflags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE -I$src/server"

# target name, extra sources, libraries, seed folders
build() {
	name=$1
	shift
	if ! clang $cflags -o "$work/$name" "$@" 2>"$work/$name.build.log"; then
		echo "FAIL: building $name: $(tail -5 "$work/$name.build.log")"
		fail=$((fail + 1))
		return 1
	fi
	return 0
}

run() {
	name=$1
	shift
	mkdir -p "$work/corpus-$name"
	for seed in "$@"; do
		[ -d "$seed" ] && cp "$seed"/* "$work/corpus-$name/" 2>/dev/null
	done
	reg="$src/tests/fuzz/regressions/$name"
	if [ -d "$reg" ] && [ -n "$(ls "$reg" 2>/dev/null)" ]; then
		if "$work/$name" -runs=0 "$reg"/* >"$work/$name.replay.log" 2>&1; then
			pass=$((pass + 1))
		else
			echo "FAIL: $name regression replay: $(grep -m3 -E 'ERROR|SUMMARY' "$work/$name.replay.log")"
			fail=$((fail + 1))
		fi
	fi
	if (cd "$work" && "./$name" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	    "corpus-$name" >"$name.log" 2>&1); then
		pass=$((pass + 1))
		echo "$name: $(grep -E '^#[0-9]+.*(DONE|pulse)' "$work/$name.log" | tail -1)"
	else
		echo "FAIL: $name found a problem; the input is in the log:"
		grep -m5 -E 'ERROR|SUMMARY|Test unit written' "$work/$name.log"
		cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* /tmp/ 2>/dev/null
		fail=$((fail + 1))
	fi
}

if build fuzz_doc "$src/tests/fuzz/fuzz_doc.c" "$src"/server/doc/doc*.c "$src/server/util/buf.c" \
    "$src/server/util/err.c" -lyaml -ljansson -lcrypto -lm; then
	run fuzz_doc "$src/tests/fixtures/corpus/manifests" "$src/tests/fixtures/corpus/k8s-api"
fi
if build fuzz_metrics "$src/tests/fuzz/fuzz_metrics.c" "$src/server/metrics/parse.c" \
    "$src/server/metrics/set.c" "$src/server/metrics/compute.c" "$src/server/util/buf.c" \
    "$src/server/util/err.c" -ljansson -lm; then
	run fuzz_metrics "$src/tests/fixtures/metrics"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
