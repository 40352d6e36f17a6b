#!/bin/sh
# print-registration.sh - prints what a central skewd needs to watch this
# cluster, read with kubectl from the current context (or --context):
# the body of `POST /api/v1/clusters` (default), or a kubeconfig with the
# CA and token inline (--kubeconfig; for `POST /api/v1/clusters/import`
# or `kubectl --kubeconfig`).
#
# Apply the access first (see docs/deploy.md):
#   kubectl apply -f deploy/kubernetes/clusterrole-collector.yaml \
#                 -f deploy/kubernetes/remote-access/
#
# Then, e.g.:
#   deploy/kubernetes/remote-access/print-registration.sh --name prod-eu \
#     | curl -fsS -H "Authorization: Bearer $SKEWD_ADMIN_TOKEN" \
#            -H 'Content-Type: application/json' --data-binary @- \
#            https://skewd.example.com/api/v1/clusters
#
# The output holds the service account's token: pipe it, do not keep it.
# Needs kubectl and base64. Exit codes: 0 printed, 2 usage, 3 kubectl or
# the cluster failed.
set -u

usage() {
	cat <<'USAGE'
usage: print-registration.sh [--name NAME] [--context CTX] [--kubeconfig]
                             [--namespace NS] [--secret NAME]
                             [--watch-namespaces a,b] [--label-selector SEL]
  --name NAME              the name skewd gives the cluster (lower-case letters,
                           digits and inner '-', at most 63); default: the
                           context's cluster name, lower-cased, other
                           characters turned into '-'
  --context CTX            the kubectl context to read (default: the current one)
  --kubeconfig             print a kubeconfig instead of the JSON body
  --namespace NS           where the token Secret lives (default: skewd-remote)
  --secret NAME            the token Secret (default: skewd-reader-token)
  --watch-namespaces a,b   only watch these namespaces (default: all)
  --label-selector SEL     only watch workloads matching SEL (default: all)
USAGE
}

name=
context=
format=json
ns=skewd-remote
secret=skewd-reader-token
watch=
selector=

need_value() {
	if [ "$2" -lt 2 ]; then
		echo "print-registration.sh: $1 needs a value" >&2
		usage >&2
		exit 2
	fi
}

while [ $# -gt 0 ]; do
	case "$1" in
	--name) need_value "$1" $#; name=$2; shift 2 ;;
	--context) need_value "$1" $#; context=$2; shift 2 ;;
	--namespace) need_value "$1" $#; ns=$2; shift 2 ;;
	--secret) need_value "$1" $#; secret=$2; shift 2 ;;
	--watch-namespaces) need_value "$1" $#; watch=$2; shift 2 ;;
	--label-selector) need_value "$1" $#; selector=$2; shift 2 ;;
	--kubeconfig) format=kubeconfig; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "print-registration.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
done

if ! command -v kubectl >/dev/null 2>&1; then
	echo "print-registration.sh: kubectl is not installed" >&2
	exit 3
fi

# kc ARGS...: kubectl on the chosen context.
kc() {
	if [ -n "$context" ]; then
		kubectl --context "$context" "$@"
	else
		kubectl "$@"
	fi
}

cluster=$(kc config view --minify -o 'jsonpath={.clusters[0].name}') || {
	echo "print-registration.sh: cannot read the kubectl context${context:+ '$context'}" >&2
	exit 3
}
server=$(kc config view --minify -o 'jsonpath={.clusters[0].cluster.server}')
case "$server" in
https://*) ;;
*) echo "print-registration.sh: the context's API server '$server' is not an https:// URL" >&2; exit 3 ;;
esac

