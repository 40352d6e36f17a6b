#!/bin/sh
# The dashboard end to end in a real headless browser, against `skewd demo`:
#   chromium (default): Debian's chromium driven by playwright-core, every
#                       tests/browser/*.mjs
#   SKEWD_BROWSER=firefox (tests/lint/browser_firefox.sh): Debian's firefox-esr
#                       driven over WebDriver BiDi by puppeteer-core, every
#                       tests/browser/firefox/*.mjs
# Both drivers are pinned in tests/package.json + tests/package-lock.json.
# Screenshots are saved to tests/artifacts/ in the build folder. Ends with
# "N passed, N failed".
cd "${SKEWD_SOURCE_DIR:-.}" || exit 2
fail() {
	echo "browser: $1"
	echo "0 passed, 1 failed"
	exit 1
}
browser=${SKEWD_BROWSER:-chromium}
case "$browser" in
chromium) exe=/usr/bin/chromium driver=playwright-core tests=$(ls tests/browser/*.mjs) ;;
firefox) exe=${SKEWD_FIREFOX:-/usr/bin/firefox-esr} driver=puppeteer-core tests=$(ls tests/browser/firefox/*.mjs) ;;
*) fail "unknown SKEWD_BROWSER '$browser' (chromium or firefox)" ;;
esac
command -v node >/dev/null 2>&1 || fail "node is not installed (deploy/install-deps.sh --test installs it)"
[ -x "$exe" ] || fail "$exe is missing (deploy/install-deps.sh --test installs it)"
[ -n "${SKEWD_BIN:-}" ] && [ -x "$SKEWD_BIN" ] || fail "SKEWD_BIN is not set to the skewd binary"
sh tests/npm_tools.sh browser "$driver/package.json" || exit 1
SKEWD_ARTIFACTS=${SKEWD_ARTIFACTS:-$(dirname "$SKEWD_BIN")/tests/artifacts}
export SKEWD_ARTIFACTS
mkdir -p "$SKEWD_ARTIFACTS"

passed=0
failed=0
for t in $tests; do
	out=$(timeout 400 node "$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	line=$(printf '%s\n' "$out" | tail -1)
	p=$(printf '%s' "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(printf '%s' "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	if [ -z "$p" ]; then
		echo "browser: $t ended without a count (exit $rc)"
		p=0
		f=1
	elif [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "screenshots in $SKEWD_ARTIFACTS"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
