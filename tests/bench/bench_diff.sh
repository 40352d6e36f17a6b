#!/bin/sh
# Benchmark of `skewd diff` on a generated fleet; prints a table. Not a ctest test.
#
#   tests/bench/bench_diff.sh [BUILD_DIR] [N_WORKLOADS] [WORKDIR]
#
# BUILD_DIR (default: build) holds the skewd binary and tests/bench/parse_floor (build a
# Release tree for figures: cmake -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build).
# N_WORKLOADS defaults to 2000. The fleet comes from ../shared/bench/gen-fleet.py (override
# with GEN_FLEET=path); it is written to WORKDIR (default: a temporary directory, removed
# afterwards) and reused there when WORKDIR already holds the same N.
# Exit status: 0 when the result is exactly what the generator planted, 1 when not, 2 on error.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
n=${2:-2000}
gen=${GEN_FLEET:-$src/../shared/bench/gen-fleet.py}
for f in "$build/skewd" "$build/tests/bench/parse_floor" "$gen"; do
	[ -e "$f" ] || { echo "bench_diff: $f not found" >&2; exit 2; }
done
if [ $# -ge 3 ]; then
	work=$3
	mkdir -p "$work"
else
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT INT TERM
fi
set +e
python3 "$src/tests/bench/bench_diff.py" "$build/skewd" "$build/tests/bench/parse_floor" "$gen" "$n" "$work"
