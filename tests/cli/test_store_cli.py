#!/usr/bin/env python3
"""The job-queue commands (docs/CLI.md) on a temporary store, through the
real binary: tenant, endpoint, job and status, every --json parsed back,
every refused input leaving the store exactly as it was (a full SQL dump,
taken with Python's own sqlite3, compared before and after), and secrets
absent from output, from the store file and from the process table.

Needs no server: nothing here connects anywhere.
"""
import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests", "lib"))
from ferrytest import check, eq, finish  # noqa: E402

FERRY = os.environ["FERRY_BIN"]
TMP = tempfile.mkdtemp(prefix="ferry-cli-store-")
DB = os.path.join(TMP, "store", "ferry.db")
SECRET = "Sup3r-s3cret-%d" % os.getpid()
ENV = dict(os.environ, FERRY_DB=DB)
ENV.pop("FERRY_TENANT", None)


def ferry(*args, env=None, db=True):
    argv = [FERRY] + list(args)
    p = subprocess.run(argv, capture_output=True, text=True,
                       env=env or ENV, timeout=60)
    for stream in (p.stdout, p.stderr):
        check(SECRET not in stream,
              "secret printed by %s: %s" % (" ".join(args), stream))
    return p


def ok(*args, **kw):
    p = ferry(*args, **kw)
    check(p.returncode == 0, "ferry %s: exit %d, stderr %s" %
          (" ".join(args), p.returncode, p.stderr.strip()))
    return p.stdout


def js(*args, **kw):
    out = ok(*args, "--json", **kw)
    try:
        return json.loads(out)
    except ValueError as e:
        check(False, "ferry %s --json: not JSON (%s): %r" %
              (" ".join(args), e, out))
        return None


def dump():
    """Everything in the store, as SQL text, read by Python's sqlite3."""
    con = sqlite3.connect("file:%s?mode=ro" % DB, uri=True)
    try:
        return "\n".join(con.iterdump())
    finally:
        con.close()


def refused(args, rc, words, env=None):
    """The command fails with exit rc, one 'ferry: ' sentence containing
    words, and the store is unchanged."""
    before = dump()
    p = ferry(*args, env=env)
    what = "ferry " + " ".join(args)
    eq(p.returncode, rc, what + " exit status (stderr: %s)" % p.stderr.strip())
    lines = p.stderr.strip().splitlines()
    check(len(lines) >= 1 and lines[0].startswith("ferry: "),
          what + ": stderr is not 'ferry: ...': %r" % p.stderr)
    check(len([l for l in lines if l.startswith("ferry: ")]) == 1,
          what + ": more than one error sentence: %r" % p.stderr)
    for w in words if isinstance(words, (list, tuple)) else [words]:
        check(w in p.stderr, what + ": stderr lacks %r: %r" % (w, p.stderr))
    check(dump() == before, what + ": the store changed")
    return p


def raw_store_bytes():
    data = b""
    for suffix in ("", "-wal", "-shm", ".key"):
        path = DB + suffix
        if os.path.exists(path):
            with open(path, "rb") as f:
                data += f.read()
    return data


pwfile = os.path.join(TMP, "pw")
with open(pwfile, "w") as f:
    f.write(SECRET + "\n")
os.chmod(pwfile, 0o600)

# --- tenants ---------------------------------------------------------------
ts = js("tenant", "list")
eq([t["name"] for t in ts], ["default"], "tenants of a new store")
st = os.stat(DB)
eq(stat.S_IMODE(st.st_mode), 0o600, "store file mode")
ok("tenant", "add", "acme", "--max-jobs", "2", "--max-memory", "256M",
   "--max-rows-per-sec", "10000")
t = js("tenant", "show", "acme")
eq((t["max_jobs"], t["max_memory"], t["max_rows_per_sec"]),
   (2, 256 << 20, 10000), "acme's quotas")
