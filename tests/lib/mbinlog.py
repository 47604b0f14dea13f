"""mariadb-binlog as an independent decoder: parse what
`mariadb-binlog --base64-output=decode-rows -vv FILE` prints for row events,
and compare it with what ferry decoded for the same events.

mariadb-binlog shows values its own way (signed and unsigned integers
together, DATE with colons, TIMESTAMP as epoch seconds, SET as a bit string,
strings as the column's raw bytes with control bytes as \\xHH); normalize()
turns both sides into the same comparable form, given the column type
mariadb-binlog names in its comment.
"""
import calendar
import re
import subprocess
import tempfile
import time

LINE = re.compile(r"^###   @(\d+)=(.*) /\* (.*?) meta=(\d+) nullable=\d is_null=(\d) \*/$")


def run(path):
    """Rows events as [(kind, table, [images...])] in file order, where an
    image is {colno: (raw_value_text, type_text)}; kind is INSERT, UPDATE
    (images: before, after) or DELETE."""
    # --local-load: the files of LOAD DATA events go to a directory of
    # ours and away with it (by default they stay in /tmp).
    with tempfile.TemporaryDirectory(prefix="ferry-mbinlog.") as load:
        p = subprocess.run(["mariadb-binlog", "--base64-output=decode-rows",
                            "-vv", f"--local-load={load}", path],
                           capture_output=True)
    out = p.stdout.decode("latin-1")
    events = []
    cur = None
    img = None
    for line in out.split("\n"):
        if line.startswith("### INSERT INTO ") or line.startswith("### UPDATE ") \
                or line.startswith("### DELETE FROM "):
            kind = line.split()[1]
            table = line.split()[-1].replace("`", "")
            cur = (kind, table, [])
            events.append(cur)
            img = None
        elif line in ("### SET", "### WHERE"):
            img = {}
            cur[2].append(img)
        elif line.startswith("###   @") and img is not None:
            m = LINE.match(line)
            if not m:
                raise ValueError(f"unparsed mariadb-binlog line: {line!r}")
            img[int(m.group(1))] = (None if m.group(5) == "1" else m.group(2),
                                    m.group(3))
    return events


def unquote(s):
    """'...' with \\xHH escapes -> bytes (the text was read as latin-1)."""
    assert s[0] == "'" and s[-1] == "'", s
    s = s[1:-1]
    out = bytearray()
    i = 0
    while i < len(s):
        # mariadb-binlog writes a literal backslash as is: "\\x" not followed
        # by two hex digits is data (random BLOB bytes can spell it).
        if (s[i] == "\\" and s[i + 1:i + 2] == "x" and len(s[i + 2:i + 4]) == 2
                and all(c in "0123456789abcdefABCDEF" for c in s[i + 2:i + 4])):
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        else:
            out.append(ord(s[i]))
            i += 1
    return bytes(out)


def py_charset(mysql):
    return {"utf8mb4": "utf-8", "utf8mb3": "utf-8", "utf8": "utf-8",
            "latin1": "cp1252", "ascii": "ascii", "ucs2": "utf-16-be",
            "utf16": "utf-16-be", "utf16le": "utf-16-le", "utf32": "utf-32-be",
            "gbk": "gbk", "gb2312": "gb2312", "big5": "big5", "sjis": "shift_jis",
            "cp932": "cp932", "euckr": "euc-kr", "ujis": "euc-jp",
            "latin2": "iso8859-2", "cp1251": "cp1251", "greek": "iso8859-7",
            "hebrew": "iso8859-8", "koi8r": "koi8-r"}.get(mysql)


def ferry_bytes(v, charset):
    """ferry's JSON value of a string column -> the column's raw bytes."""
    if isinstance(v, dict):
        return bytes.fromhex(v["hex"])
    cs = py_charset(charset or "utf8mb4")
    try:
        return v.encode(cs)
    except (UnicodeEncodeError, LookupError):
        if charset == "latin1":
            return v.encode("latin-1")
        raise


