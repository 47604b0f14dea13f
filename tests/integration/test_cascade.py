#!/usr/bin/env python3
"""A replica source (the cascade A -> B -> Kafka), on a private sandbox
with a replica (tools/sandbox start --replica): a job reads B, which
replicates A with GTID and log_slave_updates, while a writer changes A.
The topic, decoded without ferry and replayed in id order, equals A's
SELECT; the binlog records carry A's server_id (where the change was
made), and the job log says the source is a replica.  Then B is restarted
with log_slave_updates off: a new job's precheck fails, naming the
setting, instead of following a binlog without A's changes.
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

P = privsb.Private("cascade")
TMP, DIR, sandbox = P.tmp, P.dir, P.sandbox


def main():
    env = P.start("--replica")
    broker = env["FERRY_TEST_KAFKA"]
    pw = env["FERRY_TEST_MYSQL_PASSWORD_FILE"]
    a = tbl.DB(env["FERRY_TEST_MYSQL_SOCKET"], pw)
    b = tbl.DB(env["FERRY_TEST_REPLICA_SOCKET"], pw)
    a_id = int(a.one("SELECT @@server_id"))
    b_id = int(b.one("SELECT @@server_id"))
    fenv = P.fenv

    ferry = P.ferry

    def job(name):
        return json.loads(ferry("job", "show", name, "--json"))

    def until(name, states, timeout=90):
        end = time.time() + timeout
        while job(name)["state"] not in states and time.time() < end:
            time.sleep(0.2)
        return job(name)

    def synced():
        end = time.time() + 60
        while time.time() < end:
            if a.one("SELECT @@gtid_binlog_pos") == \
                    b.one("SELECT @@gtid_slave_pos"):
                return True
            time.sleep(0.2)
        return False

    a.sql("CREATE DATABASE c; CREATE TABLE c.t (id INT PRIMARY KEY, "
          "v VARCHAR(20)); " + "".join(f"INSERT INTO c.t VALUES ({i}, "
                                       f"'a{i}'); " for i in range(1, 51)))
    check(synced(), "the replica caught up with the primary")
    sandbox("topic", DIR, "cascade", "2")
    ferry("endpoint", "add", "b", "--mysql", env["FERRY_TEST_REPLICA"],
          "--password-file", pw)
    ferry("endpoint", "add", "k", "--kafka", broker)
    ferry("job", "create", "c", "--source", "b", "--target", "k",
          "--topic", "cascade", "--tables", "c.t", "--partition", "pk")
    ferry("job", "start", "c")
    log = open(os.path.join(TMP, "serve.log"), "w")
    d = subprocess.Popen([FERRY, "serve", "--heartbeat-ms", "1000",
                          "--retry-min-ms", "200", "--retry-max-ms", "1000",
                          "--poll-ms", "200", "--checkpoint-ms", "200"],
                         env=fenv, stdout=log, stderr=log)
    try:
        eq(until("c", ("incremental", "failed"))["state"], "incremental",
           "a job on the replica runs")
        check("is a replica of 127.0.0.1:" in ferry("job", "log", "c"),
              "the job log says the source is a replica")
        # Changes on the primary, after the copy.
        for i in range(51, 151):
            a.sql(f"INSERT INTO c.t VALUES ({i}, 'a{i}'); "
                  f"UPDATE c.t SET v = 'u{i}' WHERE id = {i - 50}; "
                  f"DELETE FROM c.t WHERE id = {i - 40}")
        check(synced(), "the replica caught up again")
        want = {int(r[0]): r[1] for r in a.sql("SELECT id, v FROM c.t")}
        got, msgs = {}, []
        end = time.time() + 60
        while time.time() < end:
            msgs = dtstopic.read(broker, "cascade")
            got = {}
            for _, _, _, r in sorted(msgs, key=lambda m: m[3]["id"]):
                op = r["operation"]
                if op in ("INIT", "INSERT", "UPDATE"):
                    img = dtstopic.image(r, "afterImages")
                    v = img["v"]["value"]
                    got[int(img["id"]["value"])] = \
                        v.decode() if isinstance(v, bytes) else v
                elif op == "DELETE":
                    img = dtstopic.image(r, "beforeImages")
                    got.pop(int(img["id"]["value"]), None)
            if got == want:
                break
            time.sleep(1)
        bad = [k for k in set(want) | set(got) if want.get(k) != got.get(k)]
        check(not bad, f"the topic replayed equals the primary's SELECT: "
              f"{len(bad)} rows differ, e.g. "
              f"{[(k, got.get(k), want.get(k)) for k in sorted(bad)[:4]]}")
        ids = [m[3]["id"] for m in msgs]
        eq(len(ids), len(set(ids)), "no id twice")
        sids = {r["tags"].get("server_id") for _, _, _, r in msgs
                if r["operation"] in ("INSERT", "UPDATE", "DELETE")}
        eq(sids, {str(a_id)}, f"binlog records carry the primary's server_id "
           f"({a_id}), not the replica's ({b_id})")
        # The replica without log_slave_updates: a new job refuses it.
        sandbox("stop", "--only", "replica", DIR)
        sandbox("start", "--only", "replica", DIR, env=dict(
            os.environ, FERRY_SANDBOX_LOG_SLAVE_UPDATES="0"))
        eq(b.one("SELECT @@log_slave_updates"), "0",
           "the replica now runs without log_slave_updates")
        ferry("job", "create", "c2", "--source", "b", "--target", "k",
              "--topic", "cascade", "--tables", "c.t", "--initial", "none")
        ferry("job", "start", "c2")
        j = until("c2", ("failed", "incremental"))
        eq(j["state"], "failed", "the precheck refuses a replica that does "
           "not log what it replicates")
        check("log_slave_updates" in (j["error"] or "") and
              "replica" in (j["error"] or ""), f"and says why: {j['error']}")
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
