#!/bin/sh
# openapi.yaml is valid OpenAPI 3.1 and passes @redocly/cli lint (its
# "recommended" rules) with no errors and no warnings. The linter is pinned in
# tests/package.json + tests/package-lock.json and installed with `npm ci --prefix tests`
# by tests/run-all.sh (this test never installs them: see tests/npm_tools.sh).
cd "${SKEWD_SOURCE_DIR:-.}" || exit 2
redocly=tests/node_modules/.bin/redocly
sh tests/npm_tools.sh openapi_lint .bin/redocly || exit 1
out=$("$redocly" lint --format=stylish openapi.yaml 2>&1)
rc=$?
printf '%s\n' "$out"
if [ $rc -ne 0 ]; then
	echo "openapi_lint: redocly found errors in openapi.yaml"
	echo "0 passed, 1 failed"
	exit 1
fi
if printf '%s\n' "$out" | grep -qi 'warning'; then
	echo "openapi_lint: redocly reported warnings in openapi.yaml"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "1 passed, 0 failed"
