#!/bin/sh
# deploy/kubernetes/remote-access/: what a watched cluster applies. Checks the
# manifests (a ServiceAccount, a binding of the read-only role only, a
# long-lived token Secret), then proves the default access is enough and no
# more: kubesim ($SKEWD_KUBESIM) enforces exactly the ClusterRoles the
# remote-access bindings bind (taken from deploy/kubernetes/
# clusterrole-collector.yaml), serves a token Secret like the control plane
# fills in, print-registration.sh turns the current kubectl context into the
# POST /api/v1/clusters body (and a kubeconfig), a real `skewd serve`
# registers both and pulls a full snapshot of every workload, Secrets are
# refused yet the pods' Secret references are still recorded, and anything
# else (Secrets, RBAC objects) is forbidden. With the optional Secrets
# binding, Secrets are read. Needs python3 with PyYAML and curl; skips
# (exit 0) only when kubectl is not installed.
bin=${SKEWD_BIN:?SKEWD_BIN is not set}
kubesim=${SKEWD_KUBESIM:?SKEWD_KUBESIM is not set}
src=${SKEWD_SOURCE_DIR:?SKEWD_SOURCE_DIR is not set}
fix=${SKEWD_FIXTURES:?SKEWD_FIXTURES is not set}/cluster
ra=$src/deploy/kubernetes/remote-access

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

if ! command -v kubectl >/dev/null 2>&1; then
	echo "kubectl is not installed: skipping the remote-access check"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
command -v python3 >/dev/null 2>&1 || { bad "python3 is not installed"; finish; }
python3 -c 'import yaml' 2>/dev/null || { bad "python3 has no PyYAML (apt-get install python3-yaml)"; finish; }

tmp=$(mktemp -d /tmp/skewd-deploy-ra-XXXXXX) || exit 2
kspid=
spid=
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	[ -n "$kspid" ] && kill "$kspid" 2>/dev/null && wait "$kspid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
for v in LISTEN DATA_DIR MIGRATIONS_DIR ANONYMOUS_READ SEAL_KEY SEAL_KEY_FILE IN_CLUSTER \
    COLLECT_INTERVAL_S WEB_DIR ALLOW_HTTP_CLUSTERS; do
	unset "SKEWD_$v"
done
unset KUBECONFIG

token=skewd-reader-token-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
admin=admin-token-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')

cp -R "$fix" "$tmp/cluster" || exit 2

# 1. The manifests, and the roles their bindings grant (written for kubesim).
python3 - "$src/deploy/kubernetes/clusterrole-collector.yaml" "$ra" "$tmp" "$token" <<'PY' >"$tmp/check.txt" 2>&1
import base64, glob, os, sys, yaml
role_file, ra, tmp, token = sys.argv[1:5]
bad = []
roles = {d["metadata"]["name"]: d for d in yaml.safe_load_all(open(role_file)) if d and d.get("kind") == "ClusterRole"}
def load(pattern):
    docs = []
    for f in sorted(glob.glob(os.path.join(ra, pattern))):
        docs += [d for d in yaml.safe_load_all(open(f)) if d]
    return docs
base = load("*.yaml")
optional = load("optional/*.yaml")
kinds = sorted(d["kind"] for d in base)
if kinds != ["ClusterRoleBinding", "Namespace", "Secret", "ServiceAccount"]:
    bad.append("remote-access/ holds %s" % kinds)
sa = [d for d in base if d["kind"] == "ServiceAccount"][0]
ns, san = sa["metadata"]["namespace"], sa["metadata"]["name"]
sec = [d for d in base if d["kind"] == "Secret"][0]
if sec.get("type") != "kubernetes.io/service-account-token":
    bad.append("token Secret type %r" % sec.get("type"))
if sec["metadata"].get("annotations", {}).get("kubernetes.io/service-account.name") != san:
    bad.append("token Secret is not annotated with service account %s" % san)
if sec["metadata"].get("namespace") != ns or sec.get("data") or sec.get("stringData"):
    bad.append("token Secret must be in %s and carry no data of its own" % ns)
