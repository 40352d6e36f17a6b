#!/bin/sh
# Crash safety (reliability plan T17): kill -9 at random moments during
# collection and bundle writing, CRASH_ROUNDS rounds (default 20; the 100-round
# figures are in docs/reliability.md). See crash_safety.py for the checks.
set -eu
exec python3 "$(dirname "$0")/crash_safety.py"
