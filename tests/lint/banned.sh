#!/bin/sh
# Every C file of skewd includes util/banned.h after its other headers, so a
# banned function (strcpy, sprintf, atoi, ...) is a compile error everywhere.
cd "${SKEWD_SOURCE_DIR:-.}" || exit 2
bad=0
for f in $(find server api -name '*.c' ! -name 'placeholder_*'); do
	last=$(grep -n '^#include' "$f" | tail -n 1 | cut -d: -f2-)
	if [ "$last" != '#include "util/banned.h"' ]; then
		echo "$f: the last #include must be \"util/banned.h\" (found: $last)"
		bad=1
	fi
done
[ $bad -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $bad
