#!/bin/sh
# Load benchmark (reliability plan T8): wrk with C keep-alive connections for
# S seconds against the API (the target list, a diff and a report, taken in
# turn, with a bearer token) while the scheduler pulls a simulated cluster
# every 15 s, beside two baselines measured in the same run with the same wrk
# settings: CivetWeb itself (Debian's stand-alone `civetweb`, same CivetWeb
# build, same thread count, keep-alive and tcp_nodelay) serving the
# dashboard's index.html as a static file, and skewd serving the same file
# from its embedded dashboard (no token, no database). Not a ctest test.
#
#   tests/bench/load.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]
#
# BUILD_DIR (default: build) holds skewd and tests/kubesim; SECONDS defaults
# to 120 and CONNECTIONS to 100. Both servers run skewd's default number of
# worker threads (HTTP_DEFAULT_THREADS, 16); with more connections than
# workers every connection is still served (wrk counts no timeouts), and more
# threads only made the API slower on 2 cores (docs/reliability.md).
# LOAD_THREADS=N sets http_threads (and CivetWeb's num_threads) instead.
#
# Prints one line per run: requests/s, latency p50/p90/p99/max, responses
# with a status >= 400 and socket errors; and for the API run, skewd's
# resident memory (VmRSS) and open file descriptors sampled every 5 s (the
# series; first, last and max), after a warm-up of LOAD_WARMUP seconds
# (default 60) at the same load, and how many scheduler pulls happened during
# it. Exit status: 0 when the API run had no error response, no socket error,
# the scheduler pulled, and RSS and fd count did not grow by more than 10%
# from its first sample to its last; 1 when not; 2 on a set-up error.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
secs=${2:-120}
conns=${3:-100}
threads=${LOAD_THREADS:-$(sed -n 's/^#define HTTP_DEFAULT_THREADS *\([0-9]*\).*/\1/p' "$src/server/util/limits.h")}
period=5
interval=15
for f in "$build/skewd" "$build/tests/kubesim"; do
	[ -x "$f" ] || { echo "load: $f not found (build first)" >&2; exit 2; }
