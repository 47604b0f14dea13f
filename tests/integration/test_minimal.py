#!/usr/bin/env python3
"""ferry serve on a source whose binlog does not name columns
(binlog_row_metadata=MINIMAL, as MySQL 8.0 by default and MySQL 5.x and
MariaDB before 10.5 always): a private MariaDB set that way, the shared
Kafka.  Records must still carry the real column names, charsets and
ENUM/SET labels, with every value equal to SELECT; after an ALTER TABLE the
new column is named; a row image older than the definition ferry can read
stops the job with a reason that says what to do.
"""
import json
import os
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

for v in ("FERRY_TEST_KAFKA", "FERRY_SANDBOX"):
    if not os.environ.get(v):
        missing(f"{v} is not set (start tools/sandbox)")
try:
    import avro.io  # noqa: F401
except ImportError:
    missing("python3-avro is not installed")
import dtstopic  # noqa: E402

SB = os.path.join(os.environ["FERRY_SRCDIR"], "tools", "sandbox")
BROKER = os.environ["FERRY_TEST_KAFKA"]
TAG = f"{os.getpid()}_{int(time.time())}"
TMP = tempfile.mkdtemp(prefix="ferry-minimal.", dir="/tmp")
DIR = os.path.join(TMP, "sandbox")
FENV = dict(os.environ, FERRY_DB=os.path.join(TMP, "ferry.db"))


def sandbox(*args):
    p = subprocess.run([SB, *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"sandbox {' '.join(args)}: {p.stderr.strip()}")
    return p.stdout


def ferry(*args):
    p = subprocess.run([FERRY, *args], capture_output=True, text=True,
                       env=FENV, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"ferry {' '.join(args)}: {p.stderr}")
    return p.stdout


def job(name):
    return json.loads(ferry("job", "show", name, "--json"))


def wait(pred, what, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    check(False, f"timed out waiting for {what}")
    return None


def main():
    sandbox("start", "--only", "mariadb", DIR)
    env = dict(line.split("=", 1) for line in sandbox("env", DIR)
               .replace("export ", "").splitlines())
    db = tbl.DB(env["FERRY_TEST_MYSQL_SOCKET"],
                env["FERRY_TEST_MYSQL_PASSWORD_FILE"])
    db.sql("SET GLOBAL binlog_row_metadata = 'MINIMAL'")
    eq(db.one("SELECT @@global.binlog_row_metadata"), "MINIMAL",
       "the private server logs no column names")
    topic = f"ferry-minimal-{TAG}"
    subprocess.run([SB, "topic", os.environ["FERRY_SANDBOX"], topic, "1"],
                   check=True, capture_output=True)
    cols = ", ".join(f"{n} {t}" for n, t, _ in tbl.COLUMNS)
    db.sql(f"CREATE DATABASE m; CREATE TABLE m.all_types (id INT PRIMARY "
           f"KEY, {cols}) DEFAULT CHARSET=utf8mb4")
    for row in tbl.ROWS[:2]:
        db.sql(f"INSERT INTO m.all_types VALUES {row}")
    ferry("endpoint", "add", "src", "--mysql", env["FERRY_TEST_MYSQL"],
          "--password-file", env["FERRY_TEST_MYSQL_PASSWORD_FILE"])
    ferry("endpoint", "add", "k", "--kafka", BROKER)
    ferry("job", "create", "min", "--source", "src", "--target", "k",
          "--topic", topic, "--tables", "m.all_types", "--initial", "full")
    ferry("job", "start", "min")
    log = open(os.path.join(TMP, "serve.log"), "w")
    d = subprocess.Popen([FERRY, "serve", "--heartbeat-ms", "0",
                          "--poll-ms", "200", "--retry-min-ms", "200"],
                         env=FENV, stdout=log, stderr=log)
    try:
        wait(lambda: job("min")["state"] == "incremental", "incremental")
        jl = json.loads(ferry("job", "log", "min", "--json"))
        check(any(e["kind"] == "warn" and "binlog_row_metadata" in
                  e["message"] for e in jl),
              "the precheck warns that the binlog names no columns")
        for row in tbl.ROWS[2:]:
            db.sql(f"INSERT INTO m.all_types VALUES {row}")
        snap = tbl.snapshot(db, "m.all_types")
        db.sql("ALTER TABLE m.all_types ADD COLUMN added VARCHAR(10) "
               "CHARACTER SET latin1 DEFAULT 'x'")
        db.sql("UPDATE m.all_types SET added = 'ÿes' WHERE id = 5")
        recs = [r for _, _, _, r in dtstopic.read(BROKER, topic, expect=14)]
        ins = [r for r in recs if r["operation"] == "INSERT"]
        eq(len(ins), 3, "three inserts")
        for r in ins:
            a = dtstopic.image(r, "afterImages")
            if not check("id" in a, f"fields named, not numbered: "
                         f"{list(a)[:4]}"):
                continue
            dtstopic.compare_alltypes(tbl, a, snap[int(a["id"]["value"])],
                                      f"insert {a['id']['value']}")
        upd = [r for r in recs if r["operation"] == "UPDATE"]
        eq(len(upd), 1, "the update after the ALTER")
        if upd:
            a = dtstopic.image(upd[0], "afterImages")
            eq(a.get("added"), {"charset": "latin1",
                                "value": "ÿes".encode("latin1")},
               "the added column: named, its charset, its bytes")
            check(any(e["kind"] == "schema" for e in json.loads(
                ferry("job", "log", "min", "--json"))),
                  "the job log says the definition was read again")
        # A row written, then the table altered, while the job is stopped:
        # the image is older than any definition ferry can read.
        ferry("job", "stop", "min")
        wait(lambda: job("min")["state"] == "stopped", "stop")
        time.sleep(1)
        db.sql("INSERT INTO m.all_types (id) VALUES (100)")
        db.sql("ALTER TABLE m.all_types ADD COLUMN later INT")
        ferry("job", "start", "min")
        j = wait(lambda: (lambda x: x if x["state"] == "failed" else None)(
            job("min")), "the job to fail on the older image")
        if j:
            check("binlog_row_metadata=FULL" in j["error"] and
                  "m.all_types" in j["error"],
                  f"the reason says what to do: {j['error']}")
        d.terminate()
        eq(d.wait(timeout=60), 0, "SIGTERM: exit 0")
    finally:
        if d.poll() is None:
            d.kill()
        log.close()
        sandbox("stop", DIR)


try:
    main()
finally:
    if ferrytest.failures:
        print(f"kept {TMP}", file=sys.stderr)
    else:
        subprocess.run(["rm", "-rf", TMP])
finish()
