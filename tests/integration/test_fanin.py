#!/usr/bin/env python3
"""Many-to-one, on a private sandbox with a second MariaDB: two sources
with the same table (the same keys) write one 3-partition topic through
two jobs, under write load on both.

- The daemon is killed twice, one source is restarted, and one job is
  removed and made again with the same name into the same topic (it copies
  its table whole again, under a new identity), then the daemon is killed
  once more.
- Each record names its source: tags ferry.source (the endpoint) and
  ferry.source_id (the server's @@server_id); headers ferry.job the job's
  identity.
- Afterwards, per job identity: no record id twice, ids increasing along
  each partition; each surviving job's records replayed equal its source's
  SELECT, every inserted row has one INSERT (or INIT) record and every
  update one UPDATE record; per source and key the updates come in commit
  order.
"""
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests", "lib"))
sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests",
                                "integration"))
from ferrytest import FERRY, check, eq, finish  # noqa: E402
import test_binlog_live as tbl  # noqa: E402

if os.environ.get("FERRY_TEST_SANDBOX_LIFECYCLE", "1") == "0":
    print("SKIP: two private MariaDB servers, in the debug pass only")
    sys.exit(77)
import privsb  # noqa: E402
privsb.require()
import dtstopic  # noqa: E402

P = privsb.Private("fanin")
TMP, DIR, sandbox = P.tmp, P.dir, P.sandbox


class Writer(threading.Thread):
    """Inserts rows and updates earlier ones (v + 1) on one source, a
    batch of autocommitted transactions per client call; rides out the
    source's restart."""

    def __init__(self, db):
        super().__init__(daemon=True)
        self.db, self.stop, self.n = db, threading.Event(), 100
        self.updates = 0
        self.failed = 0

    def run(self):
        while not self.stop.is_set():
            lo = self.n + 1
            q = []
            for i in range(lo, lo + 5):
                q.append(f"INSERT INTO m.t VALUES ({i}, 0)")
                q.append(f"UPDATE m.t SET v = v + 1 WHERE id = {i - 40}")
            try:
                self.db.sql("; ".join(q))
            except RuntimeError:
                # The server restarting: which of the batch committed is
                # read back at the end (the SELECT is the truth).
                self.failed += 1
                time.sleep(0.5)
                self.n = int(self.db.one("SELECT MAX(id) FROM m.t")) \
                    if self.alive() else self.n
                continue
            self.updates += 5
            self.n = lo + 4
            time.sleep(0.05)

    def alive(self):
        try:
            self.db.one("SELECT 1")
            return True
        except RuntimeError:
            return False


