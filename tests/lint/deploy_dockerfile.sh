#!/bin/sh
# deploy/Dockerfile, without a container engine: parses the instructions and
# checks that every one is known, the stages are debian:12 (build) and
# debian:12-slim (runtime), every COPY source exists in the repository and
# is let through deploy/Dockerfile.dockerignore, every script a RUN names was
# copied first, --from names a stage, the runtime installs exactly the
# runtime libraries (plus ca-certificates and curl for the HEALTHCHECK) and
# each is a Debian 12 package, the shared libraries of the built skewd all
# come from those packages' dependency closure (when dpkg and apt-cache are
# here), the user is a fixed non-root uid that matches the Kubernetes
# manifests, the HEALTHCHECK GETs /healthz on the exposed port that
# SKEWD_LISTEN sets, the data volume is SKEWD_DATA_DIR, and ENTRYPOINT/CMD
# name the files the build stage installs (checked by running the build
# stage's cmake install, DESTDIR and all, on the already built tree).
bin=${SKEWD_BIN:?SKEWD_BIN is not set}
src=${SKEWD_SOURCE_DIR:?SKEWD_SOURCE_DIR is not set}
build=$(dirname "$bin")

command -v python3 >/dev/null 2>&1 || { echo "FAIL: python3 is not installed"; echo "0 passed, 1 failed"; exit 1; }
tmp=$(mktemp -d /tmp/skewd-deploy-docker-XXXXXX) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

# The build stage's install step, on this build: what lands in DESTDIR.
prefix=$(sed -n 's/.*-DCMAKE_INSTALL_PREFIX=\([^ ]*\).*/\1/p' "$src/deploy/Dockerfile" | head -1)
if [ -n "$prefix" ] && DESTDIR=$tmp/out cmake --install "$build" --prefix "$prefix" >"$tmp/install.out" 2>&1; then
	(cd "$tmp/out" && find . -mindepth 1 | sed 's|^\.||') >"$tmp/installed"
else
	echo "cmake --install into DESTDIR failed: $(tail -5 "$tmp/install.out")" >"$tmp/installed.err"
	: >"$tmp/installed"
fi

python3 - "$src" "$bin" "$tmp" <<'PY'
import fnmatch, json, os, re, shlex, subprocess, sys

src, binary, tmp = sys.argv[1:4]
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)
    return cond


text = open(os.path.join(src, "deploy", "Dockerfile")).read()
# Instructions: continuation lines joined, comments and the parser directive dropped.
instrs = []
cur = ""
for line in text.split("\n"):
    s = line.strip()
    if not cur and (s == "" or s.startswith("#")):
        continue
    if cur and s.startswith("#"):
        continue
    if s.endswith("\\"):
        cur += s[:-1] + " "
        continue
    cur += s
    op, _, rest = cur.partition(" ")
    instrs.append((op.upper(), rest.strip()))
    cur = ""
check(cur == "", "the Dockerfile ends inside a continued line")
KNOWN = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER",
         "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}
for op, rest in instrs:
    check(op in KNOWN, "unknown instruction %s" % op)
    check(op == instrs[0][0] or op.isupper(), "instruction %s" % op)
    check(op != "ADD", "ADD is used (COPY is enough and does not fetch URLs)")

# Stages.
stages = []
for i, (op, rest) in enumerate(instrs):
    if op == "FROM":
        parts = rest.split()
        name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
        stages.append({"image": parts[0], "name": name, "start": i})
check(len(stages) == 2, "two stages, found %d" % len(stages))
check(instrs[0][0] == "FROM", "the first instruction is FROM")
check(stages[0]["image"] == "debian:12" and stages[0]["name"] == "build", "build stage FROM debian:12 AS build")
check(stages[-1]["image"] == "debian:12-slim", "runtime stage FROM debian:12-slim")
names = {s["name"] for s in stages if s["name"]}


def stage_of(i):
    return [s for s in stages if s["start"] <= i][-1]


def json_or_shell(rest):
    rest = rest.strip()
    if rest.startswith("["):
        return json.loads(rest)
    return shlex.split(rest)


# The context filter of deploy/Dockerfile.dockerignore ("*" then "!" allows).
ignore = [l.strip() for l in open(os.path.join(src, "deploy", "Dockerfile.dockerignore"))
          if l.strip() and not l.strip().startswith("#")]


def in_context(path):
    keep = True
    parts = path.split("/")
    for pat in ignore:
        neg = pat.startswith("!")
        p = pat[1:] if neg else pat
        p = p.replace("**/", "")
        hit = any(fnmatch.fnmatch("/".join(parts[:k]), p) for k in range(1, len(parts) + 1)) or \
            fnmatch.fnmatch(parts[-1], p)
        if hit:
            keep = neg
    return keep


