#!/usr/bin/env python3
"""ferry serve when the source drops its replication connection, on a
private sandbox: under a steady writer (inserts and updates), ferry's
Binlog Dump thread is KILLed 5 times, then mariadbd is killed with SIGKILL
and started again 3 times.  Each time the job must come back to
incremental by itself (never failed, no `ferry job retry`), and afterwards
the topic, decoded without ferry and replayed in id order, must hold every
committed change exactly once and equal SELECT.

With the broker stopped (SIGSTOP) under the writer, the job's lag grows
(it counts from the oldest change Kafka has not acknowledged); once the
writer stops, lag_bytes is 0, also after FLUSH BINARY LOGS (it was the size
of the current file after any reconnect).

The checkpoint carries the source's GTID position: it equals what the
server says for the checkpoint's file and position (BINLOG_GTID_POS).

Then the source's password is rotated (ALTER USER) and ferry's connection
KILLed: the job fails with a reason naming the endpoint and `ferry
endpoint set`; after `ferry endpoint set src --password-file NEW` and
`ferry job retry`, it goes on from its checkpoint: still every change once.

Before the fix of the packet-error check in engine/binlog_client.c, the
first KILL failed the job for good with a made-up decoding error ("event
header says 31 bytes, 4294967294 were read").
"""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests", "lib"))
sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests",
                                "integration"))
from ferrytest import FERRY, check, eq, finish  # noqa: E402
import test_binlog_live as tbl  # noqa: E402

import privsb  # noqa: E402
privsb.require()
import dtstopic  # noqa: E402

P = privsb.Private("disconnect")
TMP, DIR, sandbox = P.tmp, P.dir, P.sandbox
KILLS = 5
CRASHES = 3


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port



class Writer(threading.Thread):
    """Inserts row i and updates row i-3, one statement at a time, until
    stopped; a statement that fails (the server is down) is not retried:
    what was committed is read back with SELECT at the end."""

    def __init__(self, db):
        super().__init__(daemon=True)
        self.db, self.i, self.done = db, 0, threading.Event()
        self.failed = 0

    def run(self):
        while not self.done.is_set():
            self.i += 1
            i = self.i
            try:
                self.db.sql(f"INSERT INTO d.t VALUES ({i}, 'v{i}'); "
                            f"UPDATE d.t SET v = 'u{i}' WHERE id = {i - 3}")
            except RuntimeError:
                self.failed += 1
                time.sleep(0.2)
            time.sleep(0.01)


