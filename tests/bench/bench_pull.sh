#!/bin/sh
# Benchmark of pulling a cluster: `POST /api/v1/clusters/bench/collect` on N
# vLLM targets served by kubesim, beside a baseline in the same run: the same
# kinds of URLs the collector reads (docs/snapshot.md, "raw pull"), fetched
# with `curl --parallel` from the same kubesim with the same token and CA.
# Prints a table. Not a ctest test.
#
#   tests/bench/bench_pull.sh [BUILD_DIR] [N_TARGETS] [ROUNDS]
#
# BUILD_DIR (default: build) holds skewd and tests/kubesim (build a Release
# tree for figures). N_TARGETS (default 50) copies of the fixture's vllm-llama
# Deployment (with its pods, ReplicaSets, Service, Ingress, HPA, PDB,
# ConfigMap, Secret, logs and pod-proxy answers) are generated into a
# temporary kubesim state folder. ROUNDS (default 3) pulls are timed: the
# first stores every document, the later ones find nothing changed.
# Exit status: 0 when every pull returned N snapshots and no errors, 1 when
# not, 2 on a set-up error.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
n=${2:-50}
rounds=${3:-3}
for f in "$build/skewd" "$build/tests/kubesim"; do
	[ -x "$f" ] || { echo "bench_pull: $f not found (build first)" >&2; exit 2; }
done
command -v curl >/dev/null || { echo "bench_pull: curl not found" >&2; exit 2; }
curl --help all 2>/dev/null | grep -q -- '--parallel' ||
	{ echo "bench_pull: this curl has no --parallel" >&2; exit 2; }

