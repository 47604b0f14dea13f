"""Reading what ferry wrote to Kafka without ferry: kcat fetches the
messages (with partition, offset and headers), python3-avro decodes them
with the published DTS schema.  Shared by the daemon's tests."""
import io
import os
import struct
import subprocess
import time

import avro.io
import avro.schema

from ferrytest import check, shared_dir

_schema = None


def schema():
    global _schema
    if _schema is None:
        _schema = avro.schema.parse(open(os.path.join(
            shared_dir(), "reference", "dts-avro", "derived",
            "Record.standalone.avsc")).read())
    return _schema


def read(broker, name, expect=None, timeout=60):
    """Every message of every partition of topic name: a list of
    (partition, offset, headers, record).  With expect, wait up to timeout
    seconds for at least that many."""
    end = time.time() + timeout
    while True:
        p = subprocess.run(
            ["kcat", "-C", "-b", broker, "-t", name, "-e", "-q", "-f",
             "%p %o %h\n%R%s"], capture_output=True, timeout=120)
        data, out, i = p.stdout, [], 0
        while i < len(data):
            nl = data.index(b"\n", i)
            part, off, hdrs = data[i:nl].decode().split(" ", 2)
            n = struct.unpack(">i", data[nl + 1:nl + 5])[0]
            payload = data[nl + 5:nl + 5 + n]
            i = nl + 5 + n
            h = dict(kv.split("=", 1) for kv in hdrs.split(",") if "=" in kv)
            bio = io.BytesIO(payload)
            rec = avro.io.DatumReader(schema()).read(
                avro.io.BinaryDecoder(bio))
            check(bio.tell() == len(payload), f"{name}/{part}@{off}: the "
                  "message is exactly one record")
            check(len(payload) > 48, f"{name}/{part}@{off}: {len(payload)} "
                  "bytes is DTS filler size")
            out.append((int(part), int(off), h, rec))
        if expect is None or len(out) >= expect or time.time() > end:
            return out
        time.sleep(0.5)


def image(r, which):
    """A record's before or after image as {column name: value}."""
    return dict(zip([f["name"] for f in r["fields"]], r[which]))


def compare_alltypes(tbl, img, want, what):
    """An image of test_binlog_live's all-types table against its SELECT
    snapshot (tbl is that module)."""
    for name, _, kind in tbl.COLUMNS:
        if name not in img:
            check(False, f"{what}: no column {name} (fields {sorted(img)})")
            continue
        got = tbl.dts_text(name, kind, img[name])
        exp = want[name]
        if kind in ("float", "double") and exp != "NULL":
            ok = float(got) == float(exp)
        elif kind == "hex" and name in ("g", "pt") and exp != "NULL":
            ok = got == exp[8:]
        else:
            ok = got == exp
        check(ok, f"{what}.{name}: record {got[:60]!r}, SELECT {exp[:60]!r}")


def check_ids(msgs, what=""):
    """Exactly-once as the topic shows it: no record id twice, and ids
    increasing along each partition (msgs as read() returns them)."""
    ids = [m[3]["id"] for m in msgs]
    check(len(ids) == len(set(ids)), f"no record twice{what} "
          f"({len(ids) - len(set(ids))} repeated)")
    for part in sorted({m[0] for m in msgs}):
        seq = [m[3]["id"] for m in sorted(msgs, key=lambda m: m[1])
               if m[0] == part]
        bad = [(a, b) for a, b in zip(seq, seq[1:]) if a >= b]
        check(not bad, f"ids increase along partition {part}{what}: "
              f"{bad[:3]}")
