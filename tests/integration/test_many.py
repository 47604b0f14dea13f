#!/usr/bin/env python3
"""Many jobs in one daemon: 50 jobs across 5 tenants, ten per tenant
sharing their tenant's table and topic, and one job of one tenant pointed
at a Kafka cluster that does not answer.  Every live job writes every change
once (told apart by the ferry.job header in the shared topics); the dead
one waits and retries without holding the others back; each tenant sees
only its own jobs.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests", "lib"))
sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests",
                                "integration"))
from ferrytest import FERRY, check, eq, finish, missing  # noqa: E402
import ferrytest  # noqa: E402
import test_binlog_live as tbl  # noqa: E402

for v in ("FERRY_TEST_MYSQL", "FERRY_TEST_KAFKA", "FERRY_SANDBOX"):
    if not os.environ.get(v):
        missing(f"{v} is not set (start tools/sandbox)")

SB = os.path.join(os.environ["FERRY_SRCDIR"], "tools", "sandbox")
BROKER = os.environ["FERRY_TEST_KAFKA"]
TAG = f"{os.getpid()}_{int(time.time())}"
TMP = tempfile.mkdtemp(prefix="ferry-many.")
ENV = dict(os.environ, FERRY_DB=os.path.join(TMP, "ferry.db"))
db = tbl.DB(os.environ["FERRY_TEST_MYSQL_SOCKET"],
            os.environ["FERRY_TEST_MYSQL_PASSWORD_FILE"])
TENANTS = [f"t{i}" for i in range(5)]
PER = 10
ROWS = 20


def ferry(*args, tenant=None):
    e = dict(ENV, FERRY_TENANT=tenant) if tenant else ENV
    p = subprocess.run([FERRY, *args], capture_output=True, text=True, env=e,
                       timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"ferry {' '.join(args)}: {p.stderr.strip()}")
    return p.stdout


IDENT = {}	# a job's identity (its records' ferry.job header) -> its id


def headers_count(topic):
    """How many messages of each job (by id) the topic holds."""
    p = subprocess.run(["kcat", "-C", "-b", BROKER, "-t", topic, "-e", "-q",
                        "-f", "%h\n"], capture_output=True, text=True,
                       timeout=120)
    n = {}
    for line in p.stdout.splitlines():
        h = dict(kv.split("=", 1) for kv in line.split(",") if "=" in kv)
        if "ferry.job" in h:
            j = IDENT.get(h["ferry.job"], h["ferry.job"])
            n[j] = n.get(j, 0) + 1
    return n


def main():
    schema = f"many_{TAG}"
    db.sql(f"CREATE DATABASE {schema}")
    pw = os.environ["FERRY_TEST_MYSQL_PASSWORD_FILE"]
    jobs = {}
    for t in TENANTS:
        ferry("tenant", "add", t, "--max-jobs", str(PER + 1))
        db.sql(f"CREATE TABLE {schema}.{t} (id INT PRIMARY KEY, v INT)")
        subprocess.run([SB, "topic", os.environ["FERRY_SANDBOX"],
                        f"many-{TAG}-{t}", "1"], check=True,
                       capture_output=True)
        ferry("endpoint", "add", "src", "--mysql",
              os.environ["FERRY_TEST_MYSQL"], "--password-file", pw,
              tenant=t)
        ferry("endpoint", "add", "k", "--kafka", BROKER, tenant=t)
        for i in range(PER):
            out = json.loads(ferry(
                "job", "create", f"j{i}", "--source", "src", "--target", "k",
                "--topic", f"many-{TAG}-{t}", "--tables", f"{schema}.{t}",
                "--initial", "none", "--json", tenant=t))
            jobs.setdefault(t, []).append(out["id"])
            IDENT[out["identity"]] = out["id"]
            ferry("job", "start", str(out["id"]), tenant=t)
    # The dead one: a cluster that refuses connections.
    ferry("endpoint", "add", "dead", "--kafka", "127.0.0.1:1", tenant="t0")
    dead = json.loads(ferry("job", "create", "dead", "--source", "src",
                            "--target", "dead", "--topic", "x", "--tables",
                            f"{schema}.t0", "--json", tenant="t0"))["id"]
    ferry("job", "start", str(dead), tenant="t0")
    log = open(os.path.join(TMP, "serve.log"), "w")
    d = subprocess.Popen([FERRY, "serve", "--heartbeat-ms", "0",
                          "--retry-min-ms", "500",
                          "--retry-max-ms", "2000"], env=ENV, stdout=log,
                         stderr=log)
    try:
        def states():
            out = {}
            for t in TENANTS:
                for j in json.loads(ferry("job", "list", "--json",
                                          tenant=t)):
                    out[j["id"]] = j
            return out
        end = time.time() + 120
        while time.time() < end:
            s = states()
            if all(s[i]["state"] == "incremental" for t in TENANTS
                   for i in jobs[t]):
                break
            time.sleep(1)
        s = states()
        eq(sum(1 for t in TENANTS for i in jobs[t]
               if s[i]["state"] == "incremental"), 5 * PER,
           "all 50 live jobs reach incremental")
        for t in TENANTS:
            db.sql(f"INSERT INTO {schema}.{t} VALUES " + ", ".join(
                f"({k}, {k})" for k in range(1, ROWS + 1)))
            db.sql(f"UPDATE {schema}.{t} SET v = v + 1")
        # Each job: BEGIN, 20 INSERTs, COMMIT, BEGIN, 20 UPDATEs, COMMIT.
        want = 2 * ROWS + 4
        end = time.time() + 120
        while time.time() < end:
            counts = {t: headers_count(f"many-{TAG}-{t}") for t in TENANTS}
            if all(counts[t].get(i, 0) >= want for t in TENANTS
                   for i in jobs[t]):
                break
            time.sleep(1)
        for t in TENANTS:
            for i in jobs[t]:
                eq(counts[t].get(i, 0), want,
                   f"job {i} of tenant {t}: every change once")
            check(set(counts[t]) == set(jobs[t]), f"topic of {t} holds only "
                  f"{t}'s jobs: {sorted(counts[t])}")
        end = time.time() + 60
        while time.time() < end:
            dj = json.loads(ferry("job", "show", str(dead), "--json",
                                  tenant="t0"))
            if dj["attempts"] >= 1:
                break
            time.sleep(1)
        check(dj["state"] in ("queued", "prechecking") and dj["attempts"] >= 1
              and dj["error"] and "127.0.0.1:1" in dj["error"],
              f"the dead job retries with its reason: {dj['state']}, "
              f"{dj['attempts']}, {dj['error']}")
        check(dj["next_attempt_at"] is not None, "next attempt shown")
        eq([j["name"] for j in json.loads(ferry("job", "list", "--json",
                                                 tenant="t1"))],
           [f"j{i}" for i in range(PER)], "a tenant sees only its jobs")
        d.send_signal(signal.SIGTERM)
        eq(d.wait(timeout=120), 0, "SIGTERM with 51 jobs: exit 0")
    finally:
        if d.poll() is None:
            d.kill()
        log.close()
        db.sql(f"DROP DATABASE IF EXISTS {schema}")


main()
if ferrytest.failures:
    print(f"kept {TMP}", file=sys.stderr)
else:
    subprocess.run(["rm", "-rf", TMP])
finish()
