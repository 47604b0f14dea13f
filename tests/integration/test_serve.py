#!/usr/bin/env python3
"""ferry serve against the sandbox MariaDB and Kafka, end to end.

1. A job over two tables, one with every column type: rows present before
   the job (full sync), then inserts, updates, deletes, a multi-statement
   transaction and a DDL.  The topic is read with kcat and decoded with
   python3-avro and the published schema (neither is ferry's code); every
   value must equal what SELECT returned at that moment, every change must
   be there once, in order, between its BEGIN and COMMIT.
2. Control from the CLI while the daemon runs: pause, resume, stop, start;
   /healthz, /jobs and /metrics scraped and parsed.
3. Crashes: a steady write load while the daemon is killed with SIGKILL
   at random instants 20 times and restarted; afterwards the topic holds
   every change exactly once (no id twice, none missing, values equal to
   what the writer wrote).
"""
import json
import os
import random
import re
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests", "lib"))
sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests",
                                "integration"))
from ferrytest import FERRY, check, eq, finish, missing  # noqa
import test_binlog_live as tbl  # noqa: E402

for v in ("FERRY_TEST_MYSQL", "FERRY_TEST_KAFKA", "FERRY_SANDBOX"):
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
SCHEMA = f"serve_{TAG}"
TMP = tempfile.mkdtemp(prefix="ferry-serve.")
ENV = dict(os.environ, FERRY_DB=os.path.join(TMP, "ferry.db"))
ENV.pop("FERRY_TENANT", None)
db = tbl.DB(os.environ["FERRY_TEST_MYSQL_SOCKET"],
            os.environ["FERRY_TEST_MYSQL_PASSWORD_FILE"])


def ferry(*args, check_rc=True):
    p = subprocess.run([FERRY] + list(args), capture_output=True, text=True,
                       env=ENV, timeout=120)
    if check_rc and p.returncode != 0:
        raise RuntimeError(f"ferry {' '.join(args)}: {p.stderr.strip()}")
    return p


