#!/usr/bin/env python3
"""ferry serve through outages, on a private sandbox (the shared servers
are not disturbed): the Kafka broker stopped for 30 s under a write load
and started again, then MariaDB restarted, then the daemon killed three
times while idle, between HEARTBEAT records (whose ids come out of blocks
reserved in the checkpoint), then heartbeats, rows and heartbeats again.
Afterwards the topic holds every change exactly once, in commit order, ids
increase along each partition, and the job is still incremental.
"""
import json
import os
import signal
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

P = privsb.Private("outage")
TMP, DIR, sandbox = P.tmp, P.dir, P.sandbox


def main():
    env = P.start()
    broker = env["FERRY_TEST_KAFKA"]
    db = tbl.DB(env["FERRY_TEST_MYSQL_SOCKET"],
                env["FERRY_TEST_MYSQL_PASSWORD_FILE"])
    fenv = P.fenv

    ferry = P.ferry

    def job():
        return json.loads(ferry("job", "show", "o", "--json"))

    db.sql("CREATE DATABASE o; CREATE TABLE o.t (id INT PRIMARY KEY, "
           "v VARCHAR(20))")
    sandbox("topic", DIR, "outage", "2")
    ferry("endpoint", "add", "src", "--mysql", env["FERRY_TEST_MYSQL"],
          "--password-file", env["FERRY_TEST_MYSQL_PASSWORD_FILE"])
    ferry("endpoint", "add", "k", "--kafka", broker)
    ferry("job", "create", "o", "--source", "src", "--target", "k",
          "--topic", "outage", "--tables", "o.t", "--partition", "pk",
          "--initial", "none")
    ferry("job", "start", "o")
    log = open(os.path.join(TMP, "serve.log"), "w")

    def serve():
        return subprocess.Popen([FERRY, "serve", "--heartbeat-ms", "1000",
                                 "--retry-min-ms", "200",
                                 "--retry-max-ms", "2000", "--poll-ms", "200",
                                 "--checkpoint-ms", "200", "--lease-ms",
                                 "2000"], env=fenv, stdout=log, stderr=log)
    d = serve()
    expected = []

    def write(lo, hi, pause=0.0):
        for i in range(lo, hi):
            db.sql(f"INSERT INTO o.t VALUES ({i}, 'v{i}')")
            expected.append(i)
            time.sleep(pause)

    try:
        end = time.time() + 60
        while job()["state"] != "incremental" and time.time() < end:
            time.sleep(0.2)
        eq(job()["state"], "incremental", "the job runs")
        write(1, 51)
        # The broker goes away for 30 s while rows keep coming.
        sandbox("stop", "--only", "kafka", DIR)
        t0 = time.time()
        write(51, 151, 0.1)
        time.sleep(max(0, 30 - (time.time() - t0)))
        eq(d.poll(), None, "the daemon survives the broker's absence")
        sandbox("start", "--only", "kafka", DIR)
        write(151, 201)
        # MariaDB restarts under the job.
        sandbox("stop", "--only", "mariadb", DIR)
        time.sleep(2)
        sandbox("start", "--only", "mariadb", DIR)
        write(201, 301)
        # Killed while idle, a few heartbeats into a block; each restart
        # resumes from the checkpoint, whose next id is past the block.
        lo = 301
        for k in range(3):
            time.sleep(2.5 + k)	# idle: heartbeats
            d.kill()
            d.wait()
            d = serve()
            write(lo, lo + 10)
            lo += 10
        # Heartbeats, rows, heartbeats again in one daemon's life: the
        # rows go after the block the first heartbeats took, and the later
        # heartbeats after the rows.  (The restarted daemon takes the job
        # once the killed one's lease has expired, 2 s.)
        time.sleep(5)
        write(lo, lo + 10)
        time.sleep(3)		# idle: heartbeats
        got, msgs = [], []
        end = time.time() + 120
        while time.time() < end:
            msgs = dtstopic.read(broker, "outage")
            got = sorted((m[3] for m in msgs), key=lambda r: r["id"])
            rows = [r for r in got if r["operation"] == "INSERT"]
            if len(rows) >= len(expected):
                break
            time.sleep(1)
        dtstopic.check_ids(msgs)
        # Heartbeats reserve their id before they are sent: one lost in an
        # outage leaves a gap, which DTS ids have too.  Data records must
        # all be there (checked below), each once.
        hb = [r for r in got if r["operation"] == "HEARTBEAT"]
        check(len(hb) >= 1, "HEARTBEAT records while idle (--heartbeat-ms "
              "1000)")
        # objectName "", not null: DTS's SDK 2.1.5 (its fast reader)
        # throws NullPointerException from getSchema(), the image getters
        # and getBornTimestamp() on a record whose objectName is null.
        check(all(r["objectName"] == "" and r["fields"] is None and
                  r["beforeImages"] is None and r["afterImages"] is None and
                  r["bornTimestamp"] == r["sourceTimestamp"] > 0
                  for r in hb), f"a heartbeat: objectName \"\", no fields "
              f"or images, born at its time: {hb[:1]}")
        vals = [int(r["afterImages"][0]["value"]) for r in got
                if r["operation"] == "INSERT"]
        eq(vals, expected, "every insert once, in commit order")
        j = job()
        eq(j["state"], "incremental", "still incremental after the outages")
        check(j["attempts"] >= 1 or "retry" in ferry("job", "log", "o"),
              "the MariaDB restart was a transient failure, retried")
        d.send_signal(signal.SIGTERM)
        eq(d.wait(timeout=60), 0, "SIGTERM: exit 0")
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