def main():
    env = P.start()
    broker = env["FERRY_TEST_KAFKA"]
    db = tbl.DB(env["FERRY_TEST_MYSQL_SOCKET"],
                env["FERRY_TEST_MYSQL_PASSWORD_FILE"])
    fenv = P.fenv
    mypid = os.path.join(DIR, "mysql", "mariadbd.pid")

    ferry = P.ferry

    def job():
        return json.loads(ferry("job", "show", "d", "--json"))

    def dump_threads():
        return [r[0] for r in db.sql(
            "SELECT id FROM information_schema.processlist "
            "WHERE command LIKE 'Binlog Dump%'")]

    def wait_back(what, old_threads):
        """Until the job reads again on a new connection, in incremental;
        a failed job is a failure at once."""
        end = time.time() + 90
        while time.time() < end:
            j = job()
            if j["state"] == "failed":
                check(False, f"after {what}: the job failed: {j['error']}")
                return False
            try:
                now = dump_threads()
            except RuntimeError:
                now = []
            if j["state"] == "incremental" and now and \
                    not set(now) & set(old_threads):
                return True
            time.sleep(0.2)
        check(False, f"after {what}: the job is not reading again in 90 s "
              f"(state {job()['state']})")
        return False

    db.sql("CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, "
           "v VARCHAR(20))")
    sandbox("topic", DIR, "drop", "2")
    # The job logs in as a user of its own, whose password rotates.
    pw = [os.path.join(TMP, "pw1"), os.path.join(TMP, "pw2")]
    for i, f in enumerate(pw):
        with open(f, "w") as fp:
            fp.write(f"rotate-me-{i + 1}\n")
        os.chmod(f, 0o600)
    for h in ("%", "localhost"):
        db.sql(f"CREATE USER 'rot'@'{h}' IDENTIFIED BY 'rotate-me-1'; "
               f"GRANT ALL PRIVILEGES ON *.* TO 'rot'@'{h}'")
    ferry("endpoint", "add", "src", "--mysql",
          env["FERRY_TEST_MYSQL"].replace("//root@", "//rot@"),
          "--password-file", pw[0])
    ferry("endpoint", "add", "k", "--kafka", broker)
    ferry("job", "create", "d", "--source", "src", "--target", "k",
          "--topic", "drop", "--tables", "d.t", "--partition", "pk",
          "--initial", "none")
    ferry("job", "start", "d")
    log = open(os.path.join(TMP, "serve.log"), "w")
    port = free_port()

    def healthz(path="/healthz"):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                        timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def serve():
        return subprocess.Popen([FERRY, "serve", "--heartbeat-ms", "1000",
                                 "--http", f"127.0.0.1:{port}",
                                 "--retry-min-ms", "200",
                                 "--retry-max-ms", "1000", "--poll-ms",
                                 "200", "--checkpoint-ms", "200"],
                                env=fenv, stdout=log, stderr=log)
    d = serve()
    w = Writer(db)
    try:
        end = time.time() + 60
        while job()["state"] != "incremental" and time.time() < end:
            time.sleep(0.2)
        eq(job()["state"], "incremental", "the job runs")
        end = time.time() + 30
        while not dump_threads() and time.time() < end:
            time.sleep(0.2)
        w.start()
        for k in range(KILLS):
            time.sleep(1.5)
            old = dump_threads()
            check(len(old) == 1, f"one Binlog Dump thread before KILL {k + 1}"
                  f": {old}")
            for t in old:
                db.sql(f"KILL {t}")
            if not wait_back(f"KILL {k + 1} of the dump thread", old):
                break
        for k in range(CRASHES):
            time.sleep(1.5)
            with open(mypid) as f:
                os.kill(int(f.read().strip()), 9)
            time.sleep(1)
            sandbox("start", "--only", "mariadb", DIR)
            # A new server numbers its connections from 1 again: any dump
            # thread on it is the job's new connection.
            if not wait_back(f"kill -9 {k + 1} of mariadbd", []):
                break
        # The broker stalls: nothing is acknowledged, the lag grows.
        with open(os.path.join(DIR, "kafka", "kafka.pid")) as f:
            kpid = int(f.read().strip())
        os.kill(kpid, signal.SIGSTOP)
        try:
            time.sleep(7)
            lag = job().get("lag_seconds")
        finally:
            os.kill(kpid, signal.SIGCONT)
        check(isinstance(lag, int) and lag >= 4, f"lag_seconds after 7 s "
              f"of a stopped broker under writes: {lag}, want >= 4")
        wait_back("the broker's stall", [])
        # The password rotates: the next login is refused, for good
        # until the endpoint is told.
        time.sleep(1.5)
        old = dump_threads()
        for h in ("%", "localhost"):
            db.sql(f"ALTER USER 'rot'@'{h}' IDENTIFIED BY 'rotate-me-2'")
        for t in old:
            db.sql(f"KILL {t}")
        end = time.time() + 60
        while job()["state"] != "failed" and time.time() < end:
            time.sleep(0.2)
        j = job()
        eq(j["state"], "failed", "a refused login fails the job")
        err = j["error"] or ""
        check("source endpoint 'src' refused the login" in err and
              "ferry endpoint set src --password-file" in err and
              "ferry job retry" in err,
              f"the reason names the endpoint and the fix: {err}")
        code, h = healthz()
        eq(code, 503, "/healthz with a failed job")
        check(h.get("status") == "failed jobs" and
              [x["name"] for x in h.get("failed", [])] == ["d"] and
              "refused the login" in h["failed"][0]["error"],
              f"/healthz names the failed job and why: {h}")
        eq(healthz("/healthz?live")[0], 200, "/healthz?live: the daemon "
           "is alive")
        out = ferry("endpoint", "set", "src", "--password-file", pw[1])
        check("1 job" in out, f"endpoint set counts the job: {out}")
        check("endpoint 'src' changed (password)" in
              ferry("job", "log", "d"), "the job log records the change")
        ferry("job", "retry", "d")
        end = time.time() + 60
        while job()["state"] != "incremental" and time.time() < end:
            time.sleep(0.2)
        eq(job()["state"], "incremental", "after endpoint set and retry")
        code, h = healthz()
        eq((code, h.get("status"), h.get("failed")), (200, "ok", []),
           "/healthz once no job is failed")
        wait_back("the password rotation", old)
        time.sleep(1.5)
        w.done.set()
        w.join()
        check(w.i - w.failed > 50, f"the writer committed rows ({w.i} "
              f"tried, {w.failed} failed)")
        # Caught up: no binlog left to read, after a restart of the daemon
        # (which reads from the checkpoint again) and after a rotation.
        d.send_signal(signal.SIGTERM)
        eq(d.wait(timeout=60), 0, "SIGTERM: exit 0")
        d = serve()
        wait_back("the daemon's restart", [])
        for flush in (False, True):
            if flush:
                db.sql("FLUSH BINARY LOGS; FLUSH BINARY LOGS")
            time.sleep(12)	# lag_bytes is measured every 10 s
            eq(job().get("lag_bytes"), 0, "lag_bytes when caught up" +
               (" after FLUSH BINARY LOGS" if flush else
                " after a restart"))
        want = {int(r[0]): r[1] for r in db.sql("SELECT id, v FROM d.t")}
        msgs, got = [], []
        end = time.time() + 90
        while time.time() < end:
            msgs = dtstopic.read(broker, "drop")
            got = sorted((m[3] for m in msgs), key=lambda r: r["id"])
            have = {int(r["afterImages"][0]["value"]) for r in got
                    if r["operation"] == "INSERT"}
            if have >= set(want):
                break
            time.sleep(1)
        dtstopic.check_ids(msgs)
        ins = [int(r["afterImages"][0]["value"]) for r in got
               if r["operation"] == "INSERT"]
        eq(len(ins), len(set(ins)), "every insert once")
        eq(sorted(ins), sorted(want), "the inserts are the committed rows")
        eq(ins, sorted(ins), "inserts in commit order")
        replay = {}
        for r in got:
            if r["operation"] in ("INSERT", "UPDATE"):
                img = dtstopic.image(r, "afterImages")
                v = img["v"]["value"]
                replay[int(img["id"]["value"])] = \
                    v.decode() if isinstance(v, bytes) else v
            elif r["operation"] == "DELETE":
                img = dtstopic.image(r, "beforeImages")
                replay.pop(int(img["id"]["value"]), None)
        bad = [k for k in want if replay.get(k) != want[k]]
        check(not bad, f"the topic replayed equals SELECT ({len(bad)} rows "
              f"differ, e.g. {[(k, replay.get(k), want[k]) for k in bad[:3]]})")
        j = job()
        eq(j["state"], "incremental", "still incremental")
        # The checkpoint carries the source's GTID position, as the source
        # itself computes it for the checkpoint's file and position.
        ck = j["checkpoint"]
        want_gtid = db.one(f"SELECT BINLOG_GTID_POS('{ck['file']}', "
                           f"{ck['pos']})")
        check(want_gtid not in (None, "", "NULL"),
              f"the source has a GTID position at {ck}: {want_gtid!r}")
        eq(ck.get("gtid"), want_gtid, f"checkpoint.gtid at {ck['file']}:"
           f"{ck['pos']} (after 5 KILLs, 3 crashes, a restart)")
        fails = [ln for ln in ferry("job", "log", "d").splitlines()
                 if ln.split()[2:3] == ["error"] and "failed:" in ln]
        eq(len(fails), 1, f"the job failed once only, at the rotation: "
           f"{fails}")
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
