#!/bin/sh
# `skewd demo`: starts with its simulated cluster, pulls it twice (last good,
# then current), prints the URL and what to try, serves the API with anonymous
# reads, lists vllm-llama with two snapshots (the regression), and stops
# cleanly on SIGINT. Without --data-dir it works in a temporary folder that it
# removes, and never creates ./data. Runs the real binary ($SKEWD_BIN).
bin=${SKEWD_BIN:?SKEWD_BIN is not set}
tmp=$(mktemp -d /tmp/skewd-demo-test-XXXXXX) || exit 2
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
cd "$tmp" || exit 2
for v in LISTEN DATA_DIR MIGRATIONS_DIR ANONYMOUS_READ SEAL_KEY SEAL_KEY_FILE IN_CLUSTER \
    COLLECT_INTERVAL_S WEB_DIR; do
	unset "SKEWD_$v"
done

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# start ARGS...: runs skewd demo in the background and waits (up to 60 s) for
# its "listening on URL" line; sets $url.
start() {
	# Empty the files first: the child truncates them only after the fork, and
	# the loop below must not read the previous run's "listening on" line.
	: >out.txt
	: >err.txt
	"$bin" demo --listen 127.0.0.1:0 "$@" >out.txt 2>err.txt &
	pid=$!
	url=
	i=0
	while [ $i -lt 600 ]; do
		url=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' out.txt)
		[ -n "$url" ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# stop: SIGINT, then wait for a clean exit.
stop() {
	kill -INT "$pid"
	# A clean stop takes well under a second; never hang the suite on one.
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		wait "$pid"
		pid=
		bad "skewd demo did not stop within 30 s of SIGINT"
		return
	fi
	wait "$pid"
	rc=$?
	pid=
	[ "$rc" -eq 0 ] && ok || bad "skewd demo exited $rc after SIGINT; stderr: $(tail -5 err.txt)"
}

if start --data-dir "$tmp/keep"; then
	ok
	grep -q "pulled the last-good state: 2 targets, 2 changed, 0 errors" out.txt && ok ||
	    bad "no first pull line: $(cat out.txt)"
	grep -q "pulled the current state: 2 targets, 1 changed, 0 errors" out.txt && ok ||
	    bad "the second pull should change vllm-llama only: $(cat out.txt)"
	grep -q "curl -s $url/api/v1/targets" out.txt && ok || bad "no 'what to try' lines: $(cat out.txt)"
	targets=$(curl -s "$url/api/v1/targets")
	echo "$targets" | grep -q '"target": *"demo/llm/deployment/vllm-llama"' && ok ||
	    bad "/api/v1/targets lacks vllm-llama: $targets"
	echo "$targets" | grep -q '"target": *"demo/llm/deployment/tgi-gemma"' && ok ||
	    bad "/api/v1/targets lacks tgi-gemma: $targets"
	snaps=$(curl -s "$url/api/v1/targets/demo/llm/deployment/vllm-llama/snapshots")
	n=$(echo "$snaps" | grep -o '"hash"' | wc -l)
	[ "$n" -eq 2 ] && ok || bad "vllm-llama should have 2 snapshots, has $n: $snaps"
	snaps=$(curl -s "$url/api/v1/targets/demo/llm/deployment/tgi-gemma/snapshots")
	n=$(echo "$snaps" | grep -o '"hash"' | wc -l)
	[ "$n" -eq 1 ] && ok || bad "tgi-gemma did not change and should have 1 snapshot, has $n: $snaps"
	# The last-good pull is each target's baseline, so the first page already
	# answers "what changed since last good": the regressed rollout, and why.
	base=$(curl -s "$url/api/v1/targets/demo/llm/deployment/vllm-llama/baseline")
	echo "$base" | grep -q '"set_by": *"skewd demo"' && ok || bad "vllm-llama baseline not set by the demo: $base"
	diff=$(curl -s "$url/api/v1/targets/demo/llm/deployment/vllm-llama/diff")
	echo "$diff" | grep -q '"verdict": *"skew_likely"' && ok || bad "vllm-llama diff verdict is not skew_likely: $(echo "$diff" | head -c 400)"
	echo "$diff" | grep -q '"category": *"hardware"' && ok || bad "vllm-llama diff lacks a hardware change: $(echo "$diff" | head -c 400)"
	cluster=$(curl -s "$url/api/v1/clusters/demo")
	echo "$cluster" | grep -q '"kind": *"token"' && ok || bad "cluster demo: $cluster"
	echo "$cluster" | grep -q '"server_version": *"v' && ok || bad "cluster demo has no server version: $cluster"
	# Reads are anonymous; changes still need a token.
	code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$url/api/v1/clusters/demo")
	[ "$code" = 401 ] && ok || bad "anonymous DELETE answered $code, want 401"
	stop
	[ -f "$tmp/keep/skewd.db" ] && [ -d "$tmp/keep/demo-tls" ] && ok ||
	    bad "--data-dir should hold skewd.db and demo-tls"
else
	bad "skewd demo did not print 'listening on': $(cat out.txt) $(cat err.txt)"
fi

# A second run on the same data dir replaces the old demo cluster.
if start --data-dir "$tmp/keep"; then
	ok
	n=$(curl -s "$url/api/v1/clusters" | grep -o '"name": *"demo"' | wc -l)
	[ "$n" -eq 1 ] && ok || bad "a second run should leave one cluster demo, has $n"
	stop
else
	bad "a second skewd demo on the same data dir did not start: $(cat err.txt)"
fi

# Without --data-dir: a temporary folder, removed at the end; ./data never made.
if start; then
	ok
	dir=$(sed -n 's/.*(data in \(.*\))$/\1/p' out.txt)
	case "$dir" in
	/tmp/skewd-demo-*) ok ;;
	*) bad "the default data dir should be a temporary folder, is '$dir'" ;;
	esac
	[ -d "$dir" ] && ok || bad "temporary data dir '$dir' missing while running"
	stop
	[ ! -e "$dir" ] && ok || bad "temporary data dir '$dir' left behind"
else
	bad "skewd demo without --data-dir did not start: $(cat err.txt)"
fi
[ ! -e "$tmp/data" ] && ok || bad "skewd demo created ./data"

# Usage errors.
"$bin" demo --bogus >out.txt 2>err.txt
[ $? -eq 2 ] && grep -q "usage: skewd demo" err.txt && ok || bad "unknown flag: want exit 2 and usage"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