refused(["tenant", "add", "acme"], 1, "acme")
refused(["tenant", "add", "bad name"], 2, "character")
refused(["tenant", "add", "1234"], 2, "only digits")
refused(["tenant", "set", "acme", "--max-memory", "lots"], 2, "size")
refused(["tenant", "set", "nobody", "--max-jobs", "3"], 1, "nobody")
ok("tenant", "set", "acme", "--max-jobs", "3")
eq(js("tenant", "show", "acme")["max_jobs"], 3, "max_jobs after set")
refused(["--tenant", "ghost", "job", "list"], 1, "ghost")

# --- endpoints -------------------------------------------------------------
ok("endpoint", "add", "src", "--mysql", "mysql://repl@db1.example:3306",
   "--password-file", pwfile)
ENV["FERRY_TEST_PW"] = SECRET
ok("endpoint", "add", "src2", "--mysql", "mysql://repl@db2.example",
   "--password-env", "FERRY_TEST_PW", "--tls")
ok("endpoint", "add", "src3", "--mysql", "mysql://repl@db3.example",
   "--password-ref", "env:DB3_PASSWORD")
ok("endpoint", "add", "kafka", "--kafka", "k1.example:9092,k2.example:9092")
ok("endpoint", "add", "kafka-scram", "--kafka", "k1.example:9093",
   "--sasl", "scram-sha-256", "--username", "ferry", "--password-file",
   pwfile, "--kafka-version", "2.8.1")
eps = {e["name"]: e for e in js("endpoint", "list")}
eq(sorted(eps), ["kafka", "kafka-scram", "src", "src2", "src3"],
   "endpoints listed")
eq(eps["src"]["password"], "encrypted", "src password shown as")
eq(eps["src3"]["password"], "env:DB3_PASSWORD", "a reference is shown")
eq(eps["kafka"]["password"], "none", "no password")
eq(eps["src2"]["tls"], True, "src2 tls")
eq(eps["kafka-scram"]["sasl"], "scram-sha-256", "sasl mechanism")
eq(eps["kafka-scram"]["kafka_version"], "2.8.1", "kafka version hint")
e = js("endpoint", "show", "src")
eq((e["kind"], e["address"]), ("mysql", "mysql://repl@db1.example:3306"),
   "endpoint show")
check(SECRET.encode() not in raw_store_bytes(),
      "the password is in the store's files in clear")
eq(stat.S_IMODE(os.stat(DB + ".key").st_mode), 0o600, "key file mode")

refused(["endpoint", "add", "src", "--mysql", "mysql://x@h"], 1,
        "already exists")
refused(["endpoint", "add", "e1", "--mysql", "http://h:3306"], 2, "--mysql")
refused(["endpoint", "add", "e1", "--mysql", "mysql://u@h:99999"], 2,
        "--mysql")
refused(["endpoint", "add", "e1", "--mysql", "mysql://u:" + "pw@h"], 2,
        "contains a password")
refused(["endpoint", "add", "e1", "--kafka", "nohostport"], 2, "--kafka")
refused(["endpoint", "add", "e1", "--kafka", "h:1", "--sasl",
         "scram-sha-256"], 2, "--username")
refused(["endpoint", "add", "e1", "--kafka", "h:1", "--sasl", "gssapi",
         "--username", "u"], 2, "--sasl")
refused(["endpoint", "add", "e1", "--mysql", "mysql://u@h", "--bogus"], 2,
        "")
refused(["endpoint", "add", "e1"], 2, "--mysql")
refused(["endpoint", "add", "e1", "--mysql", "mysql://u@h",
         "--password-file", os.path.join(TMP, "nonexistent")], 1,
        "password file")
refused(["endpoint", "add", "e1", "--mysql", "mysql://u@h",
         "--password-ref", "vault:x"], 2, "--password-ref")
# endpoint set: changed in place, recorded, everything else kept.
e0 = js("endpoint", "show", "src2")
eq((e0["updated_at"], e0["updated_by"]), (None, None),
   "an endpoint never changed")
pw2 = os.path.join(TMP, "pw2")
with open(pw2, "w") as f:
    f.write("rotated-" + SECRET + "\n")
