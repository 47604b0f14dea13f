#!/usr/bin/env python3
"""ferry precheck on real servers: a private MariaDB started with
binlog_format=STATEMENT and binlog_row_image=MINIMAL, the shared Kafka.
Each broken setup is made for real (a setting, an account without a
privilege, a table without a key, a view, a missing table, a wrong Kafka
password, a missing topic, a topic whose max.message.bytes is smaller than
a row, two targets on one cluster, a binlog reader and a registered
replica on the job's server_id); each must give exactly its item, with
`fail` or `warn`, and a fix that, applied as written, turns it to `pass`.
Then the daemon: a job whose precheck fails is `failed` with every
failing item in job show and job log; fixed and retried it runs; a
running job that fails later is prechecked again at its retry.
"""
import json
import os
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests", "lib"))
sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests",
                                "integration"))
from ferrytest import FERRY, check, eq, finish, missing  # noqa: E402
import privsb  # noqa: E402
import test_binlog_live as tbl  # noqa: E402

for v in ("FERRY_TEST_KAFKA", "FERRY_TEST_KAFKA_SCRAM", "FERRY_SANDBOX",
          "FERRY_TEST_KAFKA_LIB"):
    if not os.environ.get(v):
        missing(f"{v} is not set (start tools/sandbox)")
privsb.require()

BROKER = os.environ["FERRY_TEST_KAFKA"]
SCRAM = os.environ["FERRY_TEST_KAFKA_SCRAM"]
SHARED = os.environ["FERRY_SANDBOX"]
TAG = f"{os.getpid()}_{int(time.time())}"
P = privsb.Private("precheck")


def precheck(job):
    """ferry precheck JOB --json: (exit status, report)."""
    p = subprocess.run([FERRY, "precheck", job, "--json"],
                       capture_output=True, text=True, env=P.fenv,
                       timeout=120)
    try:
        rep = json.loads(p.stdout)
    except json.JSONDecodeError:
        check(False, f"precheck {job}: not JSON: {p.stdout!r} "
              f"{p.stderr!r}")
        return p.returncode, {"ok": None, "items": []}
    return p.returncode, rep


def items(rep, result=None):
    return {i["name"]: i for i in rep["items"]
            if result is None or i["result"] == result}


def expect(job, fails, warns=(), what=""):
    """The precheck of job fails exactly the items fails and warns at
    least warns; every item has its four keys, a fix when not a pass."""
    rc, rep = precheck(job)
    eq(sorted(items(rep, "fail")), sorted(fails),
       f"{what}: the failing items")
    for w in warns:
        check(w in items(rep, "warn"), f"{what}: {w} warns "
              f"({items(rep).get(w)})")
    eq(rc, 1 if fails else 0, f"{what}: exit status")
    eq(rep["ok"], not fails, f"{what}: ok")
    for i in rep["items"]:
        check(set(i) >= {"name", "result", "found", "fix"} and
              i["result"] in ("pass", "warn", "fail") and
              (i["fix"] == "") == (i["result"] == "pass"),
              f"{what}: item shape {i}")
    return items(rep)


def sql_of(fix):
    """The SQL statement a fix starts with (up to its first ';')."""
    return fix.split(";")[0]


def kafka_configs(fix):
    """Run a fix that reads 'kafka-configs.sh ARGS (...)' with Kafka's
    own ConfigCommand."""
    args = shlex.split(fix.split(" (")[0])
    check(args[0] == "kafka-configs.sh", f"a kafka-configs fix: {fix}")
    subprocess.run(["java", "-Xmx256m", "-cp",
                    os.environ["FERRY_TEST_KAFKA_LIB"] + "/*",
                    "org.apache.kafka.tools.ConfigCommand", *args[1:]],
                   check=True, capture_output=True, timeout=120)


