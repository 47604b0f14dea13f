#!/usr/bin/env bash
# bench/start.sh [ROUNDS]: how long a job takes to start and the daemon to
# stop, on a private sandbox.  Each of ROUNDS (default 10) rounds starts a
# daemon, creates a job with --initial full over a table of 1,000 narrow
# rows and its own topic, and times:
#   start   from "ferry job start" until the job shows "incremental" (the
#           daemon's pick-up, precheck, the partition tail read of the
#           exactly-once resume, schema sync, the copy, the first
#           checkpoint), polled every 20 ms;
#   stop    from SIGTERM to the daemon's exit (draining, the final
#           checkpoint, closing the Kafka producer).
# Then the minimum, median and maximum of each, and how many took a second
# or more (librdkafka's wait for a last metrics push made about half of all
# starts and every stop take one more second, before ferry turned the push
# off).  Wall times: a few milliseconds of the polling are in them.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-10}
. "$top/tools/lib.sh"
cd "$top"
ferry_release_build "$top" ferry
ferry=$top/build/release/ferry

ferry_bench_sandbox start
sql <"$top/bench/workload.sql"
sql -e "CALL ferry_bench.fill_narrow(1000)"

export FERRY_DB=$sb/ferry.db
"$ferry" endpoint add src --mysql "$FERRY_TEST_MYSQL" \
    --password-file "$FERRY_TEST_MYSQL_PASSWORD_FILE" >/dev/null
"$ferry" endpoint add k --kafka "$FERRY_TEST_KAFKA" >/dev/null

now() { date +%s.%N; }
ms() { echo "($2 - $1) * 1000" | bc -l | xargs printf '%.0f'; }
starts=() stops=()
for r in $(seq 1 "$rounds"); do
	tools/sandbox topic "$sb" "start$r" 1 >/dev/null
	"$ferry" job create "start$r" --source src --target k \
	    --topic "start$r" --tables ferry_bench.narrow --initial full \
	    >/dev/null
	"$ferry" serve --log "$sb/serve.log" --poll-ms 200 &
	serve=$!
	bench_pids="$bench_pids $serve"
	sleep 1		# the daemon is up and idle
	t0=$(now)
	"$ferry" job start "start$r" >/dev/null
	until "$ferry" job show "start$r" --json |
	    grep -q '"state":"incremental"'; do
		sleep 0.02
	done
	t1=$(now)
	kill -TERM "$serve"
	wait "$serve" || true
	t2=$(now)
	starts+=("$(ms "$t0" "$t1")")
	stops+=("$(ms "$t1" "$t2")")
	printf 'round %2d: start %5s ms, stop %5s ms\n' "$r" "${starts[-1]}" \
	    "${stops[-1]}"
done
summary() {	# "min M, median D, max X ms, K over 1 s" of the numbers given
	printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1; slow += $1 >= 1000}
	    END {printf "min %d, median %d, max %d ms, %d over 1 s", v[1],
	    (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[NR],
	    slow}'
}
echo "job start ($rounds rounds): $(summary "${starts[@]}")"
echo "daemon stop ($rounds rounds): $(summary "${stops[@]}")"
