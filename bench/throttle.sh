#!/usr/bin/env bash
# bench/throttle.sh [ROWS] [RATE]: a tenant's rows-per-second quota, as a
# hosting provider sells it.  On a private sandbox, two tenants copy a
# table at once, each job with its own topic, in one daemon: tenant "slow"
# ROWS narrow rows (default 200,000) with --max-rows-per-sec RATE (default
# 20,000), tenant "fast" five times as many, unlimited.  The daemon's /jobs gives
# each job's records and throttled time every 250 ms; the rate is taken
# over the part of the copy where both jobs run (from the first sample
# with records to the last before either finishes), so it is the rate the
# quota holds under load and what the other tenant keeps meanwhile.
# Prints both rates, the quota and the throttled seconds.  Wall-clock
# rates: run on an idle machine, several times.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-200000}
rate=${2:-20000}
. "$top/tools/lib.sh"
cd "$top"
ferry_release_build "$top" ferry
ferry=$top/build/release/ferry

ferry_bench_sandbox throttle
sql <"$top/bench/workload.sql"
sql -e "CALL ferry_bench.fill_narrow($rows)"
sql -e "CREATE TABLE ferry_bench.narrow2 LIKE ferry_bench.narrow;
    INSERT INTO ferry_bench.narrow2 SELECT * FROM ferry_bench.narrow;
    INSERT INTO ferry_bench.narrow2 SELECT id + x.k * $rows, b, s1, s2,
    dt, d, f, t FROM ferry_bench.narrow, (SELECT 1 k UNION ALL SELECT 2
    UNION ALL SELECT 3 UNION ALL SELECT 4) x"

export FERRY_DB=$sb/ferry.db
"$ferry" tenant add slow --max-rows-per-sec "$rate" >/dev/null
"$ferry" tenant add fast >/dev/null
for t in slow fast; do
	tbl=ferry_bench.narrow
	[ "$t" = fast ] && tbl=ferry_bench.narrow2
	tools/sandbox topic "$sb" "thr-$t" 1 >/dev/null
	"$ferry" --tenant "$t" endpoint add src --mysql "$FERRY_TEST_MYSQL" \
	    --password-file "$FERRY_TEST_MYSQL_PASSWORD_FILE" >/dev/null
	"$ferry" --tenant "$t" endpoint add k --kafka "$FERRY_TEST_KAFKA" \
	    >/dev/null
	"$ferry" --tenant "$t" job create j --source src --target k \
	    --topic "thr-$t" --tables "$tbl" --initial full >/dev/null
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$ferry" serve --log "$sb/serve.log" --http "127.0.0.1:$port" &
bench_pids="$bench_pids $!"
sleep 1
"$ferry" --tenant slow job start j >/dev/null
"$ferry" --tenant fast job start j >/dev/null
python3 - "$port" "$rows" "$rate" <<'PY'
import json, sys, time, urllib.request
port, rows, rate = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
want = {1: rows, 2: 5 * rows}
samples = []      # (time, {job: (records, throttled_ms)})
end = time.time() + 600
while time.time() < end:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/jobs") as r:
        jobs = {j["id"]: (j["records"], j["throttled_ms"])
                for j in json.loads(r.read())}
    samples.append((time.time(), jobs))
    if len(jobs) == 2 and all(v[0] >= want[k] for k, v in jobs.items()):
        break
    time.sleep(0.25)
# Both copying, past the first second (the bucket's one second of burst).
both = [(t, j) for t, j in samples if len(j) == 2 and
        all(0 < v[0] < want[k] for k, v in j.items())]
both = [(t, j) for t, j in both if t >= both[0][0] + 1.0] if both else []
if len(both) < 2:
    sys.exit("too few samples with both jobs copying: use more ROWS")
(t0, a), (t1, b) = both[0], both[-1]
for job, name in ((1, "slow"), (2, "fast")):
    r = (b[job][0] - a[job][0]) / (t1 - t0)
    thr = (b[job][1] - a[job][1]) / 1000
    print(f"tenant {name:4}: {r:9.0f} rows/s over {t1 - t0:5.1f} s with "
          f"both copying, throttled {thr:5.1f} s" +
          (f" (quota {rate} rows/s)" if name == "slow" else ""))
PY
