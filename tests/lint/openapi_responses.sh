#!/bin/sh
# The real skewd answers as openapi.yaml says: tests/contract/responses.mjs
# starts kubesim ($SKEWD_KUBESIM) on the fixture cluster and `skewd serve`
# ($SKEWD_BIN), calls every operation of openapi.yaml (successes and the
# documented errors) and validates each answer's status, Content-Type and
# body against the operation (JSON Schema 2020-12 with Ajv). It fails when an
# operation + documented status got no validated answer, unless the script's
# EXEMPT list names it with a reason. The validator is pinned in
# tests/package.json + tests/package-lock.json and installed with `npm ci --prefix tests`
# by tests/run-all.sh (this test never installs them: see tests/npm_tools.sh).
: "${SKEWD_BIN:?SKEWD_BIN is not set}" "${SKEWD_KUBESIM:?SKEWD_KUBESIM is not set}"
: "${SKEWD_FIXTURES:?SKEWD_FIXTURES is not set}"
cd "${SKEWD_SOURCE_DIR:-.}" || exit 2
SKEWD_SOURCE_DIR=$(pwd)
export SKEWD_SOURCE_DIR
sh tests/npm_tools.sh openapi_responses ajv/dist/2020.js ajv-formats/package.json yaml/package.json || exit 1
if ! command -v curl >/dev/null 2>&1; then
	echo "openapi_responses: curl is not installed (deploy/install-deps.sh --test installs it)"
	echo "0 passed, 1 failed"
	exit 1
fi
exec node tests/contract/responses.mjs
