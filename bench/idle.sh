#!/usr/bin/env bash
# bench/idle.sh [JOBS] [SECONDS]: what JOBS idle jobs (default 200) cost in
# one daemon: resident memory, threads, and CPU over SECONDS (default 30)
# once every job follows its binlog with nothing to do.  Private sandbox;
# the jobs share one table and one topic.  Target (PERFORMANCE.md): 200 idle
# jobs in under 1 GiB and under 2% of a core.  FERRY_BENCH_PERF=FILE records
# a perf profile of the daemon over the measured interval.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=${1:-200}
secs=${2:-30}
. "$top/tools/lib.sh"
cd "$top"
ferry_release_build "$top" ferry
ferry=$top/build/release/ferry

ferry_bench_sandbox idle
sql -e "SET GLOBAL max_connections = $((jobs * 3 + 50));
    CREATE DATABASE idle; CREATE TABLE idle.t (id INT PRIMARY KEY)"
tools/sandbox topic "$sb" idle 1 >/dev/null

export FERRY_DB=$sb/ferry.db
"$ferry" endpoint add src --mysql "$FERRY_TEST_MYSQL" \
    --password-file "$FERRY_TEST_MYSQL_PASSWORD_FILE" >/dev/null
"$ferry" endpoint add k --kafka "$FERRY_TEST_KAFKA" >/dev/null
for i in $(seq 1 "$jobs"); do
	"$ferry" job create "idle$i" --source src --target k --topic idle \
	    --tables idle.t --initial none >/dev/null
	"$ferry" job start "$i" >/dev/null
done
"$ferry" serve --log "$sb/serve.log" &
serve=$!
bench_pids="$bench_pids $serve"
t0=$(date +%s)
while [ "$("$ferry" status --json | grep -o '"state":"incremental"' |
    wc -l)" -lt "$jobs" ]; do
	sleep 1
	if [ $(($(date +%s) - t0)) -gt 600 ]; then
		echo "not every job reached incremental in 10 minutes" >&2
		"$ferry" status | tail -5 >&2
		exit 1
	fi
done
echo "$jobs jobs incremental after $(($(date +%s) - t0)) s; settling 10 s"
sleep 10
cpu() { awk '{print $14 + $15}' "/proc/$serve/stat"; }
c0=$(cpu)
if [ -n "${FERRY_BENCH_PERF:-}" ]; then
	perf record -q -F 999 -g -p "$serve" -o "$FERRY_BENCH_PERF" \
	    -- sleep "$secs" >/dev/null 2>&1
else
	sleep "$secs"
fi
c1=$(cpu)
rss=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$serve/status")
thr=$(awk '/Threads/ {print $2}' "/proc/$serve/status")
echo "$jobs idle jobs: RSS $rss MiB, $thr threads, CPU $(echo \
    "scale=2; ($c1 - $c0) / $secs" | bc)% of a core over $secs s"
