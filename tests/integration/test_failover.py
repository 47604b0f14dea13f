#!/usr/bin/env python3
"""A job whose source endpoint names a primary A and its replica B
(mysql://root@A,B; B replicates A with GTID and log_slave_updates), on a
private sandbox with a replica (tools/sandbox start --replica).

0. A transaction of 120 MB on A that B does not receive (its IO
   thread stopped), A killed while the job streams it: Kafka holds part
   of it, B holds the checkpoint but not the transaction.  The job does
   not move to B (the records B would make under those ids would be
   skipped as already there): it waits and says why; once A is back it
   goes on there, and the transaction arrives whole, once.
1. Under a steady writer on A, A is killed with SIGKILL.  The job moves to
   B by GTID by itself (never failed): job show names B as the server it
   reads and the job log says why.  B is promoted (STOP SLAVE) and the
   writer goes on there.
2. A comes back (not replicating B: what B got since is not on A).  B is
   killed under the writer: A does not hold the job's checkpoint, so the
   job does not move to it, waits, and says why; once B is back, it goes
   on there.
3. Two tables and a writer again on B, B's changes reach Kafka with the
   checkpoint on B.

Afterwards the topic, decoded without ferry and replayed in id order,
equals B's SELECT; no record id twice, ids increase along each partition,
every row inserted once.  Without the move (an endpoint of one server) the
job would wait for A for ever; moving by position instead of GTID would
read B's binlog from A's file name (error 1236), or worse, from the same
offset of another file.
"""
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests", "lib"))
sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests",
                                "integration"))
from ferrytest import FERRY, check, eq, finish  # noqa: E402
import test_binlog_live as tbl  # noqa: E402

import privsb  # noqa: E402
privsb.require()
import dtstopic  # noqa: E402

P = privsb.Private("failover")
TMP, DIR, sandbox = P.tmp, P.dir, P.sandbox


class Writer(threading.Thread):
    """Inserts row i and updates row i-3 on the server it is pointed at,
    one statement at a time, until stopped; a statement that fails (the
    server is down) is not retried: what was committed is read back with
    SELECT at the end."""

    def __init__(self, db):
        super().__init__(daemon=True)
        self.db, self.i, self.done = db, 0, threading.Event()
        self.ok = 0

    def run(self):
        while not self.done.is_set():
            self.i += 1
            i = self.i
            try:
                self.db.sql(f"INSERT INTO f.t VALUES ({i}, 'v{i}'); "
                            f"UPDATE f.t SET v = 'u{i}' WHERE id = {i - 3}")
                self.ok += 1
            except RuntimeError:
                time.sleep(0.2)
            time.sleep(0.01)


def kill9(inst):
    with open(os.path.join(DIR, inst, "mariadbd.pid")) as f:
        os.kill(int(f.read().strip()), 9)