def topic(name, partitions, *configs):
    subprocess.run([SB, "topic", os.environ["FERRY_SANDBOX"], name,
                    str(partitions), *configs], check=True,
                   capture_output=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Daemon:
    def __init__(self, *extra):
        self.port = free_port()
        self.log = open(os.path.join(TMP, "serve.log"), "a")
        self.p = subprocess.Popen(
            [FERRY, "serve", "--http", f"127.0.0.1:{self.port}",
             "--lease-ms", "1500", "--retry-min-ms", "200",
             "--checkpoint-ms", "200", "--poll-ms", "200",
             "--heartbeat-ms", "0", *extra],
            env=ENV, stdout=self.log, stderr=self.log)

    def get(self, path):
        with urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()

    def kill(self, sig=signal.SIGKILL):
        self.p.send_signal(sig)
        self.p.wait(timeout=60)
        self.log.close()


def job(ref):
    return json.loads(ferry("job", "show", str(ref), "--json").stdout)


def running_stats(d, jid):
    """Job JID as daemon D's /jobs shows it, or None while D does not run
    it (or does not answer yet)."""
    try:
        jobs = json.loads(d.get("/jobs")[2])
    except OSError:
        return None
    return next((x for x in jobs if x["id"] == jid), None)


def running_phase(d, jid):
    r = running_stats(d, jid)
    return r["phase"] if r is not None else None


def wait(pred, what, timeout=90, every=0.2):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(every)
    check(False, f"timed out waiting for {what}")
    return None


def read_topic(name, expect=None, timeout=60):
    return dtstopic.read(BROKER, name, expect, timeout)


image = dtstopic.image


def compare_alltypes(img, want, what):
    dtstopic.compare_alltypes(tbl, img, want, what)


# ---------------------------------------------------------------------------
# 1. End to end.
def end_to_end(d):
    t1 = f"ferry-serve-{TAG}"
    topic(t1, 1)
    cols = ", ".join(f"{n} {t}" for n, t, _ in tbl.COLUMNS)
    db.sql(f"CREATE DATABASE {SCHEMA}; "
           f"CREATE TABLE {SCHEMA}.all_types (id INT PRIMARY KEY, {cols}) "
           "DEFAULT CHARSET=utf8mb4; "
           f"CREATE TABLE {SCHEMA}.plain (id INT PRIMARY KEY, v VARCHAR(20)); "
           f"CREATE TABLE {SCHEMA}.skipped (id INT PRIMARY KEY)")
    for row in tbl.ROWS[:3]:
        db.sql(f"INSERT INTO {SCHEMA}.all_types VALUES {row}")
    db.sql(f"INSERT INTO {SCHEMA}.plain VALUES (1, 'one'), (2, 'two')")
    s_init = tbl.snapshot(db, f"{SCHEMA}.all_types")
    ferry("job", "create", "e2e", "--source", "src", "--target", "k",
          "--topic", t1, "--tables", f"{SCHEMA}.all_types,{SCHEMA}.plain")
    ferry("job", "start", "e2e")
    wait(lambda: job("e2e")["state"] == "incremental", "incremental")
    j = job("e2e")
    check(j["checkpoint"]["file"] is not None, f"a checkpoint: {j}")
    eq(j["phase_progress"]["tables_done"], 2, "full sync: tables done")
    eq(j["phase_progress"]["rows_copied"], 5, "full sync: rows copied")

    # Changes while streaming.
    for row in tbl.ROWS[3:]:
        db.sql(f"INSERT INTO {SCHEMA}.all_types VALUES {row}")
    s1 = tbl.snapshot(db, f"{SCHEMA}.all_types")
    db.sql(f"UPDATE {SCHEMA}.all_types SET id = id WHERE id = 0; "
           f"UPDATE {SCHEMA}.all_types SET ti = 7, v4 = 'changed', "
           f"d1 = -1.5, dt6 = '2001-02-03 04:05:06.7' WHERE id = 5")
    s2 = tbl.snapshot(db, f"{SCHEMA}.all_types")
    db.sql(f"BEGIN; INSERT INTO {SCHEMA}.plain VALUES (3, 'three'); "
           f"UPDATE {SCHEMA}.plain SET v = 'uno' WHERE id = 1; "
           f"DELETE FROM {SCHEMA}.plain WHERE id = 2; "
           f"INSERT INTO {SCHEMA}.skipped VALUES (1); COMMIT")
    db.sql(f"DELETE FROM {SCHEMA}.all_types WHERE id IN (1, 2)")
    db.sql(f"ALTER TABLE {SCHEMA}.plain ADD COLUMN n INT DEFAULT 5")
    db.sql(f"INSERT INTO {SCHEMA}.plain VALUES (4, 'four', 44)")

    recs = [r for _, _, _, r in read_topic(t1, expect=28)]
    ops = [(r["operation"], r["objectName"]) for r in recs]
    A, P = f"{SCHEMA}.all_types", f"{SCHEMA}.plain"
    want = ([("DDL", SCHEMA)] * 2 + [("INIT", A)] * 3 + [("INIT", P)] * 2 +
            [("BEGIN", SCHEMA), ("INSERT", A), ("COMMIT", SCHEMA)] * 2 +
            [("BEGIN", SCHEMA), ("UPDATE", A), ("COMMIT", SCHEMA)] +
            [("BEGIN", SCHEMA), ("INSERT", P), ("UPDATE", P), ("DELETE", P),
             ("COMMIT", SCHEMA)] +
            [("BEGIN", SCHEMA), ("DELETE", A), ("DELETE", A),
             ("COMMIT", SCHEMA)] +
            [("BEGIN", SCHEMA), ("INSERT", P), ("COMMIT", SCHEMA)])
    eq(ops, want, "operations and tables, in order (DDL ignored, "
       "unselected table skipped, empty UPDATE not recorded)")
    eq([r["id"] for r in recs], list(range(1, len(recs) + 1)),
       "ids 1, 2, ... with no gap")
    ddl = [r for r in recs if r["operation"] == "DDL"]
    check(len(ddl) == 2 and "CREATE TABLE `all_types`" in ddl[0]["afterImages"],
          "schema sync: SHOW CREATE TABLE text")
    init = [r for r in recs if r["operation"] == "INIT"]
    for r in init[:3]:
        a = image(r, "afterImages")
        compare_alltypes(a, s_init[int(a["id"]["value"])],
                         f"INIT {a['id']['value']}")
        check(r["beforeImages"] is None, "INIT has no before image")
    ins = [r for r in recs if r["operation"] == "INSERT"
           and r["objectName"] == A]
    for r in ins:
        a = image(r, "afterImages")
        compare_alltypes(a, s1[int(a["id"]["value"])],
                         f"INSERT {a['id']['value']}")
    upd = [r for r in recs if r["operation"] == "UPDATE"
           and r["objectName"] == A][0]
    compare_alltypes(image(upd, "beforeImages"), s1[5], "UPDATE before")
    compare_alltypes(image(upd, "afterImages"), s2[5], "UPDATE after")
    dels = [r for r in recs if r["operation"] == "DELETE"
            and r["objectName"] == A]
    for r in dels:
        b = image(r, "beforeImages")
        compare_alltypes(b, s2[int(b["id"]["value"])],
                         f"DELETE {b['id']['value']}")
    # INIT of a row equals the before image of its first change (the
    # snapshot and the binlog agree value for value).
    last = [r for r in recs if r["objectName"] == P][-1]
    eq([f["name"] for f in last["fields"]], ["id", "v", "n"],
       "the column added by the DDL appears")
    eq(image(last, "afterImages")["n"]["value"], "44", "new column value")
    pinit = {image(r, "afterImages")["id"]["value"]: image(r, "afterImages")
             for r in init[3:]}
    pupd = [r for r in recs if r["operation"] == "UPDATE"
            and r["objectName"] == P][0]
    eq(image(pupd, "beforeImages"), pinit["1"],
       "plain row 1: INIT equals the UPDATE's before image")
    return t1


# ---------------------------------------------------------------------------
# 2. Control and HTTP.
def control(d, t1):
    st, ctype, body = d.get("/healthz")
    eq(st, 200, "/healthz status")
    eq(json.loads(body)["status"], "ok", "/healthz body")
    st, _, body = d.get("/jobs")
    jobs = json.loads(body)
    check(any(x["phase"] == "incremental" for x in jobs), f"/jobs: {jobs}")
    # Caught up: no binlog left to read (measured every 5 s).
    wait(lambda: any(x.get("lag_bytes") == 0 for x in json.loads(
        d.get("/jobs")[2])), "lag_bytes 0 in /jobs", 25)
    st, ctype, body = d.get("/metrics")
    check(ctype.startswith("text/plain"), f"/metrics type {ctype}")
    metrics = {}
    for line in body.splitlines():
        if line.startswith("#") or not line:
            continue
        m = re.fullmatch(r'([a-z_]+)(\{[^}]*\})? (-?[0-9.e+]+)', line)
        check(m is not None, f"/metrics line is not Prometheus text: {line}")
        if m:
            metrics[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    jid = job("e2e")["id"]
    check(metrics.get(f'ferry_job_records_total{{job="{jid}"}}', 0) >= 28,
          f"records sent, in /metrics: {metrics}")
    check(metrics.get("ferry_jobs_running", 0) >= 1, "jobs running metric")

    ferry("job", "pause", "e2e")
    wait(lambda: not any(x["id"] == jid for x in json.loads(
        d.get("/jobs")[2])), "the daemon to let the paused job go", 10)
    db.sql(f"INSERT INTO {SCHEMA}.plain VALUES (5, 'five', 5)")
    time.sleep(1)
    eq(len(read_topic(t1)), 28, "nothing is written while paused")
    t0 = time.time()
    ferry("job", "resume", "e2e")
    wait(lambda: job("e2e")["state"] == "incremental", "resume", 10)
    check(time.time() - t0 < 5, "resume takes effect quickly")
    eq(len(read_topic(t1, expect=31)), 31, "the change made while paused "
       "arrives after resume, once")
    ferry("job", "stop", "e2e")
    wait(lambda: not any(x["id"] == jid for x in json.loads(
        d.get("/jobs")[2])), "stop", 10)
    db.sql(f"INSERT INTO {SCHEMA}.plain VALUES (6, 'six', 6)")
    ferry("job", "start", "e2e")
    recs = [r for _, _, _, r in read_topic(t1, expect=34)]
    eq(len(recs), 34, "stop then start: the change arrives once")
    eq([r["id"] for r in recs], list(range(1, 35)), "ids still 1..34")
    log = json.loads(ferry("job", "log", "e2e", "--json").stdout)
    kinds = [e["kind"] for e in log]
    for k in ("pause", "resume", "stop", "start"):
        check(k in kinds, f"job log has {k}: {kinds}")


def control_socket(d, t1):
    """The control socket beside the store: with a poll of a minute, a
    pause and a resume from the CLI take effect at once because the CLI
    wakes the daemon; ping, jobs and an unknown command answered; a second
    daemon asked for the same socket refused; a killed daemon's socket
    file replaced by the next one."""
    path = ENV["FERRY_DB"] + ".sock"
    d.kill(signal.SIGTERM)
    check(not os.path.exists(path), "a stopped daemon removes its socket")
    d = Daemon("--poll-ms", "60000")
    jid = job("e2e")["id"]
    wait(lambda: running_phase(d, jid) == "incremental", "e2e again", 30)
    check(stat.S_ISSOCK(os.stat(path).st_mode) and
          stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0,
          "the control socket is the owner's only")

    def ask(*lines):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
            c.settimeout(10)
            c.connect(path)
            f = c.makefile("rw")
            out = []
            for line in lines:
                f.write(line + "\n")
                f.flush()
                out.append(f.readline().rstrip("\n"))
            return out
    pong, jobs, bad = ask("ping", "jobs", "bogus")
    check(re.fullmatch(r"ok ferry \S+ pid \d+", pong), f"ping: {pong!r}")
    check(any(x["id"] == jid for x in json.loads(jobs)), f"jobs: {jobs}")
    check(bad.startswith("error: unknown command"), f"bogus: {bad!r}")
    t0 = time.time()
    ferry("job", "pause", "e2e")
    check(running_phase(d, jid) is None or wait(
        lambda: running_phase(d, jid) is None, "pause", 5),
        "the paused job let go")
    ferry("job", "resume", "e2e")
    wait(lambda: running_phase(d, jid) == "incremental", "resume", 10)
    check(time.time() - t0 < 8, "pause and resume take effect at once with "
          f"a poll of 60 s ({time.time() - t0:.1f} s)")
    p = subprocess.run([FERRY, "serve", "--control", path], env=ENV,
                       capture_output=True, text=True, timeout=30)
    eq(p.returncode, 1, "a second daemon on the same socket: exit 1")
    check("another ferry serve answers" in p.stderr, f"why: {p.stderr}")
    d.kill(signal.SIGKILL)
    check(os.path.exists(path), "a killed daemon leaves its socket file")
    d = Daemon()
    wait(lambda: running_phase(d, jid) == "incremental", "e2e once more", 30)
    eq(ask("ping")[0][:9], "ok ferry ", "the next daemon took the socket")
    return d


def schema_history(d):
    """The binlog phase versions each table's definition: an ALTER TABLE
    read from the binlog makes version 2 at its position, with its text
    and the shape the next row showed; a table altered where the binlog
    does not show it (sql_log_bin=0) stops the job with a reason that says
    so, instead of mislabelling its columns."""
    t = f"ferry-schema-{TAG}"
    topic(t, 1)
    db.sql(f"CREATE TABLE {SCHEMA}.drift (id INT PRIMARY KEY, a INT)")
    ferry("job", "create", "drift", "--source", "src", "--target", "k",
          "--topic", t, "--tables", f"{SCHEMA}.drift")
    ferry("job", "start", "drift")
    jid = job("drift")["id"]
    wait(lambda: job("drift")["state"] == "incremental", "drift runs")
    db.sql(f"INSERT INTO {SCHEMA}.drift VALUES (1, 1); "
           f"ALTER TABLE {SCHEMA}.drift ADD COLUMN b VARCHAR(10); "
           f"INSERT INTO {SCHEMA}.drift VALUES (2, 2, 'two')")
    wait(lambda: any(r["operation"] == "INSERT" and
                     image(r, "afterImages")["id"]["value"] == "2"
                     for _, _, _, r in read_topic(t, timeout=5)),
         "the row after the ALTER", 30)
    con = sqlite3.connect(ENV["FERRY_DB"])
    rows = con.execute("SELECT version, ddl, definition FROM schema_history "
                       "WHERE job_id = ? AND tbl = 'drift' ORDER BY version",
                       (jid,)).fetchall()
    con.close()
    eq([r[0] for r in rows], [1, 2], "versions: the snapshot's, the ALTER's")
    check(rows[0][1].startswith("CREATE TABLE `drift`"),
          f"version 1 is the snapshot's CREATE TABLE: {rows[0][1]!r}")
    check("ADD COLUMN b" in rows[1][1], f"version 2's DDL: {rows[1][1]!r}")
    eq([c["name"] for c in json.loads(rows[1][2])["columns"]],
       ["id", "a", "b"], "version 2's columns, as the next row showed")
    db.sql(f"SET sql_log_bin = 0; "
           f"ALTER TABLE {SCHEMA}.drift ADD COLUMN c INT; "
           f"SET sql_log_bin = 1; "
           f"INSERT INTO {SCHEMA}.drift VALUES (3, 3, 'three', 3)")
    j = wait(lambda: (lambda x: x if x["state"] == "failed" else None)(
        job("drift")), "the job to stop on the unseen change", 30)
    if j:
        check("changed shape" in j["error"] and "no DDL" in j["error"] and
              f"{SCHEMA}.drift" in j["error"] and "sql_log_bin" in
              j["error"], f"the reason says what happened: {j['error']}")
    recs = read_topic(t, timeout=5)
    check(not any(r["operation"] == "INSERT" and
                  image(r, "afterImages")["id"]["value"] == "3"
                  for _, _, _, r in recs),
          "the row of the unseen shape is not sent")


# ---------------------------------------------------------------------------
# 2b. Rows larger than a Kafka message.
def large_rows(d):
    """Rows against the target topic's max.message.bytes, read from the
    broker: a 2 MiB row under --large-row fail (Kafka's default) fails the
    job saying which row and what would continue; under skip it is logged
    and the next rows arrive; a topic raised to 20 MB takes it and a
    16 MiB row (PERFORMANCE.md's largest); a topic
    lowered to 60 kB refuses a 100 kB row the default topic takes."""
    t4 = f"ferry-large-{TAG}"
    # Kafka's default (the sandbox broker allows 64 MiB).
    topic(t4, 1, "max.message.bytes=1048588")
    big, small = f"ferry-large20m-{TAG}", f"ferry-large60k-{TAG}"
    topic(big, 1, "max.message.bytes=20000000")
    topic(small, 1, "max.message.bytes=60000")
    db.sql(f"CREATE TABLE {SCHEMA}.blobs (id INT PRIMARY KEY, b LONGBLOB)")
    for name, policy, t in (("lfail", "fail", t4), ("lskip", "skip", t4),
                            ("lbig", "fail", big), ("lsmall", "skip", small)):
        ferry("job", "create", name, "--source", "src", "--target", "k",
              "--topic", t, "--tables", f"{SCHEMA}.blobs", "--initial",
              "none", "--large-row", policy)
        ferry("job", "start", name)
    for name in ("lfail", "lskip", "lbig", "lsmall"):
        wait(lambda: job(name)["state"] == "incremental", f"{name} runs")
    db.sql(f"INSERT INTO {SCHEMA}.blobs VALUES (1, REPEAT('x', 2097152))")
    db.sql(f"INSERT INTO {SCHEMA}.blobs VALUES (2, 'small')")
    db.sql(f"INSERT INTO {SCHEMA}.blobs VALUES (3, REPEAT('y', 100000))")
    db.sql(f"INSERT INTO {SCHEMA}.blobs VALUES (4, REPEAT('z', 16777216))")
    j = wait(lambda: (lambda x: x if x["state"] == "failed" else None)(
        job("lfail")), "the fail job to fail", 30)
    if j:
        check("over the" in j["error"] and f"{SCHEMA}.blobs" in j["error"]
              and "--large-row skip" in j["error"],
              f"the reason names the row and the way on: {j['error']}")

    def inserted(t):
        return [image(r, "afterImages")["id"]["value"] for _, _, _, r in
                read_topic(t, timeout=5) if r["operation"] == "INSERT"]
    for t, want, what in ((t4, ["2", "3"], "skip: the rows under the "
                           "default limit arrive, the 2 MiB one does not"),
                          (big, ["1", "2", "3", "4"], "a topic of 20 MB "
                           "takes the 2 MiB row and a 16 MiB one"),
                          (small, ["2"], "a topic of 60 kB: the 100 kB row "
                           "skipped too")):
        wait(lambda: inserted(t) == want, what, 30)
        eq(inserted(t), want, what)
    for name, limit in (("lskip", "1044492"), ("lsmall", "55904")):
        log = json.loads(ferry("job", "log", name, "--json").stdout)
        check(any(e["kind"] == "skip" and f"{limit}-byte" in e["message"]
                  for e in log), f"{name}: the job log says what was "
              f"skipped, and the topic's limit: {log[-3:]}")
        eq(job(name)["state"], "incremental", f"{name}: the job goes on")
    for name in ("lskip", "lbig", "lsmall"):
        ferry("job", "stop", name)


# ---------------------------------------------------------------------------
# 3. Crashes under load.
def crashes(d):
    t2 = f"ferry-crash-{TAG}"
    topic(t2, 3)
    db.sql(f"CREATE TABLE {SCHEMA}.churn (id INT PRIMARY KEY, v INT, "
           "note VARCHAR(40))")
    ferry("job", "create", "crash", "--source", "src", "--target", "k",
          "--topic", t2, "--tables", f"{SCHEMA}.churn", "--partition", "pk",
          "--initial", "none")
    ferry("job", "start", "crash")
    wait(lambda: job("crash")["state"] == "incremental", "crash job")
    done = threading.Event()
    expected = []		# (op, id, v) in commit order

    def writer():
        """One client session, statements paced over the kill loop; the
        expected changes are computed here (one writer: commit order is
        the order sent)."""
        rnd = random.Random(7)
        vals = {}
        cli = session()
        for n in range(1, 1501):
            if done.is_set():
                break
            if rnd.random() < 0.5 or len(vals) < 2:
                k = rnd.randrange(1, 200)
                cli.stdin.write(f"INSERT INTO churn VALUES ({n}, {k}, "
                                f"'n{n}');\n")
                vals[n] = k
                expected.append(("INSERT", n, k))
            else:
                ids = sorted(rnd.sample(sorted(vals), 2))
                cli.stdin.write(f"BEGIN; UPDATE churn SET v = v + 1 WHERE id "
                                f"IN ({ids[0]}, {ids[1]}); COMMIT;\n")
                for i in ids:
                    vals[i] += 1
                    expected.append(("UPDATE", i, vals[i]))
            cli.stdin.flush()
            time.sleep(0.012)
        end_session(cli)
    w = threading.Thread(target=writer)
    w.start()
    rnd = random.Random(11)
    kills = 0
    while w.is_alive() and kills < 20:
        time.sleep(rnd.uniform(0.2, 1.0))
        d.kill(signal.SIGKILL)
        kills += 1
        d = Daemon()
    w.join()
    check(kills >= 20, f"only {kills} kills happened before the load ended")
    end = time.time() + 120
    while True:
        recs = read_topic(t2)
        rows = [(p, o, h, r) for p, o, h, r in recs
                if r["operation"] in ("INSERT", "UPDATE", "DELETE")]
        if len(rows) >= len(expected) or time.time() > end:
            break
        time.sleep(1)
    ids = [r["id"] for _, _, _, r in recs]
    eq(len(ids), len(set(ids)), f"no record twice after {kills} SIGKILLs")
    srt = sorted(recs, key=lambda x: x[3]["id"])
    check(ids and sorted(ids) == list(range(min(ids), min(ids) + len(ids))),
          "no id missing")
    got = [(r["operation"], int(image(r, "afterImages")["id"]["value"]),
            int(image(r, "afterImages")["v"]["value"]))
           for _, _, _, r in srt if r["operation"] in ("INSERT", "UPDATE")]
    eq(len(got), len(expected), "every change arrived")
    check(got == expected, "the changes, in id order, are the writer's, "
          "in commit order")
    # Per partition, offsets and ids rise together.
    for part in range(3):
        pid = [r["id"] for p, _, _, r in sorted(recs, key=lambda x: x[1])
               if p == part]
        check(pid == sorted(pid), f"partition {part} is in id order")
    for p, o, h, r in rows:
        check(h.get("ferry.job") == job("crash")["identity"] and
              h.get("ferry.id") == str(r["id"]), "headers ferry.job (the "
              "job's identity), ferry.id")
        break
    return d


# ---------------------------------------------------------------------------
# 4. Crashes during the full sync, then during the binlog phase.
def session():
    """A mariadb client session on SCHEMA, statements fed on its stdin."""
    return subprocess.Popen(
        ["mariadb", f"--defaults-extra-file={db.cnf.name}", "-N", "-B",
         "--unbuffered", SCHEMA], stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def end_session(cli):
    cli.stdin.close()
    err = cli.stderr.read()
    check(cli.wait() == 0, f"the writer's session failed: {err}")


def random_change(rnd, table, top):
    """A statement on table (id, v, note): an INSERT of the key after
    top[table], or an UPDATE or a DELETE of a key up to it (40/40/20)."""
    r = rnd.random()
    if r < 0.4:
        top[table] += 1
        n = top[table]
        return f"INSERT INTO {table} VALUES ({n}, {n % 7}, 'new {n}');"
    if r < 0.8:
        return (f"UPDATE {table} SET v = v + 1, note = 'upd' WHERE id = "
                f"{rnd.randrange(1, top[table] + 1)};")
    return (f"DELETE FROM {table} WHERE id = "
            f"{rnd.randrange(1, top[table] + 1)};")


def replay(recs, table=None):
    """Replay records (id, v, note) of one table (objectName TABLE, any when
    None) in id order: the rows they build, and what went wrong (an UPDATE
    or DELETE whose before image is not the row, an INSERT or INIT whose
    key is taken, a key copied twice)."""
    state, problems, inits = {}, [], set()
    for r in sorted(recs, key=lambda r: r["id"]):
        op = r["operation"]
        if op not in ("INIT", "INSERT", "UPDATE", "DELETE"):
            continue
        if table is not None and r["objectName"] != table:
            continue
        a = image(r, "afterImages") if r["afterImages"] else None
        b = image(r, "beforeImages") if r["beforeImages"] else None
        row = lambda img: (int(img["v"]["value"]),
                           img["note"]["value"].decode())
        if op in ("INIT", "INSERT"):
            k = int(a["id"]["value"])
            if k in state:
                problems.append(f"{op} of key {k} already there "
                                f"(id {r['id']})")
            if op == "INIT":
                if k in inits:
                    problems.append(f"key {k} copied twice")
                inits.add(k)
            state[k] = row(a)
        else:
            k = int(b["id"]["value"])
            if state.get(k) != row(b):
                problems.append(f"{op} of key {k} (id {r['id']}): "
                                f"before {row(b)}, replay {state.get(k)}")
            if op == "UPDATE":
                state[int(a["id"]["value"])] = row(a)
                if int(a["id"]["value"]) != k:
                    del state[k]
            else:
                state.pop(k, None)
    return state, problems


def crashes_full(d):
    """A 40,000-row table copied in 250-row chunks while a writer inserts,
    updates and deletes, the daemon killed 20 times from the first chunk on
    (8 times in the copy, after a random number of records).
    Replaying the topic in id order must rebuild the table exactly: every
    UPDATE and DELETE finds the row as its before image says, no INSERT
    finds its key taken, no key is copied twice, and the result equals
    SELECT."""
    t3 = f"ferry-crashfull-{TAG}"
    topic(t3, 3)
    db.sql(f"CREATE TABLE {SCHEMA}.big (id INT PRIMARY KEY, v INT, "
           "note VARCHAR(40)); "
           f"INSERT INTO {SCHEMA}.big SELECT seq, seq % 1000, "
           f"CONCAT('row ', seq) FROM {SCHEMA}.seq_1_to_40000")
    ferry("job", "create", "crashfull", "--source", "src", "--target", "k",
          "--topic", t3, "--tables", f"{SCHEMA}.big", "--partition", "pk",
          "--initial", "full")
    done = threading.Event()

    def writer():
        rnd = random.Random(3)
        cli = session()
        top = {"big": 40000}
        while not done.is_set():
            q = random_change(rnd, "big", top)
            cli.stdin.write(q + "\n")
            cli.stdin.flush()
            time.sleep(0.01)
        end_session(cli)
    d.kill(signal.SIGTERM)
    d = Daemon("--chunk-rows", "250")
    w = threading.Thread(target=writer)
    w.start()
    ferry("job", "start", "crashfull")
    rnd = random.Random(5)
    states = []
    cfid = job("crashfull")["id"]
    for kill in range(20):
        # Let the restarted daemon take the job up again (its lease must
        # expire first; the store may still show the state the killed
        # daemon left, so ask the new daemon what it runs).
        # Watched closely: a generation copies thousands of rows a
        # second, and the kill must come while it does.
        wait(lambda: running_phase(d, cfid) in ("full_sync",
                                                "incremental"),
             "the job to run again", 30, every=0.005)
        if kill < 8:
            # The copy goes fast: kill it after a random number of
            # records, from the first one on, watched closely.
            want = rnd.randrange(1, 1500)
            end = time.time() + 30
            while time.time() < end:
                r = running_stats(d, cfid)
                if r is None or r["records"] >= want or \
                        r["phase"] != "full_sync":
                    break
                time.sleep(0.005)
        else:
            time.sleep(rnd.uniform(0.1, 0.9))
        states.append(running_phase(d, cfid))
        d.kill(signal.SIGKILL)
        d = Daemon("--chunk-rows", "250")
    done.set()
    w.join()
    print(f"states at the kills: {states}", flush=True)
    check(states.count("full_sync") >= 6, f"at least 6 kills hit the full "
          f"sync: states at the kills {states}")
    check(states[-1] == "incremental", f"the last kills hit the binlog "
          f"phase: {states}")
    want = {int(r[0]): (int(r[1]), r[2]) for r in
            db.sql(f"SELECT id, v, note FROM {SCHEMA}.big")}
    end = time.time() + 180
    while True:
        j = job("crashfull")
        recs = sorted((r for _, _, _, r in read_topic(t3)),
                      key=lambda r: r["id"])
        state, problems = replay(recs)
        if (state == want and not problems) or time.time() > end:
            break
        time.sleep(2)
    ids = [r["id"] for r in recs]
    eq(len(ids), len(set(ids)), "no id twice")
    check(not problems, f"{len(problems)} replay problems, the first: "
          f"{problems[:5]}")
    eq(len(state), len(want), "rows rebuilt from the topic")
    check(state == want, "the topic replayed equals SELECT after "
          f"{len(states)} SIGKILLs ({states.count('full_sync')} in the full "
          "sync)")
    return d


def add_tables(d):
    """A job following one table gets a second one (ferry job add-tables)
    while a writer changes both: the daemon restarts the job, which copies
    the new table at a snapshot of its own and then follows both, with the
    daemon killed 10 times from the catch-up on (6 times in the copy).
    Replaying the topic must rebuild both tables exactly, no id twice.
    Then a RENAME moves the first table out of the selection: its changes
    stop; adding its new name copies it under that name."""
    t4 = f"ferry-add-{TAG}"
    topic(t4, 3)
    A, B = f"{SCHEMA}.acc_a", f"{SCHEMA}.acc_b"
    for name, n in ((A, 2000), (B, 30000)):
        db.sql(f"CREATE TABLE {name} (id INT PRIMARY KEY, v INT, "
               f"note VARCHAR(40)); INSERT INTO {name} SELECT seq, seq % 100, "
               f"CONCAT('row ', seq) FROM {SCHEMA}.seq_1_to_{n}")
    ferry("job", "create", "adder", "--source", "src", "--target", "k",
          "--topic", t4, "--tables", A, "--partition", "pk")
    ferry("job", "start", "adder")
    aid = job("adder")["id"]
    wait(lambda: job("adder")["state"] == "incremental", "adder job")
    done = threading.Event()

    def writer():
        rnd = random.Random(11)
        cli = session()
        top = {"acc_a": 2000, "acc_b": 30000}
        while not done.is_set():
            q = random_change(rnd, rnd.choice(("acc_a", "acc_b")), top)
            if rnd.random() < 0.2:	# some transactions span both
                q = (f"BEGIN; {q} UPDATE acc_a SET v = v + 1 WHERE id = "
                     f"{rnd.randrange(1, top['acc_a'] + 1)}; COMMIT;")
            cli.stdin.write(q + "\n")
            cli.stdin.flush()
            time.sleep(0.01)
        end_session(cli)
    w = threading.Thread(target=writer)
    w.start()
    time.sleep(1)
    out = ferry("job", "add-tables", "adder", B).stdout
    check("1 table added" in out, f"add-tables says what it did: {out!r}")
    out = ferry("job", "add-tables", "adder", B).stdout
    check("already selects" in out, f"adding it twice: {out!r}")
    rnd = random.Random(13)
    phases = []
    for kill in range(10):
        wait(lambda: running_phase(d, aid) in ("catching_up", "full_sync",
                                               "incremental"),
             "the job to run again", 30, every=0.005)
        if kill < 6:
            # The first time, the daemon has yet to restart the job.
            end = time.time() + 15
            while time.time() < end and running_phase(d, aid) not in (
                    "catching_up", "full_sync") and "added 1 table" not in \
                    ferry("job", "log", "adder").stdout:
                time.sleep(0.01)
            want = rnd.randrange(1, 2000)
            end = time.time() + 30
            while time.time() < end:
                r = running_stats(d, aid)
                if r is None or r["phase"] == "incremental" or \
                        (r["phase"] == "full_sync" and r["records"] >= want):
                    break
                time.sleep(0.005)
        else:
            time.sleep(rnd.uniform(0.1, 0.9))
        phases.append(running_phase(d, aid))
        d.kill(signal.SIGKILL)
        d = Daemon("--chunk-rows", "500")
    print(f"phases at the kills: {phases}", flush=True)
    check(phases.count("full_sync") >= 3, f"at least 3 kills hit the copy "
          f"of the added table: {phases}")
    wait(lambda: running_phase(d, aid) == "incremental", "the added table's "
         "copy to finish", 120)
    done.set()
    w.join()
    want = {t: {int(r[0]): (int(r[1]), r[2]) for r in
                db.sql(f"SELECT id, v, note FROM {t}")} for t in (A, B)}
    end = time.time() + 120
    while True:
        recs = [r for _, _, _, r in read_topic(t4)]
        got = {t: replay(recs, t) for t in (A, B)}
        if all(got[t][0] == want[t] and not got[t][1] for t in (A, B)) or \
                time.time() > end:
            break
        time.sleep(2)
    ids = [r["id"] for r in recs]
    eq(len(ids), len(set(ids)), "add-tables: no id twice")
    for t in (A, B):
        check(not got[t][1], f"{t}: {len(got[t][1])} replay problems, the "
              f"first: {got[t][1][:5]}")
        eq(len(got[t][0]), len(want[t]), f"{t}: rows rebuilt from the topic")
        check(got[t][0] == want[t], f"{t}: the topic replayed equals SELECT "
              f"after add-tables and {len(phases)} SIGKILLs")
    ddl = [r for r in recs if r["operation"] == "DDL" and
           "CREATE TABLE `acc_b`" in r["afterImages"]]
    # (A kill between the DDL's acknowledgement and the progress saved
    # after it sends it again: DESIGN.md section 7, limits.)
    check(len(ddl) >= 1, "a DDL record for the added table")
    log = ferry("job", "log", "adder").stdout
    check("added 1 table" in log, f"the job log tells of the copy: {log}")

    # A rename out of the selection, then the new name added.
    db.sql(f"RENAME TABLE {A} TO {SCHEMA}.acc_a_old; "
           f"INSERT INTO {SCHEMA}.acc_a_old VALUES (900001, 1, 'renamed'); "
           f"INSERT INTO {B} VALUES (900002, 2, 'marker')")
    wait(lambda: any(r["operation"] == "INSERT" and
                     int(image(r, "afterImages")["id"]["value"]) == 900002
                     for _, _, _, r in read_topic(t4)), "the marker row", 60)
    recs = [r for _, _, _, r in read_topic(t4)]
    check(not any(r["objectName"] == f"{SCHEMA}.acc_a_old" for r in recs),
          "a table renamed out of the selection is no longer carried")
    ferry("job", "add-tables", "adder", f"{SCHEMA}.acc_a_old")
    n_old = int(db.one(f"SELECT count(*) FROM {SCHEMA}.acc_a_old"))
    wait(lambda: sum(1 for _, _, _, r in read_topic(t4)
                     if r["operation"] == "INIT" and
                     r["objectName"] == f"{SCHEMA}.acc_a_old") == n_old,
         "the renamed table copied under its new name", 60)
    return d


def ddl_forward(d):
    """--ddl forward: every DDL that shapes a selected table goes to Kafka,
    as a DDL record under that table's database, whatever the session's
    default database: the table's own (USE db; ALTER TABLE t), none
    (ALTER TABLE db.t), or another; a DDL of a table the job does not
    carry does not go, even when run from the selected table's database.
    The records are read with python3-avro."""
    t = f"ferry-ddlfwd-{TAG}"
    topic(t, 1)
    db.sql(f"CREATE TABLE {SCHEMA}.fwd (id INT PRIMARY KEY, a INT); "
           f"CREATE TABLE {SCHEMA}.fwd_other (id INT PRIMARY KEY)")
    ferry("job", "create", "fwd", "--source", "src", "--target", "k",
          "--topic", t, "--tables", f"{SCHEMA}.fwd", "--ddl", "forward",
          "--initial", "none")
    ferry("job", "start", "fwd")
    wait(lambda: job("fwd")["state"] == "incremental", "fwd runs")
    db.sql(f"ALTER TABLE {SCHEMA}.fwd ADD COLUMN b INT")
    db.sql(f"USE {SCHEMA}; ALTER TABLE fwd ADD COLUMN c INT")
    db.sql(f"USE mysql; ALTER TABLE {SCHEMA}.fwd ADD COLUMN e INT")
    db.sql(f"USE {SCHEMA}; ALTER TABLE fwd_other ADD COLUMN x INT")
    db.sql(f"ALTER TABLE {SCHEMA}.fwd_other ADD COLUMN y INT")
    db.sql(f"INSERT INTO {SCHEMA}.fwd VALUES (1, 1, 2, 3, 4)")
    recs = [r for _, _, _, r in read_topic(t, expect=6)]
    eq([(r["operation"], r["objectName"]) for r in recs],
       [("DDL", SCHEMA)] * 3 + [("BEGIN", SCHEMA),
                                ("INSERT", f"{SCHEMA}.fwd"),
                                ("COMMIT", SCHEMA)],
       "three DDL records, each under the table's database, then the row")
    ddl = [r["afterImages"] for r in recs if r["operation"] == "DDL"]
    check(len(ddl) == 3 and "ADD COLUMN b" in ddl[0] and "ADD COLUMN c" in
          ddl[1] and "ADD COLUMN e" in ddl[2],
          f"the statements, in order: {ddl}")
    check(not any("fwd_other" in x for x in ddl),
          "no DDL of the table the job does not carry")
    ferry("job", "stop", "fwd")


def unique_keys(d):
    """pk_uk_info names the primary key and every unique key, each with
    its columns in the key's order (DTS's shape), in INIT records and in
    binlog records (the binlog carries only the primary key), and follows
    the keys through ALTER TABLE ... ADD UNIQUE and DROP INDEX.  Read with
    python3-avro; the expected keys are the ones the SQL below made."""
    t = f"ferry-uk-{TAG}"
    topic(t, 1)
    db.sql(f"CREATE TABLE {SCHEMA}.uk (id INT PRIMARY KEY, a INT NOT NULL, "
           f"b INT NOT NULL, v_u VARCHAR(10), c INT, "
           f"UNIQUE KEY uk_vu (v_u), UNIQUE KEY uk_ba (b, a), KEY k_c (c)); "
           f"INSERT INTO {SCHEMA}.uk VALUES (1, 1, 1, 'x', 1)")
    ferry("job", "create", "uk", "--source", "src", "--target", "k",
          "--topic", t, "--tables", f"{SCHEMA}.uk", "--initial", "full")
    ferry("job", "start", "uk")
    wait(lambda: job("uk")["state"] == "incremental", "uk runs")
    db.sql(f"INSERT INTO {SCHEMA}.uk VALUES (2, 2, 2, 'y', 2)")
    db.sql(f"ALTER TABLE {SCHEMA}.uk ADD UNIQUE KEY uk_c (c)")
    db.sql(f"UPDATE {SCHEMA}.uk SET v_u = 'z' WHERE id = 2")
    db.sql(f"DROP INDEX uk_vu ON {SCHEMA}.uk")
    db.sql(f"DELETE FROM {SCHEMA}.uk WHERE id = 1")
    recs = [r for _, _, _, r in read_topic(t, expect=10)]
    rows = [(r["operation"], json.loads(r["tags"]["pk_uk_info"]))
            for r in recs if r["operation"] in
            ("INIT", "INSERT", "UPDATE", "DELETE")]
    before = {"PRIMARY": ["id"], "uk_ba": ["b", "a"], "uk_vu": ["v_u"]}
    added = dict(before, uk_c=["c"])
    dropped = {"PRIMARY": ["id"], "uk_ba": ["b", "a"], "uk_c": ["c"]}
    eq(rows, [("INIT", before), ("INSERT", before), ("UPDATE", added),
              ("DELETE", dropped)],
       "pk_uk_info: the keys as the SQL made them, row by row")
    ferry("job", "stop", "uk")


def recreated_job(d):
    """A job removed and made again with the same name and topic: its
    resume must not take the old job's records for its own.  It gets a new
    store id (SQLite would reuse the highest: the old job's thread, still
    draining, then saved its checkpoint as the new job's) and a new
    identity in the records, so the second copy is whole: INIT of all five
    rows after the first job's three (before, the new job skipped the ids
    the old one had written)."""
    t = f"ferry-recreated-{TAG}"
    topic(t, 1)
    db.sql(f"CREATE TABLE {SCHEMA}.rc (id INT PRIMARY KEY); "
           f"INSERT INTO {SCHEMA}.rc VALUES (1), (2), (3)")
    first = json.loads(ferry("job", "create", "rc", "--source", "src",
                             "--target", "k", "--topic", t, "--tables",
                             f"{SCHEMA}.rc", "--initial", "full",
                             "--json").stdout)
    ferry("job", "start", "rc")
    wait(lambda: job("rc")["state"] == "incremental", "rc runs")
    ferry("job", "stop", "rc")
    wait(lambda: job("rc")["state"] == "stopped", "rc stops")
    ferry("job", "rm", "rc")
    db.sql(f"INSERT INTO {SCHEMA}.rc VALUES (4), (5)")
    again = json.loads(ferry("job", "create", "rc", "--source", "src",
                             "--target", "k", "--topic", t, "--tables",
                             f"{SCHEMA}.rc", "--initial", "full",
                             "--json").stdout)
    check(again["id"] > first["id"], "ids are never reused: "
          f"{first['id']} then {again['id']}")
    check(again["identity"] != first["identity"] and
          again["server_id"] != first["server_id"], "but a new identity, and "
          "a server_id of its own (the old one's binlog connection may "
          "still be registered on the source)")
    ferry("job", "start", "rc")
    wait(lambda: job("rc")["state"] == "incremental", "rc runs again")
    recs = [r for _, _, _, r in read_topic(t, expect=8)]
    inits = [image(r, "afterImages")["id"]["value"] for r in recs
             if r["operation"] == "INIT"]
    eq(inits, ["1", "2", "3", "1", "2", "3", "4", "5"],
       "the first job's copy, then the second's, whole")
    ferry("job", "stop", "rc")


def main():
    pw = os.environ["FERRY_TEST_MYSQL_PASSWORD_FILE"]
    ferry("endpoint", "add", "src", "--mysql", os.environ["FERRY_TEST_MYSQL"],
          "--password-file", pw)
    ferry("endpoint", "add", "k", "--kafka", BROKER)
    d = Daemon()
    try:
        t0 = time.time()
        t1 = end_to_end(d)
        print(f"end to end: {time.time() - t0:.1f} s", flush=True)
        t0 = time.time()
        control(d, t1)
        print(f"control: {time.time() - t0:.1f} s", flush=True)
        t0 = time.time()
        d = control_socket(d, t1)
        print(f"control socket: {time.time() - t0:.1f} s", flush=True)
        large_rows(d)
        schema_history(d)
        ddl_forward(d)
        unique_keys(d)
        recreated_job(d)
        t0 = time.time()
        d = crashes(d)
        print(f"crashes: {time.time() - t0:.1f} s", flush=True)
        t0 = time.time()
        d = crashes_full(d)
        print(f"crashes in the full sync: {time.time() - t0:.1f} s",
              flush=True)
        t0 = time.time()
        d = add_tables(d)
        print(f"add-tables: {time.time() - t0:.1f} s", flush=True)
        # SIGTERM: drains and exits 0.
        d.p.send_signal(signal.SIGTERM)
        eq(d.p.wait(timeout=30), 0, "SIGTERM: exit status 0")
    finally:
        if d.p.poll() is None:
            d.kill()
        db.sql(f"DROP DATABASE IF EXISTS {SCHEMA}")
    log = open(os.path.join(TMP, "serve.log")).read()
    check(open(pw).read().strip() == "" or open(pw).read().strip() not in log,
          "the MySQL password is not in the daemon's log")


main()
import ferrytest  # noqa: E402
if ferrytest.failures:
    print(f"the store and the daemon's log are kept in {TMP}", file=sys.stderr)
else:
    subprocess.run(["rm", "-rf", TMP])
finish()
