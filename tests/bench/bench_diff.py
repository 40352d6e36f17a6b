#!/usr/bin/env python3
"""Benchmark of `skewd diff` on a generated fleet (run by bench_diff.sh; not a ctest test).

For the pair written by gen-fleet.py (last-good, current), in one run, each command 3 times
(median):
  - skewd diff --format json A B         time and peak RSS
  - parse_floor A B                       only loading both inputs with the same loader (the floor)
  - diff -u A B                           the line diff people use today
on the YAML files, and the same for the JSON Lists. Then checks the result against what
gen-fleet.py plants: in CHANGES workloads (random.seed(7); random.sample(range(N), CHANGES)),
the Deployment's --dtype (bfloat16 -> float16) and --max-model-len (8192 -> 4096), the pods'
image digest (sha256:a... -> sha256:b...), the HPA metric (Pods -> Resource cpu) and the Ingress
proxy-read-timeout annotation (600 -> 60); everywhere, noise that must NOT be reported: env
order, document order, 64Gi vs 65536Mi, 8 vs 8000m, resourceVersion, uid, generation,
creationTimestamp, status.
"""
import json, os, random, re, statistics, subprocess, sys, tempfile, time

RUNS = 3
PLANTED = ("dtype", "max_model_len", "image_digest", "hpa_metric", "ingress_timeout")


def measure(argv, ok_codes):
    """Runs argv once; returns (wall s, peak RSS KiB, exit code, stdout bytes, CPU s)."""
    time_bin = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
    if os.environ.get("BENCH_NO_GNU_TIME"):  # exercise the getrusage path
        time_bin = None
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as rep:
        if time_bin:
            cmd = [time_bin, "-v", "-o", rep.name] + argv
        else:
            # No GNU time: a fresh interpreter waits for the child and reports its
            # getrusage(RUSAGE_CHILDREN).ru_maxrss (KiB on Linux).
            cmd = [sys.executable, "-c",
                   "import resource,subprocess,sys;"
                   "r=subprocess.call(sys.argv[2:]);"
                   "u=resource.getrusage(resource.RUSAGE_CHILDREN);"
                   "open(sys.argv[1],'w').write('Maximum resident set size (kbytes): %d\\n"
                   "User time (seconds): %f\\nSystem time (seconds): %f\\n'"
                   "%(u.ru_maxrss,u.ru_utime,u.ru_stime));sys.exit(r)",
                   rep.name] + argv
        t0 = time.perf_counter()
        rc = subprocess.call(cmd, stdout=out)
        wall = time.perf_counter() - t0
        report = open(rep.name).read()
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
        rss = int(m.group(1)) if m else -1
        cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([0-9.]+)", report))
        if time_bin:
            m = re.search(r"Exit status: (\d+)", report)
            rc = int(m.group(1)) if m else rc
        if rc not in ok_codes:
            sys.exit(f"bench: {' '.join(argv)} exited {rc}")
        out.seek(0)
        return wall, rss, rc, out.read(), cpu


def median_of(argv, ok_codes):
    runs = [measure(argv, ok_codes) for _ in range(RUNS)]
    return (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs),
            runs[-1][2], runs[-1][3], statistics.median(r[4] for r in runs))


def planted_kind(c):
    """Which planted change a reported change is, or None (noise)."""
    obj, path, setting = c.get("object", ""), c.get("path") or "", c.get("setting") or ""
    vals = json.dumps([c.get("before"), c.get("after")])
    if setting == "dtype" or path.rstrip("/").endswith("dtype"):
        return "dtype"
    if setting == "max_model_len" or re.search(r"max[-_]model[-_]len", path):
        return "max_model_len"
    if "sha256:" in vals or "digest" in path.lower() or "imageID" in path or "digest" in setting:
        return "image_digest"
    if "HorizontalPodAutoscaler" in obj:
        return "hpa_metric"
    if "Ingress" in obj and "proxy-read-timeout" in path:
        return "ingress_timeout"
    return None


