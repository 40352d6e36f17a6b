"""Checks the rendered kustomize base of deploy/kubernetes (deploy_kustomize.sh).

Usage: deploy_k8s_check.py BASE.yaml FULL.yaml K8S_DIR VERSION OUT_DIR
Prints "ok <what>" or "FAIL: <what>" per check. Writes OUT_DIR/skewd.yaml
(the config from the ConfigMap), OUT_DIR/port (the container port) and
OUT_DIR/probes (the probe paths) for the shell part.
"""
import os
import sys

import yaml

base_path, full_path, k8s, version, out = sys.argv[1:6]
failures = 0


def check(cond, what):
    global failures
    if cond:
        print("ok " + what)
    else:
        failures += 1
        print("FAIL: " + what)
    return cond


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


# apiVersion/kind -> (namespaced, required dotted paths)
KNOWN = {
    ("v1", "Namespace"): (False, ["metadata.name"]),
    ("v1", "ServiceAccount"): (True, ["metadata.name"]),
    ("v1", "ConfigMap"): (True, ["metadata.name", "data"]),
    ("v1", "Service"): (True, ["metadata.name", "spec.selector", "spec.ports"]),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): (False, ["metadata.name", "rules"]),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): (False, ["metadata.name", "roleRef", "subjects"]),
    ("apps/v1", "StatefulSet"): (True, ["metadata.name", "spec.selector.matchLabels", "spec.serviceName",
                                       "spec.template.metadata.labels", "spec.template.spec.containers"]),
    ("networking.k8s.io/v1", "Ingress"): (True, ["metadata.name", "spec.rules"]),
}
# Fields the API server knows at the top of each object (unknown ones are
# rejected by a strict server-side apply).
TOP = {"apiVersion", "kind", "metadata", "spec", "data", "rules", "roleRef", "subjects", "type",
       "automountServiceAccountToken", "stringData", "binaryData", "immutable"}


def get(obj, path):
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def validate(docs, label):
    for d in docs:
        key = (d.get("apiVersion"), d.get("kind"))
        name = "%s %s/%s" % (label, d.get("kind"), get(d, "metadata.name"))
        if not check(key in KNOWN, "%s: apiVersion/kind %s is one skewd ships" % (name, key)):
            continue
        namespaced, required = KNOWN[key]
        for path in required:
            check(get(d, path) not in (None, "", [], {}), "%s has %s" % (name, path))
        check(set(d) <= TOP, "%s has only known top-level fields (%s)" % (name, sorted(set(d) - TOP)))
        ns = get(d, "metadata.namespace")
        if namespaced:
            check(ns == "skewd", "%s is in namespace skewd (%s)" % (name, ns))
        else:
            check(ns is None, "%s (cluster-scoped) has no namespace" % name)
        labels = get(d, "metadata.labels") or {}
        check(labels.get("app.kubernetes.io/name") == "skewd", "%s is labelled app.kubernetes.io/name=skewd" % name)


base = load(base_path)
full = load(full_path)
validate(base, "base")
validate(full, "with components")