if [ -z "$name" ]; then
	name=$(printf '%s' "$cluster" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9\n' '-' | sed 's/^-*//; s/-*$//' | cut -c1-63 | sed 's/-*$//')
fi
if ! printf '%s' "$name" | grep -Eq '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' || [ ${#name} -gt 63 ]; then
	echo "print-registration.sh: '$name' is not a cluster name skewd takes (lower-case letters, digits and inner '-', at most 63); pass --name" >&2
	exit 2
fi

# The control plane fills the token Secret in shortly after it is created.
token=
tries=0
while :; do
	b64=$(kc -n "$ns" get secret "$secret" -o 'jsonpath={.data.token}') || {
		echo "print-registration.sh: cannot read Secret '$secret' in namespace '$ns' (applied remote-access/? allowed to read it?)" >&2
		exit 3
	}
	if [ -n "$b64" ]; then
		token=$(printf '%s' "$b64" | base64 -d) || {
			echo "print-registration.sh: Secret '$secret' holds a token that is not base64" >&2
			exit 3
		}
		break
	fi
	tries=$((tries + 1))
	if [ $tries -ge 10 ]; then
		echo "print-registration.sh: Secret '$secret' in namespace '$ns' has no token yet (is it of type kubernetes.io/service-account-token, annotated with its service account?)" >&2
		exit 3
	fi
	sleep 1
done

# The CA: the Secret's ca.crt, else the context's certificate-authority(-data).
ca=
b64=$(kc -n "$ns" get secret "$secret" -o 'jsonpath={.data.ca\.crt}' 2>/dev/null)
[ -n "$b64" ] && ca=$(printf '%s' "$b64" | base64 -d)
if [ -z "$ca" ]; then
	b64=$(kc config view --minify --raw -o 'jsonpath={.clusters[0].cluster.certificate-authority-data}')
	[ -n "$b64" ] && ca=$(printf '%s' "$b64" | base64 -d)
fi
if [ -z "$ca" ]; then
	file=$(kc config view --minify --raw -o 'jsonpath={.clusters[0].cluster.certificate-authority}')
	if [ -n "$file" ]; then
		ca=$(cat -- "$file") || {
			echo "print-registration.sh: cannot read the context's CA file '$file'" >&2
			exit 3
		}
	fi
fi
case "$ca" in
*"-----BEGIN CERTIFICATE-----"*) ;;
"") echo "print-registration.sh: no CA found (not in the Secret, not in the context); skewd would have to trust the system CAs" >&2; exit 3 ;;
*) echo "print-registration.sh: the CA found is not a PEM certificate" >&2; exit 3 ;;
esac

# json_str VALUE: VALUE as a JSON string (quotes, backslashes, control
# characters escaped; lines joined with \n).
json_str() {
	printf '%s' "$1" | awk '
		BEGIN { ORS = ""; printf "\"" }
		{
			gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); gsub(/\r/, "\\r")
			if (NR > 1) printf "\\n"
			printf "%s", $0
		}
		END { printf "\"" }'
}

if [ "$format" = kubeconfig ]; then
	ca64=$(printf '%s\n' "$ca" | base64 | tr -d '\n')
	cat <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
  - name: $name
    cluster:
      server: $(json_str "$server")
      certificate-authority-data: $ca64
users:
  - name: skewd-reader@$name
    user:
      token: $(json_str "$token")
contexts:
  - name: $name
    context:
      cluster: $name
      user: skewd-reader@$name
current-context: $name
KUBECONFIG
	exit 0
fi

printf '{\n  "name": "%s",\n  "server": %s,\n  "ca_pem": %s,\n  "auth": {"token": %s}' \
	"$name" "$(json_str "$server")" "$(json_str "$ca")" "$(json_str "$token")"
if [ -n "$watch" ]; then
	printf ',\n  "namespaces": ['
	first=1
	old_ifs=$IFS
	IFS=,
	for n in $watch; do
		[ -z "$n" ] && continue
		[ $first -eq 0 ] && printf ', '
		printf '%s' "$(json_str "$n")"
		first=0
	done
	IFS=$old_ifs
	printf ']'
fi
[ -n "$selector" ] && printf ',\n  "label_selector": %s' "$(json_str "$selector")"
printf '\n}\n'
