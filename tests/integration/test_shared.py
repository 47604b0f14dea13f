#!/usr/bin/env python3
"""One binlog reader per source server (engine/reader.c), on a private
sandbox with a second Kafka cluster: three jobs on one MariaDB into three
topics, two on one cluster and one on the other, and a fourth job with a
target on each cluster (one-to-many within a job), under a writer.

- Once they follow the binlog, under the writer, the source has one
  Binlog Dump thread, and each job says it reads on the shared reader
  with 4 jobs.
- The second cluster is stopped for 30 s: the two jobs on the first keep
  up (their lag stays low) while the one on the second is left behind:
  the reader went on without it, its log says so, and the source still
  has one dump thread.  Back, it catches up and attaches again.
- The daemon is killed twice under the writer.
- Afterwards each topic (the fourth job's on both clusters), replayed,
  equals its table's SELECT; every inserted row has exactly one INSERT
  record and every update one UPDATE record; no record id twice, ids
  increasing along each partition.
- With --shared-reader off, the same four jobs open four dump threads.
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
    print("SKIP: two private sandboxes, in the debug pass only (the other "
          "daemon tests share readers in both passes)")
    sys.exit(77)
import privsb  # noqa: E402
privsb.require()
import dtstopic  # noqa: E402

P = privsb.Private("shared")
TMP, DIR, sandbox = P.tmp, P.dir, P.sandbox
TABLES = ("a", "b", "c")


class Writer(threading.Thread):
    """Inserts a row into each table and updates an earlier one, a batch
    of autocommitted transactions per client call, until stopped."""

    def __init__(self, db):
        super().__init__(daemon=True)
        self.db, self.stop, self.n = db, threading.Event(), 100
        self.updates = {t: 0 for t in TABLES}
        self.error = None

    def run(self):
        try:
            while not self.stop.is_set():
                lo = self.n + 1
                q = []
                for i in range(lo, lo + 5):
                    for t in TABLES:
                        q.append(f"INSERT INTO s.{t} VALUES ({i}, {i})")
                        q.append(f"UPDATE s.{t} SET v = v + 1 "
                                 f"WHERE id = {i - 50}")
                self.db.sql("; ".join(q))
                for t in TABLES:
                    self.updates[t] += 5	# ids lo-50.. exist (from 1)
                self.n = lo + 4
                time.sleep(0.05)
        except Exception as e:	# noqa: BLE001
            self.error = e


def dump_threads(db):
    return int(db.one("SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                      "WHERE COMMAND LIKE 'Binlog Dump%'"))


def main():
    env = P.start()
    broker = env["FERRY_TEST_KAFKA"]
    env2 = P.second("kafka")
    DIR2, broker2 = env2["FERRY_SANDBOX"], env2["FERRY_TEST_KAFKA"]
    db = tbl.DB(env["FERRY_TEST_MYSQL_SOCKET"],
                env["FERRY_TEST_MYSQL_PASSWORD_FILE"])
    ferry = P.ferry
    db.sql("CREATE DATABASE s; " + "; ".join(
        f"CREATE TABLE s.{t} (id INT PRIMARY KEY, v INT)" for t in TABLES) +
        "; CREATE TABLE s.cbig (id INT PRIMARY KEY, v LONGTEXT)")
    for t in TABLES:
        db.sql(f"INSERT INTO s.{t} SELECT seq, seq FROM s.seq_1_to_100")
    sandbox("topic", DIR, "sa", "1")
    sandbox("topic", DIR, "sb", "1")
    sandbox("topic", DIR2, "sc", "1")
    sandbox("topic", DIR, "sd", "2")
    sandbox("topic", DIR2, "sd", "2")
    ferry("endpoint", "add", "src", "--mysql", env["FERRY_TEST_MYSQL"],
          "--password-file", env["FERRY_TEST_MYSQL_PASSWORD_FILE"])
    ferry("endpoint", "add", "k1", "--kafka", broker)
    ferry("endpoint", "add", "k2", "--kafka", broker2)
    for t, k in (("a", "k1"), ("b", "k1"), ("c", "k2")):
        ferry("job", "create", f"j{t}", "--source", "src", "--target", k,
              "--topic", f"s{t}", "--tables",
              "s.c,s.cbig" if t == "c" else f"s.{t}")
        ferry("job", "start", f"j{t}")
    ferry("job", "create", "jd", "--source", "src", "--target", "k1,k2",
          "--topic", "sd", "--tables", "s.a", "--partition", "pk")
    ferry("job", "start", "jd")
    log = open(os.path.join(TMP, "serve.log"), "a")

    def serve(*extra):
        return subprocess.Popen([FERRY, "serve", "--retry-min-ms", "200",
                                 "--retry-max-ms", "2000", "--poll-ms", "200",
                                 "--checkpoint-ms", "200", "--lease-ms",
                                 "2000", *extra], env=P.fenv, stdout=log,
                                stderr=log)

    def shown():
        return {t: P.job(f"j{t}") for t in TABLES + ("d",)}

    def all_shared(n=4):
        js = shown()
        return all(j["state"] == "incremental" and
                   j.get("binlog_reader") == "shared" and
                   j.get("reader_jobs") == n for j in js.values()), js

    def wait_for(pred, timeout, what):
        end = time.time() + timeout
        while time.time() < end:
            ok, last = pred()
            if ok:
                return last
            time.sleep(0.3)
        ok, last = pred()
        check(ok, f"{what} (in {timeout} s): {last}")
        return last

    d = serve()
    w = Writer(db)
    try:
        # The first job reads alone (one job on a server gets no reader
        # thread); the second starts the shared reader, the others attach
        # at their snapshots' position, and the first moves there at a
        # transaction boundary once rows flow.
        wait_for(lambda: (all(j["state"] == "incremental"
                              for j in shown().values()), shown()), 60,
                 "the four jobs follow the binlog")
        w.start()
        wait_for(all_shared, 60, "the four jobs read on one shared reader")
        wait_for(lambda: (dump_threads(db) == 1, dump_threads(db)), 10,
                 "one Binlog Dump thread for four jobs")
        eq(dump_threads(db), 1, "the source sends its binlog once")

        # The second cluster stops for 30 s; the jobs on the first keep up.
        sandbox("stop", "--only", "kafka", DIR2)
        t0 = time.time()
        # 60 MB for the stopped cluster: the job fills its memory budget
        # (32 MB) and stops taking events; its queue at the reader fills.
        for i in range(1, 151, 10):
            db.sql("; ".join(f"INSERT INTO s.cbig VALUES ({k}, "
                             f"REPEAT('x', 400000))"
                             for k in range(i, i + 10)))
        lags, dumps = [], set()
        while time.time() - t0 < 30:
            time.sleep(2)
            js = shown()
            lags.append(max(js["a"]["lag_seconds"] or 0,
                            js["b"]["lag_seconds"] or 0))
            dumps.add(dump_threads(db))
        check(max(lags[5:]) <= 10, "the jobs on the running cluster keep up "
              f"while the other is stopped (lag s every 2 s: {lags})")
        eq(dumps, {1}, "one dump thread while a cluster is down")
        wait_for(lambda: (shown()["a"]["reader_jobs"] <= 3,
                          shown()["a"]["reader_jobs"]), 10,
                 "the other jobs are the reader's while one is behind")
        sandbox("start", "--only", "kafka", DIR2)
        # It learns it was left once its budget frees (the cluster back).
        wait_for(lambda: ("went on without the job" in
                          ferry("job", "log", "jc"), "no such line"), 60,
                 "the stalled job's log says the reader went on without it")
        # Back: it catches up on its own and attaches again.
        wait_for(all_shared, 120, "the stalled job attaches again")

        # Killed twice under the writer.
        for k in range(2):
            time.sleep(3)
            d.kill()
            d.wait()
            d = serve()
        # (job show keeps the killed daemon's figures until the new one
        # saves its own: the dump threads say it.)
        wait_for(lambda: (all_shared()[0] and dump_threads(db) == 1,
                          (dump_threads(db), shown())), 60,
                 "the four jobs on one reader after the kills, one dump "
                 "thread")
        w.stop.set()
        w.join()
        check(w.error is None, f"the writer: {w.error}")

        for t, b, top in (("a", broker, "sa"), ("b", broker, "sb"),
                          ("c", broker2, "sc"), ("a", broker, "sd"),
                          ("a", broker2, "sd")):
            want = {int(r[0]): int(r[1]) for r in
                    db.sql(f"SELECT id, v FROM s.{t}")}
            end = time.time() + 120
            while True:
                msgs = dtstopic.read(b, top)
                recs = sorted((m[3] for m in msgs), key=lambda r: r["id"])
                state, inserts, updates = {}, {}, 0
                for r in recs:
                    op = r["operation"]
                    if r["objectName"] != f"s.{t}":
                        continue
                    if op in ("INSERT", "INIT", "UPDATE"):
                        img = dtstopic.image(r, "afterImages")
                        k = int(img["id"]["value"])
                        state[k] = int(img["v"]["value"])
                        if op == "INSERT":
                            inserts[k] = inserts.get(k, 0) + 1
                        elif op == "UPDATE":
                            updates += 1
                if state == want or time.time() > end:
                    break
                time.sleep(1)
            eq(state == want, True, f"topic {top} on {b} replayed equals "
               f"SELECT of s.{t} ({len(state)} rows, {len(want)} in the "
               "table)")
            dtstopic.check_ids(msgs, f" in {top} on {b}")
            eq(sorted(k for k, n in inserts.items() if n != 1), [],
               f"every insert into s.{t} once in {top} on {b}")
            eq(sorted(inserts), list(range(101, w.n + 1)),
               f"an INSERT record for each row inserted into s.{t} in "
               f"{top} on {b}")
            eq(updates, w.updates[t], f"an UPDATE record for each update "
               f"of s.{t} in {top} on {b}")

        big = [int(dtstopic.image(m[3], "afterImages")["id"]["value"])
               for m in dtstopic.read(broker2, "sc")
               if m[3]["objectName"] == "s.cbig" and
               m[3]["operation"] == "INSERT"]
        eq(sorted(big), list(range(1, 151)), "the 60 MB written while its "
           "cluster was stopped, once")

        # Without sharing: a connection each.
        d.send_signal(signal.SIGTERM)
        eq(d.wait(timeout=60), 0, "SIGTERM: exit 0")
        d = serve("--shared-reader", "off")
        wait_for(lambda: (all(j["state"] == "incremental" and
                              j.get("binlog_reader") == "own"
                              for j in shown().values()), shown()), 60,
                 "--shared-reader off: each job on its own connection")
        wait_for(lambda: (dump_threads(db) == 4, dump_threads(db)), 20,
                 "--shared-reader off: four dump threads")
        d.send_signal(signal.SIGTERM)
        eq(d.wait(timeout=60), 0, "SIGTERM: exit 0")
    finally:
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