os.chmod(pw2, 0o600)
out = ok("endpoint", "set", "src2", "--password-file", pw2, "--no-tls")
check("changed" in out and "next attempt" in out, f"endpoint set says: {out}")
e1 = js("endpoint", "show", "src2")
eq((e1["id"], e1["address"], e1["password"], e1["tls"]),
   (e0["id"], e0["address"], "encrypted", False),
   "endpoint set: same id and address, new password, TLS off")
check(isinstance(e1["updated_at"], int) and e1["updated_at"] > 0 and
      "(cli)" in (e1["updated_by"] or ""), f"updated_at/by: {e1}")
check(("rotated-" + SECRET).encode() not in raw_store_bytes(),
      "the new password is in the store's files in clear")
check("changed:" in ok("endpoint", "show", "src2"),
      "endpoint show says when it changed")
ok("endpoint", "set", "kafka-scram", "--kafka", "k3.example:9093",
   "--kafka-version", "1.0.2")
e2 = js("endpoint", "show", "kafka-scram")
eq((e2["address"], e2["kafka_version"], e2["sasl"], e2["username"]),
   ("k3.example:9093", "1.0.2", "scram-sha-256", "ferry"),
   "endpoint set of a Kafka endpoint keeps what it does not name")
refused(["endpoint", "set", "src2"], 2, "nothing to change")
refused(["endpoint", "set", "nope", "--tls"], 1, "no endpoint named 'nope'")
refused(["endpoint", "set", "src2", "--kafka", "h:1"], 2,
        "MySQL endpoint")
refused(["endpoint", "set", "kafka", "--mysql", "mysql://u@h"], 2,
        "Kafka endpoint")
refused(["endpoint", "set", "kafka", "--password-file", pw2], 2,
        "a password goes with --sasl")
refused(["endpoint", "set", "src2", "--mysql", "mysql://u:" + "pw@h"], 2,
        "contains a password")
refused(["endpoint", "set", "src2", "--no-tls", "--tls-ca", pw2], 2,
        "contradict")
refused(["endpoint", "set", "src2", "--password-file", pw2,
         "--password-env", "X"], 2, "give one of")
refused(["endpoint", "add", "e1", "--mysql", "mysql://u@h", "--prompt"], 2,
        "--prompt is for endpoint set")
refused(["endpoint", "show", "nope"], 1, "no endpoint named 'nope'")
refused(["endpoint", "rm", "nope"], 1, "nope")
refused(["endpoint", "frob"], 2, "unknown endpoint command")

# The password never reaches argv: a command blocked reading its password
# file (a FIFO) is visible in the process table without it.
fifo = os.path.join(TMP, "pw.fifo")
os.mkfifo(fifo, 0o600)
proc = subprocess.Popen([FERRY, "endpoint", "add", "src4", "--mysql",
                         "mysql://repl@db4.example", "--password-file",
                         fifo], env=ENV, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)
time.sleep(0.3)
ps = subprocess.run(["ps", "-eo", "args"], capture_output=True,
                    text=True).stdout
check("src4" in ps, "the blocked ferry is not in ps output")
check(SECRET not in ps, "the secret is in the process table")
with open(fifo, "w") as f:
    f.write(SECRET + "\n")
out, err = proc.communicate(timeout=30)
eq(proc.returncode, 0, "endpoint add from a FIFO (stderr %s)" % err)
check(SECRET not in out + err, "secret in output")

