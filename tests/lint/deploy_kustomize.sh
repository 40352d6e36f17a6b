#!/bin/sh
# deploy/kubernetes/: renders the kustomize base (and with its components)
# with the real kubectl, offline, and checks the objects: every one has a
# known apiVersion/kind and the fields that kind requires, names and
# selectors line up (Service -> pods, bindings -> roles and the
# ServiceAccount, Ingress -> Service port, mounts -> volumes), the
# ClusterRoles are the file kubesim enforces with only get/list/watch and
# the Secrets role unbound by default, the container runs non-root with a
# read-only root filesystem, no privilege escalation and no capabilities,
# probes use /healthz and /readyz on the container port, one replica with a
# PVC for SQLite at the config's data_dir. Then the real skewd starts with
# the rendered config (data_dir moved to a temp folder) and answers both
# probe paths with 200 on the port the manifests say. Needs python3 with
# PyYAML and curl; skips (exit 0) only when kubectl is not installed.
bin=${SKEWD_BIN:?SKEWD_BIN is not set}
src=${SKEWD_SOURCE_DIR:?SKEWD_SOURCE_DIR is not set}
k8s=$src/deploy/kubernetes

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

if ! command -v kubectl >/dev/null 2>&1; then
	echo "kubectl is not installed: skipping the kustomize check"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
command -v python3 >/dev/null 2>&1 || { bad "python3 is not installed"; finish; }
python3 -c 'import yaml' 2>/dev/null || { bad "python3 has no PyYAML (apt-get install python3-yaml)"; finish; }

tmp=$(mktemp -d /tmp/skewd-deploy-k8s-XXXXXX) || exit 2
spid=
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
for v in LISTEN DATA_DIR MIGRATIONS_DIR ANONYMOUS_READ SEAL_KEY SEAL_KEY_FILE IN_CLUSTER \
    COLLECT_INTERVAL_S WEB_DIR LOG_JSON LOG_LEVEL PUBLIC_URL; do
	unset "SKEWD_$v"
done

if kubectl kustomize "$k8s" >"$tmp/base.yaml" 2>"$tmp/err"; then ok
else bad "kubectl kustomize deploy/kubernetes: $(cat "$tmp/err")"; finish; fi

# An overlay next to the temp folder that adds both components (kustomize
# wants relative paths to bases).
mkdir "$tmp/overlay"
rel=$(python3 -c 'import os, sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' "$k8s" "$tmp/overlay")
cat >"$tmp/overlay/kustomization.yaml" <<KUST
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $rel
components:
  - $rel/components/secrets
  - $rel/components/ingress
KUST
if kubectl kustomize "$tmp/overlay" >"$tmp/full.yaml" 2>"$tmp/err"; then ok
else bad "kubectl kustomize with components: $(cat "$tmp/err")"; finish; fi

version=$(sed -n 's/^project(skewd VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
python3 "$src/tests/lint/deploy_k8s_check.py" "$tmp/base.yaml" "$tmp/full.yaml" "$k8s" "$version" "$tmp" \
    >"$tmp/check.txt" 2>&1
rc=$?
n=$(grep -c '^ok ' "$tmp/check.txt")
pass=$((pass + n))
grep '^FAIL' "$tmp/check.txt"
fail=$((fail + $(grep -c '^FAIL' "$tmp/check.txt")))
[ $rc -eq 0 ] || [ "$(grep -c '^FAIL' "$tmp/check.txt")" -gt 0 ] || bad "the checker stopped: $(tail -5 "$tmp/check.txt")"
[ -s "$tmp/skewd.yaml" ] || { bad "no config extracted"; finish; }

# The rendered config starts the real skewd; the probe paths answer 200 on
# the container port (the host part is the pod's; here loopback, port 0).
port=$(cat "$tmp/port")
sed 's/^listen: .*$/listen: "127.0.0.1:0"/' "$tmp/skewd.yaml" >"$tmp/local.yaml"
grep -q "^listen: \"0.0.0.0:$port\"" "$tmp/skewd.yaml" && ok || bad "listen is not 0.0.0.0:$port"
mkdir "$tmp/data"
SKEWD_DATA_DIR=$tmp/data "$bin" serve --config "$tmp/local.yaml" >"$tmp/serve.out" 2>"$tmp/serve.err" &
spid=$!
url=
i=0
while [ $i -lt 300 ]; do
	url=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$tmp/serve.out")
	[ -n "$url" ] && break
	kill -0 "$spid" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
if [ -n "$url" ]; then
	ok
	for path in $(cat "$tmp/probes"); do
		code=$(curl -s -o /dev/null -w '%{http_code}' "$url$path")
		[ "$code" = 200 ] && ok || bad "probe $path answered $code"
	done
	# An unauthenticated read is refused (anonymous_read: false).
	code=$(curl -s -o /dev/null -w '%{http_code}' "$url/api/v1/clusters")
	[ "$code" = 401 ] && ok || bad "anonymous /api/v1/clusters answered $code, want 401"
	kill -TERM "$spid"
	wait "$spid"
	rc=$?
	spid=
	[ $rc -eq 0 ] && ok || bad "skewd serve exited $rc on SIGTERM"
	grep -q '^{' "$tmp/serve.err" && ok || bad "log_json: true but the log is not JSON: $(head -2 "$tmp/serve.err")"
else
	bad "skewd serve did not start with the rendered config: $(tail -5 "$tmp/serve.err")"
fi
finish
