#!/usr/bin/env python3
"""crash_safety.py - kill -9 during collection and bundle writing (plan T17).

Run by crash_safety.sh (ctest) with SKEWD_BIN, SKEWD_KUBESIM, SKEWD_SOURCE_DIR and
SKEWD_FIXTURES set. One data dir lives across every round. Each round starts
`skewd serve` on it (the scheduler pulls every second), drives it with clients
that pull the simulated cluster (switching it between its two states, so pulls
store new snapshots) and create bundles, and sends SIGKILL after a random delay
(in one round in ten, during start-up instead). Then, with skewd down:

  - PRAGMA integrity_check is "ok" and foreign_key_check finds nothing;
  - every acknowledged snapshot (a 200 from .../collect listing its id) and every
    acknowledged bundle (a 201) has its row;
  - every bundle row's file is complete: its size and SHA-256 are the row's;

and after the restart:

  - no temporary or unrecorded bundle file is left in data/bundles (the start-up
    sweep), and the bundle list holds every acknowledged bundle;
  - the bundles and snapshots acknowledged in the round (and a sample of older
    bundles) are served: the download is the acknowledged size and SHA-256, a
    gzip'd tar of regular files whose MANIFEST.sha256 verifies every other file.

"Acknowledged" is what a client was told: skewd answers only after the commit
(SQLite WAL, synchronous=NORMAL: a commit survives a crash of the process) and,
for a bundle, after the file was synced, renamed into place, the folder synced
and the row inserted. A kill of the process is tested, not a power loss.

CRASH_ROUNDS (default 20) sets the rounds, CRASH_SEED the random seed (printed).
Exit 0 when every check held, 1 when one failed (it says which), 2 on a set-up
error.
"""
import hashlib
import http.client
import io
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

TARGET = "/api/v1/targets/crash/llm/deployment/vllm-llama"


def die(msg, code=1):
    print("crash_safety: " + msg, file=sys.stderr)
    sys.exit(code)


class Server:
    def __init__(self, binary, config, work):
        self.binary, self.config, self.work = binary, config, work
        self.proc = None
        self.host = self.port = None
        self.starts = 0

    def spawn(self):
        self.starts += 1
        self.out = os.path.join(self.work, "skewd.out.%d" % self.starts)
        self.err = open(os.path.join(self.work, "skewd.err"), "ab")
        self.proc = subprocess.Popen([self.binary, "serve", "--config", self.config],
                                     stdout=open(self.out, "wb"), stderr=self.err)

    def wait_listening(self, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                die("skewd exited (%d) before listening; see %s/skewd.err" % (self.proc.returncode, self.work), 2)
            m = re.search(rb"listening on http://([0-9.]+):(\d+)", open(self.out, "rb").read())
            if m:
                self.host, self.port = m.group(1).decode(), int(m.group(2))
                return
            time.sleep(0.02)
        die("skewd did not report listening", 2)

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.err.close()


def request(srv, method, path, token=None, body=None, timeout=30):
    """(status, bytes); raises on a transport failure."""
    c = http.client.HTTPConnection(srv.host, srv.port, timeout=timeout)
    try:
        h = {}
        if token:
            h["Authorization"] = "Bearer " + token
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body).encode()
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def verify_bundle(data, bid, size, sha):
    """None when `data` is the complete bundle, else what is wrong."""
    if len(data) != size:
        return "size %d, acknowledged %d" % (len(data), size)
    if hashlib.sha256(data).hexdigest() != sha:
        return "SHA-256 differs from the acknowledged one"
    files = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
            for m in t.getmembers():
                if not m.isreg():
                    return "member %s is not a regular file" % m.name
                if not m.name.startswith("skewd-bundle-%s/" % bid):
                    return "member %s is outside the bundle folder" % m.name
                files[m.name.split("/", 1)[1]] = t.extractfile(m).read()
    except (tarfile.TarError, OSError, EOFError) as ex:
        return "not a readable .tar.gz: %s" % ex
    man = files.get("MANIFEST.sha256")
    if man is None:
        return "no MANIFEST.sha256"
    listed = 0
    for line in man.decode().splitlines():
        if not line:
            continue
        digest, name = line[:64], line[66:]
        if name not in files or hashlib.sha256(files[name]).hexdigest() != digest:
            return "MANIFEST.sha256 does not verify %s" % name
        listed += 1
    if listed != len(files) - 1:
        return "MANIFEST.sha256 lists %d of %d files" % (listed, len(files) - 1)
    return None