def compare_value(ours, theirs, mtype, col, what):
    """Return None if equal, else a message."""
    if theirs is None:
        return None if ours is None else f"{what}: ferry {ours!r}, mariadb-binlog NULL"
    if ours is None:
        return f"{what}: ferry NULL, mariadb-binlog {theirs!r}"
    t = mtype.split("(")[0]
    if t in ("TINYINT", "SHORTINT", "MEDIUMINT", "INT", "LONGINT"):
        m = re.match(r"^(-?\d+)(?: \((\d+)\))?$", theirs)
        vals = {int(m.group(1))} | ({int(m.group(2))} if m.group(2) else set())
        return None if ours in vals else f"{what}: ferry {ours}, mariadb-binlog {theirs}"
    if t == "DECIMAL":
        return None if ours == theirs else f"{what}: ferry {ours}, mariadb-binlog {theirs}"
    if t == "FLOAT":
        a, b = float(ours), float(theirs)
        ok = a == b or abs(a - b) <= 1e-5 * max(abs(a), abs(b))
        return None if ok else f"{what}: ferry {ours}, mariadb-binlog {theirs}"
    if t == "DOUBLE":
        return None if float(ours) == float(theirs) else \
            f"{what}: ferry {ours}, mariadb-binlog {theirs}"
    if t == "YEAR":
        # mariadb-binlog adds 1900 to the stored byte even for YEAR 0000
        ok = int(ours) == int(theirs) or (ours == 0 and theirs == "1900")
        return None if ok else f"{what}: ferry {ours}, mariadb-binlog {theirs}"
    if t == "DATE":
        return None if ours == unquote(theirs).decode().replace(":", "-") else \
            f"{what}: ferry {ours}, mariadb-binlog {theirs}"
    if t in ("TIME", "DATETIME"):
        return None if ours == unquote(theirs).decode() else \
            f"{what}: ferry {ours}, mariadb-binlog {theirs}"
    if t == "TIMESTAMP":
        if "." in ours:
            base, frac = ours.split(".")
        else:
            base, frac = ours, ""
        if base.startswith("0000-00-00"):
            secs = 0
        else:
            secs = calendar.timegm(time.strptime(base, "%Y-%m-%d %H:%M:%S"))
        want = str(secs) + ("." + frac if frac else "")
        return None if want == theirs else f"{what}: ferry {ours} ({want}), mariadb-binlog {theirs}"
    if t == "BIT":
        m = re.match(r"^b'([01]+)'$", theirs)
        return None if m and int(m.group(1), 2) == ours else \
            f"{what}: ferry {ours}, mariadb-binlog {theirs}"
    if t == "ENUM":
        labels = col.get("labels") or []
        idx = labels.index(ours) + 1 if ours in labels else (0 if ours == "" else ours)
        return None if idx == int(theirs) else f"{what}: ferry {ours!r}, mariadb-binlog {theirs}"
    if t == "SET":
        labels = col.get("labels") or []
        m = re.match(r"^b'([01]+)'$", theirs)
        mask = 0
        if isinstance(ours, int):
            mask = ours
        elif ours:
            for x in ours.split(","):
                mask |= 1 << labels.index(x)
        return None if m and int(m.group(1), 2) == mask else \
            f"{what}: ferry {ours!r}, mariadb-binlog {theirs}"
    if t in ("STRING", "VARSTRING", "BLOB/TEXT", "TINYBLOB/TINYTEXT",
             "MEDIUMBLOB/MEDIUMTEXT", "LONGBLOB/LONGTEXT", "GEOMETRY"):
        raw = unquote(theirs)
        got = ferry_bytes(ours, col.get("charset"))
        if t == "STRING" and col.get("charset") == "binary":
            raw = raw.ljust(len(got), b"\0")	# BINARY: ferry pads
        return None if got == raw else \
            f"{what}: ferry {got[:60]!r}..., mariadb-binlog {raw[:60]!r}..."
    return f"{what}: no comparison for type {mtype}"


def compare(ferry_events, path, only_tables=None):
    """Compare ferry's decoded rows events with mariadb-binlog's for the same
    file.  Returns (number of values compared, [messages])."""
    theirs = run(path)
    ours = []
    tables = {}
    for ev in ferry_events:
        if ev["type"] == "table_map":
            tables[(ev["db"], ev["table"])] = ev["columns"]
        if "rows" not in ev or not ev.get("table"):
            continue
        cols = tables[(ev["db"], ev["table"])]
        for r in ev["rows"]:
            kind = {"write_rows": "INSERT", "update_rows": "UPDATE",
                    "delete_rows": "DELETE"}[ev["type"]]
            imgs = [r[k] for k in ("before", "after") if k in r]
            ours.append((kind, f"{ev['db']}.{ev['table']}", imgs, cols))
    if only_tables is not None:
        theirs = [e for e in theirs if e[1] in only_tables]
        ours = [e for e in ours if e[1] in only_tables]
    msgs = []
    if len(ours) != len(theirs):
        msgs.append(f"{path}: ferry has {len(ours)} row changes, "
                    f"mariadb-binlog {len(theirs)}")
    n = 0
    for i, (o, t) in enumerate(zip(ours, theirs)):
        if (o[0], o[1]) != (t[0], t[1]):
            msgs.append(f"{path} change {i}: ferry {o[0]} {o[1]}, "
                        f"mariadb-binlog {t[0]} {t[1]}")
            continue
        for img_o, img_t in zip(o[2], t[2]):
            cols = o[3]
            names = [c["name"] or f"@{k + 1}" for k, c in enumerate(cols)]
            if set(img_t) != {k + 1 for k, nm in enumerate(names) if nm in img_o}:
                msgs.append(f"{path} change {i}: columns differ: ferry "
                            f"{sorted(img_o)}, mariadb-binlog {sorted(img_t)}")
                continue
            for colno, (val, mtype) in img_t.items():
                nm = names[colno - 1]
                m = compare_value(img_o[nm], val, mtype, cols[colno - 1],
                                  f"{path} change {i} {o[1]}.{nm}")
                n += 1
                if m:
                    msgs.append(m)
    return n, msgs
