#!/usr/bin/env python3
"""ferry job resnapshot, on a private sandbox (it purges binlogs): a job
copies two tables and follows them; it is stopped, the tables change
(inserts, updates, deletes), and the source purges every binlog the
job's checkpoint needs.  Started again, the job fails with a reason that
names `ferry job resnapshot`; after it, the job copies both tables again
as a new generation of INIT records and follows the binlog from that
snapshot.  The topic, decoded without ferry and replayed in id order, with
a table's state reset at the first INIT record of a newer generation
(what a DTS consumer does at a new full sync), equals SELECT; no id is
written twice.  Before `job resnapshot` existed, the job stayed failed
("remove and re-create the job").

Then a second job copies a table of 300,000 rows, and its snapshot
connection is KILLed mid-copy: the job comes back by itself (a transient
failure), the next generation goes on from the saved progress and skips
what the first wrote, so every row arrives as an INIT record exactly once.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests", "lib"))
sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests",
                                "integration"))
from ferrytest import FERRY, check, eq, finish  # noqa: E402
import test_binlog_live as tbl  # noqa: E402

import privsb  # noqa: E402
privsb.require()
import dtstopic  # noqa: E402

P = privsb.Private("resnapshot")
TMP, DIR, sandbox = P.tmp, P.dir, P.sandbox
TABLES = ("r.t", "r.u")



def replay(msgs):
    """Each table's rows as the topic says, latest generation winning."""
    state = {t: {} for t in TABLES}
    gen = {t: 0 for t in TABLES}
    for part, off, hdr, r in sorted(msgs, key=lambda m: m[3]["id"]):
        op, name = r["operation"], r["objectName"]
        if op not in ("INIT", "INSERT", "UPDATE", "DELETE"):
            continue
        if op == "INIT":
            g = int(hdr.get("ferry.init", "0/").split("/", 1)[0])
            if g > gen[name]:	# a new full sync of the table
                gen[name] = g
                state[name] = {}
        img = dtstopic.image(r, "beforeImages" if op == "DELETE" else
                             "afterImages")
        k = int(img["id"]["value"])
        if op == "DELETE":
            state[name].pop(k, None)
        else:
            v = img["v"]["value"]
            state[name][k] = v.decode() if isinstance(v, bytes) else v
    return state, gen


def killed_copy(db, ferry, broker):
    """A full sync whose connection is KILLed resumes, every row once."""
    n = 300000
    db.sql("CREATE TABLE r.big (id INT PRIMARY KEY, v VARCHAR(20)); "
           f"INSERT INTO r.big SELECT seq, CONCAT('b', seq) FROM r."
           f"seq_1_to_{n}")
    sandbox("topic", DIR, "bigcopy", "2")
    ferry("job", "create", "big", "--source", "src", "--target", "k",
          "--topic", "bigcopy", "--tables", "r.big", "--partition", "pk")
    ferry("job", "start", "big")

    def state():
        return json.loads(ferry("job", "show", "big", "--json"))["state"]
    # The copy's connection is the one with an open transaction (its
    # consistent snapshot); KILL it half a second into the copy (a chunk
    # of 10,000 rows takes a fraction of that; the copy seconds).
    killed, end = None, time.time() + 60
    while killed is None and time.time() < end:
        rows = db.sql("SELECT trx_mysql_thread_id FROM "
                      "information_schema.innodb_trx")
        if rows and state() == "full_sync":
            time.sleep(0.5)
            db.sql(f"KILL {rows[0][0]}")
            killed = rows[0][0]
        time.sleep(0.01)
    check(killed is not None, "found the copy's connection mid-copy")
    end = time.time() + 120
    while state() != "incremental" and time.time() < end:
        check(state() != "failed", "a KILLed copy does not fail the job")
        time.sleep(0.2)
    eq(state(), "incremental", "the copy resumed and finished")
    log = ferry("job", "log", "big")
    check("retry" in log, f"the KILL was a transient failure, retried")
    msgs = dtstopic.read(broker, "bigcopy", expect=n, timeout=60)
    keys = [int(dtstopic.image(m[3], "afterImages")["id"]["value"])
            for m in msgs if m[3]["operation"] == "INIT"]
    eq(len(keys), n, "every row copied once (as many INIT records as rows)")
    eq(sorted(set(keys)), list(range(1, n + 1)), "every key, once")
    gens = {int(m[2].get("ferry.init", "0/").split("/", 1)[0])
            for m in msgs if m[3]["operation"] == "INIT"}
    check(len(gens) >= 2, f"the copy went on in a second generation: {gens}")


