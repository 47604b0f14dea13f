"""The binlog decoder against the sandbox MariaDB.

A table with every MariaDB column type gets inserts, updates and deletes;
the values ferry decodes from the binlog must equal what SELECT returned
for the same rows at the same moment (the server's own rendering, fetched
as text and hex), and what mariadb-binlog -vv decodes.  Then the same
events read live as a replica: from a file and position, from a GTID,
across a rotation, and across a server restart (on a private server, so
that other tests are not disturbed).
"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests", "lib"))
import mbinlog  # noqa: E402
from ferrytest import FERRY, check, dump, eq, finish, missing  # noqa: E402


class DB:
    """The mariadb client with the password in an option file."""

    def __init__(self, socket, pwfile):
        self.cnf = tempfile.NamedTemporaryFile("w", suffix=".cnf", delete=False)
        with open(pwfile) as f:
            pw = f.read().rstrip("\n")
        self.cnf.write(f"[client]\nuser=root\npassword={pw}\nsocket={socket}\n")
        self.cnf.close()

    def sql(self, q):
        p = subprocess.run(
            ["mariadb", f"--defaults-extra-file={self.cnf.name}", "-N", "-B",
             "--default-character-set=utf8mb4", "-e",
             "SET time_zone = '+00:00'; SET sql_mode = ''; " + q],
            capture_output=True)
        if p.returncode != 0:
            raise RuntimeError(f"SQL failed: {q[:200]}: {p.stderr.decode()}")
        return [line.split("\t") for line in p.stdout.decode().splitlines()]

    def one(self, q):
        return self.sql(q)[0][0]


# name, SQL type, comparison kind
COLUMNS = [
    ("ti", "TINYINT", "int"), ("tiu", "TINYINT UNSIGNED", "int"),
    ("si", "SMALLINT", "int"), ("siu", "SMALLINT UNSIGNED", "int"),
    ("mi", "MEDIUMINT", "int"), ("miu", "MEDIUMINT UNSIGNED", "int"),
    ("i", "INT", "int"), ("iu", "INT UNSIGNED", "int"),
    ("bi", "BIGINT", "int"), ("biu", "BIGINT UNSIGNED", "int"),
    ("d1", "DECIMAL(65,30)", "text"), ("d2", "DECIMAL(10,0)", "text"),
    ("d3", "DECIMAL(5,5)", "text"), ("d4", "DECIMAL(18,9) UNSIGNED", "text"),
    ("f", "FLOAT", "float"), ("dbl", "DOUBLE", "double"),
    ("b1", "BIT(1)", "bit"), ("b10", "BIT(10)", "bit"), ("b64", "BIT(64)", "bit"),
    ("y", "YEAR", "int"), ("dt", "DATE", "text"),
] + [(f"t{n}", f"TIME({n})", "text") for n in range(7)] \
  + [(f"dt{n}", f"DATETIME({n})", "text") for n in range(7)] \
  + [(f"ts{n}", f"TIMESTAMP({n}) NULL", "text") for n in range(7)] + [
    ("c4", "CHAR(10) CHARACTER SET utf8mb4", "chars"),
    ("c1", "CHAR(10) CHARACTER SET latin1", "chars"),
    ("clong", "CHAR(255) CHARACTER SET utf8mb4", "chars"),
    ("v4", "VARCHAR(300) CHARACTER SET utf8mb4", "chars"),
    ("v1", "VARCHAR(20) CHARACTER SET latin1", "chars"),
    ("v3", "VARCHAR(20) CHARACTER SET utf8mb3", "chars"),
    ("vucs2", "VARCHAR(20) CHARACTER SET ucs2", "chars"),
    ("vutf16", "VARCHAR(20) CHARACTER SET utf16", "chars"),
    ("vgbk", "VARCHAR(20) CHARACTER SET gbk", "chars"),
    ("bn", "BINARY(4)", "hex"), ("vb", "VARBINARY(10)", "hex"),
    ("tt", "TINYTEXT", "chars"), ("tx", "TEXT", "chars"),
    ("mt", "MEDIUMTEXT", "chars"), ("lt", "LONGTEXT", "chars"),
    ("tb", "TINYBLOB", "hex"), ("bl", "BLOB", "hex"),
    ("mb", "MEDIUMBLOB", "hex"), ("lb", "LONGBLOB", "hex"),
    ("e", "ENUM('a','bb','ccc')", "text"), ("s", "SET('x','y','z')", "text"),
    ("j", "JSON", "chars"), ("g", "GEOMETRY", "hex"), ("pt", "POINT", "hex"),
]


def expr(name, kind):
    """The SELECT expression whose text is the comparable form."""
    if kind == "bit":
        return f"CAST({name} + 0 AS CHAR)"
    if kind == "float":
        return f"CAST(CAST({name} AS DOUBLE) AS CHAR)"
    if kind == "chars":
        return f"HEX(CONVERT({name} USING utf8mb4))"
    if kind == "hex":
        return f"HEX({name})"
    return f"CAST({name} AS CHAR)"


def snapshot(db, table):
    cols = ", ".join(expr(n, k) for n, _, k in COLUMNS)
    out = {}
    for r in db.sql(f"SELECT id, {cols} FROM {table} ORDER BY id"):
        out[int(r[0])] = dict(zip([c[0] for c in COLUMNS], r[1:]))
    return out


def ours_text(v, kind):
    """ferry's JSON value in the form of expr()'s output."""
    if v is None:
        return "NULL"
    if kind == "chars":
        return v.encode("utf-8").hex().upper()
    if kind == "hex":
        return v["hex"].upper()
    return str(v)


def same(ours, theirs, kind):
    if theirs == "NULL" or ours is None:
        return (ours is None) == (theirs == "NULL")
    if kind == "float":
        import struct
        return struct.unpack("f", struct.pack("f", ours))[0] == float(theirs)
    if kind == "double":
        return float(ours) == float(theirs)
    if kind == "bit" or kind == "int":
        return int(ours) == int(theirs)
    return ours_text(ours, kind) == theirs


def compare_image(img, want, what):
    for name, _, kind in COLUMNS:
        check(name in img, f"{what}: column {name} missing")
        if name in img and not same(img[name], want[name], kind):
            check(False, f"{what}.{name}: ferry {str(img[name])[:80]!r}, "
                  f"SELECT {want[name][:80]!r}")


ROWS = [
    # minimums and negatives
    """(1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0,
     -9223372036854775808, 0,
     -99999999999999999999999999999999999.999999999999999999999999999999,
     -9999999999, -0.99999, 0, -3.402823466e38, -1.7976931348623157e308,
     0, 0, 0, 1901, '1000-01-01',
     '-838:59:59', '-838:59:59.9', '-838:59:59.99', '-838:59:59.999',
     '-838:59:59.9999', '-838:59:59.99999', '-838:59:59.999999',
     '1000-01-01 00:00:00', '1000-01-01 00:00:00.1', '1000-01-01 00:00:00.01',
     '1000-01-01 00:00:00.001', '1000-01-01 00:00:00.0001',
     '1000-01-01 00:00:00.00001', '1000-01-01 00:00:00.000001',
     '1970-01-01 00:00:01', '1970-01-01 00:00:01.9', '1970-01-01 00:00:01.99',
     '1970-01-01 00:00:01.999', '1970-01-01 00:00:01.9999',
     '1970-01-01 00:00:01.99999', '1970-01-01 00:00:01.999999',
     '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '',
     '', 'a', '', '[]', POINT(0, 0), POINT(-1.5, -2.5))""",
    # maximums
    """(2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
     9223372036854775807, 18446744073709551615,
     99999999999999999999999999999999999.999999999999999999999999999999,
     9999999999, 0.99999, 999999999.999999999, 3.402823466e38,
     1.7976931348623157e308, 1, 1023, 18446744073709551615, 2155,
     '9999-12-31',
     '838:59:59', '838:59:59.9', '838:59:59.99', '838:59:59.999',
     '838:59:59.9999', '838:59:59.99999', '838:59:59.999999',
     '9999-12-31 23:59:59', '9999-12-31 23:59:59.9', '9999-12-31 23:59:59.99',
     '9999-12-31 23:59:59.999', '9999-12-31 23:59:59.9999',
     '9999-12-31 23:59:59.99999', '9999-12-31 23:59:59.999999',
     '2038-01-19 03:14:07', '2038-01-19 03:14:07.9', '2038-01-19 03:14:07.99',
     '2038-01-19 03:14:07.999', '2038-01-19 03:14:07.9999',
     '2038-01-19 03:14:07.99999', '2038-01-19 03:14:07.999999',
     REPEAT('😀', 10), REPEAT('ÿ', 10), REPEAT('字', 255), REPEAT('é', 300),
     REPEAT('Z', 20), REPEAT('€', 20), REPEAT('字', 20), REPEAT('𝄞', 20),
     REPEAT('中', 20), 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFFFFFF, REPEAT('t', 255),
     REPEAT('x', 65535), REPEAT('m', 70000), REPEAT('L', 300000),
     REPEAT(0xAB, 255), REPEAT(0xCD, 65535), REPEAT(0xEF, 70000),
     RANDOM_BYTES(1024), 'ccc', 'x,y,z',
     '{"a": [1, 2.5, null, true, false, "s"], "b": {"c": "\\\\u00e9"}}',
     ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0))'), POINT(1e300, -1e-300))""",
    # zeros and zero dates
    """(3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     '0000-00-00', '00:00:00', '00:00:00.0', '00:00:00.00', '00:00:00.000',
     '00:00:00.0000', '00:00:00.00000', '00:00:00.000000',
     '0000-00-00 00:00:00', '0000-00-00 00:00:00.0', '0000-00-00 00:00:00.00',
     '0000-00-00 00:00:00.000', '0000-00-00 00:00:00.0000',
     '0000-00-00 00:00:00.00000', '0000-00-00 00:00:00.000000',
     0, 0, 0, 0, 0, 0, 0,
     'zero', 'zero', 'zero', 'zero', 'zero', 'zero', 'zero', 'zero', 'zero',
     0x00000000, 0x00, '0', '0', '0', '0', 0x00, 0x00, 0x00, 0x00,
     'a', '', 'null', POINT(0, 0), POINT(0, 0))""",
    # NULLs
    "(4, " + ", ".join(["NULL"] * len(COLUMNS)) + ")",
    # everyday values with awkward bytes
    """(5, -1, 1, -2, 2, -3, 3, -4, 4, -5, 5, 12.5, -1, 0.5, 1.000000001,
     1.1, -2.2e-300, 1, 5, 9223372036854775808, 2024, '2024-02-29',
     '-00:00:00', '-00:00:00.5', '-12:34:56.78', '100:00:00.001',
     '-1:02:03.0004', '00:00:00.00001', '-00:00:00.000001',
     '2024-02-29 13:05:09', '2024-02-29 13:05:09.1',
     '2024-02-29 13:05:09.12', '2024-02-29 13:05:09.123',
     '2024-02-29 13:05:09.1234', '2024-02-29 13:05:09.12345',
     '2024-02-29 13:05:09.123456',
     '2024-02-29 13:05:09', '2024-02-29 13:05:09.1', '2024-02-29 13:05:09.12',
     '2024-02-29 13:05:09.123', '2024-02-29 13:05:09.1234',
     '2024-02-29 13:05:09.12345', '2024-02-29 13:05:09.123456',
     'a''b"c\\\\d', 'héllo', 'tab\\there', 'line\\nbreak', 'Œuvre €',
     'naïve', 'Ω≈ç√', '日本語', '中文', 0x61000000, 0x00ff0a0d, 'ü',
     CONCAT('nul', CHAR(0), 'byte'), 'm', 'l', 0x00, 0x0102, 0x03, 0x04,
     'bb', '', '{"k": "v"}', POINT(1, 2), POINT(3, 4))""",
]