def objs(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def one(docs, kind):
    o = objs(docs, kind)
    check(len(o) == 1, "one %s (found %d)" % (kind, len(o)))
    return o[0] if o else {}


kinds = sorted(d["kind"] for d in base)
check(kinds == sorted(["Namespace", "ServiceAccount", "ClusterRole", "ClusterRole", "ClusterRoleBinding",
                       "ConfigMap", "Service", "StatefulSet"]), "base objects: %s" % kinds)
names = [(d["kind"], d["metadata"]["name"]) for d in full]
check(len(names) == len(set(names)), "no two objects share kind and name")

# The Namespace enforces the restricted Pod Security Standard.
nsobj = one(base, "Namespace")
check(get(nsobj, "metadata.labels").get("pod-security.kubernetes.io/enforce") == "restricted",
      "namespace enforces the restricted pod security standard")

# RBAC: the roles are the very file kubesim enforces.
with open(os.path.join(k8s, "kustomization.yaml")) as f:
    kust = yaml.safe_load(f)
check("clusterrole-collector.yaml" in kust.get("resources", []),
      "the base uses clusterrole-collector.yaml as a resource")
others = []
for root, _dirs, files in os.walk(k8s):
    for fn in files:
        p = os.path.join(root, fn)
        if fn.endswith(".yaml") and fn != "clusterrole-collector.yaml":
            with open(p) as f:
                if any(d and d.get("kind") in ("ClusterRole", "Role") for d in yaml.safe_load_all(f)):
                    others.append(os.path.relpath(p, k8s))
check(not others, "no other file under deploy/kubernetes defines a role (%s)" % others)
with open(os.path.join(k8s, "clusterrole-collector.yaml")) as f:
    file_roles = {d["metadata"]["name"]: d["rules"] for d in yaml.safe_load_all(f) if d}
roles = {d["metadata"]["name"]: d for d in objs(base, "ClusterRole")}
check(sorted(roles) == ["skewd-collector", "skewd-collector-secrets"], "ClusterRoles: %s" % sorted(roles))
for rname, r in roles.items():
    check(r["rules"] == file_roles.get(rname), "%s is rendered exactly as in the file" % rname)
    verbs = set(v for rule in r["rules"] for v in rule["verbs"])
    check(verbs <= {"get", "list", "watch"}, "%s verbs %s are within get/list/watch" % (rname, sorted(verbs)))
    for rule in r["rules"]:
        check("*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"],
              "%s rule %s has no wildcard" % (rname, rule["resources"]))
        check(not rule.get("nonResourceURLs"), "%s has no nonResourceURLs" % rname)
    res = set(x for rule in r["rules"] for x in rule["resources"])
    if rname == "skewd-collector":
        check("secrets" not in res, "skewd-collector does not read Secrets")
        sub = [x for x in res if "/" in x]
        check(sorted(sub) == ["pods/log", "pods/proxy"], "subresources are pods/log and pods/proxy only (%s)" % sub)
        for rule in r["rules"]:
            if any("/" in x for x in rule["resources"]):
                check(rule["verbs"] == ["get"], "%s: get only" % rule["resources"])
    else:
        check(res == {"secrets"}, "skewd-collector-secrets reads Secrets only")

sa = one(base, "ServiceAccount")

# Field names the API knows, where the manifests write them (a misspelt field
# is dropped silently by a lenient apply; a strict one rejects the object).
FIELDS = {
    "statefulset.spec": {"replicas", "serviceName", "selector", "template", "volumeClaimTemplates",
                         "updateStrategy", "podManagementPolicy", "revisionHistoryLimit", "minReadySeconds",
                         "persistentVolumeClaimRetentionPolicy", "ordinals"},
    "pod.spec": {"serviceAccountName", "automountServiceAccountToken", "enableServiceLinks", "securityContext",
                 "terminationGracePeriodSeconds", "containers", "volumes", "initContainers", "nodeSelector",
                 "affinity", "tolerations", "priorityClassName", "topologySpreadConstraints"},
    "container": {"name", "image", "imagePullPolicy", "args", "command", "env", "envFrom", "ports",
                  "livenessProbe", "readinessProbe", "startupProbe", "resources", "securityContext",
                  "volumeMounts", "workingDir", "lifecycle", "terminationMessagePolicy"},
    "container.securityContext": {"runAsNonRoot", "runAsUser", "runAsGroup", "readOnlyRootFilesystem",
                                  "allowPrivilegeEscalation", "privileged", "capabilities", "seccompProfile",
                                  "procMount", "seLinuxOptions", "appArmorProfile"},
    "pod.securityContext": {"runAsNonRoot", "runAsUser", "runAsGroup", "fsGroup", "fsGroupChangePolicy",
                            "seccompProfile", "supplementalGroups", "sysctls", "seLinuxOptions",
                            "appArmorProfile"},
    "probe": {"httpGet", "tcpSocket", "exec", "grpc", "initialDelaySeconds", "periodSeconds", "timeoutSeconds",
              "failureThreshold", "successThreshold", "terminationGracePeriodSeconds"},
    "service.spec": {"type", "selector", "ports", "clusterIP", "sessionAffinity", "ipFamilyPolicy"},
    "ingress.spec": {"ingressClassName", "tls", "rules", "defaultBackend"},
}


