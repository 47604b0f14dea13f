"""ferry binlog convert and ferry decode.

The corpus file mariadb-bin.000001 (facts F21 of its MANIFEST) is converted
to DTS records; python3-avro reads them with the published schema, and
ferry decode prints them, from the files and from a Kafka topic read over
SASL/SCRAM-SHA-256, where a message that is not a record sits between the
others and must be reported without stopping the rest.
"""
import glob
import io
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests", "lib"))
from ferrytest import FERRY, check, corpus, eq, finish, missing, shared_dir  # noqa

import avro.io  # noqa: E402
import avro.schema  # noqa: E402


def run(*args, **kw):
    return subprocess.run([FERRY, *args], capture_output=True, text=True, **kw)


def convert_corpus():
    out = tempfile.mkdtemp(prefix="ferry-decode.")
    p = run("binlog", "convert", "--out", out, corpus("mariadb-bin.000001"))
    eq(p.returncode, 0, f"convert exit ({p.stderr.strip()})")
    eq(p.stdout.strip(), f"6 records written to {out}", "convert summary")
    files = sorted(glob.glob(os.path.join(out, "*.avro")))
    eq([os.path.basename(f) for f in files],
       [f"{i:08d}.avro" for i in range(1, 7)], "one file per record")
    # a second run into the same directory is refused
    p = run("binlog", "convert", "--out", out, corpus("mariadb-bin.000001"))
    eq(p.returncode, 1, "convert into a non-empty directory fails")
    check("is not empty" in p.stderr, f"says why: {p.stderr.strip()}")
    return out, files


def python_avro(files):
    sch = avro.schema.parse(open(os.path.join(
        shared_dir(), "reference", "dts-avro", "derived",
        "Record.standalone.avsc")).read())
    recs = []
    for f in files:
        b = open(f, "rb").read()
        check(len(b) > 48, f"{f} is {len(b)} bytes: DTS readers skip <= 48")
        bio = io.BytesIO(b)
        recs.append(avro.io.DatumReader(sch).read(avro.io.BinaryDecoder(bio)))
        eq(bio.tell(), len(b), f"{f} is exactly one datum")
    eq([r["operation"] for r in recs],
       ["BEGIN", "INSERT", "COMMIT"] * 2, "operations")
    ins = [r for r in recs if r["operation"] == "INSERT"]
    eq([r["objectName"] for r in ins], ["toddy_test.outbox"] * 2, "objectName")
    eq([f["name"] for f in ins[0]["fields"]],
       ["id", "topic", "event_type", "event", "created"], "field names (F21)")
    eq([f["dataTypeNumber"] for f in ins[0]["fields"]], [3, 253, 247, 252, 7],
       "dataTypeNumber: INT, VARCHAR, ENUM, BLOB, TIMESTAMP")
    for r, (i, ts) in zip(ins, [(62, 1650493084), (63, 1650493195)]):
        a = r["afterImages"]
        eq(a[0], {"precision": 4, "value": str(i)}, "id as Integer")
        eq(a[1], {"charset": "utf8mb4", "value": b"foo"}, "topic as Character")
        eq(a[2], {"type": "ENUM", "value": "JSON"}, "ENUM index 2 = 'JSON'")
        eq(a[3], {"type": "BLOB", "value": b'{"foo":1}'}, "event as BLOB")
        eq(a[4], {"timestamp": ts, "millis": 0}, "created as Timestamp")
        eq(r["beforeImages"], None, "no before image on INSERT")
        eq(r["sourceTimestamp"], ts, "sourceTimestamp is the event's, seconds")
        eq(r["bornTimestamp"], ts, "bornTimestamp")
        eq(r["source"], {"sourceType": "MySQL",
                         "version": "10.5.15-MariaDB-1:10.5.15+maria~focal-log"},
           "source")
        eq(r["tags"]["pk_uk_info"], '{"PRIMARY":["id"]}', "pk_uk_info")
    eq([r["sourcePosition"] for r in recs],
       ["330@1", "612@1", "671@1", "702@1", "984@1", "1043@1"],
       "sourcePosition: offset@file number (GTID, rows, XID)")
    eq([r["safeSourcePosition"] for r in recs], ["330@1"] * 3 + ["702@1"] * 3,
       "safeSourcePosition: the transaction's start")
    eq([r["tags"].get("GTID") for r in recs if r["operation"] == "BEGIN"],
       ["0-1-1", "0-1-2"], "GTID tags")
    eq([r["id"] for r in recs], [1, 2, 3, 4, 5, 6], "ids")
    return recs


def decode_files(files):
    p = run("decode", "--file", *files)
    eq(p.returncode, 0, f"decode --file ({p.stderr.strip()})")
    out = [json.loads(x) for x in p.stdout.splitlines()]
    eq([r["operation"] for r in out], ["BEGIN", "INSERT", "COMMIT"] * 2,
       "decode: operations")
    eq([r["afterImages"] for r in out if r["operation"] == "INSERT"],
       [{"id": 62, "topic": "foo", "event_type": "JSON",
         "event": {"type": "BLOB", "hex": b'{"foo":1}'.hex()},
         "created": "2022-04-20 22:18:04"},
        {"id": 63, "topic": "foo", "event_type": "JSON",
         "event": {"type": "BLOB", "hex": b'{"foo":1}'.hex()},
         "created": "2022-04-20 22:19:55"}], "decode: readable values")
    # a file that is not a record: reported, the others still printed
    bad = tempfile.NamedTemporaryFile(delete=False, suffix=".avro")
    bad.write(b"\x00" * 10 + b"\xff" * 60)
    bad.close()
    p = run("decode", "--file", files[0], bad.name, files[1])
    eq(p.returncode, 1, "decode with a bad file exits 1")
    eq(len(p.stdout.splitlines()), 2, "the good files are still printed")
    check(f"ferry: {bad.name}: not a DTS record" in p.stderr,
          f"the bad file is named: {p.stderr.strip()}")
    os.unlink(bad.name)