def main():
    url = os.environ.get("FERRY_TEST_MYSQL") or missing("FERRY_TEST_MYSQL is not set")
    sock = os.environ["FERRY_TEST_MYSQL_SOCKET"]
    pwfile = os.environ["FERRY_TEST_MYSQL_PASSWORD_FILE"]
    db = DB(sock, pwfile)
    schema = f"ferry_bl_{os.getpid()}_{int(time.time())}"
    table = f"{schema}.all_types"

    db.sql(f"CREATE DATABASE {schema}")
    db.sql("FLUSH BINARY LOGS")
    start_file, start_pos = db.sql("SHOW MASTER STATUS")[0][:2]
    start_gtid = db.one("SELECT @@gtid_binlog_pos")
    datadir = db.one("SELECT @@datadir")
    coldefs = ", ".join(f"{n} {t}" for n, t, _ in COLUMNS)
    db.sql(f"CREATE TABLE {table} (id INT PRIMARY KEY, {coldefs}) "
           "DEFAULT CHARSET=utf8mb4")
    for r in ROWS:
        db.sql(f"INSERT INTO {table} VALUES {r}")
    s1 = snapshot(db, table)
    eq(sorted(s1), [1, 2, 3, 4, 5], "five rows inserted")
    # updates: one column, every column, and a multi-row statement
    db.sql(f"UPDATE {table} SET ti = ti + 1 WHERE id = 5")
    s_mid = snapshot(db, table)
    db.sql(f"UPDATE {table} t, {table} u SET t.v4 = 'updated ✓', "
           f"t.lb = NULL, t.ts6 = '2001-02-03 04:05:06.070809', t.e = 'a', "
           f"t.j = '{{\"new\": 1}}' WHERE t.id = u.id AND t.id IN (2, 3)")
    s2 = snapshot(db, table)
    db.sql(f"DELETE FROM {table} WHERE id IN (1, 3)")
    db.sql("FLUSH BINARY LOGS")

    path = os.path.join(datadir, start_file)
    events, _ = dump(path)
    ours = [e for e in events if e.get("table") == "all_types" and "rows" in e]
    rows = [(e["type"], r) for e in ours for r in e["rows"]]
    kinds = [k for k, _ in rows]
    eq(kinds, ["write_rows"] * 5 + ["update_rows"] * 3 + ["delete_rows"] * 2,
       "row changes in order")
    for k, r in rows[:5]:
        compare_image(r["after"], s1[r["after"]["id"]], f"insert {r['after']['id']}")
    compare_image(rows[5][1]["before"], s1[5], "update 5 before")
    compare_image(rows[5][1]["after"], s_mid[5], "update 5 after")
    for k, r in rows[6:8]:
        i = r["before"]["id"]
        compare_image(r["before"], s_mid[i], f"multi-update {i} before")
        compare_image(r["after"], s2[i], f"multi-update {i} after")
    for k, r in rows[8:]:
        i = r["before"]["id"]
        compare_image(r["before"], s2[i], f"delete {i} before")

    # mariadb-binlog agrees on every value it decodes
    n, msgs = mbinlog.compare(events, path, only_tables={table})
    for m in msgs:
        check(False, m)
    check(n >= 10 * len(COLUMNS), f"only {n} values compared with mariadb-binlog")

    check_convert(path, table, s1, s_mid, s2)

    pw = ["--password-file", pwfile]
    # live, from the file and position where the test began
    live, _ = dump(None, "--source", url, *pw, "--from", f"{start_file}:{start_pos}")
    live_rows = [e["rows"] for e in live if e.get("table") == "all_types" and "rows" in e]
    eq(live_rows, [e["rows"] for e in ours], "live from file:pos = the file's rows")
    check(live[0]["type"] == "rotate" and live[0]["next_file"] == start_file,
          "live dump starts with the server's rotate to the file")
    # live, from a GTID position
    live, _ = dump(None, "--source", url, *pw, "--from-gtid", start_gtid)
    live_rows = [e["rows"] for e in live if e.get("table") == "all_types" and "rows" in e]
    eq(live_rows, [e["rows"] for e in ours], "live from GTID = the file's rows")
    g = [e for e in live if e["type"] == "gtid"]
    d, s, q = start_gtid.split(",")[0].split("-")
    check(g and g[0]["gtid"] == f"{d}-{s}-{int(q) + 1}",
          f"the first GTID after {start_gtid}: {g[0]['gtid'] if g else None}")

    rotation(db, url, pw, table)
    restart(pw)
    db.sql(f"DROP DATABASE {schema}")


