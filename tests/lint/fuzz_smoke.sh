#!/bin/sh
# Short libFuzzer runs of every fuzz target (tests/fuzz/fuzz_*.c) on its seed
# corpus (tests/fixtures, copies of ../shared/corpus, and tests/fuzz/seeds/), plus
# a replay of every saved regression input in tests/fuzz/regressions/<target>/.
# A crash, leak, timeout or sanitizer report fails the test. Long runs for
# docs/reliability.md are done by hand with the same build lines (the top of each
# tests/fuzz/*.c; tests/fuzz/README.md).
#   FUZZ_SECONDS   seconds of fuzzing per target (default 6; 8 targets)
#   FUZZ_KEEP      a folder: build the targets and seed corpora there and keep them
set -u
src=${SKEWD_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
secs=${FUZZ_SECONDS:-6}
pass=0
fail=0
if ! command -v clang >/dev/null 2>&1; then
	echo "clang not found (deploy/install-deps.sh --test installs it)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
if [ -n "${FUZZ_KEEP:-}" ]; then
	work=$FUZZ_KEEP
	mkdir -p "$work" || exit 2
else
	work=$(mktemp -d /tmp/skewd-fuzz-XXXXXX) || exit 2
	trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work/obj" "$work/seeds"
# strict_string_checks: a string function must not read past what it was given
# (CI's ASan suite sets it too; found strndup on a name at the end of the input).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}strict_string_checks=1"
cflags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE \
-DSKEWD_VERSION=\"fuzz\" -I$src/server -I$src"

# Data files compiled in (as CMake's skewd_embed does).
embed() {
	cmake -DIN="$src/$1" -DOUT="$work/obj/$2.c" -DNAME="$2" -P "$src/server/util/embed.cmake" || return 1
	echo "obj/$2.c"
}
gen="$(embed server/engine/knowledge.yaml engine_knowledge_yaml) $(embed server/diff/rules.yaml diff_rules_yaml)
$(embed server/bundle/redact.yaml redact_rules_yaml)"

# Every source any target needs is compiled once, two at a time.
doc="server/doc/doc.c server/doc/doc_emit.c server/doc/doc_json.c server/doc/doc_resolve.c server/doc/doc_yaml.c"
util="server/util/buf.c server/util/err.c"
engine="server/engine/knowledge.c server/engine/parse.c server/engine/redact.c server/engine/shell.c"
diff="server/diff/compare.c server/diff/result.c server/diff/rules.c server/diff/side.c"
render="$(cd "$src" && ls server/render/*.c | tr '\n' ' ')"
metrics="server/metrics/parse.c server/metrics/set.c server/metrics/compute.c"
all="$doc $util server/util/log.c $engine $diff $render $metrics server/kube/kube.c server/kube/kubeconfig.c
server/collect/build.c server/seal/seal.c server/bundle/redact.c server/http/routes.c server/http/request.c
api/query.c api/api.c"
o() {
	for f in "$@"; do
		case $f in
		obj/*) printf '%s\n' "$work/${f%.c}.o" ;;
		*) printf '%s\n' "$work/obj/$(echo "$f" | tr / _ | sed 's/\.c$/.o/')" ;;
		esac
	done
}
compile_log="$work/compile.log"
: >"$compile_log"
compile() {
	clang $cflags -c "$1" -o "$2" 2>>"$compile_log" || echo "FAILED $1" >>"$compile_log"
}
n=0
for f in $all $gen; do
	case $f in
	obj/*) compile "$work/$f" "$(o "$f")" & ;;
	*) compile "$src/$f" "$(o "$f")" & ;;
	esac
	n=$((n + 1))
	[ $((n % 2)) -eq 0 ] && wait
done
wait
if grep -q '^FAILED' "$compile_log"; then
	echo "FAIL: compiling the fuzz targets' sources:"
	grep -B5 '^FAILED' "$compile_log" | head -20
	echo "0 passed, 1 failed"
	exit 1
fi

# target name, then objects and libraries
build() {
	name=$1
	shift
	if ! clang $cflags -o "$work/$name" "$src/tests/fuzz/$name.c" "$@" 2>"$work/$name.build.log"; then
		echo "FAIL: building $name: $(tail -5 "$work/$name.build.log")"
		fail=$((fail + 1))
		return 1
	fi
	return 0
}

# target name, then seed folders
run() {
	name=$1
	shift
	mkdir -p "$work/corpus-$name"
	for seed in "$@"; do
		[ -d "$seed" ] && cp "$seed"/* "$work/corpus-$name/" 2>/dev/null
	done
	reg="$src/tests/fuzz/regressions/$name"
	if [ -d "$reg" ] && [ -n "$(ls "$reg" 2>/dev/null)" ]; then
		# -timeout: a saved slow input (found as a timeout) must stay fast.
		if "$work/$name" -runs=0 -timeout=10 "$reg"/* >"$work/$name.replay.log" 2>&1; then
			pass=$((pass + 1))
		else
			echo "FAIL: $name regression replay: $(grep -m3 -E 'ERROR|SUMMARY|fuzz_' "$work/$name.replay.log")"
			fail=$((fail + 1))
		fi
	fi
	if (cd "$work" && "./$name" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	    "corpus-$name" >"$name.log" 2>&1); then
		pass=$((pass + 1))
		echo "$name: $(grep -E '^#[0-9]+.*(DONE|pulse)' "$work/$name.log" | tail -1)"
	else
		echo "FAIL: $name found a problem; the input is in the log:"
		grep -m5 -E 'ERROR|SUMMARY|Test unit written|fuzz_' "$work/$name.log"
		cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* /tmp/ 2>/dev/null
		fail=$((fail + 1))
	fi
}

# Seeds made from the fixtures: diff pairs (the fixture cluster's last good and
# current state of each file, and two versions of one manifest), and state
# folders for the snapshot builder (namespace + nodes + one workload's file).
fx="$src/tests/fixtures"
mkdir -p "$work/seeds/diff" "$work/seeds/snapshot"
for f in "$fx"/cluster/lastgood/*.yaml; do
	b=$(basename "$f" .yaml)
	{ cat "$f"; printf '\n====\n'; cat "$fx/cluster/current/$b.yaml"; } >"$work/seeds/diff/cluster-$b"
done
m="$fx/corpus/manifests"
{ cat "$m/gke-samples-2024-10-25-ec129631__vllm-llama3-405b-A3.yaml"; printf '\n====\n'
  cat "$m/gke-samples-2025-07-03-ee970fb0__vllm-llama3-405b-A3.yaml"; } >"$work/seeds/diff/gke-405b-versions"
{ cat "$m/kserve__kserve-huggingfaceserver.yaml"; printf '\n====\n'
  cat "$m/kserve__kserve-vllmserver.yaml"; } >"$work/seeds/diff/kserve-hf-vs-vllm"
for side in current lastgood; do
	for w in 10-vllm-llama 11-vllm-llama-routing 20-tgi-gemma 40-dcgm-exporter; do
		for f in 00-namespace 01-nodes "$w"; do
			echo '---'
			cat "$fx/cluster/$side/$f.yaml"
		done >"$work/seeds/snapshot/$side-$w.yaml"
	done
done
a="$fx/corpus/k8s-api"
cat "$a/k9s__dp.json" "$a/k9s__rs.json" "$a/k9s__p1.json" "$a/k9s__po_sidecar.json" "$a/k9s__svc.json" \
    "$a/k9s__hpa.json" "$a/k9s__ing.json" "$a/k9s__cm.json" "$a/k9s__no.json" >"$work/seeds/snapshot/k9s-all.json"

if build fuzz_doc $(o $doc $util) -lyaml -ljansson -lcrypto -lm; then
	run fuzz_doc "$fx/corpus/manifests" "$fx/corpus/k8s-api" "$fx/corpus/hf-config"
fi
if build fuzz_metrics $(o $metrics $util) -ljansson -lm; then
	run fuzz_metrics "$fx/metrics"
fi
if build fuzz_kubeconfig $(o server/kube/kube.c server/kube/kubeconfig.c server/util/log.c $doc $util) \
    -lcurl -lyaml -ljansson -lcrypto -lm; then
	run fuzz_kubeconfig "$fx/kube"
fi
if build fuzz_engine_args $(o obj/engine_knowledge_yaml.c $engine $doc $util) -lyaml -ljansson -lcrypto -lm; then
	run fuzz_engine_args "$src/tests/fuzz/seeds/fuzz_engine_args"
fi
if build fuzz_snapshot $(o obj/engine_knowledge_yaml.c server/collect/build.c server/seal/seal.c $engine $doc \
    $util server/util/log.c) -lyaml -ljansson -lcrypto -lm; then
	run fuzz_snapshot "$work/seeds/snapshot" "$fx/corpus/k8s-api"
fi
if build fuzz_diff $(o obj/diff_rules_yaml.c obj/engine_knowledge_yaml.c $diff $render $engine $doc $util) \
    -lyaml -ljansson -lcrypto -lm; then
	run fuzz_diff "$work/seeds/diff"
fi
if build fuzz_redact $(o obj/redact_rules_yaml.c server/bundle/redact.c server/engine/redact.c $doc $util) \
    -lyaml -ljansson -lcrypto -lm; then
	run fuzz_redact "$fx/bundle" "$fx/cluster/current" "$fx/corpus/k8s-api"
fi
# The router's handlers are never called: every handler symbol routes.o needs
# is pointed at one function of the target that aborts.
shim=$(nm -u "$(o server/http/routes.c)" | awk '$2 ~ /^(api_|http_metrics_get$|store_)/ \
    { printf " -Wl,--defsym=%s=fuzz_router_no_handler", $2 }')
if build fuzz_router $(o server/http/routes.c server/http/request.c api/query.c api/api.c $util) $shim -ljansson; then
	run fuzz_router "$src/tests/fuzz/seeds/fuzz_router"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
