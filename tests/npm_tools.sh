#!/bin/sh
# npm_tools.sh NAME FILE... - checks that the pinned npm test tools are installed
# (tests/node_modules, from tests/package-lock.json). It never installs them:
# ctest runs tests in parallel, and an `npm ci` in one test deletes the
# node_modules another test is using. tests/run-all.sh installs them first.
name=$1
shift
for f in "$@"; do
	if [ ! -e "tests/node_modules/$f" ]; then
		echo "$name: tests/node_modules/$f is missing: run 'npm ci --prefix tests' (tests/run-all.sh does)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done
exit 0