FSP = {f"{p}{n}": n for p in ("t", "dt", "ts") for n in range(7)}


def dts_text(name, kind, v):
    """A DTS Avro value as python3-avro read it, in expr()'s form."""
    import calendar
    import struct
    import time as tm
    if v is None:
        return "NULL"
    keys = set(v)
    if keys == {"precision", "value"}:			# Integer
        return v["value"]
    if keys == {"value", "precision", "scale"}:
        if isinstance(v["value"], float):		# Float
            if kind == "float":
                return repr(struct.unpack("f", struct.pack("f", v["value"]))[0])
            return repr(v["value"])
        return v["value"]				# Decimal
    if keys == {"timestamp", "millis"}:			# Timestamp
        if v["timestamp"] == 0 and v["millis"] == 0:
            s = "0000-00-00 00:00:00"
        else:
            s = tm.strftime("%Y-%m-%d %H:%M:%S", tm.gmtime(v["timestamp"]))
        fsp = FSP.get(name, 0)
        return s + (("." + f"{v['millis']:06d}"[:fsp]) if fsp else "")
    if "year" in keys:					# DateTime
        if v["hour"] is None and v["month"] is None:
            return f"{v['year']:04d}"
        fsp = FSP.get(name, 0)
        frac = ("." + f"{abs(v['millis']):06d}"[:fsp]) if fsp else ""
        if v["year"] is None:
            neg = any(x < 0 for x in (v["hour"], v["minute"], v["second"],
                                      v["millis"]))
            return (("-" if neg else "") + f"{abs(v['hour']):02d}:"
                    f"{abs(v['minute']):02d}:{abs(v['second']):02d}{frac}")
        d = f"{v['year']:04d}-{v['month']:02d}-{v['day']:02d}"
        if v["hour"] is None:
            return d
        return f"{d} {v['hour']:02d}:{v['minute']:02d}:{v['second']:02d}{frac}"
    if keys == {"charset", "value"}:			# Character
        if kind == "hex":
            return v["value"].hex().upper()
        return v["value"].decode(mbinlog.py_charset(v["charset"])) \
            .encode("utf-8").hex().upper()
    if keys == {"type", "value"}:			# *Object, *Geometry
        if isinstance(v["value"], str):			# TextObject
            return v["value"]
        if kind == "hex" and name in ("g", "pt"):	# BinaryGeometry: WKB
            return v["value"].hex().upper()
        if kind == "chars":				# TEXT
            return v["value"].decode("utf-8").encode("utf-8").hex().upper()
        return v["value"].hex().upper()			# BLOB
    return f"unknown {v!r}"