# --- jobs ------------------------------------------------------------------
refusals = [
    (["job", "create", "j", "--source", "nope", "--target", "kafka",
      "--topic", "t", "--tables", "shop.orders"], 1, "no endpoint named"),
    (["job", "create", "j", "--source", "src", "--target", "nope",
      "--topic", "t", "--tables", "shop.orders"], 1, "no endpoint named"),
    (["job", "create", "j", "--source", "kafka", "--target", "kafka",
      "--topic", "t", "--tables", "shop.orders"], 1, "Kafka endpoint"),
    (["job", "create", "j", "--source", "src", "--target", "src2",
      "--topic", "t", "--tables", "shop.orders"], 1, "MySQL endpoint"),
    (["job", "create", "j", "--source", "src", "--target", "kafka",
      "--topic-template", "{db}.{tabel}", "--tables", "shop.orders"], 2,
     "unknown placeholder '{tabel}'"),
    (["job", "create", "j", "--source", "src", "--target", "kafka",
      "--topic-template", "fixed", "--tables", "shop.orders"], 2,
     "no placeholder"),
    (["job", "create", "j", "--source", "src", "--target", "kafka",
      "--topic", "bad topic", "--tables", "shop.orders"], 2, "--topic"),
    (["job", "create", "j", "--source", "src", "--target", "kafka",
      "--topic", "t", "--tables", ""], 2, "empty item"),
    (["job", "create", "j", "--source", "src", "--target", "kafka",
      "--topic", "t", "--tables", ","], 2, "empty item"),
    (["job", "create", "j", "--source", "src", "--target", "kafka",
      "--topic", "t", "--tables", "shop"], 2, "has no table"),
    (["job", "create", "j", "--source", "src", "--target", "kafka",
      "--topic", "t", "--tables", "shop.`x"], 2, "not closed"),
    (["job", "create", "j", "--source", "src", "--target", "kafka",
      "--topic", "t", "--tables", "*.*"], 2, "database by name"),
    (["job", "create", "j", "--source", "src", "--target", "kafka",
      "--topic", "t"], 2, "--tables"),
    (["job", "create", "j", "--source", "src", "--target", "kafka",
      "--tables", "a.b"], 2, "--topic"),
    (["job", "create", "j", "--target", "kafka", "--topic", "t",
      "--tables", "a.b"], 2, "--source"),
    (["job", "create", "j", "--source", "src", "--topic", "t",
      "--tables", "a.b"], 2, "--target"),
    (["job", "create", "j", "--source", "src", "--target", "kafka",
      "--topic", "t", "--tables", "a.b", "--initial", "data"], 2,
     "--initial"),
    (["job", "create", "j", "--source", "src", "--target", "kafka",
      "--topic", "t", "--tables", "a.b", "--partition", "hash"], 2,
     "--partition must be zero, table or pk"),
    (["job", "create", "j", "--source", "src", "--target", "kafka",
      "--topic", "t", "--tables", "a.b", "--ddl", "apply"], 2, "--ddl"),
    (["job", "create", "j", "--source", "src", "--target", "kafka",
      "--topic", "t", "--tables", "a.b", "--large-row", "truncate"], 2,
     "--large-row"),
    (["job", "create", "j", "--source", "src", "--target", "kafka",
      "--topic", "t", "--tables", "a.b", "--max-memory", "12Q"], 2,
     "--max-memory"),
    (["job", "create", "42", "--source", "src", "--target", "kafka",
      "--topic", "t", "--tables", "a.b"], 2, "only digits"),
    (["job", "create", "j", "--source", "src", "--target", "kafka",
      "--topic", "t", "--tables", "a.b", "--no-such-option"], 2, ""),
    (["job", "create", "j", "--source", "src", "--target", "kafka,kafka",
      "--topic", "t", "--tables", "a.b"], 1, "name the same Kafka cluster"),
    (["job", "frob"], 2, "unknown job command"),
    (["job", "show", "nope"], 1, "no job 'nope'"),
    (["job", "start", "999"], 1, "no job '999'"),
]
for args, rc, words in refusals:
    refused(args, rc, words)

out = ok("job", "create", "orders", "--source", "src", "--target", "kafka",
         "--topic", "shop_orders", "--tables", "shop.orders, shop.items")
check("ferry job start 1" in out, "create tells how to start: %r" % out)
j2 = js("job", "create", "everything", "--source", "src2", "--target",
        "kafka,kafka-scram", "--topic-template", "cdc.{db}.{table}",
        "--tables", "shop.*,`odd.db`.`t,1`", "--initial", "none", "--ddl",
        "forward", "--partition", "pk", "--large-row", "skip",
        "--max-memory", "64M")