copied = {s["name"] or "runtime": set() for s in stages}
for i, (op, rest) in enumerate(instrs):
    st = stage_of(i)
    if op == "COPY":
        args = json_or_shell(rest)
        flags = [a for a in args if a.startswith("--")]
        paths = [a for a in args if not a.startswith("--")]
        check(len(paths) >= 2, "COPY %s has a source and a destination" % rest)
        frm = [f.split("=", 1)[1] for f in flags if f.startswith("--from=")]
        for srcp in paths[:-1]:
            if frm:
                check(frm[0] in names and frm[0] != st["name"], "COPY --from=%s names an earlier stage" % frm[0])
                installed = open(os.path.join(tmp, "installed")).read().split("\n")
                if os.path.exists(os.path.join(tmp, "installed.err")):
                    check(False, open(os.path.join(tmp, "installed.err")).read())
                else:
                    out = srcp.rstrip("/")
                    check(out.startswith("/out/"), "COPY --from=build copies from the DESTDIR /out")
                    check(out[len("/out"):] in installed, "the build stage installs %s" % out[len("/out"):])
                continue
            check(os.path.exists(os.path.join(src, srcp)), "COPY source %s exists in the repository" % srcp)
            check(in_context(srcp), "COPY source %s is in the build context (Dockerfile.dockerignore)" % srcp)
            copied[st["name"] or "runtime"].add(srcp.rstrip("/"))
    if op == "RUN":
        for m in re.findall(r"(?:^|\s)(?:sh|bash)\s+(\S+\.sh)", rest):
            check(os.path.isfile(os.path.join(src, m)), "RUN script %s exists" % m)
            check(any(m == c or m.startswith(c + "/") for c in copied[st["name"] or "runtime"]),
                  "RUN script %s was copied before it runs" % m)

# What the build stage's cmake needs from the tree is copied.
buildcopies = copied["build"]
for need in ["CMakeLists.txt", "server", "api", "migrations", "web", "deploy", "docs", "tests/fixtures/cluster"]:
    check(need in buildcopies, "the build stage copies %s" % need)
top = re.findall(r"add_subdirectory\((\w+)\)", open(os.path.join(src, "CMakeLists.txt")).read())
for d in top:
    check(d == "tests" or d in buildcopies, "the build stage copies %s/ (add_subdirectory)" % d)
# Every file the CMake build reads from the tree by ${PROJECT_SOURCE_DIR}/PATH
# (embedded data, installed folders) is copied.
for root, _dirs, files in os.walk(src):
    rel = os.path.relpath(root, src)
    if rel.startswith("build") or "/." in "/" + rel or "node_modules" in rel or rel.startswith("tests"):
        continue
    if "CMakeLists.txt" not in files:
        continue
    body = open(os.path.join(root, "CMakeLists.txt")).read()
    for m in re.findall(r"\$\{PROJECT_SOURCE_DIR\}/([A-Za-z0-9_./-]+)", body):
        m = m.rstrip("/")
        check(any(m == c or m.startswith(c + "/") for c in buildcopies),
              "%s/CMakeLists.txt reads %s, which the build stage does not copy" % (rel, m))
runs = " ".join(rest for op, rest in instrs if op == "RUN")
check("-DSKEWD_TESTS=OFF" in runs, "the image build leaves the tests out")
check("sh deploy/install-deps.sh" in runs, "the build stage installs the -dev packages with deploy/install-deps.sh")
check("--test" not in runs, "the build stage does not install the test packages")

# Runtime packages.
rt = [rest for i, (op, rest) in enumerate(instrs) if op == "RUN" and stage_of(i) is stages[-1]]
pkgs = []
for r in rt:
    m = re.search(r"apt-get install ([^&]*)", r)
    if m:
        pkgs += [p for p in m.group(1).split() if not p.startswith("-")]
want = {"libcivetweb1", "libcurl4", "libjansson4", "libsqlite3-0", "libyaml-0-2", "libssl3", "libarchive13",
        "ca-certificates", "curl"}
check(set(pkgs) == want, "runtime packages %s, want %s" % (sorted(pkgs), sorted(want)))
check(not any(p.endswith("-dev") for p in pkgs), "no -dev package at run time")
check(any("--no-install-recommends" in r for r in rt), "apt-get install --no-install-recommends")
check(any("rm -rf /var/lib/apt/lists" in r for r in rt), "the apt lists are removed")