def fields(obj, kind, what):
    extra = set(obj or {}) - FIELDS[kind]
    check(not extra, "%s has only known fields (unknown: %s)" % (what, sorted(extra)))


_sts = objs(base, "StatefulSet")
if _sts:
    _spec = _sts[0]["spec"]
    fields(_spec, "statefulset.spec", "StatefulSet spec")
    _pod = _spec["template"]["spec"]
    fields(_pod, "pod.spec", "pod spec")
    fields(_pod.get("securityContext"), "pod.securityContext", "pod securityContext")
    for _c in _pod["containers"]:
        fields(_c, "container", "container %s" % _c.get("name"))
        fields(_c.get("securityContext"), "container.securityContext", "container securityContext")
        for _p in ("livenessProbe", "readinessProbe", "startupProbe"):
            if _p in _c:
                fields(_c[_p], "probe", _p)
for _s in objs(base, "Service"):
    fields(_s["spec"], "service.spec", "Service spec")
for _i in objs(full, "Ingress"):
    fields(_i["spec"], "ingress.spec", "Ingress spec")


def bindings(docs):
    out = []
    for b in objs(docs, "ClusterRoleBinding"):
        check(b["roleRef"]["kind"] == "ClusterRole" and b["roleRef"]["apiGroup"] == "rbac.authorization.k8s.io",
              "binding %s refers to a ClusterRole" % b["metadata"]["name"])
        check(b["roleRef"]["name"] in roles, "binding %s refers to a rendered role" % b["metadata"]["name"])
        check(b["subjects"] == [{"kind": "ServiceAccount", "name": sa["metadata"]["name"], "namespace": "skewd"}],
              "binding %s binds skewd's ServiceAccount only" % b["metadata"]["name"])
        out.append(b["roleRef"]["name"])
    return sorted(out)


check(bindings(base) == ["skewd-collector"], "the base binds skewd-collector only (Secrets off)")
check(bindings(full) == ["skewd-collector", "skewd-collector-secrets"], "components/secrets binds the Secrets role")

# The workload.
sts = one(base, "StatefulSet")
spec = sts.get("spec", {})
check(spec.get("replicas") == 1, "one replica")
with open(os.path.join(k8s, "statefulset.yaml")) as f:
    text = f.read()
head = text.split("apiVersion:")[0].lower()
check("one replica" in head and "sqlite" in head, "statefulset.yaml says why one replica (SQLite), in a comment")
pod = spec["template"]["spec"]
podlabels = spec["template"]["metadata"]["labels"]
check(all(podlabels.get(k) == v for k, v in spec["selector"]["matchLabels"].items()),
      "the selector matches the pod labels")
check(pod.get("serviceAccountName") == sa["metadata"]["name"], "the pod runs as skewd's ServiceAccount")
psc = pod.get("securityContext", {})
check(psc.get("runAsNonRoot") is True, "pod runAsNonRoot")
check(isinstance(psc.get("runAsUser"), int) and psc["runAsUser"] > 0, "pod runAsUser is a non-zero uid")
check(get(psc, "seccompProfile.type") == "RuntimeDefault", "pod seccomp RuntimeDefault")
check(isinstance(psc.get("fsGroup"), int), "fsGroup set (the volume is writable by the uid)")
check(psc.get("fsGroupChangePolicy") == "OnRootMismatch",
      "fsGroupChangePolicy OnRootMismatch (seal.key must not turn group-readable on a remount)")
