#!/bin/sh
# skewd diff on real files (tests/fixtures/corpus/, origins in its README): exit
# status, errors with file:line:column, and each output format.
# Runs under ctest with SKEWD_BIN and SKEWD_FIXTURES set.

BIN=${SKEWD_BIN:?SKEWD_BIN is not set}
FIX=${SKEWD_FIXTURES:?SKEWD_FIXTURES is not set}/corpus/manifests
API=${SKEWD_FIXTURES}/corpus/k8s-api
OLD=$FIX/gke-samples-2024-10-25-ec129631__vllm-llama3-405b-A3.yaml
NEW=$FIX/gke-samples-2025-07-03-ee970fb0__vllm-llama3-405b-A3.yaml
OLD_IMAGE=us-docker.pkg.dev/vertex-ai/vertex-vision-model-garden-dockers/pytorch-vllm-serve:20240821_1034_RC00
NEW_IMAGE=vllm/vllm-openai:v0.8.5

TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT INT TERM
passed=0
failed=0

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# run NAME ARGS...: runs skewd diff with stdout/stderr in $TMP/out, $TMP/err; sets $rc.
run() {
	"$BIN" diff "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	rc=$?
}

# expect_rc WANT WHAT
expect_rc() {
	if [ "$rc" -eq "$1" ]; then ok; else
		bad "$2: exit $rc, want $1"; sed 's/^/  stderr: /' "$TMP/err" | head -5
	fi
}

# has FILE PATTERN WHAT (fixed string)
has() {
	if grep -qF -- "$2" "$1"; then ok; else bad "$3: '$2' not in output"; fi
}
hasnt() {
	if grep -qF -- "$2" "$1"; then bad "$3: '$2' in output"; else ok; fi
}

# --- exit status 0: a file against itself ---
for f in "$OLD" "$API/k9s__dp.json" "$FIX/gke-samples__vllm-3-27b-it.yaml"; do
	run "$f" "$f"
	expect_rc 0 "$(basename "$f") against itself"
	has "$TMP/out" "no meaningful changes" "$(basename "$f") against itself, text"
done

# --- exit status 1: the two commits of the 405B LeaderWorkerSet ---
run --color never "$OLD" "$NEW"
expect_rc 1 "405b pair"
has "$TMP/out" "$NEW_IMAGE" "405b pair, text shows the new image"
has "$TMP/out" "$OLD_IMAGE" "405b pair, text shows the old image"
has "$TMP/out" "$(basename "$OLD") -> " "405b pair, text headline names the sides"
if [ -s "$TMP/err" ]; then bad "405b pair: unexpected stderr"; cat "$TMP/err"; else ok; fi

# Standard input as one side gives the same result.
"$BIN" diff --color never - "$NEW" <"$OLD" >"$TMP/stdin.out" 2>"$TMP/err"
rc=$?
expect_rc 1 "405b pair, A from stdin"
has "$TMP/stdin.out" "$NEW_IMAGE" "405b pair, A from stdin"

# --- formats ---
run --format json "$OLD" "$NEW"
expect_rc 1 "json format"
if python3 -m json.tool "$TMP/out" >/dev/null 2>"$TMP/jerr"; then ok; else
	bad "json format: not valid JSON: $(cat "$TMP/jerr")"
fi
if python3 - "$TMP/out" "$NEW_IMAGE" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "skewd.diff/v1", d.get("schema")
ch = d["changes"]
assert len(ch) > 0 and d["summary"]["changes"] == len(ch), d["summary"]
for c in ch:
    assert c["kind"] in ("added", "removed", "modified"), c
    assert c["category"] in ("model", "runtime", "hardware", "serving", "orchestration", "other"), c
    assert c["severity"] in ("critical", "high", "medium", "low", "info"), c
assert any(c.get("after") == sys.argv[2] or sys.argv[2] in json.dumps(c.get("after")) for c in ch), "no image change"
EOF
then ok; else bad "json format: contract check failed"; fi

run --format markdown "$OLD" "$NEW"
expect_rc 1 "markdown format"
has "$TMP/out" "### skewd diff: " "markdown heading"
has "$TMP/out" "| category | critical | high | medium | low | info | total |" "markdown summary table"
has "$TMP/out" "| severity | object | what | before | after | why |" "markdown change table"
has "$TMP/out" "\`$NEW_IMAGE\`" "markdown shows the new image in a code span"

run --format patch "$OLD" "$NEW"
expect_rc 1 "patch format"
if [ "$(head -c 4 "$TMP/out")" = "--- " ] && sed -n 2p "$TMP/out" | grep -q '^+++ '; then ok; else
	bad "patch format: no ---/+++ header"
fi
if grep -q '^@@ -[0-9][0-9]*\(,[0-9][0-9]*\)\? +[0-9][0-9]*\(,[0-9][0-9]*\)\? @@$' "$TMP/out"; then ok; else
	bad "patch format: no hunk header"
fi
if grep -q "^-.*$OLD_IMAGE" "$TMP/out" && grep -q "^+.*$NEW_IMAGE" "$TMP/out"; then ok; else
	bad "patch format: image lines not in the patch"