if subprocess.call(["sh", "-c", "command -v apt-cache >/dev/null && command -v dpkg >/dev/null"]) == 0:
    for p in sorted(want):
        check(subprocess.call(["apt-cache", "show", p], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0,
              "apt-cache knows package %s" % p)
    # The dependency closure of the runtime packages covers every library skewd links.
    out = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                          "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"] + sorted(want),
                         capture_output=True, text=True).stdout
    closure = set(want)
    for line in out.split("\n"):
        m = re.match(r"\s*\|?(?:Pre)?Depends: <?([^>\s]+)>?", line) or re.match(r"([^\s<]+)$", line)
        if m:
            closure.add(m.group(1).split(":")[0])
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    for line in ldd.split("\n"):
        m = re.search(r"=> (/\S+)", line)
        if not m or "libasan" in line or "libubsan" in line or "libtsan" in line:
            continue
        real = os.path.realpath(m.group(1))
        owner = subprocess.run(["dpkg", "-S", real], capture_output=True, text=True).stdout.split(":")[0]
        if not owner:
            owner = subprocess.run(["dpkg", "-S", m.group(1)], capture_output=True, text=True).stdout.split(":")[0]
        check(owner in closure or owner in ("libc6", "libgcc-s1"),
              "%s (package %s) is not in the runtime packages' closure" % (m.group(1), owner or "?"))

# User, ports, health check, volume, entrypoint (runtime stage).
rti = [(op, rest) for i, (op, rest) in enumerate(instrs) if stage_of(i) is stages[-1]]
users = [rest for op, rest in rti if op == "USER"]
check(len(users) == 1 and re.fullmatch(r"[1-9][0-9]*:[1-9][0-9]*", users[0] or ""),
      "one USER with a numeric non-root uid:gid (%s)" % users)
uid = users[0].split(":")[0] if users else ""
sts = open(os.path.join(src, "deploy", "kubernetes", "statefulset.yaml")).read()
check("runAsUser: %s" % uid in sts, "the StatefulSet runs as the image's uid %s" % uid)
check(any(("--uid %s" % uid) in rest for op, rest in rti if op == "RUN"), "the image creates user %s" % uid)
env = {}
for op, rest in rti:
    if op == "ENV":
        for kv in shlex.split(rest):
            k, _, v = kv.partition("=")
            env[k] = v
listen = env.get("SKEWD_LISTEN", "")
check(listen.startswith("0.0.0.0:"), "SKEWD_LISTEN listens on every interface (%s)" % listen)
port = listen.rpartition(":")[2]
expose = [rest for op, rest in rti if op == "EXPOSE"]
check(expose == [port], "EXPOSE %s (the listen port), got %s" % (port, expose))
hc = [rest for op, rest in rti if op == "HEALTHCHECK"]
check(len(hc) == 1, "one HEALTHCHECK")
if hc:
    cmd = hc[0].split(" CMD ", 1)[1] if " CMD " in hc[0] else ""
    argv = json_or_shell(cmd) if cmd else []
    check(argv[:1] == ["curl"] and "-f" in "".join(a for a in argv if a.startswith("-")),
          "HEALTHCHECK runs curl -f (fails on an HTTP error): %s" % argv)
    check("http://127.0.0.1:%s/healthz" % port in argv, "HEALTHCHECK GETs /healthz on port %s: %s" % (port, argv))
    check("curl" in pkgs, "curl is installed for the HEALTHCHECK")
vols = [json_or_shell(rest) for op, rest in rti if op == "VOLUME"]
check(vols == [[env.get("SKEWD_DATA_DIR")]], "VOLUME is SKEWD_DATA_DIR (%s vs %s)" % (vols, env.get("SKEWD_DATA_DIR")))
check(any("-o %s -g" % uid in rest and env.get("SKEWD_DATA_DIR", "?") in rest for op, rest in rti if op == "RUN"),
      "the data folder is created owned by the uid")
installed = set(open(os.path.join(tmp, "installed")).read().split("\n"))
ep = [json_or_shell(rest) for op, rest in rti if op == "ENTRYPOINT"]
cmdi = [json_or_shell(rest) for op, rest in rti if op == "CMD"]
check(len(ep) == 1 and ep[0][0] in installed, "ENTRYPOINT %s is a file the build installs" % ep)
check(len(cmdi) == 1 and cmdi[0][:2] == ["serve", "--config"] and cmdi[0][2] in installed,
      "CMD serve --config <an installed config>: %s" % cmdi)
for need in ["/usr/local/share/skewd/web/index.html", "/usr/local/etc/skewd/skewd.yaml"]:
    check(need in installed, "the image gets %s" % need)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