work=$(mktemp -d /tmp/skewd-bench-pull-XXXXXX)
ks_pid=
sk_pid=
cleanup() {
	[ -n "$sk_pid" ] && kill "$sk_pid" 2>/dev/null && wait "$sk_pid" 2>/dev/null
	[ -n "$ks_pid" ] && kill "$ks_pid" 2>/dev/null && wait "$ks_pid" 2>/dev/null
	[ -n "${BENCH_KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The state: the fixture's last-good cluster plus N-1 renamed copies of vllm-llama
# (vllm-llama itself is target 1), and the list of URLs a pull of each reads.
token=bench-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
python3 - "$src/tests/fixtures/cluster/lastgood" "$work/state/lastgood" "$n" "$work/urls.txt" <<'PY'
import os, re, shutil, sys
from urllib.parse import quote
src, dst, n, urls = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
shutil.copytree(src, dst, symlinks=False)
os.remove(os.path.join(dst, "20-tgi-gemma.yaml"))  # only the N vLLM targets
wl = open(os.path.join(src, "10-vllm-llama.yaml")).read()
rt = open(os.path.join(src, "11-vllm-llama-routing.yaml")).read()
pods = re.findall(r"^kind: Pod\n(?:.*\n)*?  name: (\S+)", wl, re.M)
nodes = re.findall(r"^  nodeName: (\S+)", wl, re.M)
def copy(i):
    name = "vllm-b%d" % i
    sub = lambda t: t.replace("vllm-llama", name).replace("hf-secret", "hf-secret-b%d" % i)
    open(os.path.join(dst, "10-%s.yaml" % name), "w").write(sub(wl))
    open(os.path.join(dst, "11-%s-routing.yaml" % name), "w").write(sub(rt))
    for d in ("logs", "proxy"):
        for p in pods:
            s = os.path.join(src, d, p)
            if os.path.isdir(s):
                shutil.copytree(s, os.path.join(dst, d, p.replace("vllm-llama", name)), symlinks=False)
for i in range(1, n):
    copy(i)
out = []
ns = "/api/v1/namespaces/llm"
out.append("/apis/apps/v1/namespaces/llm/deployments")
out.append("/apis/apps/v1/namespaces/llm/statefulsets")
for i in range(n):
    name = "vllm-llama" if i == 0 else "vllm-b%d" % i
    sel = "labelSelector=" + quote("app=" + name, safe="")
    ev = lambda obj: ns + "/events?fieldSelector=" + quote("involvedObject.name=" + obj, safe="")
    out += [ns + "/pods?" + sel, "/apis/apps/v1/namespaces/llm/replicasets?" + sel,
            "/apis/autoscaling/v2/namespaces/llm/horizontalpodautoscalers", ns + "/services",
            "/apis/networking.k8s.io/v1/namespaces/llm/ingresses",
            "/apis/policy/v1/namespaces/llm/poddisruptionbudgets", ev(name),
            ns + "/configmaps/" + name + "-config", ns + "/secrets/hf-secret" + ("" if i == 0 else "-b%d" % i)]
    for p, node in zip(pods, nodes):
        pn = p.replace("vllm-llama", name)
        out += [ev(pn), "/api/v1/nodes/" + node,
                ns + "/pods/%s/log?container=inference-server&sinceSeconds=7200&limitBytes=262144" % pn,
                ns + "/pods/%s:8000/proxy/metrics" % pn, ns + "/pods/%s:8000/proxy/v1/models" % pn]
open(urls, "w").write("\n".join(out) + "\n")
PY

# kubesim, as its own process.
mkdir -p "$work/tls"
"$build/tests/kubesim" --state "$work/state/lastgood" --tls-dir "$work/tls" \
	--role "$src/deploy/kubernetes/clusterrole-collector.yaml" --token "$token" \
	>"$work/kubesim.out" 2>"$work/kubesim.err" &
ks_pid=$!
i=0
ks_url=
while [ $i -lt 300 ] && [ -z "$ks_url" ]; do
	ks_url=$(sed -n 's/^kubesim \(https:[^ ]*\) .*/\1/p' "$work/kubesim.out")
	[ -n "$ks_url" ] || sleep 0.1
	i=$((i + 1))
done
[ -n "$ks_url" ] || { echo "bench_pull: kubesim did not start: $(cat "$work/kubesim.err")" >&2; exit 2; }
ca=$work/tls/ca.crt

# skewd serve, scheduler off.
cat >"$work/skewd.yaml" <<YAML
listen: "127.0.0.1:0"
data_dir: "$work/data"
collect_interval_s: 0
log_level: warn
YAML
admin=$("$build/skewd" token create --name bench --role admin --config "$work/skewd.yaml" 2>/dev/null)
"$build/skewd" serve --config "$work/skewd.yaml" >"$work/skewd.out" 2>"$work/skewd.err" &
sk_pid=$!
i=0
url=
while [ $i -lt 300 ] && [ -z "$url" ]; do
	url=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$work/skewd.out")
	[ -n "$url" ] || sleep 0.1
	i=$((i + 1))
done
[ -n "$url" ] || { echo "bench_pull: skewd did not start: $(cat "$work/skewd.err")" >&2; exit 2; }
python3 - "$ks_url" "$ca" "$token" >"$work/register.json" <<'PY'
import json, sys
print(json.dumps({"name": "bench", "server": sys.argv[1], "ca_pem": open(sys.argv[2]).read(),
                  "auth": {"token": sys.argv[3]}, "namespaces": ["llm"]}))
PY
code=$(curl -s -o "$work/reg.out" -w '%{http_code}' -H "Authorization: Bearer $admin" \
	-H 'Content-Type: application/json' --data-binary @"$work/register.json" "$url/api/v1/clusters")
[ "$code" = 201 ] || { echo "bench_pull: registering answered $code: $(cat "$work/reg.out")" >&2; exit 2; }

# The baseline's curl config: every URL with the token and CA, output discarded.
{
	echo "cacert = \"$ca\""
	echo "header = \"Authorization: Bearer $token\""
	echo "compressed"
	echo "silent"
	while read -r p; do
		echo "url = \"$ks_url$p\""
		echo "output = \"/dev/null\""
	done <"$work/urls.txt"
} >"$work/curl.cfg"
nurls=$(wc -l <"$work/urls.txt")

now() { date +%s.%N; }
status=0
printf '%-8s %-22s %8s %10s %10s %8s\n' round what targets changed seconds per_target
r=1
while [ "$r" -le "$rounds" ]; do
	t0=$(now)
	code=$(curl -s -o "$work/pull.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $admin" \
		"$url/api/v1/clusters/bench/collect")
	t1=$(now)
	set -- $(python3 - "$work/pull.json" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    s = d.get("snapshots", [])
    print(len(s), sum(1 for x in s if x.get("changed")), len(d.get("errors", [])))
except Exception:
    print(0, 0, -1)
PY
)
	got=$1 changed=$2 errs=$3
	if [ "$code" != 200 ] || [ "$got" -ne "$n" ] || [ "$errs" -ne 0 ]; then
		echo "bench_pull: round $r: status $code, $got snapshots, $errs errors: $(head -c 400 "$work/pull.json")" >&2
		status=1
	fi
	awk -v r="$r" -v n="$got" -v c="$changed" -v a="$t0" -v b="$t1" \
		'BEGIN { printf "%-8s %-22s %8d %10d %10.3f %8.4f\n", r, "skewd collect", n, c, b - a, (b - a) / (n > 0 ? n : 1) }'
	t0=$(now)
	curl --no-progress-meter --show-error --parallel --parallel-immediate --parallel-max 8 -w '%{http_code} %{url_effective}\n' -K "$work/curl.cfg" \
		>"$work/codes.txt" 2>"$work/curl.err" || true
	t1=$(now)
	bad=$(grep -vc '^200 ' "$work/codes.txt" || true)
	[ "$bad" -eq 0 ] || echo "bench_pull: $bad of $nurls baseline URLs did not answer 200 ($(cut -d' ' -f1 "$work/codes.txt" | sort | uniq -c | tr '\n' ' '))" >&2
	awk -v r="$r" -v n="$n" -v u="$nurls" -v a="$t0" -v b="$t1" \
		'BEGIN { printf "%-8s %-22s %8d %10s %10.3f %8.4f\n", r, "curl --parallel (" u ")", n, "-", b - a, (b - a) / n }'
	r=$((r + 1))
done
echo "skewd collect: discovery, every object of each target, logs, pod-proxy /metrics and /v1/models,"
echo "normalising, hashing and storing; curl: the same kinds of URLs fetched and discarded (8 at a time)."
exit $status