eq(j2["state"], "created", "a new job's state")
eq(j2["targets"], ["kafka", "kafka-scram"], "targets")
eq(j2["tables"], ["shop.*", "`odd.db`.`t,1`"], "tables read back")
eq(j2["initial"], [], "--initial none")
eq((j2["ddl"], j2["partition"], j2["large_row"], j2["max_memory"]),
   ("forward", "pk", "skip", 64 << 20), "job options")
eq(j2["topic_template"], "cdc.{db}.{table}", "template")
for key in ("id", "name", "state", "phase_progress", "checkpoint",
            "lag_seconds", "error"):
    check(key in j2, "job JSON lacks %s" % key)
eq(sorted(j2["checkpoint"]), ["file", "gtid", "pos", "server", "server_id",
                              "updated_at"], "checkpoint keys")
eq((j2["checkpoint"]["server"], j2["checkpoint"]["server_id"],
    j2["reading"]), (None, None, None), "no server before a daemon ran it")
js1 = js("job", "show", "orders")
eq((js1["id"], js1["topic"], js1["initial"], js1["ddl"], js1["partition"]),
   (1, "shop_orders", ["schema", "full"], "ignore", "zero"), "defaults")
eq(js1["tables"], ["shop.orders", "shop.items"], "tables of job 1")
eq(len(js("job", "list")), 2, "jobs listed")
txt = ok("job", "show", "1")
for w in ("state       created", "source      src", "topic       shop_orders",
          "shop.orders, shop.items", "checkpoint  none yet"):
    check(w in txt, "job show lacks %r: %s" % (w, txt))

# A second job of the same name: allowed; the name becomes ambiguous.
ok("job", "create", "orders", "--source", "src", "--target", "kafka",
   "--topic", "t2", "--tables", "a.b")
refused(["job", "show", "orders"], 1, "give the id")

# State machine through the CLI.
out = ok("job", "start", "1")
check("is queued" in out, "start: %r" % out)
refused(["job", "start", "1"], 1, "already started")
refused(["job", "resume", "1"], 1, "not paused")
refused(["job", "retry", "1"], 1, "only a failed job")
refused(["job", "rm", "1"], 1, "stop it first")
ok("job", "pause", "1")
eq(js("job", "show", "1")["state"], "paused", "after pause")
refused(["job", "pause", "1"], 1, "already paused")
ok("job", "resume", "1")
ok("job", "stop", "1")
refused(["job", "stop", "1"], 1, "not started")
ok("job", "start", "1")
# What the daemon would record on a permanent failure.
con = sqlite3.connect(DB)
con.execute("UPDATE jobs SET state = 'failed', error = 'the binlog was "
            "purged' WHERE id = 1")
con.commit()
con.close()
j = js("job", "show", "1")
eq((j["state"], j["error"]), ("failed", "the binlog was purged"),
   "a failed job")
refused(["job", "start", "1"], 1, "retry it")
ok("job", "retry", "1")
j = js("job", "show", "1")
eq((j["state"], j["error"]), ("queued", None), "retry clears the error")
log = js("job", "log", "1")
eq([e["kind"] for e in log],
   ["create", "start", "pause", "resume", "stop", "start", "retry"],
   "job log kinds")
check(all(e["who"].endswith("(cli)") for e in log), "who: %r" % log)
txt = ok("job", "log", "1")
check("start: created -> queued" in txt, "text log: %s" % txt)
ok("job", "stop", "1")
# add-tables: more tables, pending until a daemon copies them.
before = js("job", "show", "1")["tables"]
out = ok("job", "add-tables", "1", "shop.extra,`we.ird`.t2", "shop.more")
check("3 tables added" in out, "add-tables: %r" % out)
after = js("job", "show", "1")["tables"]
eq(after[:len(before)], before, "add-tables keeps the tables there were")
eq(after[len(before):], ["shop.extra", "`we.ird`.t2", "shop.more"],
   "add-tables appends the new ones")
