#!/bin/sh
# openapi.yaml is valid OpenAPI 3.1 and passes @redocly/cli lint (its
# "recommended" rules) with no errors and no warnings. The linter is pinned in
# tests/package.json + tests/package-lock.json and installed with `npm ci`
# into tests/node_modules when it is missing.
cd "${SKEWD_SOURCE_DIR:-.}" || exit 2
redocly=tests/node_modules/.bin/redocly
if [ ! -x "$redocly" ]; then
	if ! command -v npm >/dev/null 2>&1; then
		echo "openapi_lint: npm is not installed (deploy/install-deps.sh installs it)"
		echo "0 passed, 1 failed"
		exit 1
	fi
	npm ci --prefix tests --no-audit --no-fund --loglevel=error || {
		echo "openapi_lint: 'npm ci --prefix tests' failed"
		echo "0 passed, 1 failed"
		exit 1
	}
fi
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