def main():
    env = os.environ
    binary, kubesim = env.get("SKEWD_BIN"), env.get("SKEWD_KUBESIM")
    src, fixtures = env.get("SKEWD_SOURCE_DIR"), env.get("SKEWD_FIXTURES")
    if not (binary and kubesim and src and fixtures):
        die("SKEWD_BIN, SKEWD_KUBESIM, SKEWD_SOURCE_DIR and SKEWD_FIXTURES must be set", 2)
    rounds = int(env.get("CRASH_ROUNDS", "20"))
    seed = int(env.get("CRASH_SEED", str(random.SystemRandom().randrange(1 << 31))))
    rng = random.Random(seed)
    print("crash_safety: %d rounds, CRASH_SEED=%d" % (rounds, seed))

    work = tempfile.mkdtemp(prefix="skewd-crash-")
    ks = None
    srv = None
    ok = False
    try:
        # kubesim, in its own process, for every round.
        token, ks_admin = os.urandom(12).hex(), os.urandom(12).hex()
        os.mkdir(os.path.join(work, "tls"))
        ks_out = os.path.join(work, "kubesim.out")
        ks = subprocess.Popen([kubesim, "--state", os.path.join(fixtures, "cluster", "lastgood"),
                               "--tls-dir", os.path.join(work, "tls"),
                               "--role", os.path.join(src, "deploy/kubernetes/clusterrole-collector.yaml"),
                               "--token", token, "--admin-token", ks_admin],
                              stdout=open(ks_out, "wb"), stderr=open(os.path.join(work, "kubesim.err"), "wb"))
        ks_url = None
        for _ in range(300):
            m = re.search(rb"^kubesim (https://[^ ]+) ", open(ks_out, "rb").read(), re.M)
            if m:
                ks_url = m.group(1).decode()
                break
            time.sleep(0.05)
        if ks_url is None:
            die("kubesim did not start", 2)
        ca = open(os.path.join(work, "tls", "ca.crt")).read()
        ks_host, ks_port = ks_url[len("https://"):].split(":")
        import ssl
        ks_ctx = ssl.create_default_context(cafile=os.path.join(work, "tls", "ca.crt"))

        def ks_state(name):
            c = http.client.HTTPSConnection(ks_host, int(ks_port), context=ks_ctx, timeout=10)
            try:
                c.request("GET", "/_kubesim/state?name=" + name, headers={"Authorization": "Bearer " + ks_admin})
                c.getresponse().read()
            finally:
                c.close()

        data = os.path.join(work, "data")
        config = os.path.join(work, "skewd.yaml")
        with open(config, "w") as f:
            f.write('listen: "127.0.0.1:0"\ndata_dir: "%s"\ncollect_interval_s: 1\n'
                    'collect_timeout_ms: 5000\nbundle_retention_days: 30\n' % data)
        admin = subprocess.run([binary, "token", "create", "--name", "crash", "--role", "admin",
                                "--config", config], capture_output=True, check=True).stdout.decode().strip()
        srv = Server(binary, config, work)
        srv.spawn()
        srv.wait_listening()
        st, body = request(srv, "POST", "/api/v1/clusters", admin,
                           {"name": "crash", "server": ks_url, "ca_pem": ca, "auth": {"token": token},
                            "namespaces": ["llm"]})
        if st != 201:
            die("registering the cluster: %d %s" % (st, body[:300]), 2)
        st, body = request(srv, "POST", "/api/v1/clusters/crash/collect", admin)
        if st != 200:
            die("first pull: %d %s" % (st, body[:300]), 2)
        st, body = request(srv, "PUT", TARGET + "/baseline", admin, {"snapshot": "latest"})
        if st != 200:
            die("baseline: %d %s" % (st, body[:300]), 2)

        acked_snaps = set()
        acked_bundles = {}          # id -> (size, sha256)
        lock = threading.Lock()
        stats = {"kills_in_collect": 0, "kills_in_bundle": 0, "kills_at_start": 0, "swept": 0,
                 "downloads": 0}
        inflight = {"collect": 0, "bundle": 0}
        t0 = time.time()

        for rnd in range(1, rounds + 1):
            if rnd > 1:
                srv.spawn()
                if rng.random() < 0.1:
                    # Killed while starting: migrations, the sweep, WAL recovery.
                    time.sleep(rng.uniform(0, 0.05))
                    srv.kill9()
                    stats["kills_at_start"] += 1
                    srv.spawn()
                srv.wait_listening()
                # The start-up sweep ran before the server listened.
                left = [n for n in os.listdir(os.path.join(data, "bundles"))
                        if n.endswith(".tmp") or (n.startswith("skewd-bundle-") and
                                                  n[len("skewd-bundle-"):-len(".tar.gz")] not in rows_now)]
                if left:
                    die("round %d: after the restart data/bundles still holds %s" % (rnd, left))
                # Everything acknowledged is served.
                listed, before = set(), 0
                while True:
                    st, body = request(srv, "GET", "/api/v1/bundles?limit=500" +
                                       ("&before=%d" % before if before else ""), admin)
                    if st != 200:
                        die("round %d: GET /api/v1/bundles answered %d" % (rnd, st))
                    page = json.loads(body)
                    listed.update(b["id"] for b in page["bundles"])
                    before = page.get("next_before") or 0
                    if not page["bundles"] or not before:
                        break
                missing = set(acked_bundles) - listed
                if missing:
                    die("round %d: acknowledged bundles not listed after the restart: %s" % (rnd, sorted(missing)))
                check = set(new_bundles) | set(rng.sample(sorted(acked_bundles), min(3, len(acked_bundles))))
                for bid in sorted(check):
                    st, body = request(srv, "GET", "/b/" + bid)
                    if st != 200:
                        die("round %d: acknowledged bundle %s answered %d" % (rnd, bid, st))
                    why = verify_bundle(body, bid, *acked_bundles[bid])
                    if why:
                        die("round %d: bundle %s as served: %s" % (rnd, bid, why))
                    stats["downloads"] += 1
                for sid in sorted(new_snaps):
                    st, body = request(srv, "GET", "/api/v1/snapshots/%d" % sid, admin)
                    if st != 200:
                        die("round %d: acknowledged snapshot %d answered %d" % (rnd, sid, st))

            # Drive it, and kill it.
            new_snaps, new_bundles = set(), {}
            stop = threading.Event()

            def collector():
                state = rnd % 2
                while not stop.is_set():
                    try:
                        ks_state("current" if state else "lastgood")
                        state ^= 1
                        with lock:
                            inflight["collect"] += 1
                        try:
                            st, body = request(srv, "POST", "/api/v1/clusters/crash/collect", admin, timeout=10)
                        finally:
                            with lock:
                                inflight["collect"] -= 1
                    except (OSError, http.client.HTTPException):
                        return
                    if st == 200:
                        ids = {s["id"] for s in json.loads(body)["snapshots"]}
                        with lock:
                            new_snaps.update(ids)

            def bundler():
                while not stop.is_set():
                    try:
                        with lock:
                            inflight["bundle"] += 1
                        try:
                            st, body = request(srv, "POST", TARGET + "/bundles", admin, timeout=10)
                        finally:
                            with lock:
                                inflight["bundle"] -= 1
                    except (OSError, http.client.HTTPException):
                        return
                    if st == 201:
                        b = json.loads(body)
                        with lock:
                            new_bundles[b["id"]] = (b["size"], b["sha256"])

            threads = [threading.Thread(target=collector)] + [threading.Thread(target=bundler) for _ in range(2)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.05, 2.0))
            with lock:
                if inflight["collect"]:
                    stats["kills_in_collect"] += 1
                if inflight["bundle"]:
                    stats["kills_in_bundle"] += 1
            srv.kill9()
            stop.set()
            for t in threads:
                t.join(30)
            acked_snaps |= new_snaps
            acked_bundles.update(new_bundles)

            # With skewd down: the database and the files.
            db = sqlite3.connect(os.path.join(data, "skewd.db"))
            try:
                ic = db.execute("PRAGMA integrity_check").fetchall()
                if ic != [("ok",)]:
                    die("round %d: integrity_check: %s" % (rnd, ic))
                fk = db.execute("PRAGMA foreign_key_check").fetchall()
                if fk:
                    die("round %d: foreign_key_check: %s" % (rnd, fk[:5]))
                snaps = {r[0] for r in db.execute("SELECT id FROM snapshots")}
                rows = {r[0]: (r[1], r[2], r[3]) for r in db.execute("SELECT id, file, size, sha256 FROM bundles")}
            finally:
                db.close()
            lost = acked_snaps - snaps
            if lost:
                die("round %d: acknowledged snapshots lost: %s" % (rnd, sorted(lost)[:10]))
            lost = set(acked_bundles) - set(rows)
            if lost:
                die("round %d: acknowledged bundles lost: %s" % (rnd, sorted(lost)))
            for bid, (fname, size, sha) in rows.items():
                path = os.path.join(data, "bundles", fname)
                try:
                    blob = open(path, "rb").read()
                except OSError as ex:
                    die("round %d: bundle %s has a row but no file: %s" % (rnd, bid, ex))
                if len(blob) != size or hashlib.sha256(blob).hexdigest() != sha:
                    die("round %d: bundle %s's file is not what its row says (partial?)" % (rnd, bid))
            names = os.listdir(os.path.join(data, "bundles")) if os.path.isdir(os.path.join(data, "bundles")) else []
            stats["swept"] += sum(1 for n in names if n.endswith(".tmp") or (
                n.startswith("skewd-bundle-") and n[len("skewd-bundle-"):-len(".tar.gz")] not in rows))
            rows_now = set(rows)

        # A last start: the sweep, and everything acknowledged still served.
        srv.spawn()
        srv.wait_listening()
        for bid, (size, sha) in sorted(acked_bundles.items()):
            st, body = request(srv, "GET", "/api/v1/bundles/%s/download" % bid, admin)
            why = "answered %d" % st if st != 200 else verify_bundle(body, bid, size, sha)
            if why:
                die("at the end: bundle %s: %s" % (bid, why))
        left = [n for n in os.listdir(os.path.join(data, "bundles")) if n.endswith(".tmp")]
        if left:
            die("at the end: temporary bundle files left: %s" % left)
        srv.kill9()
        print("crash_safety: %d rounds in %.1f s: %d snapshots and %d bundles acknowledged, all there and "
              "complete; killed with a pull in flight %d times, with a bundle in flight %d times, while "
              "starting %d times; %d unfinished bundle files removed by the start-up sweep; "
              "%d bundle downloads verified" % (
                  rounds, time.time() - t0, len(acked_snaps), len(acked_bundles), stats["kills_in_collect"],
                  stats["kills_in_bundle"], stats["kills_at_start"], stats["swept"],
                  stats["downloads"] + len(acked_bundles)))
        ok = True
    finally:
        if srv is not None and srv.proc is not None and srv.proc.poll() is None:
            srv.proc.kill()
            srv.proc.wait()
        if ks is not None:
            ks.terminate()
            ks.wait()
        if ok or not env.get("SKEWD_KEEP_TMP"):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("crash_safety: kept " + work, file=sys.stderr)


if __name__ == "__main__":
    main()