def main():
    env = P.start()
    broker = env["FERRY_TEST_KAFKA"]
    db = tbl.DB(env["FERRY_TEST_MYSQL_SOCKET"],
                env["FERRY_TEST_MYSQL_PASSWORD_FILE"])
    fenv = P.fenv

    ferry = P.ferry

    def job():
        return json.loads(ferry("job", "show", "r", "--json"))

    def until(state, what, timeout=90):
        end = time.time() + timeout
        while job()["state"] != state and time.time() < end:
            time.sleep(0.2)
        eq(job()["state"], state, what)

    db.sql("CREATE DATABASE r; "
           "CREATE TABLE r.t (id INT PRIMARY KEY, v VARCHAR(20)); "
           "CREATE TABLE r.u (id INT PRIMARY KEY, v VARCHAR(20)); " +
           "".join(f"INSERT INTO r.{t} VALUES ({i}, '{t}{i}'); "
                   for t in "tu" for i in range(1, 201)))
    sandbox("topic", DIR, "resnap", "2")
    ferry("endpoint", "add", "src", "--mysql", env["FERRY_TEST_MYSQL"],
          "--password-file", env["FERRY_TEST_MYSQL_PASSWORD_FILE"])
    ferry("endpoint", "add", "k", "--kafka", broker)
    ferry("job", "create", "r", "--source", "src", "--target", "k",
          "--topic", "resnap", "--tables", "r.t,r.u", "--partition", "pk")
    ferry("job", "start", "r")
    log = open(os.path.join(TMP, "serve.log"), "w")
    d = subprocess.Popen([FERRY, "serve", "--heartbeat-ms", "1000",
                          "--retry-min-ms", "200", "--retry-max-ms", "1000",
                          "--poll-ms", "200", "--checkpoint-ms", "200"],
                         env=fenv, stdout=log, stderr=log)
    try:
        until("incremental", "the job runs")
        db.sql("UPDATE r.t SET v = 'a' WHERE id <= 20; "
               "DELETE FROM r.u WHERE id BETWEEN 21 AND 30")
        time.sleep(2)
        # The files before the checkpoint's go, and newer ones come: the
        # checkpoint is in the oldest binlog the source has, and ferry
        # warns before a purge takes it.
        ckfile = job()["checkpoint"]["file"]
        db.sql(f"FLUSH ENGINE LOGS; PURGE BINARY LOGS TO '{ckfile}'; "
               "FLUSH BINARY LOGS")
        end = time.time() + 30
        while not job().get("checkpoint_in_oldest_binlog") and \
                time.time() < end:
            time.sleep(0.5)
        eq(job().get("checkpoint_in_oldest_binlog"), True,
           f"checkpoint_in_oldest_binlog ({ckfile} first of "
           f"{[r[0] for r in db.sql('SHOW BINARY LOGS')]})")
        check("oldest binlog" in ferry("status") and "ferry job resnapshot"
              in ferry("job", "show", "r"), "status and job show warn")
        ferry("job", "stop", "r")
        until("stopped", "the job stops")
        # While it is stopped: changes, then the binlog it needs is gone.
        db.sql("INSERT INTO r.t VALUES " + ",".join(
            f"({i}, 'late{i}')" for i in range(201, 251)) + "; "
            "DELETE FROM r.t WHERE id BETWEEN 31 AND 40; "
            "UPDATE r.u SET v = 'b' WHERE id BETWEEN 41 AND 50")
        # A binlog a dump thread still reads is not purged: wait until the
        # server has seen the stopped job go.
        end = time.time() + 30
        while db.sql("SELECT id FROM information_schema.processlist WHERE "
                     "command LIKE 'Binlog Dump%'") and time.time() < end:
            time.sleep(0.2)
        old = [r[0] for r in db.sql("SHOW BINARY LOGS")]
        cur = db.one("FLUSH BINARY LOGS; SHOW MASTER STATUS")
        # MariaDB keeps a file until its binlog checkpoint passed it
        # (InnoDB has made its transactions durable): ask again.
        end = time.time() + 30
        while True:
            db.sql(f"FLUSH ENGINE LOGS; PURGE BINARY LOGS TO '{cur}'")
            left = [r[0] for r in db.sql("SHOW BINARY LOGS")]
            if left == [cur] or time.time() > end:
                break
            time.sleep(0.5)
        eq(left, [cur], f"the binlogs before {cur} are purged ({old})")
        ferry("job", "start", "r")
        until("failed", "a purged checkpoint fails the job")
        err = job()["error"] or ""
        check("purged" in err and "ferry job resnapshot" in err,
              f"the reason names the purge and the command: {err}")
        out = ferry("job", "resnapshot", "r")
        check("copied again" in out and "failed -> queued" in out,
              f"job resnapshot says: {out}")
        until("incremental", "after job resnapshot")
        # Changes after the new snapshot follow it.
        db.sql("INSERT INTO r.u VALUES (300, 'after'); "
               "UPDATE r.t SET v = 'c' WHERE id <= 5; "
               "DELETE FROM r.u WHERE id = 1")
        want = {t: {int(r[0]): r[1] for r in
                    db.sql(f"SELECT id, v FROM {t}")} for t in TABLES}
        msgs, state, gen = [], {}, {}
        end = time.time() + 60
        while time.time() < end:
            msgs = dtstopic.read(broker, "resnap")
            state, gen = replay(msgs)
            if state == want:
                break
            time.sleep(1)
        for t in TABLES:
            bad = sorted(k for k in set(want[t]) | set(state[t])
                         if want[t].get(k) != state[t].get(k))
            check(not bad, f"{t} replayed equals SELECT: {len(bad)} rows "
                  f"differ, e.g. {[(k, state[t].get(k), want[t].get(k)) for k in bad[:4]]}")
            check(gen[t] >= 2, f"{t}: copied again as a newer generation "
                  f"(generation {gen[t]})")
        ids = [m[3]["id"] for m in msgs]
        eq(len(ids), len(set(ids)), "no id twice")
        j = job()
        check("resnapshot" in ferry("job", "log", "r"),
              "the job log records the resnapshot")
        eq(j["state"], "incremental", "still incremental")
        killed_copy(db, ferry, broker)
    finally:
        if d.poll() is None:
            d.kill()
        log.close()
        sandbox("stop", DIR)


try:
    main()
finally:
    P.cleanup()
finish()