def main():
    env = P.start("--replica")
    broker = env["FERRY_TEST_KAFKA"]
    pw = env["FERRY_TEST_MYSQL_PASSWORD_FILE"]
    a = tbl.DB(env["FERRY_TEST_MYSQL_SOCKET"], pw)
    b = tbl.DB(env["FERRY_TEST_REPLICA_SOCKET"], pw)
    a_id = a.one("SELECT @@server_id")
    b_id = b.one("SELECT @@server_id")
    a_addr = env["FERRY_TEST_MYSQL"].split("@", 1)[1]
    b_addr = env["FERRY_TEST_REPLICA"].split("@", 1)[1]
    ferry = P.ferry

    def job():
        return P.job("f")

    def until(pred, what, timeout=90):
        return P.until("f", pred, what, timeout)

    def synced():
        end = time.time() + 60
        while time.time() < end:
            if a.one("SELECT @@gtid_binlog_pos") == \
                    b.one("SELECT @@gtid_slave_pos"):
                return True
            time.sleep(0.2)
        return False

    a.sql("CREATE DATABASE f; CREATE TABLE f.t (id INT PRIMARY KEY, "
          "v VARCHAR(20)); CREATE TABLE f.big (id INT PRIMARY KEY, "
          "pad MEDIUMBLOB)")
    check(synced(), "the replica caught up with the primary")
    sandbox("topic", DIR, "failover", "2")
    ferry("endpoint", "add", "src", "--mysql",
          f"mysql://root@{a_addr},{b_addr}", "--password-file", pw)
    ferry("endpoint", "add", "k", "--kafka", broker)
    ferry("job", "create", "f", "--source", "src", "--target", "k",
          "--topic", "failover", "--tables", "f.t,f.big", "--partition",
          "pk")
    ferry("job", "start", "f")
    log = open(os.path.join(TMP, "serve.log"), "w")
    d = subprocess.Popen([FERRY, "serve", "--heartbeat-ms", "1000",
                          "--retry-min-ms", "200", "--retry-max-ms", "1000",
                          "--poll-ms", "200", "--checkpoint-ms", "200"],
                         env=P.fenv, stdout=log, stderr=log)
    w = Writer(a)
    try:
        j = until(lambda j: j["state"] == "incremental" and
                  (j.get("reading") or "").startswith(a_addr),
                  "the job runs on A")
        eq(j["reading"], f"{a_addr} (server_id {a_id})",
           "job show names the server it reads")
        # 0. A dies in the middle of a transaction B never received.
        check(synced(), "B has everything before the big transaction")
        b.sql("STOP SLAVE IO_THREAD")
        state = a.one("SELECT @@gtid_binlog_pos")
        until(lambda j: j["checkpoint"].get("gtid") == state,
              "the checkpoint is where B is")
        a.sql("INSERT INTO f.big SELECT seq, REPEAT('x', 40000) FROM "
              "f.seq_1_to_3000")
        time.sleep(0.3)
        kill9("mysql")
        j = until(lambda j: "lacks transactions whose records the job "
                  "already wrote" in (j["error"] or ""),
                  "the job refuses B, which lacks what Kafka has", 60)
        eq(j["checkpoint"].get("gtid"), state, "the checkpoint stayed")
        sandbox("start", "--only", "mariadb", DIR)
        a = tbl.DB(env["FERRY_TEST_MYSQL_SOCKET"], pw)
        w.db = a
        until(lambda j: j["state"] == "incremental" and
              (j.get("reading") or "").startswith(a_addr) and
              j["checkpoint"].get("gtid") != state,
              "the job goes on from A once it is back", 120)
        b.sql("START SLAVE IO_THREAD")
        check(synced(), "B has the big transaction now")
        # 1. A dies under the writer; the job goes on from B.
        w.start()
        time.sleep(3)
        kill9("mysql")
        j = until(lambda j: (j.get("reading") or "").startswith(b_addr),
                  "the job moves to B", 120)
        eq(j["reading"], f"{b_addr} (server_id {b_id})", "reading B")
        jl = ferry("job", "log", "f")
        check(f"moving to server {b_addr} (server_id {b_id}) by GTID" in jl,
              "the job log says it moved, and by GTID")
        # Until B has a transaction of its own past the checkpoint, the
        # checkpoint stays A's: A's position, with the GTID state.
        eq(j["checkpoint"].get("server_id"), int(a_id),
           "the checkpoint is A's until B writes")
        # B is the primary now; the writer goes on there.
        b.sql("STOP SLAVE; RESET SLAVE ALL")
        w.db = b
        j = until(lambda j: j["checkpoint"].get("server_id") == int(b_id),
                  "a checkpoint of B's", 60)
        eq(j["checkpoint"].get("server"), b_addr, "the checkpoint is B's")
        time.sleep(2)
        # 2. A comes back without B's changes; B dies: A is not taken.
        sandbox("start", "--only", "mariadb", DIR)
        a = tbl.DB(env["FERRY_TEST_MYSQL_SOCKET"], pw)
        kill9("replica")
        j = until(lambda j: "does not hold the checkpoint's GTID" in
                  (j["error"] or ""), "the job refuses A", 60)
        check(f"{a_addr}:" in (j["error"] or "") or a_addr in
              (j["error"] or ""), f"and names A: {j['error']}")
        time.sleep(3)
        eq(job()["checkpoint"].get("server_id"), int(b_id),
           "the checkpoint stays B's while it waits")
        check(job()["state"] != "failed", "the job waits, never failed")
        sandbox("start", "--only", "replica", DIR)
        b = tbl.DB(env["FERRY_TEST_REPLICA_SOCKET"], pw)
        w.db = b
        until(lambda j: j["state"] == "incremental" and
              (j.get("reading") or "").startswith(b_addr) and
              not j["error"], "the job reads B again", 120)
        time.sleep(3)
        w.done.set()
        w.join()
        check(w.ok > 100, f"the writer committed on A and B ({w.ok} of "
              f"{w.i})")
        want = {int(r[0]): r[1] for r in b.sql("SELECT id, v FROM f.t")}
        msgs, got = [], []
        end = time.time() + 90
        while time.time() < end:
            msgs = dtstopic.read(broker, "failover")
            got = sorted((m[3] for m in msgs), key=lambda r: r["id"])
            replay = {}
            for r in got:
                if r["objectName"] != "f.t":
                    continue
                if r["operation"] in ("INIT", "INSERT", "UPDATE"):
                    img = dtstopic.image(r, "afterImages")
                    v = img["v"]["value"]
                    replay[int(img["id"]["value"])] = \
                        v.decode() if isinstance(v, bytes) else v
            if replay == want:
                break
            time.sleep(1)
        bad = [k for k in set(want) | set(replay)
               if want.get(k) != replay.get(k)]
        check(not bad, f"the topic replayed equals B's SELECT ({len(bad)} "
              f"rows differ, e.g. "
              f"{[(k, replay.get(k), want.get(k)) for k in sorted(bad)[:4]]})")
        dtstopic.check_ids(msgs)
        ins = [int(r["afterImages"][0]["value"]) for r in got
               if r["operation"] == "INSERT" and r["objectName"] == "f.t"]
        eq(len(ins), len(set(ins)), "every insert once")
        eq(sorted(ins), sorted(want), "the inserts are B's rows")
        big = [int(dtstopic.image(r, "afterImages")["id"]["value"])
               for r in got if r["objectName"] == "f.big" and
               r["operation"] == "INSERT"]
        eq(sorted(big), list(range(1, 3001)), "the big transaction whole, "
           "each row once")
        sids = {r["tags"].get("server_id") for r in got
                if r["operation"] == "INSERT" and r["objectName"] == "f.t"}
        eq(sids, {a_id, b_id}, "changes made on A and on B")
        fails = [ln for ln in ferry("job", "log", "f").splitlines()
                 if ln.split()[2:3] == ["error"] and "failed:" in ln]
        eq(fails, [], "the job never failed")
    finally:
        w.done.set()
        if d.poll() is None:
            d.kill()
        log.close()
        sandbox("stop", DIR)


try:
    main()
finally:
    P.cleanup()
finish()
