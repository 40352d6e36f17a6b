#!/bin/sh
# The dashboard's core end-to-end flow in headless Firefox (Debian's firefox-esr
# over WebDriver BiDi, puppeteer-core): tests/browser/firefox/*.mjs through
# tests/lint/browser.sh.
SKEWD_BROWSER=firefox
export SKEWD_BROWSER
exec sh "$(dirname "$0")/browser.sh"