check(len(pod["containers"]) == 1, "one container")
c = pod["containers"][0]
sc = c.get("securityContext", {})
check(sc.get("runAsNonRoot") is True, "container runAsNonRoot")
check(sc.get("readOnlyRootFilesystem") is True, "container readOnlyRootFilesystem")
check(sc.get("allowPrivilegeEscalation") is False, "container allowPrivilegeEscalation false")
check(sc.get("privileged") in (None, False), "container not privileged")
check(get(sc, "capabilities.drop") == ["ALL"], "container drops ALL capabilities")
check(not get(sc, "capabilities.add"), "container adds no capability")
check(c.get("image") == "skewd:" + version, "image skewd:%s (the project version) (%s)" % (version, c.get("image")))
req = get(c, "resources.requests") or {}
check("cpu" in req and "memory" in req, "resource requests for cpu and memory")
check(get(c, "resources.limits.memory") is not None, "a memory limit")
ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
check("http" in ports, "a container port named http")
port = ports.get("http", 0)


def probe_port(p):
    v = get(p, "httpGet.port")
    return ports.get(v) if isinstance(v, str) else v


probes = []
for kind, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
    p = c.get(kind) or {}
    check(get(p, "httpGet.path") == path, "%s GET %s" % (kind, path))
    check(probe_port(p) == port, "%s on the container port %s" % (kind, port))
    probes.append(get(p, "httpGet.path") or "/missing")

# Volumes: config, tmp, and the PVC for SQLite at data_dir.
vols = {v["name"]: v for v in pod.get("volumes", [])}
vcts = {v["metadata"]["name"]: v for v in spec.get("volumeClaimTemplates", [])}
mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
for m in mounts:
    check(m in vols or m in vcts, "mount %s has a volume" % m)
check("data" in vcts, "a volumeClaimTemplate 'data' (the PVC)")
pvc = vcts.get("data", {})
check(get(pvc, "spec.accessModes") == ["ReadWriteOnce"], "the PVC is ReadWriteOnce")
check(get(pvc, "spec.resources.requests.storage") is not None, "the PVC requests storage")
check(get(vols, "tmp.emptyDir") is not None and get(mounts, "tmp.mountPath") == "/tmp",
      "an emptyDir at /tmp (SQLite temp files; the root is read-only)")
cm = one(base, "ConfigMap")
cfgtext = cm.get("data", {}).get("skewd.yaml", "")
cfg = yaml.safe_load(cfgtext) or {}
check(get(vols, "config.configMap.name") == cm["metadata"]["name"], "the config volume is the ConfigMap")
cfgmount = get(mounts, "config.mountPath")
check(c.get("args") == ["serve", "--config", "%s/skewd.yaml" % cfgmount], "args: serve --config <mounted file>")
check(get(mounts, "config.readOnly") is True, "the config is mounted read-only")
check(cfg.get("data_dir") == get(mounts, "data.mountPath"), "data_dir is the PVC's mount path")
check(cfg.get("listen") == "0.0.0.0:%d" % port, "listen 0.0.0.0:<container port>")
check(cfg.get("in_cluster") is True, "in_cluster: true")
check(cfg.get("anonymous_read") is False, "anonymous_read off")
env = {e["name"]: e for e in c.get("env", [])}
check(get(env, "SKEWD_SEAL_KEY.valueFrom.secretKeyRef.optional") is True,
      "SKEWD_SEAL_KEY from an optional Secret")

svc = one(base, "Service")
check(all(podlabels.get(k) == v for k, v in svc["spec"]["selector"].items()), "the Service selects the pod")
sports = {p["name"]: p for p in svc["spec"]["ports"]}
check(get(sports, "http.targetPort") in ("http", port), "the Service targets the http port")

ing = one(full, "Ingress")
backend = get(ing, "spec.rules")[0]["http"]["paths"][0]["backend"]["service"]
check(backend["name"] == svc["metadata"]["name"] and backend["port"].get("name") in sports,
      "the Ingress routes to the Service's port")

with open(os.path.join(out, "skewd.yaml"), "w") as f:
    f.write(cfgtext)
with open(os.path.join(out, "port"), "w") as f:
    f.write(str(port))
with open(os.path.join(out, "probes"), "w") as f:
    f.write(" ".join(probes))
sys.exit(1 if failures else 0)
