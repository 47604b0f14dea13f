#!/usr/bin/env python3
"""The same job on real brokers of every Kafka the sandbox knows besides
4.4 (ZooKeeper mode, from Maven Central: tools/sandbox start --kafka V),
with no --kafka-version hint: the precheck names the broker's release from
its API versions, the job reaches incremental, and the topic, read with
kcat and python3-avro, holds each row of the source once (the INIT copy,
then the inserts made while it follows the binlog), equal to SELECT, and
200 inserts written while ferry serve is killed twice (SIGKILL) are each
in the topic once: on 0.10, whose records have no headers, the resume
finds what is there by the records' own ids and ferry.* tags.
Where the broker has SCRAM (0.10.2 on), the SCRAM listener takes the
endpoint's login.  Each compression codec on the shared 4.4 broker: the
records decode and the log segment shows the codec; zstd is refused by
the precheck on 0.10.  Runs in the debug pass only (FERRY_TEST_SANDBOX_
LIFECYCLE=0 in the sanitizer pass): a broker start per version.
"""
import json
import os
import re
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

if os.environ.get("FERRY_TEST_SANDBOX_LIFECYCLE", "1") == "0":
    print("SKIP: the broker matrix runs in the debug pass only")
    sys.exit(77)
for v in ("FERRY_TEST_MYSQL_SOCKET", "FERRY_TEST_MYSQL"):
    if not os.environ.get(v):
        missing(f"{v} is not set (start tools/sandbox)")
try:
    import avro.io  # noqa: F401
except ImportError:
    missing("python3-avro is not installed")
import dtstopic  # noqa: E402

SRC = os.environ["FERRY_SRCDIR"]
SB = os.path.join(SRC, "tools", "sandbox")
VERSIONS = subprocess.run(
    ["bash", "-c", f". {SRC}/tools/lib.sh && echo $FERRY_KAFKA_LEGACY"],
    capture_output=True, text=True, check=True).stdout.split()
# The release each broker is, as the precheck names it from the newest
# Produce request version it takes (Kafka's protocol: v2 in 0.10, v3 in
# 0.11, v5 in 1.0, v7 from 2.1).
RELEASE = {"0.10.1.0": "Kafka 0.10 ", "0.10.2.2": "Kafka 0.10 ",
           "0.11.0.3": "Kafka 0.11 ", "1.0.2": "Kafka 1.x ",
           "2.8.2": "Kafka 2.1 or later "}
TAG = f"{os.getpid()}_{int(time.time())}"
TMP = tempfile.mkdtemp(prefix="ferry-kafka-versions.", dir="/tmp")
FENV = dict(os.environ, FERRY_DB=os.path.join(TMP, "ferry.db"))


def ferry(*args, ok=True):
    p = subprocess.run([FERRY, *args], capture_output=True, text=True,
                       env=FENV, timeout=120)
    if ok and p.returncode != 0:
        raise RuntimeError(f"ferry {' '.join(args)}: {p.stderr}")
    return p