fi
run --format patch "$OLD" "$OLD"
expect_rc 0 "patch of a file against itself"
if [ -s "$TMP/out" ]; then bad "patch of a file against itself is not empty"; else ok; fi

# Colour: only when asked (stdout here is a file, so auto means none).
run "$OLD" "$NEW"
if grep -q "$(printf '\033')" "$TMP/out"; then bad "colour on a non-terminal"; else ok; fi
run --color=always "$OLD" "$NEW"
if grep -q "$(printf '\033')\[" "$TMP/out"; then ok; else bad "--color=always gave no colour"; fi
NO_COLOR=1 "$BIN" diff --color=auto "$OLD" "$NEW" >"$TMP/out" 2>/dev/null
if grep -q "$(printf '\033')" "$TMP/out"; then bad "colour with NO_COLOR set"; else ok; fi

# --- --ignore FILE: user rules drop or re-grade changes ---
cat >"$TMP/ignore.yaml" <<'EOF'
rules:
  - name: images-move-on-purpose
    match: {path: "/spec/**/image"}
    ignore: true
  - name: launcher-is-critical
    match: {path: "/spec/**/command"}
    severity: critical
EOF
run --color never --ignore "$TMP/ignore.yaml" "$OLD" "$NEW"
expect_rc 1 "405b pair with an ignore file"
hasnt "$TMP/out" "$NEW_IMAGE" "ignored image change"
has "$TMP/out" "ignore:images-move-on-purpose 2" "ignored changes are counted by rule"
has "$TMP/out" "(2 critical)" "severity override"
cat >"$TMP/ignore-all.yaml" <<'EOF'
rules:
  - name: all-of-it
    match: {path: "/spec/**"}
    ignore: true
EOF
run --ignore "$TMP/ignore-all.yaml" "$OLD" "$NEW"
expect_rc 0 "405b pair with every change ignored"
has "$TMP/out" "no meaningful changes" "every change ignored"
printf 'rules:\n  - name: x\n    match: {path: [\n' >"$TMP/ignore-bad.yaml"
run --ignore "$TMP/ignore-bad.yaml" "$OLD" "$NEW"
expect_rc 2 "malformed ignore file"
has "$TMP/err" "ignore-bad.yaml" "malformed ignore file is named"

# --- exit status 2: files that do not parse, as committed upstream ---
for name in gke-samples__vllm-llama3-8b-instruct.yaml \
    gke-samples__vllm-llama4-maverick-17b-128e-instruct-fp8.yaml; do
	run "$FIX/$name" "$OLD"
	expect_rc 2 "$name (invalid YAML) as A"
	if grep -q "^skewd: .*$name:[0-9][0-9]*:[0-9][0-9]*: " "$TMP/err"; then ok; else
		bad "$name: no 'skewd: FILE:LINE:COLUMN: ' message"; sed 's/^/  stderr: /' "$TMP/err"
	fi
	run "$OLD" "$FIX/$name"
	expect_rc 2 "$name (invalid YAML) as B"
	if [ -s "$TMP/out" ]; then bad "$name: output on error"; else ok; fi
done

# Malformed JSON gets a line and column too.
printf '{"apiVersion": "v1",\n "kind": "List", "items": [}\n' >"$TMP/bad.json"
run "$TMP/bad.json" "$OLD"
expect_rc 2 "malformed JSON"
if grep -q "bad.json:2:[0-9][0-9]*: " "$TMP/err"; then ok; else
	bad "malformed JSON: no line and column"; sed 's/^/  stderr: /' "$TMP/err"
fi

# --- exit status 2: files that cannot be read ---
run "$FIX/does-not-exist.yaml" "$OLD"
expect_rc 2 "missing file"
has "$TMP/err" "does-not-exist.yaml" "missing file is named"
run "$OLD" "$FIX"
expect_rc 2 "a directory as B"
run --ignore "$FIX/no-such-ignore.yaml" "$OLD" "$NEW"
expect_rc 2 "missing --ignore file"
has "$TMP/err" "no-such-ignore.yaml" "missing --ignore file is named"

# --- usage ---
run
expect_rc 2 "no arguments"
has "$TMP/err" "usage: skewd diff" "no arguments prints usage"
run "$OLD"
expect_rc 2 "one file"
run "$OLD" "$NEW" "$OLD"
expect_rc 2 "three files"
run --frobnicate "$OLD" "$NEW"
expect_rc 2 "unknown flag"
has "$TMP/err" "unknown option '--frobnicate'" "unknown flag is named"
has "$TMP/err" "usage: skewd diff" "unknown flag prints usage"
run --format yaml "$OLD" "$NEW"
expect_rc 2 "unknown format"
has "$TMP/err" "unknown format 'yaml'" "unknown format is named"
run --color sometimes "$OLD" "$NEW"
expect_rc 2 "unknown colour mode"
run "$OLD" "$NEW" --format
expect_rc 2 "--format without a value"
run - -
expect_rc 2 "both sides from stdin"
run --help
expect_rc 0 "--help"
has "$TMP/out" "usage: skewd diff" "--help prints usage on stdout"
has "$TMP/out" "Exit status: 0 no meaningful change, 1 changes found, 2 error." "--help states exit codes"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