def check(doc, n, n_changed):
    """Compares the reported changes with what gen-fleet.py planted; returns report lines and ok."""
    random.seed(7)
    planted = set(random.sample(range(n), n_changed))
    found, noise, per_kind_count = {}, [], {}
    for c in doc["changes"]:
        m = re.search(r"vllm-model-(\d+)\b", c.get("object", "") + " " + (c.get("path") or ""))
        kind = planted_kind(c)
        if m is None or int(m.group(1)) not in planted or kind is None:
            noise.append(c)
            continue
        key = (int(m.group(1)), kind)
        found[key] = found.get(key, 0) + 1
        per_kind_count[kind] = per_kind_count.get(kind, 0) + 1
    want = {(i, k) for i in planted for k in PLANTED}
    missing = sorted(want - set(found))
    dup = sorted(k for k, v in found.items() if v > 1)
    lines = [f"planted: {n_changed} workloads x {len(PLANTED)} changes = {len(want)}; "
             f"reported: {len(doc['changes'])} changes "
             f"(summary.changes {doc['summary'].get('changes')})",
             "found per kind: " + ", ".join(f"{k} {per_kind_count.get(k, 0)}" for k in PLANTED),
             f"missing: {len(missing)}" + (f" e.g. {missing[:5]}" if missing else ""),
             f"noise (a change nothing planted): {len(noise)}"]
    for c in noise[:5]:
        lines.append("  noise: " + json.dumps({k: c.get(k) for k in ("object", "path", "setting", "before", "after")})[:300])
    lines.append(f"reported more than once: {len(dup)}" + (
        f" e.g. {dup[:3]} x{[found[d] for d in dup[:3]]}" if dup else ""))
    supp = doc["summary"].get("suppressed", {})
    lines.append(f"suppressed as noise: {supp.get('count')} "
                 + json.dumps(supp.get("by_rule", {}), sort_keys=True)[:400])
    return lines, not missing and not noise and not dup


def main():
    if len(sys.argv) != 6:
        sys.exit("usage: bench_diff.py SKEWD PARSE_FLOOR GEN_FLEET N WORKDIR")
    skewd, floor, gen, n, work = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    n_changed = max(1, n // 50)
    stamp = os.path.join(work, "generated-with")
    want_stamp = f"{n} {n_changed}\n"
    if os.path.exists(stamp) and open(stamp).read() == want_stamp:
        print(f"reusing the fleet in {work} ({n} workloads; gen-fleet.py is deterministic)")
    else:
        print(f"generating {n} workloads with {gen} ...", flush=True)
        subprocess.check_call([sys.executable, gen, str(n), work, str(n_changed)])
        open(stamp, "w").write(want_stamp)
    results, ok = [], True
    for ext in ("yaml", "json"):
        a, b = os.path.join(work, "last-good." + ext), os.path.join(work, "current." + ext)
        if not os.path.exists(a):
            print(f"(no {ext} files: skipped)")
            continue
        size = (os.path.getsize(a) + os.path.getsize(b)) / 1e6
        sk = median_of([skewd, "diff", "--format", "json", a, b], (0, 1))
        fl = median_of([floor, a, b], (0,))
        du = median_of(["diff", "-u", a, b], (0, 1))
        results.append((ext, size, sk, fl, du))
        lines, exact = check(json.loads(sk[3]), n, n_changed)
        ok = ok and exact
        results[-1] += (lines, exact)

    print()
    print(f"skewd diff benchmark: {n} workloads, {n_changed} changed; median of {RUNS} runs each")
    print(f"{'input':<6} {'MB':>6}  {'command':<28} {'wall s':>8} {'CPU s':>8} {'peak RSS MiB':>13}")
    for ext, size, sk, fl, du, _, _ in results:
        for name, r in (("skewd diff --format json", sk), ("parse floor (doc loader)", fl),
                        ("diff -u", du)):
            print(f"{ext:<6} {size:6.1f}  {name:<28} {r[0]:8.3f} {r[4]:8.3f} {r[1] / 1024:13.1f}")
        print(f"{'':<6} {'':>6}  {'ratio skewd / floor':<28} {sk[0] / fl[0]:8.2f} {sk[4] / fl[4]:8.2f} {sk[1] / fl[1]:13.2f}")
        print(f"{'':<6} {'':>6}  {'ratio skewd / diff -u':<28} {sk[0] / du[0]:8.2f} {sk[4] / du[4]:8.2f} {sk[1] / du[1]:13.2f}")
        print(f"{'':<6} {'':>6}  diff -u output: {len(du[3].splitlines())} lines; "
              f"skewd exit {sk[2]}")
    for ext, _, sk, fl, du, lines, exact in results:
        print()
        print(f"result check ({ext}): " + ("EXACT" if exact else "NOT EXACT"))
        for l in lines:
            print("  " + l)
    print()
    targets = []
    for ext, _, sk, fl, du, _, exact in results:
        targets.append(f"{ext}: within 2x of floor {'yes' if sk[0] <= 2 * fl[0] else 'NO'}"
                       f" ({sk[0] / fl[0]:.2f}x wall, {sk[4] / fl[4]:.2f}x CPU), faster than diff -u "
                       f"{'yes' if sk[0] < du[0] else 'NO'}, exact {'yes' if exact else 'NO'}")
    print("targets: " + "; ".join(targets))
    return 0 if ok else 1


sys.exit(main())