done
for c in wrk civetweb curl python3; do
	command -v "$c" >/dev/null || { echo "load: $c not found (sh deploy/install-deps.sh --test)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/skewd-load-XXXXXX)
ks_pid= sk_pid= cw_pid= smp_pid=
cleanup() {
	for p in $smp_pid $cw_pid $sk_pid $ks_pid; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	[ -n "${LOAD_KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

wait_line() { # FILE SED-EXPR: the first match, waiting up to 30 s
	i=0
	while [ $i -lt 300 ]; do
		v=$(sed -n "$2" "$1" 2>/dev/null | head -n 1)
		[ -n "$v" ] && { echo "$v"; return 0; }
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# kubesim over the fixture cluster, in its "lastgood" state.
rnd() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }
token=load-$(rnd)
ks_admin=admin-$(rnd)
mkdir -p "$work/tls"
"$build/tests/kubesim" --state "$src/tests/fixtures/cluster/lastgood" --tls-dir "$work/tls" \
	--role "$src/deploy/kubernetes/clusterrole-collector.yaml" --token "$token" --admin-token "$ks_admin" \
	>"$work/kubesim.out" 2>"$work/kubesim.err" &
ks_pid=$!
ks_url=$(wait_line "$work/kubesim.out" 's/^kubesim \(https:[^ ]*\) .*/\1/p') ||
	{ echo "load: kubesim did not start: $(cat "$work/kubesim.err")" >&2; exit 2; }
ca=$work/tls/ca.crt

# skewd with the scheduler on.
cat >"$work/skewd.yaml" <<YAML
listen: "127.0.0.1:0"
data_dir: "$work/data"
collect_interval_s: $interval
YAML
[ -z "${LOAD_THREADS:-}" ] || echo "http_threads: $threads" >>"$work/skewd.yaml"
admin=$("$build/skewd" token create --name load --role admin --config "$work/skewd.yaml" 2>/dev/null)
"$build/skewd" serve --config "$work/skewd.yaml" >"$work/skewd.out" 2>"$work/skewd.err" &
sk_pid=$!
url=$(wait_line "$work/skewd.out" 's/^listening on \(http:[^ ]*\)$/\1/p') ||
	{ echo "load: skewd did not start: $(cat "$work/skewd.err")" >&2; exit 2; }

api() { # METHOD PATH [BODY]: prints the body, fails unless 2xx
	if [ $# -ge 3 ]; then
		curl -sf -X "$1" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
			--data-binary "$3" "$url$2"
	else
		curl -sf -X "$1" -H "Authorization: Bearer $admin" "$url$2"
	fi
}
reg=$(python3 - "$ks_url" "$ca" "$token" <<'PY'
import json, sys
print(json.dumps({"name": "load", "server": sys.argv[1], "ca_pem": open(sys.argv[2]).read(),
                  "auth": {"token": sys.argv[3]}, "namespaces": ["llm"]}))
PY
)
tgt=/api/v1/targets/load/llm/deployment/vllm-llama
# Last good, then the regressed rollout: the diff and report have changes.
{
	api POST /api/v1/clusters "$reg" >/dev/null &&
	api POST /api/v1/clusters/load/collect >/dev/null &&
	api PUT $tgt/baseline '{"snapshot":"latest","note":"load"}' >/dev/null &&
	curl -sf --cacert "$ca" -H "Authorization: Bearer $ks_admin" "$ks_url/_kubesim/state?name=current" >/dev/null &&
	api POST /api/v1/clusters/load/collect >/dev/null &&
	api GET "$tgt/diff" >"$work/diff.json"
} || { echo "load: setting up the cluster failed: $(tail -n 5 "$work/skewd.err")" >&2; exit 2; }
changes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["changes"])' "$work/diff.json")
[ "$changes" -gt 0 ] || { echo "load: the diff has no changes" >&2; exit 2; }

# CivetWeb serving the same file from a document root.
mkdir -p "$work/docroot"
cp "$src/web/index.html" "$work/docroot/index.html"
cw_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
civetweb -listening_ports "127.0.0.1:$cw_port" -document_root "$work/docroot" -num_threads "$threads" \
	-enable_keep_alive yes -keep_alive_timeout_ms 5000 -tcp_nodelay 1 -enable_directory_listing no \
	>"$work/civetweb.out" 2>&1 &
cw_pid=$!
i=0
until curl -sf -o /dev/null "http://127.0.0.1:$cw_port/index.html"; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "load: civetweb did not start: $(cat "$work/civetweb.out")" >&2; exit 2; }
	sleep 0.1
done

# One wrk run: NAME URL PATHS [TOKEN]; prints the figures, leaves them in $work/NAME.
wrk_threads=$(nproc)
[ "$wrk_threads" -le "$conns" ] || wrk_threads=$conns
run() {
	LOAD_PATHS=$3 LOAD_TOKEN=${4:-} wrk -t "$wrk_threads" -c "$conns" -d "${secs}s" --timeout 10s \
		-s "$src/tests/bench/load.lua" "$2" >"$work/$1.wrk" 2>&1 || true
	line=$(grep '^LOAD ' "$work/$1.wrk" || true)
	[ -n "$line" ] || { echo "load: wrk failed: $(cat "$work/$1.wrk")" >&2; exit 2; }
	echo "$line" | sed 's/^LOAD //' >"$work/$1"
	printf '%-24s %s\n' "$1" "$(cat "$work/$1")"
}
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p; s/^$2=\([^ ]*\).*/\1/p" "$work/$1" | head -n 1; }

echo "wrk -t $wrk_threads -c $conns -d ${secs}s --timeout 10s; CivetWeb 1.15 num_threads=$threads keep-alive tcp_nodelay=1"
# LOAD_BASELINES=0 skips the two baselines (quick experiments only).
if [ "${LOAD_BASELINES:-1}" != 0 ]; then
	run civetweb-static "http://127.0.0.1:$cw_port" "/index.html"
	run skewd-static "$url" "/"
fi
kill "$cw_pid" 2>/dev/null && wait "$cw_pid" 2>/dev/null || true
cw_pid=

# A warm-up at the same load (LOAD_WARMUP seconds, default 60; figures not
# kept): every worker thread opens its database connection, and the heap and
# SQLite's page caches of the workers take a while to reach their working
# size (about a minute with 100 threads, docs/reliability.md). Then the API
# run, sampled.
warm=${LOAD_WARMUP:-60}
idle_rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$sk_pid/status")
idle_fds=$(ls "/proc/$sk_pid/fd" | wc -l)
if [ "$warm" -gt 0 ]; then
	LOAD_PATHS="/api/v1/targets $tgt/diff $tgt/report?format=markdown" LOAD_TOKEN=$admin \
		wrk -t "$wrk_threads" -c "$conns" -d "${warm}s" --timeout 10s -s "$src/tests/bench/load.lua" "$url" \
		>"$work/warmup.wrk" 2>&1 || true
fi
sample() {
	sleep 1          # wrk's connections are open
	t0=$(date +%s)
	while :; do
		rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$sk_pid/status" 2>/dev/null) || break
		fds=$(ls "/proc/$sk_pid/fd" 2>/dev/null | wc -l)
		echo "$(($(date +%s) - t0)) $rss $fds"
		sleep $period
	done
}
db=$work/data/skewd.db
snaps_before=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from evidence").fetchone()[0])' "$db")
sample >"$work/samples" &
smp_pid=$!
run skewd-api "$url" "/api/v1/targets $tgt/diff $tgt/report?format=markdown" "$admin"
kill "$smp_pid" 2>/dev/null && wait "$smp_pid" 2>/dev/null || true
smp_pid=
snaps_after=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from evidence").fetchone()[0])' "$db")
pulls=$((snaps_after - snaps_before))

status=0
kill -0 "$sk_pid" 2>/dev/null || { echo "load: skewd died during the run" >&2; status=1; }
awk -v p="$period" -v w="$warm" -v ri="$idle_rss" -v fi="$idle_fds" '
	{ series = series sprintf(" %.0f", $2 / 1024); fseries = fseries " " $3 }
	NR == 1 { r0 = $2; f0 = $3 }
	{ r1 = $2; f1 = $3; t1 = $1; if ($2 > rm) rm = $2; if ($3 > fm) fm = $3 }
	END {
		printf "skewd RSS MiB every %d s:%s\n", p, series
		printf "skewd open fds every %d s:%s\n", p, fseries
		printf "API run (after a %d s warm-up), 0 s to %d s: RSS %.1f -> %.1f MiB (max %.1f, %+.1f%%), fds %d -> %d (max %d); idle before the warm-up: %.1f MiB, %d fds\n", w, t1, r0 / 1024, r1 / 1024, rm / 1024, (r1 - r0) * 100.0 / r0, f0, f1, fm, ri / 1024, fi
		exit (r1 > r0 * 1.10) || (f1 > f0 * 1.10)
	}' "$work/samples" || { echo "load: RSS or fd count grew by more than 10% during the API run" >&2; status=1; }
echo "scheduler pulls of the target during the API run: $pulls (every ${interval}s)"
[ "$pulls" -gt 0 ] || { echo "load: the scheduler did not pull during the run" >&2; status=1; }
for k in status_errors connect read write timeout; do
	v=$(field skewd-api $k)
	[ "$v" = 0 ] || { echo "load: the API run had $k=$v" >&2; status=1; }
done
if grep -q ' error ' "$work/skewd.err"; then
	echo "load: skewd logged errors:" >&2
	grep ' error ' "$work/skewd.err" | head -n 5 >&2
	status=1
fi
exit $status