out = ok("job", "add-tables", "1", "shop.extra")
check("already selects" in out, "add-tables twice: %r" % out)
eq(js("job", "log", "1")[-1]["kind"], "add-tables", "logged")
con = sqlite3.connect(DB)
eq(con.execute("SELECT revision FROM jobs WHERE id = 1").fetchone()[0], 1,
   "add-tables moves the revision once")
eq(con.execute("SELECT count(*) FROM job_objects WHERE job_id = 1 AND "
               "pending = 1").fetchone()[0], 3, "the added objects pend")
con.close()
refused(["job", "add-tables", "1"], 2, "needs a JOB and the tables")
refused(["job", "add-tables", "1", "shop"], 2, "has no table")
refused(["job", "add-tables", "1", "shop.x", "--force"], 2,
        "unknown option '--force'")
refused(["job", "add-tables", "nosuch", "shop.x"], 1, "no job 'nosuch'")
# resnapshot: refused before the first checkpoint, and for a table the job
# does not carry; once it has one, every table or the named ones pend.
refused(["job", "resnapshot", "1"], 1, "has not finished its initial sync")
refused(["job", "resnapshot"], 2, "needs a JOB")
refused(["job", "resnapshot", "nosuch"], 1, "no job 'nosuch'")
con = sqlite3.connect(DB)
con.execute("INSERT OR REPLACE INTO checkpoints (job_id, binlog_file, binlog_pos, "
            "next_record_id, updated_at) VALUES (1, 'b.000001', 4, 1, 0)")
con.execute("UPDATE job_objects SET pending = 0 WHERE job_id = 1")
con.commit()
con.close()
nofull = js("job", "create", "nofull", "--source", "src", "--target",
            "kafka", "--topic", "t", "--tables", "shop.orders",
            "--initial", "schema")["id"]
con = sqlite3.connect(DB)
con.execute("INSERT OR REPLACE INTO checkpoints (job_id, binlog_file, "
            "binlog_pos, next_record_id, updated_at) VALUES (?, "
            "'b.000001', 4, 1, 0)", (nofull,))
con.commit()
con.close()
refused(["job", "resnapshot", "nofull"], 1, "copies no rows")
ok("job", "rm", "nofull")
refused(["job", "resnapshot", "1", "other.t"], 1, "does not select")
refused(["job", "resnapshot", "1", "shop.*"], 1, "does not select")
out = ok("job", "resnapshot", "1", "shop.extra")
check("copied again" in out, f"resnapshot: {out}")
con = sqlite3.connect("file:%s?mode=ro" % DB, uri=True)
eq(con.execute("SELECT db || '.' || tbl FROM job_objects WHERE job_id = 1 "
               "AND pending = 1").fetchall(), [("shop.extra",)],
   "resnapshot of one table: that table pends")
eq(con.execute("SELECT resnapshot_gen FROM jobs WHERE id = 1").fetchone()[0],
   1, "INIT records from generation 1 on count")
con.close()
ok("job", "resnapshot", "1")
con = sqlite3.connect("file:%s?mode=ro" % DB, uri=True)
eq(con.execute("SELECT count(*) FROM job_objects WHERE job_id = 1 AND "
               "pending = 0").fetchone()[0], 0, "resnapshot: every table pends")
con.close()
eq(js("job", "log", "1")[-1]["kind"], "resnapshot", "resnapshot logged")
out = ok("job", "rm", "1")
check("removed" in out, out)
refused(["job", "show", "1"], 1, "no job '1'")
refused(["endpoint", "rm", "kafka"], 1, "used by job")

# status, plain and JSON, and --watch off a terminal.
st = js("status")
eq(sorted(x["id"] for x in st), [2, 3], "status lists the jobs")
txt = ok("status")
check("everything" in txt and "created" in txt, "status text: %s" % txt)
w = subprocess.Popen([FERRY, "status", "--watch", "--interval", "1"],
                     env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     text=True)