def check_convert(path, table, s1, s_mid, s2):
    """ferry binlog convert on the same binlog, read back by python3-avro
    (an independent Avro reader) with the published schema: the records'
    values equal what SELECT returned."""
    import glob
    import io
    import avro.io
    import avro.schema
    from ferrytest import shared_dir
    sch = avro.schema.parse(open(os.path.join(
        shared_dir(), "reference", "dts-avro", "derived",
        "Record.standalone.avsc")).read())
    out = tempfile.mkdtemp(prefix="ferry-convert.")
    p = subprocess.run([FERRY, "binlog", "convert", "--out", out, path],
                       capture_output=True, text=True)
    eq(p.returncode, 0, f"convert: {p.stderr.strip()}")
    recs = []
    for f in sorted(glob.glob(os.path.join(out, "*.avro"))):
        b = open(f, "rb").read()
        check(len(b) > 48, f"{f}: {len(b)} bytes is DTS filler size")
        bio = io.BytesIO(b)
        recs.append(avro.io.DatumReader(sch).read(avro.io.BinaryDecoder(bio)))
        eq(bio.tell(), len(b), f"{f}: the whole file is one datum")
    # ferry decode prints the zero TIMESTAMP (row 3) as SELECT does, not
    # as the epoch.
    p = subprocess.run([FERRY, "decode", "--file", *sorted(glob.glob(
        os.path.join(out, "*.avro")))], capture_output=True, text=True)
    eq(p.returncode, 0, f"decode: {p.stderr.strip()}")
    zero = [json.loads(x)["afterImages"] for x in p.stdout.splitlines()
            if '"INSERT"' in x]
    zero = [a for a in zero if a.get("id") == 3]
    check(len(zero) == 1 and all(zero[0][f"ts{n}"] == "0000-00-00 00:00:00"
                                 for n in range(7)),
          f"decode: zero TIMESTAMPs: {[zero[0].get(f'ts{n}') for n in range(7)] if zero else zero}")
    ours = [r for r in recs if r["objectName"] == table.replace(".", ".", 1)]
    eq([r["operation"] for r in ours],
       ["INSERT"] * 5 + ["UPDATE"] * 3 + ["DELETE"] * 2, "record operations")
    # every change sits between a BEGIN and a COMMIT of its transaction
    ops = [r["operation"] for r in recs]
    check(ops.count("BEGIN") == ops.count("COMMIT"), "BEGIN/COMMIT pairs")
    ids = [r["id"] for r in recs]
    eq(ids, list(range(1, len(recs) + 1)), "ids increase by one")

    def image(r, which):
        names = [f["name"] for f in r["fields"]]
        return dict(zip(names, r[which]))

    def compare(img, want, what):
        for name, _, kind in COLUMNS:
            got = dts_text(name, kind, img[name])
            exp = want[name]
            if kind == "float" and exp != "NULL":
                ok = float(got) == float(exp)
            elif kind == "double" and exp != "NULL":
                ok = float(got) == float(exp)
            elif kind == "hex" and name in ("g", "pt") and exp != "NULL":
                ok = got == exp[8:]		# the SRID is not WKB
            else:
                ok = got == exp
            check(ok, f"convert {what}.{name}: record {got[:80]!r}, "
                  f"SELECT {exp[:80]!r}")
    for r in ours[:5]:
        a = image(r, "afterImages")
        compare(a, s1[int(a["id"]["value"])], f"insert {a['id']['value']}")
    compare(image(ours[5], "beforeImages"), s1[5], "update 5 before")
    compare(image(ours[5], "afterImages"), s_mid[5], "update 5 after")
    for r in ours[6:8]:
        i = int(image(r, "beforeImages")["id"]["value"])
        compare(image(r, "beforeImages"), s_mid[i], f"update {i} before")
        compare(image(r, "afterImages"), s2[i], f"update {i} after")
    for r in ours[8:]:
        i = int(image(r, "beforeImages")["id"]["value"])
        compare(image(r, "beforeImages"), s2[i], f"delete {i} before")
    pk = [r["tags"].get("pk_uk_info") for r in ours]
    check(all(x == '{"PRIMARY":["id"]}' for x in pk), f"pk_uk_info: {pk[0]}")
    # Character.charset: the column's declared charset, with MariaDB's
    # utf8mb3 named utf8 as DTS's readers know it.
    names = {}
    for r in ours:
        for which in ("beforeImages", "afterImages"):
            if r[which] is None:
                continue
            for c, v in image(r, which).items():
                if isinstance(v, dict) and set(v) == {"charset", "value"}:
                    names.setdefault(c, set()).add(v["charset"])
    eq({c: names.get(c) for c in ("c4", "c1", "v4", "v1", "v3", "vgbk")},
       {"c4": {"utf8mb4"}, "c1": {"latin1"}, "v4": {"utf8mb4"},
        "v1": {"latin1"}, "v3": {"utf8"}, "vgbk": {"gbk"}},
       "Character.charset of the declared charsets")
    subprocess.run(["rm", "-rf", out])


