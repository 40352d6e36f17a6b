#!/bin/sh
# `cmake --install` of the build that made $SKEWD_BIN into a temporary prefix
# (not the configured one): the binary, the default config, the dashboard,
# the migrations, the systemd unit, the demo's simulated cluster and the docs
# land in their places; the installed config is accepted; the installed
# binary starts on it (data_dir moved to a temp folder), answers /healthz
# and /readyz, serves the dashboard from the installed copy beside it (a
# marker is written into it), and the installed migrations are the ones
# compiled in (`migrate --status` with migrations_dir set reports every one
# applied, none modified).
bin=${SKEWD_BIN:?SKEWD_BIN is not set}
src=${SKEWD_SOURCE_DIR:?SKEWD_SOURCE_DIR is not set}
build=$(dirname "$bin")

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

tmp=$(mktemp -d /tmp/skewd-install-XXXXXX) || exit 2
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
for v in LISTEN DATA_DIR MIGRATIONS_DIR ANONYMOUS_READ SEAL_KEY SEAL_KEY_FILE IN_CLUSTER \
    COLLECT_INTERVAL_S WEB_DIR LOG_JSON LOG_LEVEL PUBLIC_URL; do
	unset "SKEWD_$v"
done

p=$tmp/prefix
if cmake --install "$build" --prefix "$p" >"$tmp/install.out" 2>&1; then ok
else bad "cmake --install failed:"; tail -10 "$tmp/install.out"; finish; fi

# present PATH: the prefix holds it (a file, or a folder with a trailing /).
present() {
	case "$1" in
	*/) [ -d "$p/$1" ] && ok || bad "not installed: $1" ;;
	*) [ -f "$p/$1" ] && ok || bad "not installed: $1" ;;
	esac
}
present bin/skewd
[ -x "$p/bin/skewd" ] && ok || bad "bin/skewd is not executable"
present etc/skewd/skewd.yaml
present share/skewd/web/
present share/skewd/web/index.html
present share/skewd/web/app.js
present share/skewd/web/node_modules/uplot/dist/uPlot.iife.min.js
present share/skewd/web/node_modules/diff2html/bundles/js/diff2html.min.js
for f in "$src"/migrations/*.sql; do
	present "share/skewd/migrations/$(basename "$f")"
	cmp -s "$f" "$p/share/skewd/migrations/$(basename "$f")" && ok || bad "installed $(basename "$f") differs"
done
present lib/systemd/system/skewd.service
present share/skewd/tests/fixtures/cluster/lastgood/
present share/skewd/tests/fixtures/cluster/current/
present share/skewd/deploy/kubernetes/clusterrole-collector.yaml
for d in deploy security operations configuration; do
	present "share/doc/skewd/$d.md"
done
# Nothing of the build or the tests beyond that.
n=$(find "$p" -name '*.o' -o -name 'test_*' -o -name '*.a' -o -name 'CMake*' | wc -l)
[ "$n" -eq 0 ] && ok || bad "$n build or test files installed"

# The default config: accepted as is; every key but data_dir commented.
grep -v '^#' "$p/etc/skewd/skewd.yaml" | grep -v '^$' >"$tmp/keys"
[ "$(cat "$tmp/keys")" = "data_dir: /var/lib/skewd" ] && ok || bad "uncommented lines in skewd.yaml: $(cat "$tmp/keys")"
# Every commented key is a real key: uncommented all at once, the config loads.
sed 's/^#\([a-z_]*:\)/\1/' "$p/etc/skewd/skewd.yaml" >"$tmp/all.yaml"
mkdir "$tmp/data"
SKEWD_DATA_DIR=$tmp/data "$p/bin/skewd" migrate --config "$tmp/all.yaml" >"$tmp/out" 2>&1 && ok ||
    bad "the default config with every key uncommented is refused: $(cat "$tmp/out")"

# The installed binary, on the installed config.
# The dashboard is compiled into the binary; the installed copy is what
# web_dir can name (a marker tells the two apart).
marker="skewd-install-marker-$$"
echo "<!-- $marker -->" >>"$p/share/skewd/web/index.html"
SKEWD_DATA_DIR=$tmp/data SKEWD_LISTEN=127.0.0.1:0 "$p/bin/skewd" serve --config "$p/etc/skewd/skewd.yaml" \
    >"$tmp/serve.out" 2>"$tmp/serve.err" &
pid=$!
url=
i=0
while [ $i -lt 300 ]; do
	url=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$tmp/serve.out")
	[ -n "$url" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
if [ -n "$url" ]; then
	ok
	for path in /healthz /readyz; do
		code=$(curl -s -o /dev/null -w '%{http_code}' "$url$path")
		[ "$code" = 200 ] && ok || bad "installed skewd: $path answered $code"
	done
	curl -s "$url/" >"$tmp/index.html"
	cmp -s "$tmp/index.html" "$src/web/index.html" && ok || bad "the dashboard compiled into the binary is not served at /"
	curl -s "$url/node_modules/uplot/dist/uPlot.iife.min.js" >"$tmp/uplot.js"
	cmp -s "$tmp/uplot.js" "$src/web/node_modules/uplot/dist/uPlot.iife.min.js" && ok || bad "the embedded uPlot is not served"
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	pid=
	[ $rc -eq 0 ] && ok || bad "installed skewd exited $rc on SIGTERM: $(tail -3 "$tmp/serve.err")"
else
	bad "the installed skewd did not start: $(tail -5 "$tmp/serve.err")"
fi

# web_dir names the installed copy: that copy is served instead.
SKEWD_WEB_DIR=$p/share/skewd/web SKEWD_DATA_DIR=$tmp/data SKEWD_LISTEN=127.0.0.1:0 "$p/bin/skewd" serve \
    --config "$p/etc/skewd/skewd.yaml" >"$tmp/serve2.out" 2>"$tmp/serve2.err" &
pid=$!
url=
i=0
while [ $i -lt 300 ]; do
	url=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$tmp/serve2.out")
	[ -n "$url" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
if [ -n "$url" ]; then
	curl -s "$url/" | grep -q "$marker" && ok || bad "web_dir=share/skewd/web: the installed copy is not served"
	kill -TERM "$pid"
	wait "$pid"
	pid=
else
	bad "the installed skewd with web_dir did not start: $(tail -5 "$tmp/serve2.err")"
fi

# The installed migrations are the compiled-in ones.
SKEWD_DATA_DIR=$tmp/data SKEWD_MIGRATIONS_DIR=$p/share/skewd/migrations "$p/bin/skewd" migrate --status \
    --config "$p/etc/skewd/skewd.yaml" >"$tmp/status" 2>&1
rc=$?
[ $rc -eq 0 ] && ok || bad "migrate --status with the installed migrations exited $rc: $(cat "$tmp/status")"
n=$(ls "$src"/migrations/*.sql | wc -l)
a=$(grep -c 'applied' "$tmp/status")
[ "$a" -eq "$n" ] && ok || bad "$a of $n migrations applied: $(cat "$tmp/status")"
grep -q 'modified\|unknown\|pending' "$tmp/status" && bad "migration states: $(cat "$tmp/status")" || ok
finish