time.sleep(2.5)
w.send_signal(signal.SIGINT)
out, err = w.communicate(timeout=10)
eq(w.returncode, 0, "status --watch ends cleanly on SIGINT (%s)" % err)
check(out.count("everything") >= 2, "--watch printed fewer than 2 "
      "rounds: %r" % out)
refused(["status", "--interval", "0", "--watch"], 2, "--interval")
refused(["status", "extra"], 2, "no argument")

# --- tenants see only their own ---------------------------------------------
eq(js("--tenant", "acme", "job", "list"), [], "acme's jobs")
eq(js("--tenant", "acme", "endpoint", "list"), [], "acme's endpoints")
refused(["--tenant", "acme", "job", "show", "2"], 1, "no job")
refused(["--tenant", "acme", "job", "create", "x", "--source", "src",
         "--target", "kafka", "--topic", "t", "--tables", "a.b"], 1,
        "no endpoint named 'src'")
env_acme = dict(ENV, FERRY_TENANT="acme")
ok("endpoint", "add", "src", "--mysql", "mysql://u@acme-db",
   env=env_acme)
ok("endpoint", "add", "k", "--kafka", "acme-k:9092", env=env_acme)
for i in range(3):
    ok("job", "create", "a%d" % i, "--source", "src", "--target", "k",
       "--topic", "t", "--tables", "a.b", env=env_acme)
refused(["--tenant", "acme", "job", "create", "a4", "--source", "src",
         "--target", "k", "--topic", "t", "--tables", "a.b"], 1,
        "limit of 3 jobs")
refused(["--tenant", "acme", "job", "create", "a5", "--source", "src",
         "--target", "k", "--topic", "t", "--tables", "a.b",
         "--max-memory", "1G"], 1, "limit")
eq(len(js("job", "list")), 2, "default tenant still has its 2 jobs")

# --db overrides $FERRY_DB; a store path that cannot be created fails.
other = os.path.join(TMP, "other.db")
eq(js("--db", other, "job", "list"), [], "another store")
check(os.path.exists(other), "--db store not created")
p = ferry("--db", "/proc/nope/ferry.db", "job", "list")
eq(p.returncode, 1, "unusable store path")
check(p.stderr.startswith("ferry: "), p.stderr)

# A store this user cannot write serves the commands that only read, and
# a write says it is read-only.  (As root, file modes do not stop writes:
# the commands run as nobody, on a copy in a directory nobody owns, so
# SQLite can make its -shm beside it.)
if os.geteuid() == 0:
    ro = tempfile.mkdtemp(prefix="ferry-ro.", dir="/tmp")
    src = sqlite3.connect(DB)
    dst = sqlite3.connect(os.path.join(ro, "ferry.db"))
    src.backup(dst)
    dst.execute("PRAGMA journal_mode = WAL")
    dst.close()
    src.close()
    os.chmod(ro, 0o755)
    os.chown(ro, 65534, 65534)
    os.chmod(os.path.join(ro, "ferry.db"), 0o444)
    shutil.copy(DB + ".key", os.path.join(ro, "ferry.db.key"))
    os.chown(os.path.join(ro, "ferry.db.key"), 65534, 65534)

    def as_nobody(*args):
        return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534",
                               "--clear-groups", FERRY, "--db",
                               os.path.join(ro, "ferry.db"), *args],
                              capture_output=True, text=True, timeout=60,
                              env=ENV)
    for cmd in (["job", "list"], ["job", "list", "--json"], ["status"],
                ["endpoint", "list"], ["tenant", "list"]):
        p = as_nobody(*cmd)
        eq(p.returncode, 0, f"ferry {' '.join(cmd)} on a read-only store "
           f"(stderr: {p.stderr.strip()})")
    eq(len(json.loads(as_nobody("job", "list", "--json").stdout or "[]")),
       len(js("job", "list")), "the read-only copy lists the same jobs")
    p = as_nobody("tenant", "add", "ro")
    eq(p.returncode, 1, "a write to a read-only store fails")
    check("is read-only" in p.stderr and "ferry.db" in p.stderr,
          f"and says why: {p.stderr.strip()}")
    subprocess.run(["rm", "-rf", ro])
