#!/usr/bin/env bash
# bench/latency.sh [RATE] [SECONDS]: commit -> Kafka latency of ferry serve
# at a steady write rate (default 10,000 rows/s, 100 rows per transaction,
# for 20 s), on a private sandbox.
#
# Each row records its commit time (NOW(6), set as the statement runs,
# just before its autocommit).  kcat reads the topic as ferry writes it;
# python3-avro decodes the rows afterwards.  Two latencies per row:
#
#   handed    the record's readerThroughoutTime tag, which ferry sets as
#             it makes the record, just before it hands it to librdkafka,
#             - the row's NOW(6): reading the binlog and encoding
#   appended  the message's timestamp, which the broker sets as it
#             appends it (the topic has message.timestamp.type=
#             LogAppendTime), - the row's NOW(6): what a consumer waits
#             for, the producer's linger (5 ms) and the request included
#
# Prints p50, p90, p99 and max of each, and the rate achieved.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rate=${1:-10000}
secs=${2:-20}
. "$top/tools/lib.sh"
cd "$top"
ferry_release_build "$top" ferry
ferry=$top/build/release/ferry

ferry_bench_sandbox latency
sql -e "CREATE DATABASE lat; CREATE TABLE lat.t (id INT AUTO_INCREMENT
    PRIMARY KEY, at DATETIME(6) NOT NULL, pad VARCHAR(40))"
tools/sandbox topic "$sb" lat 1 message.timestamp.type=LogAppendTime \
    >/dev/null

export FERRY_DB=$sb/ferry.db
"$ferry" endpoint add src --mysql "$FERRY_TEST_MYSQL" \
    --password-file "$FERRY_TEST_MYSQL_PASSWORD_FILE" >/dev/null
"$ferry" endpoint add k --kafka "$FERRY_TEST_KAFKA" >/dev/null
"$ferry" job create lat --source src --target k --topic lat \
    --tables lat.t --initial none >/dev/null
"$ferry" serve --log "$sb/serve.log" --heartbeat-ms 0 &
serve=$!
bench_pids="$bench_pids $serve"
"$ferry" job start lat >/dev/null
while ! "$ferry" job show lat --json | grep -q '"state":"incremental"'; do
	sleep 0.2
done
kcat -C -b "$FERRY_TEST_KAFKA" -t lat -o end -u -f '%T %R%s' \
    >"$sb/messages" 2>/dev/null &
kc=$!
bench_pids="$bench_pids $kc"
sleep 2

/usr/bin/python3 - "$sb" "$rate" "$secs" <<'PY'
import subprocess, sys, time
sb, rate, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per_txn = 100
cli = subprocess.Popen(["mariadb", f"--defaults-file={sb}/mysql/client.cnf",
                        "--unbuffered", "lat"], stdin=subprocess.PIPE,
                       text=True)
stmt = "INSERT INTO t (at, pad) VALUES " + ", ".join(
    ["(NOW(6), 'padding padding padding')"] * per_txn) + ";\n"
interval = per_txn / rate
start = time.monotonic()
n = 0
while time.monotonic() - start < secs:
    cli.stdin.write(stmt)
    cli.stdin.flush()
    n += 1
    nxt = start + n * interval
    d = nxt - time.monotonic()
    if d > 0:
        time.sleep(d)
cli.stdin.close()
cli.wait()
took = time.monotonic() - start
print(f"wrote {n * per_txn} rows in {took:.1f} s: "
      f"{n * per_txn / took:.0f} rows/s")
PY
sleep 5
kill "$kc" 2>/dev/null
/usr/bin/python3 - "$sb" "$top" <<'PY'
import calendar, io, os, struct, sys, time
import avro.io, avro.schema
sb, top = sys.argv[1], sys.argv[2]
shared = os.environ.get("FERRY_SHARED") or os.path.join(top, "..", "shared")
sch = avro.schema.parse(open(os.path.join(
    shared, "reference", "dts-avro", "derived",
    "Record.standalone.avsc")).read())
data = open(os.path.join(sb, "messages"), "rb").read()
lat, handed, i = [], [], 0
while i < len(data):
    sp = data.index(b" ", i)
    ts = int(data[i:sp])
    n = struct.unpack(">i", data[sp + 1:sp + 5])[0]
    payload = data[sp + 5:sp + 5 + n]
    i = sp + 5 + n
    r = avro.io.DatumReader(sch).read(avro.io.BinaryDecoder(
        io.BytesIO(payload)))
    if r["operation"] != "INSERT":
        continue
    names = [f["name"] for f in r["fields"]]
    at = r["afterImages"][names.index("at")]
    commit = calendar.timegm((at["year"], at["month"], at["day"],
                              at["hour"], at["minute"], at["second"])) \
        + at["millis"] / 1e6
    lat.append(ts / 1000.0 - commit)
    handed.append(int(r["tags"]["readerThroughoutTime"]) / 1000.0 - commit)
def show(what, v):
    v.sort()
    def q(p):
        return v[min(len(v) - 1, int(p * len(v)))] * 1000
    print(f"{len(v)} rows, commit -> {what}: p50 {q(0.50):.1f} ms, "
          f"p90 {q(0.90):.1f} ms, p99 {q(0.99):.1f} ms, "
          f"max {v[-1] * 1000:.1f} ms")
show("handed to librdkafka", handed)
show("appended by the broker", lat)
PY
