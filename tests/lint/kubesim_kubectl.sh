#!/bin/sh
# Fidelity check of the simulated Kubernetes API server (server/kubesim/):
# the REAL kubectl on this machine must work against it. Starts $SKEWD_KUBESIM
# on the fixture cluster (tests/fixtures/cluster/), writes a kubeconfig with
# its generated CA and a bearer token (and a client certificate), and checks
# what kubectl prints for get/logs/--raw, RBAC denials, a state switch and a
# fault. Skips (exit 0) only when kubectl is not installed.

KUBESIM=${SKEWD_KUBESIM:?SKEWD_KUBESIM is not set}
FIX=${SKEWD_FIXTURES:?SKEWD_FIXTURES is not set}/cluster
SRC=${SKEWD_SOURCE_DIR:?SKEWD_SOURCE_DIR is not set}

if ! command -v kubectl >/dev/null 2>&1; then
	echo "kubectl is not installed: skipping the kubesim fidelity check"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

TMP=$(mktemp -d) || exit 2
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
passed=0
failed=0

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# kc ARGS...: runs kubectl with stdout/stderr in $TMP/out, $TMP/err; sets $rc.
kc() {
	kubectl "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	rc=$?
}
expect_ok() {
	if [ "$rc" -eq 0 ]; then ok; else
		bad "$1: kubectl exit $rc"; sed 's/^/  stderr: /' "$TMP/err" | head -5
	fi
}
expect_fail() {
	if [ "$rc" -ne 0 ]; then ok; else bad "$1: kubectl succeeded, want a failure"; fi
}
# has FILE STRING WHAT (fixed string)
has() {
	if grep -qF -- "$2" "$1"; then ok; else
		bad "$3: '$2' not in output"; sed 's/^/  got: /' "$1" | head -5
	fi
}
hasnt() {
	if grep -qF -- "$2" "$1"; then bad "$3: '$2' in output"; else ok; fi
}
# equals FILE STRING WHAT: the whole output is STRING
equals() {
	if [ "$(cat "$1")" = "$2" ]; then ok; else bad "$3: got '$(cat "$1")', want '$2'"; fi
}
# lines FILE N WHAT: the file has exactly N lines
lines() {
	n=$(wc -l <"$1")
	if [ "$n" -eq "$2" ]; then ok; else bad "$3: $n lines, want $2"; sed 's/^/  got: /' "$1" | head -8; fi
}

"$KUBESIM" --state "$FIX/lastgood" --tls-dir "$TMP" --role "$SRC/deploy/kubernetes/clusterrole-collector.yaml" \
	--token collector-token-5d1e --client-cert certuser >"$TMP/kubesim.out" 2>"$TMP/kubesim.err" &
PID=$!
i=0
while [ ! -s "$TMP/kubesim.out" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
URL=$(awk '{print $2}' "$TMP/kubesim.out")
case "$URL" in
https://127.0.0.1:*) ok ;;
*) bad "kubesim did not start"; cat "$TMP/kubesim.err"; echo "$passed passed, $failed failed"; exit 1 ;;
esac

cat >"$TMP/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kubesim
  cluster:
    server: $URL
    certificate-authority: $TMP/ca.crt
users:
- name: collector
  user:
    token: collector-token-5d1e
- name: certuser
  user:
    client-certificate: $TMP/client-certuser.crt
    client-key: $TMP/client-certuser.key
- name: stranger
  user:
    token: not-a-known-token
contexts:
- name: kubesim
  context: {cluster: kubesim, user: collector}
- name: cert
  context: {cluster: kubesim, user: certuser}
- name: stranger
  context: {cluster: kubesim, user: stranger}
current-context: kubesim
EOF
export KUBECONFIG="$TMP/kubeconfig"
export HOME="$TMP"
export KUBECACHEDIR="$TMP/cache"

# --- list as YAML (legacy discovery, JSON list) ---
kc get deploy -n llm -o yaml
expect_ok "get deploy -o yaml"
has "$TMP/out" "kind: Deployment" "get deploy -o yaml"
has "$TMP/out" "name: vllm-llama" "get deploy -o yaml"
has "$TMP/out" "name: tgi-gemma" "get deploy -o yaml"
has "$TMP/out" "--max-model-len=32768" "get deploy -o yaml, last good args"
has "$TMP/out" "--dtype=bfloat16" "get deploy -o yaml, last good dtype"

# --- Table output (kubectl get without -o) ---
kc get pods -n llm
expect_ok "get pods"
has "$TMP/out" "NAME" "get pods header"
has "$TMP/out" "RESTARTS" "get pods header"
has "$TMP/out" "vllm-llama-7c9d8b6f5d-4xkqp" "get pods"
has "$TMP/out" "Running" "get pods status"
lines "$TMP/out" 4 "get pods: a header and 3 pods"

kc get pods -n llm -l app=vllm-llama -o wide
expect_ok "get pods -l app=vllm-llama -o wide"
lines "$TMP/out" 3 "get pods -l app=vllm-llama"
has "$TMP/out" "gke-llm-a100-pool-6f1c" "get pods -o wide node"
hasnt "$TMP/out" "tgi-gemma" "get pods -l app=vllm-llama"

