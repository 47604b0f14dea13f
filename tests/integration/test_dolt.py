#!/usr/bin/env python3
"""A job on a MySQL-flavour source, live: Dolt (a MySQL-compatible server
that acts as a binlog primary with server_uuid GTIDs and serves only
COM_BINLOG_DUMP_GTID; binlog_row_metadata=MINIMAL), started by
tools/sandbox start --only dolt in a private directory, the shared Kafka.

The MySQL snapshot path (FLUSH TABLES WITH READ LOCK, SHOW MASTER STATUS
with its Executed_Gtid_Set), the job's MySQL GTID set moved by every
transaction, and resuming by GTID (COM_BINLOG_DUMP_GTID with the
checkpoint's set) through two SIGKILLs of the daemon under writes: the
topic, decoded without ferry and replayed in id order, equals SELECT, no
record id twice, every insert once; once caught up, the checkpoint's GTID
set is Dolt's own Executed_Gtid_Set.  Column names come from the schema
history (MINIMAL metadata names none).

Only what Dolt gets right is asserted: its event timestamps are its start
time (no lag in seconds), it sends no ROTATE, its statement order inside a
transaction is not kept (the writer uses autocommit statements), its
heartbeats come every 30 s (an idle job must not take that for a dead
connection).
"""
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests", "lib"))
from ferrytest import FERRY, check, eq, finish, missing  # noqa: E402

import privsb  # noqa: E402
privsb.require()
for v in ("FERRY_TEST_KAFKA", "FERRY_SANDBOX"):
    if not os.environ.get(v):
        missing(f"{v} is not set (start tools/sandbox)")
DOLT = subprocess.run(["sh", "-c", ". \"$FERRY_SRCDIR/tools/lib.sh\"; "
                       "echo \"$FERRY_DOLT\""], capture_output=True,
                      text=True).stdout.strip()
if not os.access(DOLT, os.X_OK):
    missing(f"Dolt is not built ({DOLT}; tools/deps builds it with Go)")
import dtstopic  # noqa: E402

BROKER = os.environ["FERRY_TEST_KAFKA"]
TAG = f"{os.getpid()}_{int(time.time())}"
P = privsb.Private("dolt")
TMP, FENV, ferry = P.tmp, P.fenv, P.ferry


class Dolt:
    """The mariadb client on Dolt over TCP, the password in an option
    file."""

    def __init__(self, url, pwfile):
        hostport = url.split("@", 1)[1]
        host, port = hostport.rsplit(":", 1)
        with open(pwfile) as f:
            pw = f.read().rstrip("\n")
        self.cnf = os.path.join(TMP, "dolt.cnf")
        with open(self.cnf, "w") as f:
            f.write(f"[client]\nuser=ferry\npassword={pw}\nhost={host}\n"
                    f"port={port}\nprotocol=tcp\nskip-ssl\n")

    def sql(self, q):
        p = subprocess.run(["mariadb", f"--defaults-extra-file={self.cnf}",
                            "-N", "-B", "-e", q], capture_output=True)
        if p.returncode != 0:
            raise RuntimeError(f"SQL failed: {q[:200]}: {p.stderr.decode()}")
        return [ln.split("\t") for ln in p.stdout.decode().splitlines()]


class Writer(threading.Thread):
    """Autocommit inserts, updates and deletes of d.t, until stopped."""

    def __init__(self, db):
        super().__init__(daemon=True)
        self.db, self.i, self.done = db, 100, threading.Event()

    def run(self):
        while not self.done.is_set():
            self.i += 1
            i = self.i
            self.db.sql(f"INSERT INTO d.t VALUES ({i}, 'v{i}', {i * 7}, "
                        f"{i}.25, '2026-12-07 10:00:{i % 60:02d}')")
            self.db.sql(f"UPDATE d.t SET v = 'u{i}' WHERE id = {i - 2}")
            if i % 5 == 0:
                self.db.sql(f"DELETE FROM d.t WHERE id = {i - 4}")
            time.sleep(0.02)


def text(v):
    """A DTS value as the mariadb client prints it (the types of d.t)."""
    if v is None:
        return "NULL"
    if "year" in v:					# DateTime
        return (f"{v['year']:04d}-{v['month']:02d}-{v['day']:02d} "
                f"{v['hour']:02d}:{v['minute']:02d}:{v['second']:02d}")
    if "charset" in v:					# Character
        return v["value"].decode()
    return str(v["value"])				# Integer, Decimal


def replay(records):
    rows = {}
    for r in records:
        if r["objectName"] != "d.t":
            continue
        if r["operation"] in ("INIT", "INSERT", "UPDATE"):
            img = dtstopic.image(r, "afterImages")
            rows[int(img["id"]["value"])] = tuple(
                text(img[c]) for c in ("v", "n", "d", "at"))
        elif r["operation"] == "DELETE":
            rows.pop(int(dtstopic.image(r, "beforeImages")["id"]["value"]),
                     None)
    return rows


