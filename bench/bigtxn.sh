#!/usr/bin/env bash
# bench/bigtxn.sh [ROWS] [BUDGET]: one transaction of ROWS rows of about
# 1 kB each (default 1,000,000: about 1 GiB of row data) through a job whose
# memory budget is BUDGET (default 32M, a job's default), on a private
# sandbox.  Prints the daemon's peak resident memory (VmHWM) beside the
# budget and the transaction's size in the binlog, the time from COMMIT
# until the job's checkpoint passes it, and how many records the topic got
# (ROWS + BEGIN + COMMIT).  What it shows: a transaction far larger than the budget streams
# through in bounded memory.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-1000000}
budget=${2:-32M}
. "$top/tools/lib.sh"
cd "$top"
ferry_release_build "$top" ferry
ferry=$top/build/release/ferry

ferry_bench_sandbox bigtxn
sql -e "CREATE DATABASE big; CREATE TABLE big.t (id INT PRIMARY KEY,
    pad VARCHAR(1000) NOT NULL)"
tools/sandbox topic "$sb" big 1 >/dev/null

export FERRY_DB=$sb/ferry.db
"$ferry" endpoint add src --mysql "$FERRY_TEST_MYSQL" \
    --password-file "$FERRY_TEST_MYSQL_PASSWORD_FILE" >/dev/null
"$ferry" endpoint add k --kafka "$FERRY_TEST_KAFKA" >/dev/null
"$ferry" job create big --source src --target k --topic big \
    --tables big.t --initial none --max-memory "$budget" >/dev/null
"$ferry" serve --log "$sb/serve.log" --heartbeat-ms 0 &
serve=$!
bench_pids="$bench_pids $serve"
"$ferry" job start big >/dev/null
while ! "$ferry" job show big --json | grep -q '"state":"incremental"'; do
	sleep 0.2
done
before=$(sql -N -e "SHOW MASTER STATUS" | awk '{print $2}')
echo "writing one transaction of $rows rows"
t0=$(date +%s.%N)
sql big -e "INSERT INTO t SELECT seq, REPEAT(CHAR(65 + seq % 26), 1000)
    FROM seq_1_to_$rows"
t1=$(date +%s.%N)
read -r file end < <(sql -N -e "SHOW MASTER STATUS" | awk '{print $1, $2}')
while :; do
	cp=$("$ferry" job show big --json)
	if echo "$cp" | grep -q "\"file\":\"$file\",\"pos\":$end"; then
		break
	fi
	if echo "$cp" | grep -q '"state":"failed"'; then
		echo "the job failed:" >&2
		echo "$cp" >&2
		exit 1
	fi
	sleep 0.2
done
t2=$(date +%s.%N)
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$serve/status")
n=$(kcat -C -b "$FERRY_TEST_KAFKA" -t big -e -q -f 'x\n' | wc -l)
awk -v r="$rows" -v b="$budget" -v s="$((end - before))" -v w="$t0" \
    -v c="$t1" -v d="$t2" -v h="$hwm" -v n="$n" 'BEGIN {
	printf "one transaction of %d rows, %.0f MiB of binlog, written in " \
	    "%.1f s\n", r, s / 1048576, c - w
	printf "checkpoint past its COMMIT %.1f s after it (%.0f rows/s)\n",
	    d - c, r / (d - c)
	printf "ferry peak RSS %.0f MiB with a budget of %s\n", h / 1024, b
	printf "records in the topic: %d (want %d)\n", n, r + 2
}'