# --- label selectors on nodes ---
kc get nodes -l nvidia.com/gpu.product
expect_ok "get nodes -l nvidia.com/gpu.product"
lines "$TMP/out" 5 "get nodes -l nvidia.com/gpu.product: header and 4 nodes"
kc get nodes -l 'nvidia.com/gpu.product in (NVIDIA-L4)' -o name
expect_ok "get nodes -l in (...)"
lines "$TMP/out" 2 "get nodes -l in (NVIDIA-L4)"
kc get nodes -l 'nvidia.com/gpu.product!=NVIDIA-L4' -o name
has "$TMP/out" "node/gke-llm-a100-pool-9d2e" "get nodes -l !="
lines "$TMP/out" 2 "get nodes -l !="
kc get nodes -l '!nvidia.com/gpu.product'
expect_ok "get nodes -l !key"
has "$TMP/err" "No resources found" "get nodes -l !key"
kc get node gke-llm-l4-pool-c45f -o jsonpath='{.metadata.labels.nvidia\.com/gpu\.memory} {.status.capacity.nvidia\.com/gpu}'
equals "$TMP/out" "23034 4" "get node -o jsonpath GPU labels"

# --- field selectors ---
kc get events -n llm --field-selector involvedObject.name=vllm-llama-7c9d8b6f5d-4xkqp -o name
expect_ok "get events --field-selector"
lines "$TMP/out" 3 "get events --field-selector involvedObject.name"

# --- logs, pod proxy ---
kc logs -n llm vllm-llama-7c9d8b6f5d-4xkqp
expect_ok "logs"
has "$TMP/out" "revision 0e9e39f249a16976918f6564b8830bc894c89659" "logs: model revision line"
has "$TMP/out" "'max_model_len': 32768" "logs: non-default args"
kc logs -n llm vllm-llama-7c9d8b6f5d-4xkqp --tail=1
lines "$TMP/out" 1 "logs --tail=1"
kc get --raw /api/v1/namespaces/llm/pods/vllm-llama-7c9d8b6f5d-4xkqp:8000/proxy/metrics
expect_ok "get --raw pod proxy /metrics"
has "$TMP/out" "# TYPE vllm:" "pod proxy /metrics"
kc get --raw /api/v1/namespaces/llm/pods/vllm-llama-7c9d8b6f5d-4xkqp:8000/proxy/v1/models
has "$TMP/out" '"max_model_len": 32768' "pod proxy /v1/models"

# --- errors as the API server shapes them ---
kc get pod -n llm no-such-pod
expect_fail "get a missing pod"
has "$TMP/err" 'pods "no-such-pod" not found' "get a missing pod"
kc delete pod -n llm vllm-llama-7c9d8b6f5d-4xkqp
expect_fail "delete pod"
has "$TMP/err" "Forbidden" "delete pod"
has "$TMP/err" 'User "collector" cannot delete resource "pods"' "delete pod message"
kc get clusterroles
expect_fail "get clusterroles"
has "$TMP/err" "Forbidden" "get clusterroles"
kc auth can-i delete pods -n llm
equals "$TMP/out" "no" "auth can-i delete pods"
kc auth can-i get pods/log -n llm
equals "$TMP/out" "yes" "auth can-i get pods/log"
kc --context stranger get pods -n llm
expect_fail "unknown token"
has "$TMP/err" "Unauthorized" "unknown token"

# --- client certificate (CN = user) ---
kc --context cert get pods -n llm -o name
expect_ok "client certificate"
has "$TMP/out" "pod/tgi-gemma-84c6d9f7b5-zk5wd" "client certificate"

# --- a fault on one path prefix ---
kc get --raw '/_kubesim/fault?kind=500&prefix=/api/v1/namespaces/llm/configmaps'
expect_ok "set a fault"
kc get configmaps -n llm
expect_fail "configmaps with a 500 fault"
has "$TMP/err" "etcdserver: request timed out" "500 fault message"
kc get pods -n llm -o name
expect_ok "other paths are not faulted"
kc get --raw '/_kubesim/fault?kind=clear'
kc get configmaps -n llm -o name
has "$TMP/out" "configmap/vllm-llama-config" "fault cleared"

# --- switch to the current state: the regression shows ---
kc get --raw '/_kubesim/state?name=current'
expect_ok "switch state"
kc get deploy vllm-llama -n llm -o yaml
has "$TMP/out" "--max-model-len=8192" "current args"
has "$TMP/out" "--dtype=float16" "current dtype"
kc get pods -n llm -l app=vllm-llama -o wide
has "$TMP/out" "gke-llm-l4-pool-c45f" "current: one pod on an L4 node"
kc get ingress vllm-llama -n llm -o jsonpath='{.metadata.annotations.nginx\.ingress\.kubernetes\.io/proxy-read-timeout}'
equals "$TMP/out" "60" "current ingress timeout"
kc get deploy tgi-gemma -n llm -o jsonpath='{.spec.template.spec.containers[0].env[3].value}'
equals "$TMP/out" "2048" "unchanged TGI"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