def bound(docs):
    names = []
    for d in docs:
        if d["kind"] != "ClusterRoleBinding":
            continue
        if d["roleRef"] != {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": d["roleRef"]["name"]}:
            bad.append("binding %s roleRef %r" % (d["metadata"]["name"], d["roleRef"]))
        if d["subjects"] != [{"kind": "ServiceAccount", "name": san, "namespace": ns}]:
            bad.append("binding %s subjects %r" % (d["metadata"]["name"], d["subjects"]))
        names.append(d["roleRef"]["name"])
    return names
default = bound(base)
extra = bound(optional)
if default != ["skewd-collector"]:
    bad.append("remote-access binds %s, want only skewd-collector" % default)
if extra != ["skewd-collector-secrets"]:
    bad.append("remote-access/optional binds %s, want skewd-collector-secrets" % extra)
for name in default + extra:
    if name not in roles:
        bad.append("bound role %s is not in clusterrole-collector.yaml" % name)
        continue
    for r in roles[name]["rules"]:
        if not set(r["verbs"]) <= {"get", "list", "watch"}:
            bad.append("%s grants %s" % (name, r["verbs"]))
        if "*" in r["verbs"] + r["resources"] + r["apiGroups"]:
            bad.append("%s has a wildcard: %r" % (name, r))
for name in default:
    for r in roles.get(name, {}).get("rules", []):
        if "secrets" in r["resources"]:
            bad.append("the default role %s reads Secrets" % name)
def write(path, names):
    with open(path, "w") as f:
        yaml.safe_dump_all([roles[n] for n in names if n in roles], f)
write(os.path.join(tmp, "role-default.yaml"), default)
write(os.path.join(tmp, "role-secrets.yaml"), default + extra)
# The watched cluster: the fixture state plus the token Secret, filled in as
# the control plane does (token only; the CA then comes from the kubeconfig).
# kubesim serves no ServiceAccounts or Namespaces.
sec = dict(sec)
sec["data"] = {"token": base64.b64encode(token.encode()).decode()}
with open(os.path.join(tmp, "cluster", "lastgood", "zz-remote-access.yaml"), "w") as f:
    yaml.safe_dump_all([sec], f)
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
if [ $? -eq 0 ]; then ok; else bad "remote-access manifests:"; sed 's/^/  /' "$tmp/check.txt"; finish; fi

# 2. kubesim enforcing exactly the default grant.
# start_kubesim ROLEFILE: starts kubesim on the prepared cluster; sets $ksurl.
start_kubesim() {
	rm -rf "$tmp/tls" "$tmp/ks.out" && mkdir "$tmp/tls"
	"$kubesim" --state "$tmp/cluster/lastgood" --tls-dir "$tmp/tls" --role "$1" \
		--token "$token" --admin-token "$admin" >"$tmp/ks.out" 2>"$tmp/ks.err" &
	kspid=$!
	i=0
	while [ ! -s "$tmp/ks.out" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	ksurl=$(awk '{print $2}' "$tmp/ks.out")
	case "$ksurl" in
	https://127.0.0.1:*) ok ;;
	*) bad "kubesim did not start: $(cat "$tmp/ks.err")"; finish ;;
	esac
}
stop_kubesim() {
	kill "$kspid" 2>/dev/null && wait "$kspid" 2>/dev/null
	kspid=
}
# kubeconfig FILE USER TOKEN: a kubeconfig for kubesim (CA by file path).
kubeconfig() {
	cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: Sim_Cluster.1
  cluster:
    server: $ksurl
    certificate-authority: $tmp/tls/ca.crt
users:
- name: $2
  user:
    token: $3
contexts:
- name: sim
  context:
    cluster: Sim_Cluster.1
    user: $2
current-context: sim
KC
}
start_kubesim "$tmp/role-default.yaml"
kubeconfig "$tmp/admin.kubeconfig" admin "$admin"
kubeconfig "$tmp/reader.kubeconfig" reader "$token"

# What the reader's token may not do.
forbidden() {
	if KUBECONFIG=$tmp/reader.kubeconfig kubectl "$@" >"$tmp/kc.out" 2>&1; then
		bad "kubectl $* succeeded with the reader's token"
	elif grep -q "Forbidden\|forbidden" "$tmp/kc.out"; then ok
	else bad "kubectl $*: not a 403: $(head -3 "$tmp/kc.out")"; fi
}
allowed() {
	if KUBECONFIG=$tmp/reader.kubeconfig kubectl "$@" >"$tmp/kc.out" 2>&1; then ok
	else bad "kubectl $* failed with the reader's token: $(head -3 "$tmp/kc.out")"; fi
}
forbidden get secrets -n llm
forbidden get secret "skewd-reader-token" -n skewd-remote
forbidden get --raw /apis/rbac.authorization.k8s.io/v1/clusterroles
forbidden get --raw /apis/rbac.authorization.k8s.io/v1/clusterrolebindings
allowed get pods -n llm
allowed get nodes
allowed get configmaps -n llm

# 3. print-registration.sh: usage errors, then the JSON body and a kubeconfig.
reg=$ra/print-registration.sh
KUBECONFIG=$tmp/admin.kubeconfig sh "$reg" --bogus >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "unknown argument '--bogus'" "$tmp/err" && ok || bad "--bogus: $(cat "$tmp/err")"
KUBECONFIG=$tmp/admin.kubeconfig sh "$reg" --name >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "needs a value" "$tmp/err" && ok || bad "--name without a value: $(cat "$tmp/err")"
KUBECONFIG=$tmp/admin.kubeconfig sh "$reg" --name Bad_Name >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "'Bad_Name' is not a cluster name" "$tmp/err" && ok || bad "--name Bad_Name: $(cat "$tmp/err")"
KUBECONFIG=$tmp/admin.kubeconfig sh "$reg" --secret no-such-secret >/dev/null 2>"$tmp/err"
[ $? -eq 3 ] && grep -q "cannot read Secret 'no-such-secret'" "$tmp/err" && ok || bad "missing Secret: $(cat "$tmp/err")"
KUBECONFIG=$tmp/admin.kubeconfig sh "$reg" --help >"$tmp/out" 2>&1
[ $? -eq 0 ] && grep -q "^usage: print-registration.sh" "$tmp/out" && ok || bad "--help: $(cat "$tmp/out")"

# --context reads the named context, not the current one (which points nowhere).
cat >"$tmp/multi.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: Sim_Cluster.1
  cluster:
    server: $ksurl
    certificate-authority: $tmp/tls/ca.crt
- name: nowhere
  cluster:
    server: https://127.0.0.1:1
users:
- name: admin
  user:
    token: $admin
contexts:
- name: sim
  context:
    cluster: Sim_Cluster.1
    user: admin
- name: nowhere
  context:
    cluster: nowhere
    user: admin
current-context: nowhere
KC
KUBECONFIG=$tmp/multi.kubeconfig sh "$reg" --context sim --name ctx-test >"$tmp/out" 2>"$tmp/err"
[ $? -eq 0 ] && grep -q "\"server\": \"$ksurl\"" "$tmp/out" && grep -q '"name": "ctx-test"' "$tmp/out" && ok ||
    bad "--context sim: $(cat "$tmp/out" "$tmp/err" | head -5)"
KUBECONFIG=$tmp/multi.kubeconfig sh "$reg" >/dev/null 2>"$tmp/err"
[ $? -eq 3 ] && ok || bad "the current context 'nowhere' (nothing listens) should fail: $(cat "$tmp/err")"
KUBECONFIG=$tmp/multi.kubeconfig sh "$reg" --context nope >/dev/null 2>"$tmp/err"
[ $? -eq 3 ] && grep -q "cannot read the kubectl context 'nope'" "$tmp/err" && ok || bad "--context nope: $(cat "$tmp/err")"

if KUBECONFIG=$tmp/admin.kubeconfig sh "$reg" --watch-namespaces llm >"$tmp/reg.json" 2>"$tmp/err"; then ok
else bad "print-registration.sh failed: $(cat "$tmp/err")"; fi
if KUBECONFIG=$tmp/admin.kubeconfig sh "$reg" --kubeconfig --name remote-kc >"$tmp/reg.kubeconfig" 2>"$tmp/err"; then ok
else bad "print-registration.sh --kubeconfig failed: $(cat "$tmp/err")"; fi
python3 - "$tmp" "$ksurl" "$token" <<'PY' >"$tmp/check.txt" 2>&1
import json, sys, yaml
tmp, url, token = sys.argv[1:4]
bad = []
ca = open(tmp + "/tls/ca.crt").read().strip()
j = json.load(open(tmp + "/reg.json"))
want = {"name": "sim-cluster-1", "server": url, "ca_pem": ca, "auth": {"token": token}, "namespaces": ["llm"]}
if j != want:
    bad.append("registration JSON %r, want %r" % (sorted(j), sorted(want)))
    for k in want:
        if j.get(k) != want[k]:
            bad.append("  %s differs" % k)
k = yaml.safe_load(open(tmp + "/reg.kubeconfig"))
c = k["clusters"][0]["cluster"]
import base64
if k["current-context"] != "remote-kc" or c["server"] != url or base64.b64decode(c["certificate-authority-data"]).decode().strip() != ca:
    bad.append("kubeconfig cluster %r" % c)
if k["users"][0]["user"] != {"token": token}:
    bad.append("kubeconfig user is not the reader's token")
# A body for /api/v1/clusters/import.
json.dump({"name": "remote-kc", "kubeconfig": open(tmp + "/reg.kubeconfig").read()}, open(tmp + "/import.json", "w"))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
if [ $? -eq 0 ]; then ok; else bad "print-registration.sh output:"; sed 's/^/  /' "$tmp/check.txt"; fi
# The kubeconfig it prints works with kubectl, as the reader.
KUBECONFIG=$tmp/reg.kubeconfig kubectl get pods -n llm >"$tmp/kc.out" 2>&1 && ok ||
    bad "kubectl with the printed kubeconfig: $(head -3 "$tmp/kc.out")"

# 4. A real skewd registers the cluster both ways and pulls it.
mkdir "$tmp/data"
export SKEWD_DATA_DIR=$tmp/data SKEWD_COLLECT_INTERVAL_S=0
tok=$("$bin" token create --name deploy-test --role admin 2>"$tmp/err") || { bad "token create: $(cat "$tmp/err")"; finish; }
SKEWD_LISTEN=127.0.0.1:0 "$bin" serve >"$tmp/serve.out" 2>"$tmp/serve.err" &
spid=$!
surl=
i=0
while [ $i -lt 300 ]; do
	surl=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$tmp/serve.out")
	[ -n "$surl" ] && break
	kill -0 "$spid" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
[ -n "$surl" ] && ok || { bad "skewd serve did not start: $(tail -5 "$tmp/serve.err")"; finish; }
# api METHOD PATH [BODYFILE]: sets $code and writes the answer to $tmp/ans.
api() {
	if [ -n "${3:-}" ]; then
		code=$(curl -s -o "$tmp/ans" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $tok" \
			-H 'Content-Type: application/json' --data-binary "@$3" "$surl$2")
	else
		code=$(curl -s -o "$tmp/ans" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $tok" "$surl$2")
	fi
}
api POST /api/v1/clusters "$tmp/reg.json"
[ "$code" = 201 ] && ok || bad "POST /api/v1/clusters answered $code: $(cat "$tmp/ans")"
api POST /api/v1/clusters/import "$tmp/import.json"
[ "$code" = 201 ] && ok || bad "POST /api/v1/clusters/import answered $code: $(cat "$tmp/ans")"

# pull NAME WANT_SECRET: pulls cluster NAME and checks every workload's
# snapshot; WANT_SECRET 1 = the Secret was read, 0 = refused but referenced.
pull() {
	api POST "/api/v1/clusters/$1/collect"
	if [ "$code" != 200 ]; then bad "collect $1 answered $code: $(cat "$tmp/ans")"; return; fi
	cp "$tmp/ans" "$tmp/collect-$1.json"
	python3 - "$tmp/collect-$1.json" "$1" <<'PY' >"$tmp/ids" 2>"$tmp/check.txt"
import json, sys
r = json.load(open(sys.argv[1]))
name = sys.argv[2]
targets = sorted(s["target"] for s in r["snapshots"])
want = [name + "/llm/deployment/tgi-gemma", name + "/llm/deployment/vllm-llama"]
if targets != want or r.get("errors"):
    sys.stderr.write("collect: targets %r (want %r), errors %r\n" % (targets, want, r.get("errors")))
    sys.exit(1)
for s in r["snapshots"]:
    if s["target"].endswith("/vllm-llama"):
        print(s["id"])
PY
	if [ $? -ne 0 ]; then bad "pull of $1: $(cat "$tmp/check.txt")"; return; fi
	ok
	api GET "/api/v1/snapshots/$(cat "$tmp/ids")"
	if [ "$code" != 200 ]; then bad "snapshot of $1 answered $code: $(cat "$tmp/ans")"; return; fi
	cp "$tmp/ans" "$tmp/snap.json"
	api GET "/api/v1/targets/$1/llm/deployment/vllm-llama"
	if [ "$code" != 200 ]; then bad "target of $1 answered $code: $(cat "$tmp/ans")"; return; fi
	python3 - "$tmp/snap.json" "$tmp/ans" "$2" <<'PY' >"$tmp/check.txt" 2>&1
import json, sys
s = json.load(open(sys.argv[1]))
t = json.load(open(sys.argv[2]))
want_secret = sys.argv[3] == "1"
text = json.dumps(s)
bad = []
kinds = {}
def walk(v):
    if isinstance(v, dict):
        if isinstance(v.get("kind"), str) and isinstance(v.get("metadata"), dict):
            kinds[v["kind"]] = kinds.get(v["kind"], 0) + 1
        for x in v.values():
            walk(x)
    elif isinstance(v, list):
        for x in v:
            walk(x)
walk(s["document"])
for k in ["Deployment", "ReplicaSet", "Pod", "Node", "ConfigMap", "Service", "HorizontalPodAutoscaler"]:
    if not kinds.get(k):
        bad.append("no %s in the snapshot (kinds: %r)" % (k, sorted(kinds)))
ev = t["latest_evidence"] or {}
for k in ["pods", "nodes", "logs", "scrapes", "models"]:
    if not ev.get(k, {}).get("count"):
        bad.append("the evidence has no %s: %r" % (k, ev.get(k)))
unreadable = ev.get("unreadable", {}).get("count")
if want_secret:
    if kinds.get("Secret") != 1:
        bad.append("%r Secrets read with the Secrets role bound, want 1" % kinds.get("Secret"))
    if unreadable != 0:
        bad.append("%r things unreadable with the Secrets role bound, want 0" % unreadable)
else:
    if kinds.get("Secret"):
        bad.append("a Secret was read without the Secrets role")
    # Only the refused Secret is missing from a full pull.
    if unreadable != 1:
        bad.append("%r things unreadable without the Secrets role, want 1 (the Secret)" % unreadable)
# The pod's reference to its Secret is kept either way.
if '"name": "hf-secret"' not in text:
    bad.append("the pod's Secret reference (hf-secret) is missing")
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
	if [ $? -eq 0 ]; then ok; else bad "snapshot of $1:"; sed 's/^/  /' "$tmp/check.txt"; fi
}
pull sim-cluster-1 0
pull remote-kc 0

# 5. With the optional Secrets binding, Secrets are read.
stop_kubesim
start_kubesim "$tmp/role-secrets.yaml"
kubeconfig "$tmp/admin.kubeconfig" admin "$admin"
kubeconfig "$tmp/reader.kubeconfig" reader "$token"
KUBECONFIG=$tmp/admin.kubeconfig sh "$reg" --name with-secrets >"$tmp/reg2.json" 2>"$tmp/err" && ok ||
    bad "print-registration.sh (second kubesim): $(cat "$tmp/err")"
api POST /api/v1/clusters "$tmp/reg2.json"
[ "$code" = 201 ] && ok || bad "POST /api/v1/clusters answered $code: $(cat "$tmp/ans")"
allowed get secrets -n llm
pull with-secrets 1

finish