else:
    print("note: read-only store checks need root (they run as nobody)",
          file=sys.stderr)

# A full disk: the write fails saying so and naming the store, nothing
# already there is lost, and with space again the same write succeeds.
# (A 1 MiB tmpfs mounted for the store, where this machine allows it.)
mnt = tempfile.mkdtemp(prefix="ferry-full.", dir="/tmp")
if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt],
                  capture_output=True).returncode == 0:
    try:
        fdb = os.path.join(mnt, "ferry.db")
        ok("--db", fdb, "tenant", "add", "before")
        fd = os.open(os.path.join(mnt, "filler"), os.O_WRONLY | os.O_CREAT,
                     0o600)
        try:
            while os.write(fd, b"\0" * 4096) > 0:
                pass
        except OSError:
            pass
        os.close(fd)
        p = ferry("--db", fdb, "tenant", "add", "during", "--max-jobs", "1")
        eq(p.returncode, 1, "a write on a full disk fails")
        check("disk is full" in p.stderr and fdb in p.stderr,
              f"and says so, naming the store: {p.stderr.strip()}")
        os.remove(os.path.join(mnt, "filler"))
        names = [t["name"] for t in js("--db", fdb, "tenant", "list")]
        eq(sorted(names), ["before", "default"],
           "nothing lost, nothing half-written")
        ok("--db", fdb, "tenant", "add", "during", "--max-jobs", "1")
        eq(js("--db", fdb, "tenant", "show", "during")["max_jobs"], 1,
           "the same write with space again")
    finally:
        subprocess.run(["umount", mnt])
        os.rmdir(mnt)
else:
    os.rmdir(mnt)
    print("note: no tmpfs could be mounted here: the full-disk check is "
          "skipped", file=sys.stderr)

# Quotas a new tenant gets, and budgets nobody has.
ok("tenant", "defaults", "--max-jobs", "4", "--max-rows-per-sec", "5000")
d = js("tenant", "defaults")
eq((d["max_jobs"], d["max_memory"], d["max_rows_per_sec"]), (4, -1, 5000),
   "tenant defaults are stored")
ok("tenant", "add", "newcomer", "--max-memory", "64M")
t = js("tenant", "show", "newcomer")
eq((t["max_jobs"], t["max_memory"], t["max_rows_per_sec"]),
   (4, 64 * 1024 * 1024, 5000), "a new tenant gets the defaults it does "
   "not override")
ok("tenant", "defaults", "--max-jobs", "none", "--max-rows-per-sec", "none")
refused(("tenant", "set", "newcomer", "--max-memory", "100000G"), 2,
        "1M to 1T")
refused(("job", "create", "huge", "--source", "src", "--target", "kafka",
         "--topic", "t", "--tables", "a.b", "--max-memory", "2T"), 2,
        "1M to 1T")

# Secrets are sealed per tenant; a tenant goes with its key.
check(b"enc:v2:" in raw_store_bytes(), "passwords sealed under their "
      "tenant's key (enc:v2)")
refused(("tenant", "rm", "acme"), 1, "remove them first")
refused(("tenant", "rm", "default"), 1, "stays")
ok("tenant", "add", "gone")
ok("--tenant", "gone", "endpoint", "add", "e", "--mysql",
   "mysql://u@db.example", "--password-file", pwfile)
ok("--tenant", "gone", "endpoint", "rm", "e")
ok("tenant", "rm", "gone")
check("gone" not in [t["name"] for t in js("tenant", "list")],
      "the tenant is removed")

# Nothing secret anywhere in the store's files, after all that.
check(SECRET.encode() not in raw_store_bytes(), "secret in store files")
subprocess.run(["rm", "-rf", TMP])
finish()
