"""The binlog reference corpus: every file decoded, every fact of its
MANIFEST.md asserted value by value.

Expected values come from the MANIFEST (facts F1-F22, the event positions
and counts it gives), i.e. from the SQL that made the files and from
independent decoders; never from ferry's own output.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.environ["FERRY_SRCDIR"], "tests", "lib"))
from ferrytest import check, corpus, dump, eq, finish, rows_of  # noqa: E402
import mbinlog  # noqa: E402


def types(events):
    return [e["type"] for e in events]


def f1_mdev35643():
    ev, _ = dump(corpus("mdev35643_mysql_80_binlog.000001"))
    fde = ev[0]
    eq(fde["server_version"], "8.0.40-debug", "F1 server version")
    eq(fde["checksum"], "crc32", "F1 checksum")
    top = [e for e in ev if not e.get("in_payload")]
    t1 = [(r[2]["@1"], r[2]["@2"], r[2]["@3"]) for r in rows_of(top, "test.t1")]
    eq(t1, [(1, 0, ""), (2, 0, "hulu"), (3, 0, "bulu"), (4, 0, "skip"),
            (5, 0, "after compressed")], "F1 t1 rows outside the payload")
    # 2 and 3 in one transaction: one BEGIN..XID around both writes
    i2 = next(i for i, e in enumerate(top) if e.get("rows") and
              e["rows"][0]["after"]["@1"] == 2)
    eq(top[i2 + 1]["type"], "table_map", "F1 rows 2 and 3 share a transaction")
    eq(top[i2 + 2]["rows"][0]["after"]["@1"], 3, "F1 row 3 after row 2")
    pl = [e for e in ev if e["type"] == "transaction_payload"]
    eq(len(pl), 1, "F1 one payload")
    eq(pl[0]["pos"], 1468, "F1 payload offset")
    eq(pl[0]["compression"], "zstd", "F1 payload compression")
    eq(pl[0]["payload_size"], 792, "F1 payload size")
    eq(pl[0]["uncompressed_size"], 20188, "F1 uncompressed size")
    inner = [e for e in ev if e.get("in_payload")]
    eq(inner[0]["type"], "query", "F1 payload starts with a query")
    eq(inner[0].get("sql"), "BEGIN", "F1 payload BEGIN")
    eq(types(inner[1:-1]), ["table_map", "write_rows"] * 100,
       "F1 payload holds 100 table_map+write_rows pairs")
    eq(inner[-1]["type"], "xid", "F1 payload ends with XID")
    for e in inner:
        check(e["pos"] == 1468, "F1 inner events carry the payload's position")
    got = [r[2] for r in rows_of(inner, "test.t1")]
    want = [{"@1": 1000 + i, "@2": i, "@3": f"--{i}--" + "/" * 100 + "--"}
            for i in range(100)]
    eq(got, want, "F1 the 100 compressed rows")
    # t2: statement-based insert, then a partial JSON update
    q = [e for e in ev if e["type"] == "query" and "INSERT INTO t2" in e["sql"]]
    eq(len(q), 1, "F1 t2 insert is a statement")
    pu = [e for e in ev if e["type"] == "partial_update_rows"]
    eq(len(pu), 1, "F1 one partial_update_rows event")
    before = pu[0]["rows"][0]["before"]
    after = pu[0]["rows"][0]["after"]
    doc = {"a": "hulu", "b": "[zyzzy]" * 100, "c": "bulu"}
    eq(before, {"@1": 1, "@2": doc}, "F1 partial update before image")
    eq(after, {"@1": 1, "@2": dict(doc, b="oOo" * 50)},
       "F1 partial update applied to the before image")


def f2_json():
    ev, _ = dump(corpus("json.binlog.000001"))
    eq(ev[0]["server_version"][:6], "8.0.22", "F2 server version")
    docs = [{"age": 24, "data": "x" * 10, "name": "Joe"},
            {"age": 32, "data": "y" * 10, "name": "Sue"},
            {"age": 40, "data": "z" * 10, "name": "Pete"}] * 2
    ins = rows_of(ev, "mysql.t", "write_rows")
    eq([r[2] for r in ins],
       [{"@1": i + 1, "@2": d, "@3": d["name"], "@4": d["age"]}
        for i, d in enumerate(docs)], "F2 inserts, generated columns")
    upd = [e for e in ev if e["type"] == "update_rows"]
    eq(len(upd), 1, "F2 one update_rows event")
    eq(len(upd[0]["rows"]), 6, "F2 update has 6 rows")
    for i, r in enumerate(upd[0]["rows"]):
        d = docs[i]
        eq(r["before"], {"@1": i + 1, "@2": d, "@3": d["name"], "@4": d["age"]},
           f"F2 update row {i + 1} before")
        d2 = dict(d, age=d["age"] + 1)
        eq(r["after"], {"@1": i + 1, "@2": d2, "@3": d["name"], "@4": d["age"] + 1},
           f"F2 update row {i + 1} after")
    pu = [e for e in ev if e["type"] == "partial_update_rows"]
    eq(len(pu), 1, "F2 one partial_update_rows event")
    eq(len(pu[0]["rows"]), 6, "F2 partial update has 6 rows")
    for i, r in enumerate(pu[0]["rows"]):
        d = docs[i]
        eq(r["before"], {"@1": i + 1}, f"F2 partial row {i + 1} before (MINIMAL)")
        eq(r["after"], {"@2": {"partial_json": [
            {"op": "replace", "path": "$.age", "value": d["age"] + 2}]},
            "@3": d["name"], "@4": d["age"] + 2},
           f"F2 partial row {i + 1} after: the diff reported exactly")
    alter = [e for e in ev if e["type"] == "query" and "ALTER USER" in e["sql"]]
    eq(len(alter), 1, "F2 the ALTER USER query decodes")


def f4_enum_set():
    ev, _ = dump(corpus("mysql-enum-string-set.000001"))
    tm = next(e for e in ev if e["type"] == "table_map")
    eq([c["name"] for c in tm["columns"]], ["f1", "f2", "f3", "f4", "f5"],
       "F4 column names")
    eq(tm["columns"][2].get("labels"), ["var1", "variant2", "foo"], "F4 ENUM labels")
    eq(tm["columns"][3].get("labels"), ["one", "two", "three", "four"], "F4 SET labels")
    b = ("0123456789" * 13)[:129]
    s = b + b + "0123456789" * 4
    eq(len(s), 298, "F4 S is 298 characters")
    row1 = {"f1": "0123456789" * 10, "f2": s, "f3": "var1",
            "f4": "one,three", "f5": "0123456789"}
    row2 = {"f1": "field1", "f2": "field_2", "f3": "variant2",
            "f4": "two,four", "f5": s}
    eq(rows_of(ev, "mysql.t"), [("write_rows", None, row1),
                               ("update_rows", row1, row2),
                               ("delete_rows", row2, None)],
       "F4 insert, update, delete")


def f5_bit():
    ev, _ = dump(corpus("mysql_type_bit.000001"))
    eq(rows_of(ev, "mysql.foo"),
       [("write_rows", None, {"a": 0b100, "b": "foo", "c": 0b00100000})],
       "F5 BIT(3), TEXT, BIT(8)")


def f7_minimal():
    ev, _ = dump(corpus("minimal_row_metadata.000001"))
    eq(rows_of(ev, "noria.t1"),
       [("write_rows", None, {"@1": 1, "@3": "a", "@5": 3230202323})],
       "F7 MINIMAL image: columns 1, 3, 5; unsigned INT")
    tm = next(e for e in ev if e["type"] == "table_map")
    eq(tm["columns"][2].get("charset"), "utf8mb4", "F7 COLUMN_CHARSET 255")
    eq(tm["columns"][4].get("unsigned"), True, "F7 signedness")


def f8_time():
    ev, _ = dump(corpus("time_issue.000001"))
    eq(rows_of(ev, "noria.t"), [("write_rows", None, {"@1": "-507:48:27"})],
       "F8 negative TIME over 24 hours")


def f9_transaction_compression():
    ev, _ = dump(corpus("transaction_compression.000001"))
    pl = [e for e in ev if e["type"] == "transaction_payload"]
    eq(len(pl), 1, "F9 one payload")
    eq((pl[0]["payload_size"], pl[0]["uncompressed_size"]), (124, 179),
       "F9 payload sizes")
    inner = [e for e in ev if e.get("in_payload")]
    eq(types(inner), ["query", "table_map", "write_rows", "xid"],
       "F9 inner events")
    eq(inner[0]["sql"], "BEGIN", "F9 BEGIN")
    eq((inner[1]["db"], inner[1]["table"]), ("test", "tb1"), "F9 table")
    eq(inner[2]["rows"], [{"after": {"@1": 1}}], "F9 row")
    after = ev[ev.index(inner[-1]) + 1:]
    check(all(e["type"] != "write_rows" for e in after), "F9 nothing after")


def f10_compressed():
    ev, _ = dump(corpus("mysql-bin.compressed"))
    top = [e for e in ev if not e.get("in_payload")]
    eq(len(top), 5, "F10 five top-level events")
    pl = [e for e in ev if e["type"] == "transaction_payload"]
    eq((pl[0]["payload_size"], pl[0]["uncompressed_size"]), (451, 960),
       "F10 payload sizes")
    upd = rows_of(ev, "demo.movies", "update_rows")
    eq(len(upd), 1, "F10 one update row")
    _, b, a = upd[0]
    eq(len(b), 11, "F10 11 columns")
    eq((b["@5"], a["@5"]), ("Western", "Western|Action"), "F10 @5 changes")
    eq({k: v for k, v in b.items() if k != "@5"},
       {k: v for k, v in a.items() if k != "@5"}, "F10 only @5 changes")
    eq((a["@1"], a["@2"], a["@3"], a["@4"], a["@7"], a["@8"], a["@10"], a["@11"]),
       (1, "Once Upon a Time in the West", 1968, "Italy", "Sergio Leone",
        "Ennio Morricone", "Tonino Delli Colli", "Paramount Pictures"),
       "F10 values")


def floats(hexstr):
    import struct
    raw = bytes.fromhex(hexstr)
    return [round(x, 4) for x in struct.unpack(f"<{len(raw) // 4}f", raw)]


def f12_vector():
    ev, _ = dump(corpus("vector.binlog"))
    eq(ev[0]["server_version"][:5], "9.0.1", "F12 server version")
    tms = {e["table"]: e for e in ev if e["type"] == "table_map"}
    eq([c.get("dimensions") for c in tms["foo"]["columns"]], [None, 3],
       "F12 foo VECTOR_DIMENSIONALITY")
    eq([c.get("dimensions") for c in tms["bar"]["columns"]], [None, 2, None, 4],
       "F12 bar VECTOR_DIMENSIONALITY")

    def vec(img, k):
        v = img[k]
        return None if v is None else floats(v["hex"])
    foo = [(a["id"], vec(a, "vector_column")) for _, _, a in rows_of(ev, "dtb.foo")]
    eq(foo, [(1, [1.1, 2.2, 3.3]), (2, [1.0, -1.0, 0.0])] * 2, "F12 foo rows, twice")
    bar = [(t, (b or a)["id"], vec(b or a, "vector_column"), (b or a)["foo"],
            vec(b or a, "vector_column2")) for t, b, a in rows_of(ev, "dtb.bar")]
    first = [("write_rows", 1, [1.1, 2.2], None, [1.1, 2.2, 3.3, 4.4]),
             ("write_rows", 2, [1.01, -1.01], "bar", [42.0, 43.0, 44.0, 45.0])]
    eq(bar, first + first + [
        ("delete_rows", 2, [1.01, -1.01], "bar", [42.0, 43.0, 44.0, 45.0]),
        ("write_rows", 3, [2.01, -2.01], None, [42.1, 43.2, 44.3, 45.4])],
       "F12 bar rows, refill, delete, insert")


def f13_gtid_tags():
    ev, _ = dump(corpus("binlog_transaction_with_GTID_TAG.000001"))
    u = "55778904-0299-11f1-b1b8-4ef0c4956feb"
    prev = [e for e in ev if e["type"] == "previous_gtids"]
    eq(prev[0]["gtids"], f"{u}:1-13:mytag:1-2", "F13 tagged previous_gtids")
    g = [e for e in ev if e["type"] == "gtid"]
    eq([x["gtid"] for x in g], [f"{u}:mytag:3"], "F13 tagged GTID")
    eq(rows_of(ev, "test.orders"),
       [("write_rows", None, {"@1": 3, "@2": 100, "@3": "250.00"})], "F13 row")
    ev, _ = dump(corpus("binlog_transaction_previous_GTID_no_tag.000001"))
    prev = [e for e in ev if e["type"] == "previous_gtids"]
    eq(prev[0]["gtids"], "b9b88c66-0755-11f1-9899-4a9da94c4d71:1-2",
       "F13 untagged previous_gtids")


def f14_hidden():
    ev, _ = dump(corpus("rpl_unfiltered_hidden_gcol.000001"))
    eq(len([e for e in ev if e["type"] == "format_description"]), 2, "F14 two FDEs")
    eq(len([e for e in ev if e["type"] == "rotate"]), 2, "F14 two rotates")
    tm = [e for e in ev if e["type"] == "table_map"][-1]
    eq([c["type"] for c in tm["columns"]], ["int", "bigint", "blob"],
       "F14 three columns, hidden BIGINT")
    eq(rows_of(ev, "test.t"), [("write_rows", None, {"@1": 1, "@3": "1"})],
       "F14 hidden column absent from the image")


def f15_56_gtid():
    ev, _ = dump(corpus("binlog_56_gtid_reserved_word.000001"))
    eq(ev[0]["server_version"], "5.6.41-debug-log", "F15 server version")
    q = [e for e in ev if e["type"] == "query" and "GENERATED" in e["sql"] and
         "INSERT" in e["sql"]]
    # The MANIFEST writes (1),(2),(3); the file (and mariadb-binlog) has
    # "(1), (2), (3)": compare without the spaces.
    eq([x["sql"].replace(" ", "") for x in q],
       ["INSERTINTOGENERATEDVALUES(1),(2),(3)"], "F15 statement")
    eq(rows_of(ev, "test.GENERATED"), [("write_rows", None, {"@1": 65})], "F15 row")
    check(all(":" in e["gtid"] for e in ev if e["type"] == "gtid"),
          "F15 5.6 GTIDs decode")


def f16_percona():
    ev, _ = dump(corpus("bin-log.000001"))
    q = [e for e in ev if e["type"] == "query" and e["sql"] != "BEGIN"]
    eq(q[0]["sql"], "CREATE TABLE foo(id BIGINT AUTO_INCREMENT PRIMARY KEY, "
       "val_decimal DECIMAL(10, 5) NOT NULL, comment VARCHAR(255) NOT NULL)",
       "F16 first query")
    g = [e for e in ev if e["type"] == "gtid"]
    first_rows = next(i for i, e in enumerate(ev) if e["type"] == "write_rows")
    gt = [e for e in ev[:first_rows] if e["type"] == "gtid"][-1]
    eq((gt["gtid"], gt["timestamp"]),
       ("87cee3a4-6b31-11e7-bdfd-0d98d6698870:14918", 1550192291),
       "F16 GTID of the first row transaction")
    check(len(g) >= 2, "F16 GTIDs")
    eq([r[2] for r in rows_of(ev)],
       [{"@1": 1, "@2": "0.10000", "@3": "zero point one"},
        {"@1": 2, "@2": "1.00000", "@3": "one point zero"}], "F16 rows")


def f18_ver_trunk():
    ev, _ = dump(corpus("ver_trunk_row_v2.001"))
    eq(ev[0]["server_version"], "5.6.4-m7-debug-log", "F18 server version")
    eq(rows_of(ev, "test.t1"), [
        ("write_rows", None, {"@1": 0, "@2": "one"}),
        ("write_rows", None, {"@1": 1, "@2": "two"}),
        ("update_rows", {"@1": 0, "@2": "one"}, {"@1": 1, "@2": "one"}),
        ("update_rows", {"@1": 1, "@2": "two"}, {"@1": 2, "@2": "two"}),
        ("delete_rows", {"@1": 2, "@2": "two"}, None)], "F18 row events")
    for t in ("user_var", "rand", "intvar", "begin_load_query",
              "execute_load_query"):
        check(t in types(ev), f"F18 has a {t} event")


def f19_ndb():
    files = ["write-partial-row.binlog", "write-full-row.binlog",
             "update-partial-row.binlog", "update-full-row.binlog"]
    tails = [
        [("write_rows", None, {"@1": 4, "@3": 40})],
        [("write_rows", None, {"@1": 4, "@2": 4, "@3": 40})],
        [("update_rows", {"@1": 4, "@3": 4}, {"@1": 4, "@3": 40})],
        [("update_rows", {"@1": 4, "@2": 4, "@3": 4}, {"@1": 4, "@2": 4, "@3": 40})],
    ]
    for n, (f, tail) in enumerate(zip(files, tails), 1):
        ev, _ = dump(corpus(f))
        eq(rows_of(ev, "mysql.ndb_apply_status"),
           [("write_rows", None, {"@1": n, "@2": 25769803786, "@3": "",
                                  "@4": 0, "@5": 0})], f"F19 {f} apply_status")
        ba = rows_of(ev, "test.ba")
        ins = [("write_rows", None, {"@1": v, "@2": v, "@3": v}) for v in (3, 1, 2, 4)]
        eq(ba[:4], ins, f"F19 {f} inserts")
        eq(ba[4:-1], tail, f"F19 {f} partial or full event")
        check(ba[-1][0] == "delete_rows" and ba[-1][1].get("@1") == 2,
              f"F19 {f} ends with DELETE @1=2: {ba[-1]}")


def f21_mariadb():
    ev, _ = dump(corpus("mariadb-bin.000001"))
    tm = next(e for e in ev if e["type"] == "table_map")
    eq((tm["db"], tm["table"]), ("toddy_test", "outbox"), "F21 table")
    eq([c["name"] for c in tm["columns"]],
       ["id", "topic", "event_type", "event", "created"], "F21 names")
    eq(tm["columns"][2].get("labels"), ["BLOB", "JSON", "PROTOBUF"], "F21 ENUM labels")
    rows = [r[2] for r in rows_of(ev, "toddy_test.outbox")]
    eq([(r["id"], r["topic"], r["event_type"]) for r in rows],
       [(62, "foo", "JSON"), (63, "foo", "JSON")], "F21 id, topic, ENUM index 2")
    eq([bytes.fromhex(r["event"]["hex"]) if isinstance(r["event"], dict)
        else r["event"].encode() for r in rows], [b'{"foo":1}'] * 2, "F21 event")
    import calendar
    import time
    eq([calendar.timegm(time.strptime(r["created"], "%Y-%m-%d %H:%M:%S"))
        for r in rows], [1650493084, 1650493195], "F21 TIMESTAMPs")
    ann = [e for e in ev if e["type"] == "annotate_rows"]
    check(all(a["sql"].startswith("insert into outbox") for a in ann) and ann,
          "F21 ANNOTATE_ROWS holds the INSERT")
    check("rotate" not in types(ev) and "stop" not in types(ev),
          "F21 no ROTATE or STOP (file in use)")


def f22_sequence():
    ev, _ = dump(corpus("master-bin-seq_10.3.36.000001"))
    eq([r[2] for r in rows_of(ev, "test.s1")],
       [{"@1": 1001, "@2": 1, "@3": 9223372036854775806, "@4": 1, "@5": 1,
         "@6": 1000, "@7": 0, "@8": 0},
        {"@1": 2, "@2": 1, "@3": 10, "@4": 1, "@5": 2, "@6": 1, "@7": 1, "@8": 0}],
       "F22 sequence rows")


def checksum_files():
    ev, _ = dump(corpus("mysql-bin.checksum-crc32"))
    eq(len(ev), 303, "mysql-bin.checksum-crc32: 303 events")
    eq(ev[0]["checksum"], "crc32", "checksum-crc32 FDE")
    ev, _ = dump(corpus("mysql-bin.checksum-none"))
    eq(len(ev), 191, "mysql-bin.checksum-none: 191 events")
    eq(ev[0]["checksum"], "none", "checksum-none FDE")


def aurora():
    ev, _ = dump(corpus("mysql-bin.aurora-padding"))
    eq([e["pos"] for e in ev], [4, 185, 216, 281, 1209], "aurora event positions")
    eq(ev[3]["type"], "ignorable", "aurora type-100 event skipped as ignorable")
    eq((ev[4]["type"], ev[4].get("sql")), ("query", "BEGIN"), "aurora QUERY BEGIN next")


def boxercrab():
    ev, _ = dump(corpus("boxercrab_14_user_var.log.bin"))
    uv = {e["name"]: e["value"] for e in ev if e["type"] == "user_var"}
    eq(uv, {"val_s": "test blog", "val_i": 100, "val_d": "1.00"},
       "boxercrab user variables (string, int, decimal)")
    check("intvar" in types(ev), "boxercrab INTVAR")
    ev, _ = dump(corpus("boxercrab_17_18_load.log.bin"))
    for t in ("begin_load_query", "execute_load_query"):
        check(t in types(ev), f"boxercrab LOAD DATA: {t}")
    ev, _ = dump(corpus("boxercrab_29_row_query.log.bin"))
    rq = [e for e in ev if e["type"] == "rows_query"]
    check(rq and rq[0]["sql"].upper().startswith("INSERT"), "boxercrab rows_query text")
    ev, _ = dump(corpus("boxercrab_32_delete_rows_v2.log.bin"))
    check("delete_rows" in types(ev) and "write_rows" in types(ev),
          "boxercrab write and delete v2")


def old_mariadb():
    ev, _ = dump(corpus("mariadb-5.5-binlog.000001"))
    eq(ev[0]["server_version"][:14], "5.5.36-MariaDB", "MariaDB 5.5 FDE")
    check("xid" in types(ev), "MariaDB 5.5 XID")
    check(any(e["type"] == "query" and e["sql"] != "BEGIN" for e in ev),
          "MariaDB 5.5 statements")
    ev, _ = dump(corpus("mdev29078-mysql-bin.000001"))
    eq(ev[-1]["type"], "stop", "mdev29078 ends with STOP")
    check(any(e["type"] == "gtid" for e in ev), "mdev29078 GTIDs")


def negative():
    ev, err = dump(corpus("binlog_truncated_event.000001"), expect_rc=1)
    eq(ev, [], "truncated_event: nothing printed")
    check("binlog_truncated_event.000001: offset 4:" in err and "truncated" in err,
          f"truncated_event error names offset 4: {err.strip()}")
    ev, err = dump(corpus("binlog_truncated_prev_gtid_event.000001"), expect_rc=1)
    eq(types(ev), ["format_description"], "truncated_prev_gtid: 1 event first")
    check("offset 120:" in err and "truncated" in err,
          f"truncated_prev_gtid error at offset 120: {err.strip()}")
    ev, err = dump(corpus("invalid_row_v2_tag.001"), expect_rc=1)
    eq(types(ev), ["format_description"], "invalid_row_v2_tag: the FDE, then stop")
    check("offset 256:" in err and "extra data" in err,
          f"invalid_row_v2_tag error at offset 256 about extra data: {err.strip()}")
    for line in err.strip().splitlines():
        check(line.startswith("ferry: "), f"error format: {line}")


def mariadb_binlog_agrees():
    """Every value mariadb-binlog -vv (an independent C decoder) decodes is
    the value ferry decodes.  It cannot read transaction payloads, partial
    JSON updates, JSON columns, VECTOR or tagged GTIDs, so those files are
    left to the facts above."""
    files = ["bin-log.000001", "binlog_56_gtid_reserved_word.000001",
             "boxercrab_29_row_query.log.bin",
             "boxercrab_32_delete_rows_v2.log.bin", "mariadb-bin.000001",
             "master-bin-seq_10.3.36.000001", "minimal_row_metadata.000001",
             "mysql-bin.checksum-crc32", "mysql-bin.checksum-none",
             "mysql-enum-string-set.000001", "mysql_type_bit.000001",
             "rpl_unfiltered_hidden_gcol.000001", "time_issue.000001",
             "update-full-row.binlog", "update-partial-row.binlog",
             "ver_trunk_row_v2.001", "write-full-row.binlog",
             "write-partial-row.binlog"]
    total = 0
    for f in files:
        ev, _ = dump(corpus(f))
        n, msgs = mbinlog.compare(ev, corpus(f))
        check(n > 0, f"mariadb-binlog compared no value of {f}")
        for m in msgs:
            check(False, m)
        total += n
    check(total >= 1500, f"only {total} values compared with mariadb-binlog")


for t in (f1_mdev35643, f2_json, f4_enum_set, f5_bit, f7_minimal, f8_time,
          f9_transaction_compression, f10_compressed, f12_vector,
          f13_gtid_tags, f14_hidden, f15_56_gtid, f16_percona, f18_ver_trunk,
          f19_ndb, f21_mariadb, f22_sequence, checksum_files, aurora,
          boxercrab, old_mariadb, negative, mariadb_binlog_agrees):
    t()
finish()