def main():
    env = P.start()
    broker = env["FERRY_TEST_KAFKA"]
    env2 = P.second("mariadb")
    DIR2 = env2["FERRY_SANDBOX"]
    dbs = {"A": tbl.DB(env["FERRY_TEST_MYSQL_SOCKET"],
                       env["FERRY_TEST_MYSQL_PASSWORD_FILE"]),
           "B": tbl.DB(env2["FERRY_TEST_MYSQL_SOCKET"],
                       env2["FERRY_TEST_MYSQL_PASSWORD_FILE"])}
    sid = {}
    for k, db in dbs.items():
        db.sql("CREATE DATABASE m; CREATE TABLE m.t (id INT PRIMARY KEY, "
               "v INT); INSERT INTO m.t SELECT seq, 0 FROM m.seq_1_to_100")
        sid[k] = db.one("SELECT @@server_id")
    check(sid["A"] != sid["B"], f"two servers: {sid}")
    sandbox("topic", DIR, "fanin", "3")
    ferry = P.ferry
    for k, e in (("A", env), ("B", env2)):
        ferry("endpoint", "add", f"src{k}", "--mysql", e["FERRY_TEST_MYSQL"],
              "--password-file", e["FERRY_TEST_MYSQL_PASSWORD_FILE"])
    ferry("endpoint", "add", "k", "--kafka", broker)

    def create(k):
        ferry("job", "create", f"j{k}", "--source", f"src{k}", "--target",
              "k", "--topic", "fanin", "--tables", "m.t", "--partition",
              "pk")
        ferry("job", "start", f"j{k}")
        return P.job(f"j{k}")["identity"]
    ident = {"A": create("A"), "B": create("B")}
    log = open(os.path.join(TMP, "serve.log"), "a")

    def serve():
        return subprocess.Popen([FERRY, "serve", "--retry-min-ms", "200",
                                 "--retry-max-ms", "2000", "--poll-ms", "200",
                                 "--checkpoint-ms", "200", "--lease-ms",
                                 "2000"], env=P.fenv, stdout=log, stderr=log)

    def incremental(*names):
        end = time.time() + 90
        while time.time() < end:
            js = [P.job(n) for n in names]
            if all(j["state"] == "incremental" for j in js):
                return
            check(all(j["state"] != "failed" for j in js),
                  f"no job failed: {[(j['name'], j['error']) for j in js]}")
            time.sleep(0.3)
        check(False, f"{names} incremental in 90 s")

    d = serve()
    ws = {k: Writer(db) for k, db in dbs.items()}
    old_b = None
    try:
        incremental("jA", "jB")
        for w in ws.values():
            w.start()
        for k in range(2):
            time.sleep(3)
            d.kill()
            d.wait()
            d = serve()
        # One source restarts under its writer and its job.
        sandbox("stop", "--only", "mariadb", DIR2)
        time.sleep(2)
        sandbox("start", "--only", "mariadb", DIR2)
        time.sleep(3)
        incremental("jA", "jB")
        # jB removed and made again with the same name into the topic.
        ferry("job", "stop", "jB")
        end = time.time() + 30
        while P.job("jB")["state"] not in ("stopped", "paused") and \
                time.time() < end:
            time.sleep(0.2)
        ferry("job", "rm", "jB")
        old_b = ident["B"]
        ident["B"] = create("B")
        check(ident["B"] != old_b, "the job made again has a new identity")
        incremental("jA", "jB")
        time.sleep(3)
        d.kill()
        d.wait()
        d = serve()
        time.sleep(3)
        for w in ws.values():
            w.stop.set()
            w.join()
        incremental("jA", "jB")

        want = {k: {int(r[0]): int(r[1]) for r in
                    db.sql("SELECT id, v FROM m.t")} for k, db in dbs.items()}
        end = time.time() + 120
        while True:
            msgs = dtstopic.read(broker, "fanin")
            by = {}
            for m in msgs:
                by.setdefault(m[2].get("ferry.job"), []).append(m)
            states = {}
            for k in ("A", "B"):
                st = {}
                for m in sorted(by.get(ident[k], []),
                                key=lambda m: m[3]["id"]):
                    r = m[3]
                    if r["operation"] in ("INSERT", "INIT", "UPDATE"):
                        img = dtstopic.image(r, "afterImages")
                        st[int(img["id"]["value"])] = int(img["v"]["value"])
                    elif r["operation"] == "DELETE":
                        img = dtstopic.image(r, "beforeImages")
                        st.pop(int(img["id"]["value"]), None)
                states[k] = st
            if states == want or time.time() > end:
                break
            time.sleep(1)
        for k in ("A", "B"):
            eq(states[k] == want[k], True, f"job j{k}'s records replayed "
               f"equal source {k}'s SELECT ({len(states[k])} rows, "
               f"{len(want[k])} in the table)")
        eq(sorted(j for j in by if j not in (ident["A"], ident["B"],
                                             old_b)), [],
           "every record is one of the three jobs'")
        for j, ms in by.items():
            dtstopic.check_ids(ms, f" of job {j}")
        for k in ("A", "B"):
            ms = by.get(ident[k], [])
            rows = [m[3] for m in ms if m[3]["objectName"] == "m.t"]
            eq({(r["tags"].get("ferry.source"),
                 r["tags"].get("ferry.source_id")) for r in rows},
               {(f"src{k}", sid[k])}, f"job j{k}'s records name their "
               "source in tags")
            ins = {}
            for r in rows:
                if r["operation"] in ("INSERT", "INIT"):
                    key = int(dtstopic.image(r, "afterImages")["id"]["value"])
                    ins[key] = ins.get(key, 0) + 1
            eq(sorted(key for key, n in ins.items() if n != 1), [],
               f"every row of source {k} inserted or copied once")
            eq(sorted(ins), sorted(want[k]), f"a record for each row of "
               f"source {k}")
            # Commit order per key: v only grows along the partition.
            seen, bad = {}, []
            for m in sorted(ms, key=lambda m: (m[0], m[1])):
                r = m[3]
                if r["operation"] not in ("INSERT", "INIT", "UPDATE"):
                    continue
                img = dtstopic.image(r, "afterImages")
                key, v = int(img["id"]["value"]), int(img["v"]["value"])
                if v < seen.get(key, -1):
                    bad.append((key, seen[key], v))
                seen[key] = v
            eq(bad[:5], [], f"source {k}: each key's changes in commit "
               "order")
        ups = sum(1 for m in by.get(ident["A"], [])
                  if m[3]["operation"] == "UPDATE")
        eq(ups, ws["A"].updates, "an UPDATE record for each update on A")
        d.send_signal(signal.SIGTERM)
        eq(d.wait(timeout=60), 0, "SIGTERM: exit 0")
    finally:
        for w in ws.values():
            w.stop.set()
        if d.poll() is None:
            d.kill()
        log.close()


try:
    main()
finally:
    P.stop_all()	# also when the setup failed
    P.cleanup()
finish()