def sandbox(*args):
    p = subprocess.run([SB, *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"sandbox {' '.join(args)}: {p.stderr.strip()}")
    return p.stdout


def precheck_item(ep, topic, table, item):
    """A job named after endpoint ep (its target) made for its precheck:
    the precheck's item named item, or {}."""
    ferry("job", "create", ep, "--source", "src", "--target", ep,
          "--topic", topic, "--tables", table)
    rep = json.loads(ferry("precheck", ep, "--json", ok=False).stdout)
    return {i["name"]: i for i in rep["items"]}.get(item, {})


def wait_state(name, want, timeout=90):
    end = time.time() + timeout
    j = {}
    while time.time() < end:
        j = json.loads(ferry("job", "show", name, "--json").stdout)
        if j["state"] in (want, "failed"):
            break
        time.sleep(0.3)
    return j


class Daemon:
    """ferry serve on the test's store; kill() is a SIGKILL."""

    def __init__(self):
        self.log = open(os.path.join(TMP, "serve.log"), "a")
        self.p = None
        self.start()

    def start(self):
        self.p = subprocess.Popen(
            [FERRY, "serve", "--heartbeat-ms", "0", "--poll-ms", "200",
             "--retry-min-ms", "200", "--lease-ms", "2000"], env=FENV,
            stdout=self.log, stderr=self.log)

    def kill(self):
        self.p.kill()
        self.p.wait(timeout=30)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(timeout=60)
        self.log.close()


DAEMON = None


def kills(db, d, broker, topic, table, job, v):
    """Rows in 100 transactions while ferry serve is killed twice: each
    insert in the topic once (on 0.10, found by the records' own ids and
    tags, the brokers having no headers)."""
    ids = list(range(100, 300))

    def writer():
        for i in range(0, len(ids), 2):
            db.sql(f"BEGIN; INSERT INTO {table} VALUES ({ids[i]}, 'w'); "
                   f"INSERT INTO {table} VALUES ({ids[i + 1]}, 'w'); "
                   "COMMIT")
            time.sleep(0.02)

    import threading
    w = threading.Thread(target=writer)
    w.start()
    for _ in range(2):
        time.sleep(1.0)
        DAEMON.kill()
        time.sleep(0.3)
        DAEMON.start()
    w.join()
    want = {str(i) for i in ids}
    end = time.time() + 90
    got = []
    while time.time() < end:
        recs = [r for _, _, _, r in dtstopic.read(broker, topic)]
        got = [dtstopic.image(r, "afterImages")["id"]["value"] for r in recs
               if r["operation"] == "INSERT" and
               r["objectName"] == table]
        if want <= set(got):
            break
        time.sleep(1)
    missing_ids = sorted(want - set(got), key=int)
    dup = sorted({i for i in got if got.count(i) > 1}, key=int)
    check(not missing_ids, f"{v}: inserts missing after two SIGKILLs: "
          f"{missing_ids[:10]}")
    check(not dup, f"{v}: inserts written twice after two SIGKILLs: "
          f"{len(dup)}, e.g. {dup[:10]}")
    j = wait_state(job, "incremental")
    eq(j["state"], "incremental", f"{v}: the job runs after the kills")


def wrong_hint(broker, topic, table, v, n):
    """An endpoint that says 2.0.0 of a 0.10 cluster: the idempotent
    producer is refused, and the job fails for good with librdkafka's
    reason and the command that fixes it (it retried for ever with
    "Local: Fatal error" before); with the hint set to auto it runs."""
    ep, job = f"h{n}", f"h{n}"
    ferry("endpoint", "add", ep, "--kafka", broker, "--kafka-version",
          "2.0.0")
    ferry("job", "create", job, "--source", "src", "--target", ep,
          "--topic", topic, "--tables", table, "--initial", "full")
    ferry("job", "start", job)
    j = wait_state(job, "incremental")
    err = j.get("error") or ""
    check(j["state"] == "failed" and "idempotent" in err and
          f"ferry endpoint set {ep} --kafka-version auto" in err,
          f"{v}: a wrong hint fails the job, saying what to do: "
          f"{j['state']} {err}")
    ferry("endpoint", "set", ep, "--kafka-version", "auto")
    ferry("job", "retry", job)
    j = wait_state(job, "incremental")
    eq(j["state"], "incremental", f"{v}: the job runs once the hint is "
       f"auto ({j.get('error')})")
    ferry("job", "stop", job)
    wait_state(job, "stopped")


def one_version(db, v, n):
    d = os.path.join(TMP, f"kafka-{v}")
    t0 = time.time()
    sandbox("start", "--only", "kafka", "--kafka", v, d)
    env = dict(line.split("=", 1) for line in sandbox("env", d)
               .replace("export ", "").splitlines())
    try:
        broker = env["FERRY_TEST_KAFKA"]
        topic = f"ferry-kv-{TAG}"
        sandbox("topic", d, topic, "2")
        ep = f"k{n}"
        ferry("endpoint", "add", ep, "--kafka", broker)
        table = f"kv.t{n}"
        db.sql(f"CREATE TABLE {table} (id INT PRIMARY KEY, v VARCHAR(20)); "
               f"INSERT INTO {table} VALUES (1, 'one'), (2, 'two')")
        job = f"j{n}"
        ferry("job", "create", job, "--source", "src", "--target", ep,
              "--topic", topic, "--tables", table, "--initial", "full")
        rep = json.loads(ferry("precheck", job, "--json", ok=False).stdout)
        items = {i["name"]: i for i in rep["items"]}
        ver = items.get(f"target.version {ep}", {})
        check(ver.get("found", "").startswith(RELEASE[v]),
              f"{v}: the precheck names the release: {ver}")
        eq(rep["ok"], True, f"{v}: precheck ok ({[i for i in rep['items'] if i['result'] == 'fail']})")
        if env.get("FERRY_TEST_KAFKA_SCRAM"):
            ferry("endpoint", "add", f"s{n}", "--kafka",
                  env["FERRY_TEST_KAFKA_SCRAM"], "--sasl", "scram-sha-256",
                  "--username", env["FERRY_TEST_KAFKA_USER"],
                  "--password-file", env["FERRY_TEST_KAFKA_PASSWORD_FILE"])
            c = precheck_item(f"s{n}", topic, table,
                              f"target.connect s{n}")
            eq(c.get("result"), "pass", f"{v}: SCRAM-SHA-256 login ({c})")
        ferry("job", "start", job)
        j = wait_state(job, "incremental")
        eq(j["state"], "incremental", f"{v}: the job runs without a hint "
           f"({j.get('error')})")
        db.sql(f"INSERT INTO {table} VALUES (3, 'three'); "
               f"UPDATE {table} SET v = 'TWO' WHERE id = 2")
        recs = [r for _, _, _, r in dtstopic.read(broker, topic, expect=8,
                                                  timeout=60)]
        rows = [(r["operation"], dtstopic.image(
            r, "afterImages")["id"]["value"]) for r in recs
                if r["operation"] in ("INIT", "INSERT", "UPDATE")]
        eq(sorted(rows), sorted([("INIT", "1"), ("INIT", "2"),
                                 ("INSERT", "3"), ("UPDATE", "2")]),
           f"{v}: every change once")
        up = [r for r in recs if r["operation"] == "UPDATE"]
        if up:
            eq(dtstopic.image(up[0], "afterImages")["v"]["value"], b"TWO",
               f"{v}: the update's value")
        kills(db, d, broker, topic, table, job, v)
        ferry("job", "stop", job)
        wait_state(job, "stopped")
        if v.startswith("0.10."):
            wrong_hint(broker, topic, table, v, n)
            # zstd came with Kafka 2.1: the precheck refuses it here.
            ferry("endpoint", "add", f"z{n}", "--kafka", broker,
                  "--compression", "zstd")
            c = precheck_item(f"z{n}", topic, table,
                              f"target.compression z{n}")
            eq(c.get("result"), "fail", f"{v}: zstd refused ({c})")
    finally:
        sandbox("stop", d)
    print(f"Kafka {v}: {time.time() - t0:.1f} s", flush=True)


def codecs(db):
    """Each codec on the shared 4.4 broker: the records decode, and the
    topic's log segment says the batches are in that codec (Kafka's own
    DumpLogSegments)."""
    broker = os.environ["FERRY_TEST_KAFKA"]
    lib = os.environ["FERRY_TEST_KAFKA_LIB"]
    db.sql("CREATE TABLE kv.codec (id INT PRIMARY KEY, v VARCHAR(200))")
    for c in ("none", "gzip", "snappy", "lz4", "zstd"):
        topic = f"ferry-kv-{c}-{TAG}"
        sandbox("topic", os.environ["FERRY_SANDBOX"], topic, "1")
        ferry("endpoint", "add", f"c-{c}", "--kafka", broker,
              "--compression", c)
        shown = json.loads(ferry("endpoint", "show", f"c-{c}",
                                 "--json").stdout)
        eq(shown.get("compression"), c, f"{c}: endpoint show")
        ferry("job", "create", f"c-{c}", "--source", "src", "--target",
              f"c-{c}", "--topic", topic, "--tables", "kv.codec",
              "--initial", "none")
        ferry("job", "start", f"c-{c}")
        j = wait_state(f"c-{c}", "incremental")
        eq(j["state"], "incremental", f"{c}: the job runs ({j['error']})")
        base = 1000 * (1 + ["none", "gzip", "snappy", "lz4",
                            "zstd"].index(c))
        db.sql(f"INSERT INTO kv.codec VALUES ({base}, REPEAT('x', 200))")
        recs = [r for _, _, _, r in dtstopic.read(broker, topic, expect=3)]
        ins = [dtstopic.image(r, "afterImages")["id"]["value"]
               for r in recs if r["operation"] == "INSERT"]
        eq(ins, [str(base)], f"{c}: the row decodes")
        seg = os.path.join(os.environ["FERRY_SANDBOX"], "kafka", "data",
                           f"{topic}-0", "00000000000000000000.log")
        out = subprocess.run(
            ["java", "-Xmx256m", "-cp", lib + "/*",
             "org.apache.kafka.tools.DumpLogSegments", "--files", seg],
            capture_output=True, text=True, timeout=120).stdout
        codecs_seen = re.findall(r"compresscodec: (\w+)", out)
        check(codecs_seen and all(x.lower() == c for x in codecs_seen),
              f"{c}: the log segment's batches: {codecs_seen}")
        ferry("job", "stop", f"c-{c}")
        wait_state(f"c-{c}", "stopped")


def producer_props(db):
    """--producer-prop reaches the producer: with batch.num.messages=1
    each record is a batch of its own in the topic's log (five records of
    one transaction are five batches); a setting ferry owns is refused."""
    broker = os.environ["FERRY_TEST_KAFKA"]
    topic = f"ferry-kv-props-{TAG}"
    sandbox("topic", os.environ["FERRY_SANDBOX"], topic, "1")
    p = ferry("endpoint", "add", "p-bad", "--kafka", broker,
              "--producer-prop", "enable.idempotence=false", ok=False)
    check(p.returncode == 2 and "not a producer setting" in p.stderr,
          f"a setting ferry owns is refused: {p.stderr}")
    ferry("endpoint", "add", "p", "--kafka", broker, "--producer-prop",
          "batch.num.messages=1", "--producer-prop", "linger.ms=50")
    db.sql("CREATE TABLE kv.props (id INT PRIMARY KEY)")
    ferry("job", "create", "p", "--source", "src", "--target", "p",
          "--topic", topic, "--tables", "kv.props", "--initial", "none")
    ferry("job", "start", "p")
    j = wait_state("p", "incremental")
    eq(j["state"], "incremental", f"the job runs ({j['error']})")
    db.sql("BEGIN; INSERT INTO kv.props VALUES (1); INSERT INTO kv.props "
           "VALUES (2); INSERT INTO kv.props VALUES (3); COMMIT")
    recs = dtstopic.read(broker, topic, expect=5)
    eq(len(recs), 5, "BEGIN, three inserts, COMMIT")
    seg = os.path.join(os.environ["FERRY_SANDBOX"], "kafka", "data",
                       f"{topic}-0", "00000000000000000000.log")
    out = subprocess.run(
        ["java", "-Xmx256m", "-cp", os.environ["FERRY_TEST_KAFKA_LIB"] +
         "/*", "org.apache.kafka.tools.DumpLogSegments", "--files", seg],
        capture_output=True, text=True, timeout=120).stdout
    counts = re.findall(r" count: (\d+)", out)
    eq(counts, ["1"] * 5, "one record a batch")
    ferry("job", "stop", "p")
    wait_state("p", "stopped")


def tls(db):
    """TLS to the brokers, on the shared 4.4 broker's SSL and SASL_SSL
    listeners (a private CA): a job writes through SASL_SSL with SCRAM and
    its rows are in the topic; a CA that did not sign the broker's
    certificate is refused, saying so, by the topic list and the
    precheck."""
    broker = os.environ["FERRY_TEST_KAFKA"]
    ca = os.environ.get("FERRY_TEST_KAFKA_TLS_CA")
    if not ca or not os.environ.get("FERRY_TEST_KAFKA_SASL_TLS"):
        check(False, "the sandbox has no TLS listener (FERRY_TEST_KAFKA_"
              "TLS_CA): restart it with this tools/sandbox")
        return
    topic = f"ferry-kv-tls-{TAG}"
    sandbox("topic", os.environ["FERRY_SANDBOX"], topic, "1")
    ferry("endpoint", "add", "tls", "--kafka",
          os.environ["FERRY_TEST_KAFKA_TLS"], "--tls-ca", ca)
    ferry("endpoint", "add", "sasl-tls", "--kafka",
          os.environ["FERRY_TEST_KAFKA_SASL_TLS"], "--tls-ca", ca, "--sasl",
          "scram-sha-256", "--username", os.environ["FERRY_TEST_KAFKA_USER"],
          "--password-file", os.environ["FERRY_TEST_KAFKA_PASSWORD_FILE"])
    for ep in ("tls", "sasl-tls"):
        got = json.loads(ferry("endpoint", "topics", ep, "--json").stdout)
        check(any(t["topic"] == topic for t in got),
              f"{ep}: the topic list over TLS names {topic}")
    db.sql("CREATE TABLE kv.tls (id INT PRIMARY KEY, v VARCHAR(20)); "
           "INSERT INTO kv.tls VALUES (1, 'over'), (2, 'tls')")
    ferry("job", "create", "tls", "--source", "src", "--target", "sasl-tls",
          "--topic", topic, "--tables", "kv.tls", "--initial", "full")
    ferry("job", "start", "tls")
    j = wait_state("tls", "incremental")
    eq(j["state"], "incremental", f"a job over SASL_SSL runs ({j['error']})")
    recs = [r for _, _, _, r in dtstopic.read(broker, topic, expect=2)]
    eq(sorted(dtstopic.image(r, "afterImages")["v"]["value"] for r in recs
              if r["operation"] == "INIT"), [b"over", b"tls"],
       "its rows, written over SASL_SSL")
    ferry("job", "stop", "tls")
    wait_state("tls", "stopped")
    # The MariaDB sandbox's CA did not sign the broker's certificate.
    ferry("endpoint", "add", "bad-ca", "--kafka",
          os.environ["FERRY_TEST_KAFKA_TLS"], "--tls-ca",
          os.environ["FERRY_TEST_MYSQL_TLS_CA"])
    p = ferry("endpoint", "topics", "bad-ca", ok=False)
    check(p.returncode == 1 and "certificate verify failed" in p.stderr,
          f"a wrong CA is refused, saying why: {p.returncode} {p.stderr}")
    c = precheck_item("bad-ca", topic, "kv.tls", "target.connect bad-ca")
    check(c.get("result") == "fail" and "certificate verify failed" in
          c.get("found", ""), f"the precheck names the TLS failure: {c}")


def main():
    db = tbl.DB(os.environ["FERRY_TEST_MYSQL_SOCKET"],
                os.environ["FERRY_TEST_MYSQL_PASSWORD_FILE"])
    db.sql("DROP DATABASE IF EXISTS kv; CREATE DATABASE kv")
    ferry("endpoint", "add", "src", "--mysql", os.environ["FERRY_TEST_MYSQL"],
          "--password-file", os.environ["FERRY_TEST_MYSQL_PASSWORD_FILE"])
    global DAEMON
    DAEMON = Daemon()
    try:
        try:
            codecs(db)
        except RuntimeError as e:
            check(False, f"codecs: {e}")
        try:
            tls(db)
            producer_props(db)
        except RuntimeError as e:
            check(False, f"tls, producer settings: {e}")
        for n, v in enumerate(VERSIONS):
            try:
                one_version(db, v, n)
            except RuntimeError as e:
                check(False, f"{v}: {e}")
    finally:
        DAEMON.stop()


try:
    main()
finally:
    if ferrytest.failures:
        print(f"kept {TMP}", file=sys.stderr)
    else:
        subprocess.run(["rm", "-rf", TMP])
finish()