def gone(db, count_sql, timeout=30):
    """Write to the source until count_sql says no binlog reader is
    left (a dump thread finds its reader gone when it next sends)."""
    db.sql("CREATE TABLE IF NOT EXISTS pc.tick (id INT PRIMARY KEY)")
    end = time.time() + timeout
    n = 0
    while time.time() < end and db.one(count_sql) != "0":
        n += 1
        db.sql(f"INSERT INTO pc.tick VALUES ({n})")
        time.sleep(0.2)
    eq(db.one(count_sql), "0", "the binlog readers are gone")


def main():
    env = dict(os.environ, FERRY_SANDBOX_MARIADB_ARGS=(
        "--binlog-format=STATEMENT --binlog-row-image=MINIMAL"))
    P.sandbox("start", "--only", "mariadb", P.dir, env=env)
    P.env = dict(line.split("=", 1) for line in P.sandbox("env", P.dir)
                 .replace("export ", "").splitlines())
    db = tbl.DB(P.env["FERRY_TEST_MYSQL_SOCKET"],
                P.env["FERRY_TEST_MYSQL_PASSWORD_FILE"])
    eq(db.one("SELECT @@global.binlog_format"), "STATEMENT",
       "the private server logs statements")
    url = P.env["FERRY_TEST_MYSQL"]           # mysql://root@127.0.0.1:PORT
    hostport = url.split("@", 1)[1]
    db.sql("CREATE DATABASE pc; "
           "CREATE TABLE pc.t (id INT PRIMARY KEY, v INT); "
           "CREATE TABLE pc.uk (id INT NOT NULL, v INT, "
           "UNIQUE KEY uk_id (id)); "
           "CREATE TABLE pc.nokey (a INT NOT NULL, b INT); "
           "CREATE TABLE pc.nullkey (a INT NULL, UNIQUE KEY (a)); "
           "CREATE VIEW pc.v AS SELECT id FROM pc.t; "
           "CREATE TABLE pc.wide (id INT PRIMARY KEY, "
           "s VARCHAR(3000)) CHARSET utf8mb4; "
           "INSERT INTO pc.t VALUES (1, 1), (2, 2)")
    pw = os.path.join(P.tmp, "pw")
    with open(pw, "w") as f:
        f.write("Secret-1\n")
    for user, grants in (
            ("norepl", "SELECT ON pc.* , BINLOG MONITOR ON *.*"),
            ("noclient", "SELECT ON pc.*, REPLICATION SLAVE ON *.*")):
        db.sql(f"CREATE USER {user}@'%' IDENTIFIED BY 'Secret-1'")
        for g in grants.split(","):
            db.sql(f"GRANT {g.strip()} TO {user}@'%'")
    P.ferry("endpoint", "add", "src", "--mysql", url, "--password-file",
            P.env["FERRY_TEST_MYSQL_PASSWORD_FILE"])
    for user in ("norepl", "noclient"):
        P.ferry("endpoint", "add", user, "--mysql",
                f"mysql://{user}@{hostport}", "--password-file", pw)
    P.ferry("endpoint", "add", "k", "--kafka", BROKER)
    # The same cluster by another name: job create cannot tell (it
    # refuses the same broker address twice), the precheck can.
    P.ferry("endpoint", "add", "k2", "--kafka",
            BROKER.replace("127.0.0.1", "localhost"))
    bad = os.path.join(P.tmp, "kafka-bad")
    with open(bad, "w") as f:
        f.write("not-the-password\n")
    P.ferry("endpoint", "add", "kbad", "--kafka", SCRAM, "--sasl",
            "scram-sha-256", "--username", os.environ.get(
                "FERRY_TEST_KAFKA_USER", "ferry"), "--password-file", bad)
    topic = f"ferry-precheck-{TAG}"
    small = f"ferry-precheck-small-{TAG}"
    nosuch = f"ferry-precheck-nosuch-{TAG}"
    P.sandbox("topic", SHARED, topic, "2")
    P.sandbox("topic", SHARED, small, "1", "max.message.bytes=4000")

    # The source's settings and the tables.
    P.ferry("job", "create", "a", "--source", "src", "--target", "k",
            "--topic", topic, "--tables",
            "pc.t,pc.uk,pc.nokey,pc.nullkey,pc.v,pc.missing")
    it = expect("a", ["source.binlog_format", "source.binlog_row_image",
                      "table.key pc.nokey", "table.key pc.nullkey",
                      "table.exists pc.v", "table.exists pc.missing"],
                what="broken source")
    eq(it["table.key pc.uk"]["result"], "pass", "a NOT NULL unique key")
    eq(it["table.key pc.t"]["found"], "primary key (id)", "the key named")
    check("STATEMENT" in it["source.binlog_format"]["found"],
          f"found says what is set: {it['source.binlog_format']}")
    check("pc.v is a VIEW" in it["table.exists pc.v"]["found"],
          f"the view: {it['table.exists pc.v']}")
    for name in ("source.binlog_format", "source.binlog_row_image"):
        db.sql(sql_of(it[name]["fix"]))
    fix = it["table.key pc.nokey"]["fix"]
    check(fix.startswith("ALTER TABLE `pc`.`nokey` ADD PRIMARY KEY (...)"),
          f"the key's fix: {fix}")
    db.sql(sql_of(fix).replace("(...)", "(a)"))
    db.sql("ALTER TABLE pc.nullkey MODIFY a INT NOT NULL")
    db.sql("DROP VIEW pc.v; CREATE TABLE pc.v (id INT PRIMARY KEY); "
           "CREATE TABLE pc.missing (id INT PRIMARY KEY)")
    it = expect("a", [], what="source fixed")
    for name in ("source.binlog_format", "source.binlog_row_image",
                 "table.key pc.nokey", "table.exists pc.v",
                 "table.exists pc.missing", "privilege.select"):
        eq(it[name]["result"], "pass", f"{name} after its fix")

    # --allow-no-key: a warning.
    db.sql("CREATE TABLE pc.loose (a INT)")
    P.ferry("job", "create", "loose", "--source", "src", "--target", "k",
            "--topic", topic, "--tables", "pc.loose", "--allow-no-key")
    expect("loose", [], ["table.key pc.loose"], "--allow-no-key")

    # Privileges, as SHOW GRANTS says and the server enforces.
    for user, item in (("norepl", "privilege.replication_slave"),
                       ("noclient", "privilege.replication_client")):
        P.ferry("job", "create", user, "--source", user, "--target", "k",
                "--topic", topic, "--tables", "pc.t")
        it = expect(user, [item], what=f"account {user}")
        db.sql(sql_of(it[item]["fix"]))
        expect(user, [], what=f"account {user} granted")

    # Targets: a wrong password, a missing topic, a small topic, one
    # cluster twice.
    P.ferry("job", "create", "kb", "--source", "src", "--target", "kbad",
            "--topic", topic, "--tables", "pc.t")
    it = expect("kb", ["target.connect kbad"], what="wrong Kafka password")
    check("ferry endpoint set" in it["target.connect kbad"]["fix"],
          f"the fix names the command: {it['target.connect kbad']}")
    P.ferry("endpoint", "set", "kbad", "--password-file",
            os.environ["FERRY_TEST_KAFKA_PASSWORD_FILE"])
    expect("kb", [], what="Kafka password set")

    P.ferry("job", "create", "nt", "--source", "src", "--target", "k",
            "--topic", nosuch, "--tables", "pc.t")
    it = expect("nt", [f"target.topic k/{nosuch}"], what="missing topic")
    check("kafka-topics.sh" in it[f"target.topic k/{nosuch}"]["fix"],
          "the fix creates the topic")
    P.sandbox("topic", SHARED, nosuch, "3")
    it = expect("nt", [], what="topic created")
    eq(it[f"target.topic k/{nosuch}"]["found"],
       "3 partitions, each with a leader", "partitions counted")

    P.ferry("job", "create", "two", "--source", "src", "--target", "k,k2",
            "--topic", small, "--tables", "pc.wide")
    item = f"target.max_message_bytes k/{small}"
    it = expect("two", ["targets.distinct"], [item], "one cluster twice")
    check("max.message.bytes = 4000" in it[item]["found"] and
          "pc.wide" in it[item]["found"], f"the size: {it[item]}")
    P.ferry("job", "create", "one", "--source", "src", "--target", "k",
            "--topic", small, "--tables", "pc.wide")
    it = expect("one", [], [item], "one target")
    check("targets.distinct" not in it, "one target: nothing to compare")
    kafka_configs(it[item]["fix"])
    it = expect("one", [], what="topic enlarged")
    eq(it[item]["result"], "pass", "max.message.bytes after its fix")

    # ferry's server_id: an unregistered binlog reader, then a registered
    # replica on it.
    sid = P.job("a")["server_id"]
    cnf = db.cnf.name
    reader = subprocess.Popen(
        ["mariadb-binlog", f"--defaults-extra-file={cnf}",
         "--read-from-remote-server", "--stop-never",
         f"--server-id={sid}", "--to-last-log", "--result-file=/dev/null",
         db.one("SELECT @@global.log_bin_basename").rsplit("/", 1)[1] +
         ".000001"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.time() + 20
    while time.time() < end and db.one(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE "
            "COMMAND LIKE 'Binlog Dump%'") == "0":
        time.sleep(0.2)
    it = expect("a", [], ["source.replica_server_id"], "a binlog reader")
    check(str(sid) in it["source.replica_server_id"]["fix"],
          f"the fix names the job's server_id: "
          f"{it['source.replica_server_id']}")
    reader.send_signal(signal.SIGTERM)
    reader.wait(timeout=30)
    # A dump thread notices its reader is gone when it next sends: write.
    gone(db, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE "
         "COMMAND LIKE 'Binlog Dump%'")
    it = expect("a", [], what="reader gone")
    eq(it["source.replica_server_id"]["result"], "pass", "no reader left")

    P.sandbox("start", "--only", "replica", P.dir)
    rid = None
    end = time.time() + 30
    while time.time() < end:
        hosts = db.sql("SHOW SLAVE HOSTS")
        if hosts:
            rid = int(hosts[0][0])
            break
        time.sleep(0.3)
    if check(rid is not None, "the replica registered"):
        # The job's server_id made the replica's, in the store.
        st = sqlite3.connect(os.path.join(P.tmp, "ferry.db"))
        st.execute("UPDATE jobs SET server_id = ? WHERE name = 'a'", (rid,))
        st.commit()
        st.close()
        it = expect("a", ["source.replica_server_id"], what="a replica")
        check("registered" in it["source.replica_server_id"]["found"],
              f"found: {it['source.replica_server_id']}")
        P.sandbox("stop", "--only", "replica", P.dir)
        gone(db, "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
             "WHERE COMMAND LIKE 'Binlog Dump%'")
        it = expect("a", [], what="replica stopped")
        st = sqlite3.connect(os.path.join(P.tmp, "ferry.db"))
        st.execute("UPDATE jobs SET server_id = ? WHERE name = 'a'", (sid,))
        st.commit()
        st.close()

    daemon(db, topic)


def wait_for(name, pred, timeout=60):
    """Poll job NAME until pred(its job show --json) holds, or the time
    runs out: the last job show (a failed job is an answer here)."""
    end = time.time() + timeout
    j = P.job(name)
    while time.time() < end and not pred(j):
        time.sleep(0.2)
        j = P.job(name)
    return j


def daemon(db, topic):
    """The precheck the daemon runs: before the first start, and at the
    first start after a retry from a failure."""
    db.sql("SET GLOBAL binlog_format = 'STATEMENT'")
    P.ferry("job", "create", "d", "--source", "src", "--target", "k,k2",
            "--topic", topic, "--tables", "pc.t,pc.nokey2")
    P.ferry("job", "start", "d")
    log = open(os.path.join(P.tmp, "serve.log"), "w")
    d = subprocess.Popen([FERRY, "serve", "--heartbeat-ms", "0",
                          "--poll-ms", "200", "--retry-min-ms", "200"],
                         env=P.fenv, stdout=log, stderr=log)
    try:
        j = wait_for("d", lambda j: j["state"] == "failed")
        eq(j["state"], "failed", "a job whose precheck fails")
        err = j["error"] or ""
        for name in ("source.binlog_format", "table.exists pc.nokey2",
                     "targets.distinct"):
            check(name in err, f"job show names {name}: {err}")
        check(not re.search(r"\bprecheck\b.*\bsource\.connect\b", err),
              "no item that passed")
        jl = P.ferry("job", "log", "d")
        check("source.binlog_format" in jl and "targets.distinct" in jl,
              f"job log names the items: {jl[-600:]}")
        check(P.job("d")["checkpoint"]["file"] in (None, ""),
              "nothing copied")
        # Fixed (a new job for one target), retried: it runs.
        db.sql("SET GLOBAL binlog_format = 'ROW'")
        db.sql("CREATE TABLE pc.nokey2 (id INT PRIMARY KEY)")
        P.ferry("job", "rm", "d")
        P.ferry("job", "create", "d", "--source", "src", "--target", "k",
                "--topic", topic, "--tables", "pc.t,pc.nokey2")
        P.ferry("job", "start", "d")
        P.until("d", lambda j: j["state"] == "incremental", "job runs")
        check("precheck passed" in P.ferry("job", "log", "d"),
              "the job log says the precheck passed")
        # Later failure: a password rotated; the account also lost
        # REPLICATION SLAVE.  The retry after the password is set is
        # prechecked: it fails on the privilege, by name.
        db.sql("CREATE USER IF NOT EXISTS rot@'%' IDENTIFIED BY "
               "'Secret-1'; GRANT SELECT ON pc.* TO rot@'%'; GRANT "
               "REPLICATION SLAVE, BINLOG MONITOR ON *.* TO rot@'%'")
        pw = os.path.join(P.tmp, "pw")
        P.ferry("endpoint", "add", "rot", "--mysql", "mysql://rot@" +
                P.env["FERRY_TEST_MYSQL"].split("@", 1)[1],
                "--password-file", pw)
        P.ferry("job", "create", "r", "--source", "rot", "--target", "k",
                "--topic", topic, "--tables", "pc.t")
        P.ferry("job", "start", "r")
        P.until("r", lambda j: j["state"] == "incremental", "job r runs")
        db.sql("ALTER USER rot@'%' IDENTIFIED BY 'Secret-2'; "
               "REVOKE REPLICATION SLAVE ON *.* FROM rot@'%'")
        for (tid,) in db.sql("SELECT ID FROM information_schema.PROCESSLIST "
                             "WHERE USER = 'rot'"):
            db.sql(f"KILL {tid}")
        j = wait_for("r", lambda j: j["state"] == "failed")
        eq(j["state"], "failed", "the rotated password fails job r")
        with open(pw, "w") as f:
            f.write("Secret-2\n")
        P.ferry("endpoint", "set", "rot", "--password-file", pw)
        P.ferry("job", "retry", "r")
        j = wait_for("r", lambda j: j["state"] == "failed" and
                     "precheck" in (j["error"] or ""))
        check("privilege.replication_slave" in (j["error"] or ""),
              f"the retry is prechecked: {j['state']} {j['error']}")
        db.sql("GRANT REPLICATION SLAVE ON *.* TO rot@'%'")
        P.ferry("job", "retry", "r")
        P.until("r", lambda j: j["state"] == "incremental", "job r again")
    finally:
        d.send_signal(signal.SIGTERM)
        d.wait(timeout=60)
        log.close()


try:
    main()
except Exception as e:  # noqa: BLE001
    check(False, f"{type(e).__name__}: {e}")
finally:
    try:
        P.stop()
    except RuntimeError:
        pass
    P.cleanup()
finish()
