#!/bin/sh
# The service's diff and verdict rules files (config keys diff_rules_file and
# verdict_rules_file): a good file starts the service, a bad or missing one stops
# start-up with exit 2 and a message naming the file and what is wrong.
set -u
bin=${SKEWD_BIN:?}
src=${SKEWD_SOURCE_DIR:?}
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d /tmp/skewd-rules-XXXXXX) || exit 2
trap 'kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
pid=
export SKEWD_DATA_DIR="$tmp/data" SKEWD_LISTEN=127.0.0.1:0 SKEWD_COLLECT_INTERVAL_S=0

# serve_fails NAME: skewd serve must exit 2 quickly; its stderr must match NAME.
serve_fails() {
	timeout 20 "$bin" serve >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq 2 ] && grep -q "$1" "$tmp/err" && ok ||
	    bad "want exit 2 and '$1', got $rc: $(cat "$tmp/err")"
}

SKEWD_VERDICT_RULES_FILE="$tmp/none.yaml" serve_fails "none.yaml"
printf 'schema: skewd.verdict-rules/v1\nregression: {latency_increase_pct: fast}\n' >"$tmp/bad-verdict.yaml"
SKEWD_VERDICT_RULES_FILE="$tmp/bad-verdict.yaml" serve_fails "bad-verdict.yaml"
printf 'rules:\n  - name: x\n    match: {nonsense: 1}\n' >"$tmp/bad-diff.yaml"
SKEWD_DIFF_RULES_FILE="$tmp/bad-diff.yaml" serve_fails "bad-diff.yaml"

# A copy of the built-in verdict rules and a real ignore file start the service.
cp "$src/server/metrics/verdict.yaml" "$tmp/verdict.yaml"
printf 'rules:\n  - name: ignore-labels\n    match: {path: "/metadata/labels/**"}\n    ignore: true\n' >"$tmp/ignore.yaml"
SKEWD_VERDICT_RULES_FILE="$tmp/verdict.yaml" SKEWD_DIFF_RULES_FILE="$tmp/ignore.yaml" \
    "$bin" serve >"$tmp/out" 2>"$tmp/err" &
pid=$!
url=
i=0
while [ $i -lt 100 ] && [ -z "$url" ]; do
	url=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$tmp/out")
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
if [ -n "$url" ] && curl -sf "$url/healthz" >/dev/null; then
	ok
else
	bad "serve with good rules files did not start: $(cat "$tmp/err")"
fi
kill -TERM "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
pid=

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