def main():
    env = P.start("--only", "dolt")
    db = Dolt(env["FERRY_TEST_DOLT"], env["FERRY_TEST_DOLT_PASSWORD_FILE"])
    eq(db.sql("SELECT @@version_comment, @@gtid_mode, "
              "@@binlog_row_metadata")[0], ["Dolt", "ON", "MINIMAL"],
       "Dolt with GTIDs on and no column names in its binlog")
    db.sql("CREATE DATABASE d")
    db.sql("CREATE TABLE d.t (id INT PRIMARY KEY, v VARCHAR(20), n BIGINT, "
           "d DECIMAL(10,2), at DATETIME)")
    for i in range(1, 101):
        db.sql(f"INSERT INTO d.t VALUES ({i}, 'v{i}', {i * 7}, {i}.25, "
               f"'2026-12-07 10:00:{i % 60:02d}')")
    topic = f"ferry-dolt-{TAG}"
    P.sandbox("topic", os.environ["FERRY_SANDBOX"], topic, "2")
    ferry("endpoint", "add", "dolt", "--mysql", env["FERRY_TEST_DOLT"],
          "--password-file", env["FERRY_TEST_DOLT_PASSWORD_FILE"])
    ferry("endpoint", "add", "k", "--kafka", BROKER)
    ferry("job", "create", "j", "--source", "dolt", "--target", "k",
          "--topic", topic, "--tables", "d.t", "--partition", "pk")
    ferry("job", "start", "j")
    log = open(os.path.join(TMP, "serve.log"), "w")

    def serve():
        return subprocess.Popen([FERRY, "serve", "--heartbeat-ms", "1000",
                                 "--lease-ms", "1500", "--retry-min-ms",
                                 "200", "--retry-max-ms", "1000",
                                 "--poll-ms", "200", "--checkpoint-ms",
                                 "200"], env=FENV, stdout=log, stderr=log)

    def job():
        return P.job("j")

    def until(pred, what, timeout=90):
        return P.until("j", pred, what, timeout)

    d = serve()
    w = Writer(db)
    try:
        j = until(lambda j: j["state"] == "incremental", "the job runs")
        ck = j["checkpoint"]
        check(":" in (ck.get("gtid") or ""), f"the snapshot's checkpoint "
              f"has a MySQL GTID set: {ck}")
        check((j.get("reading") or "").endswith(
            f"(server_id {env['FERRY_TEST_DOLT'].rsplit(':', 1)[1]})"),
            f"job show names the server it reads: {j.get('reading')}")
        w.start()
        for k in range(2):
            time.sleep(2)
            d.send_signal(signal.SIGKILL)
            d.wait()
            d = serve()
            until(lambda j: j["state"] == "incremental", f"after SIGKILL "
                  f"{k + 1} of the daemon")
        time.sleep(2)
        w.done.set()
        w.join()
        want = {int(r[0]): (r[1], r[2], r[3], r[4]) for r in
                db.sql("SELECT id, v, n, d, at FROM d.t")}
        exec_set = db.sql("SHOW MASTER STATUS")[0][4]
        got, msgs = {}, []
        end = time.time() + 90
        while time.time() < end:
            msgs = dtstopic.read(BROKER, topic)
            recs = sorted((m[3] for m in msgs), key=lambda r: r["id"])
            got = replay(recs)
            if got == want and job()["checkpoint"].get("gtid") == exec_set:
                break
            time.sleep(1)
        bad = [k for k in set(want) | set(got) if want.get(k) != got.get(k)]
        check(not bad, f"the topic replayed equals SELECT ({len(bad)} rows "
              f"differ, e.g. "
              f"{[(k, got.get(k), want.get(k)) for k in sorted(bad)[:3]]})")
        dtstopic.check_ids(msgs)
        ins = [int(dtstopic.image(r, "afterImages")["id"]["value"])
               for _, _, _, r in msgs if r["operation"] == "INSERT"]
        eq(len(ins), len(set(ins)), "every insert once")
        eq(sorted(ins), list(range(101, w.i + 1)), "every insert there")
        names = {f["name"] for _, _, _, r in msgs for f in r["fields"] or []}
        eq(names, {"id", "v", "n", "d", "at"}, "columns named from the "
           "schema history")
        eq(job()["checkpoint"].get("gtid"), exec_set, "once caught up, the "
           "checkpoint's GTID set is Dolt's Executed_Gtid_Set")
        jl = ferry("job", "log", "j")
        check("failed:" not in jl, "the job never failed")
        check("replica" not in jl, "Dolt is not taken for a replica (it "
              "shows an empty SHOW REPLICA STATUS row)")
        # Idle: Dolt's heartbeats come every 30 s whatever was asked (1 s
        # here); the connection is not taken for dead meanwhile.
        log.flush()

        def follows():
            with open(os.path.join(TMP, "serve.log")) as f:
                return f.read().count("following the binlog from")
        n = follows()
        time.sleep(12)
        eq(follows(), n, "no reconnection while Dolt is idle for 12 s")
    finally:
        w.done.set()
        if d.poll() is None:
            d.kill()
        log.close()
        P.stop()


try:
    main()
finally:
    P.cleanup()
finish()