def decode_kafka(files):
    if not os.environ.get("FERRY_TEST_KAFKA"):
        missing("FERRY_TEST_KAFKA is not set")
    plain = os.environ["FERRY_TEST_KAFKA"]
    scram = os.environ["FERRY_TEST_KAFKA_SCRAM"]
    user = os.environ["FERRY_TEST_KAFKA_USER"]
    pwfile = os.environ["FERRY_TEST_KAFKA_PASSWORD_FILE"]
    sb = os.path.join(os.environ["FERRY_SRCDIR"], "tools", "sandbox")
    topic = f"ferry-test-decode-{os.getpid()}-{int(time.time())}"
    subprocess.run([sb, "topic", os.environ["FERRY_SANDBOX"], topic, "1"],
                   check=True, capture_output=True)
    bad = tempfile.NamedTemporaryFile(delete=False)
    bad.write(b"not an avro record at all, but longer than 48 bytes, so not "
              b"filler")
    bad.close()
    msgs = files[:3] + [bad.name] + files[3:]
    # kcat sends each file as one message
    subprocess.run(["kcat", "-P", "-b", plain, "-t", topic, "-p", "0", *msgs],
                   check=True, capture_output=True)
    p = run("decode", "--brokers", scram, "--topic", topic, "--sasl",
            "scram-sha-256", "--username", user, "--password-file", pwfile,
            "--from-beginning", "--count", "7", "--timeout-ms", "20000")
    eq(p.returncode, 1, "decode exits 1 when a message is not a record")
    out = [json.loads(x) for x in p.stdout.splitlines()]
    eq([r["operation"] for r in out], ["BEGIN", "INSERT", "COMMIT"] * 2,
       "decode from Kafka over SCRAM: all six records")
    eq([r["kafka"]["offset"] for r in out], [0, 1, 2, 4, 5, 6], "offsets")
    check("partition 0 offset 3: not a DTS record" in p.stderr,
          f"the bad message is named by partition and offset: {p.stderr.strip()}")
    # --offset and --partition
    p = run("decode", "--brokers", plain, "--topic", topic, "--partition", "0",
            "--offset", "4", "--count", "1", "--timeout-ms", "20000")
    eq(p.returncode, 0, f"decode --offset 4 ({p.stderr.strip()})")
    eq([json.loads(x)["operation"] for x in p.stdout.splitlines()], ["BEGIN"],
       "--offset 4 starts at the fourth record")
    # every partition of a topic, through one queue
    topic3 = topic + "-3"
    subprocess.run([sb, "topic", os.environ["FERRY_SANDBOX"], topic3, "3"],
                   check=True, capture_output=True)
    for part in range(3):
        subprocess.run(["kcat", "-P", "-b", plain, "-t", topic3, "-p",
                        str(part), files[part]], check=True,
                       capture_output=True)
    p = run("decode", "--brokers", plain, "--topic", topic3,
            "--from-beginning", "--count", "3", "--timeout-ms", "20000")
    eq(p.returncode, 0, f"decode of 3 partitions ({p.stderr.strip()})")
    got = sorted((r["kafka"]["partition"], r["operation"])
                 for r in map(json.loads, p.stdout.splitlines()))
    eq(got, [(0, "BEGIN"), (1, "INSERT"), (2, "COMMIT")],
       "decode reads every partition")
    p = run("decode", "--brokers", plain, "--topic", topic3, "--partition",
            "2", "--from-beginning", "--timeout-ms", "3000")
    eq([(r["kafka"]["partition"], r["operation"])
        for r in map(json.loads, p.stdout.splitlines())], [(2, "COMMIT")],
       "--partition 2 reads that partition only")
    # wrong password: one clear sentence
    wrong = tempfile.NamedTemporaryFile("w", delete=False)
    wrong.write("wrong-password")
    wrong.close()
    p = run("decode", "--brokers", scram, "--topic", topic, "--sasl",
            "scram-sha-256", "--username", user, "--password-file", wrong.name,
            "--timeout-ms", "1000")
    eq(p.returncode, 1, "decode with a wrong password fails")
    check("authentication failed" in p.stderr and "wrong-password" not in
          p.stderr, f"says so, without the password: {p.stderr.strip()}")
    # a topic that does not exist
    p = run("decode", "--brokers", plain, "--topic", topic + "-nope",
            "--timeout-ms", "1000")
    eq(p.returncode, 1, "decode of a missing topic fails")
    check("nope" in p.stderr, f"names the topic: {p.stderr.strip()}")
    os.unlink(bad.name)
    os.unlink(wrong.name)


def usage():
    for args, why in [((), "needs --brokers and --topic"),
                      (("--file",), "needs FILEs"),
                      (("--brokers", "h:1", "--topic", "t", "--sasl", "md5"),
                       "--sasl must be"),
                      (("--brokers", "nohost", "--topic", "t"), "has no port"),
                      (("--brokers", "h:1", "--topic", "t", "--from-beginning",
                        "--offset", "3"), "not both")]:
        p = run("decode", *args)
        eq(p.returncode, 2, f"decode {args} is a usage error")
        check(why in p.stderr, f"decode {args}: {p.stderr.strip()}")


out, files = convert_corpus()
python_avro(files)
decode_files(files)
usage()
decode_kafka(files)
subprocess.run(["rm", "-rf", out])
finish()