def reader(url, pw, *extra):
    """A live dump that waits for new events; its lines from .stdout."""
    return subprocess.Popen([FERRY, "binlog", "dump", "--source", url, *pw,
                             "--stop-never", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def read_until(proc, pred, timeout=30):
    """Events from proc until pred(event) holds; [] on timeout."""
    import select
    got = []
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([proc.stdout], [], [], 0.5)
        if not r:
            continue
        line = proc.stdout.readline()
        if not line:
            break
        ev = json.loads(line)
        got.append(ev)
        if pred(ev):
            return got
    check(False, f"timed out waiting; saw {len(got)} events")
    return got


def marker(v):
    return lambda e: e.get("table") == "all_types" and any(
        (r.get("after") or {}).get("id") == v for r in e.get("rows", []))


def rotation(db, url, pw, table):
    f, p = db.sql("SHOW MASTER STATUS")[0][:2]
    proc = reader(url, pw, "--from", f"{f}:{p}")
    try:
        db.sql(f"INSERT INTO {table} (id) VALUES (100)")
        before = read_until(proc, marker(100))
        db.sql("FLUSH BINARY LOGS")
        db.sql(f"INSERT INTO {table} (id) VALUES (101)")
        after = read_until(proc, marker(101))
        rot = [e for e in after if e["type"] == "rotate"]
        check(rot, "a rotate event mid-stream")
        newfile = db.sql("SHOW MASTER STATUS")[0][0]
        check(rot and rot[0]["next_file"] == newfile, f"rotate names {newfile}")
        eq(after[-1]["file"], newfile, "events after the rotation carry the new file")
        check(before[-1]["file"] == f, "events before it carry the old one")
    finally:
        proc.kill()
        proc.wait()


def compressed(pdb, url, pw):
    """MariaDB's log_bin_compress: zlib-compressed query and rows events
    decode to the same SQL and values (a private server: a global)."""
    pdb.sql("SET GLOBAL log_bin_compress = ON, log_bin_compress_min_len = 10;"
            "CREATE TABLE r.z (id INT PRIMARY KEY, t TEXT)")
    f, p = pdb.sql("SHOW MASTER STATUS")[0][:2]
    long = "compress me " * 100
    pdb.sql(f"INSERT INTO r.z VALUES (1, '{long}'), (2, NULL);"
            f"UPDATE r.z SET t = 'short now' WHERE id = 1;"
            f"DELETE FROM r.z WHERE id = 2;"
            f"ALTER TABLE r.z COMMENT 'a statement long enough to compress'")
    pdb.sql("SET GLOBAL log_bin_compress = OFF")
    ev, _ = dump(None, "--source", url, *pw, "--from", f"{f}:{p}")
    rows = [e for e in ev if e.get("table") == "z" and "rows" in e]
    # events shorter than log_bin_compress_min_len stay uncompressed
    eq([e.get("compressed", False) for e in rows], [True, True, False],
       "the insert and update events of r.z are compressed")
    eq([(e["type"], e["rows"]) for e in rows],
       [("write_rows", [{"after": {"id": 1, "t": long}},
                        {"after": {"id": 2, "t": None}}]),
        ("update_rows", [{"before": {"id": 1, "t": long},
                          "after": {"id": 1, "t": "short now"}}]),
        ("delete_rows", [{"before": {"id": 2, "t": None}}])],
       "compressed rows events decode")
    q = [e["sql"] for e in ev if e["type"] == "query" and e.get("compressed")]
    check(any("COMMENT 'a statement long enough" in x for x in q),
          f"a compressed query event decodes: {q}")


def heartbeat(url, pw):
    """An idle source sends heartbeats at the period ferry asks for."""
    proc = reader(url, pw, "--heartbeat", "1")
    try:
        got = read_until(proc, lambda e: e["type"] == "heartbeat", timeout=15)
        check(got and got[-1]["type"] == "heartbeat", "a heartbeat within 15 s")
    finally:
        proc.kill()
        proc.wait()


def restart(pw):
    """A private MariaDB restarted under a reader: the reader ends with an
    error (no hang, no crash), and a new reader from the last position sees
    everything written after the restart."""
    sb = os.path.join(os.environ["FERRY_SRCDIR"], "tools", "sandbox")
    d = tempfile.mkdtemp(prefix="ferry-restart.", dir="/tmp")
    try:
        subprocess.run([sb, "start", "--only", "mariadb", d], check=True,
                       capture_output=True)
        env = dict(line.split("=", 1) for line in subprocess.run(
            [sb, "env", d], capture_output=True, text=True, check=True)
            .stdout.replace("export ", "").splitlines())
        url, pwf = env["FERRY_TEST_MYSQL"], env["FERRY_TEST_MYSQL_PASSWORD_FILE"]
        pdb = DB(env["FERRY_TEST_MYSQL_SOCKET"], pwf)
        pdb.sql("CREATE DATABASE r; CREATE TABLE r.all_types (id INT PRIMARY KEY)")
        f, p = pdb.sql("SHOW MASTER STATUS")[0][:2]
        lpw = ["--password-file", pwf]
        proc = reader(url, lpw, "--from", f"{f}:{p}")
        pdb.sql("INSERT INTO r.all_types VALUES (1)")
        seen = read_until(proc, marker(1))
        last = seen[-1]
        subprocess.run([sb, "stop", d], check=True, capture_output=True)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = None
        check(rc == 1, f"the reader exits 1 when the server goes away (got {rc})")
        err = proc.stderr.read()
        check("reading the binlog" in err or "Lost connection" in err,
              f"the reader says what happened: {err.strip()}")
        subprocess.run([sb, "start", "--only", "mariadb", d], check=True,
                       capture_output=True)
        pdb.sql("INSERT INTO r.all_types VALUES (2)")
        compressed(pdb, url, lpw)
        heartbeat(url, lpw)
        ev, _ = dump(None, "--source", url, *lpw, "--from",
                     f"{last['file']}:{last['next_pos']}")
        ids = [r["after"]["id"] for e in ev if e.get("table") == "all_types"
               for r in e.get("rows", [])]
        eq(ids, [2], "after the restart, resuming from the last position "
           "gives exactly the new row")
    finally:
        subprocess.run([sb, "stop", d], capture_output=True)
        subprocess.run(["rm", "-rf", d])


if __name__ == "__main__":
    main()
    finish()
