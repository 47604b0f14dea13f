"""Helpers for ferry's Python tests (run by tests/*.test through bash).

Exit codes follow automake's test driver: 0 pass, 1 fail, 77 skip, 99 hard
error.  A missing prerequisite skips, unless FERRY_TEST_REQUIRE=1 (set by
tools/test and so by CI), where it is a hard error.
"""
import json
import os
import subprocess
import sys

FERRY = os.environ.get("FERRY_BIN", "ferry")
failures = []


def missing(what):
    if os.environ.get("FERRY_TEST_REQUIRE") == "1":
        print(f"ERROR: {what}, and FERRY_TEST_REQUIRE=1 says it must be there",
              file=sys.stderr)
        sys.exit(99)
    print(f"SKIP: {what}", file=sys.stderr)
    sys.exit(77)


def shared_dir():
    d = os.environ.get("FERRY_SHARED")
    if not d or not os.path.isdir(os.path.join(d, "reference")):
        missing(f"the shared reference data ({d or 'FERRY_SHARED unset'}) is absent")
    return d


def corpus(name):
    return os.path.join(shared_dir(), "reference", "binlog-corpus", name)


def check(cond, msg):
    """Record a failure without stopping, so one run shows them all."""
    if not cond:
        if len(msg) > 600:
            msg = msg[:600] + f"... ({len(msg)} characters)"
        failures.append(msg)
        print(f"FAIL: {msg}", file=sys.stderr)
    return cond


def eq(got, want, what):
    return check(got == want, f"{what}: got {got!r}, want {want!r}")


def finish():
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print("ok")
    sys.exit(0)


def dump(path, *extra, expect_rc=0):
    """Run ferry binlog dump on path (None: a live --source in extra);
    return (events, stderr)."""
    p = subprocess.run([FERRY, "binlog", "dump", *extra] +
                       ([path] if path is not None else []),
                       capture_output=True, text=True)
    if p.returncode != expect_rc:
        check(False, f"ferry binlog dump {path}: exit {p.returncode}, "
              f"want {expect_rc}; stderr: {p.stderr.strip()}")
    events = []
    for n, line in enumerate(p.stdout.splitlines(), 1):
        try:
            events.append(json.loads(line))
        except ValueError as e:
            check(False, f"{path}: output line {n} is not JSON ({e}): {line[:200]}")
    return events, p.stderr


def rows_of(events, table=None, type_=None):
    """Row images (before, after) of rows events, in order."""
    out = []
    for ev in events:
        if "rows" not in ev:
            continue
        if table is not None and f"{ev.get('db')}.{ev.get('table')}" != table:
            continue
        if type_ is not None and ev["type"] != type_:
            continue
        for r in ev["rows"]:
            out.append((ev["type"], r.get("before"), r.get("after")))
    return out
