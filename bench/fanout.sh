#!/usr/bin/env bash
# bench/fanout.sh [ROWS]: N jobs on one source (N = 1, 3, 10) streaming the
# same binlog, with the shared binlog reader (ferry serve's default) and
# without it (--shared-reader off), on a private sandbox.
#
# Each job carries ferry_bench.narrow into a topic of its own (one
# partition), created with --initial none, so every job writes every row:
# what N jobs cost beyond N times the records is the reading.  Then N jobs
# of which one is busy: the others carry ferry_bench.wide, untouched, so
# all they do is read the binlog and skip its events.  Per run: a
# new daemon and store, its N jobs incremental and idle, then ROWS narrow
# rows inserted (1,000 per transaction) and the wall time until every
# job's checkpoint reaches the end of the binlog.  Reported:
#
#   bytes sent  the source's Bytes_sent over the run (its dump threads
#               send the binlog; the other clients' share is small)
#   dumps       Binlog Dump threads on the source while the jobs ran
#   shared      jobs on the shared reader at the end (a server one job
#               reads it reads alone)
#   CPU s       the daemon's user+sys seconds; own s, those of ferry's
#               own threads (not librdkafka's), and per busy job
#
# The target: the source sends the binlog once whatever N, and ferry's
# CPU per job falls as N grows.  Everything shares the machine's 2 cores.
# FERRY_BENCH_PERF=FILE records a perf profile of the daemon in each
# measured run: FILE.MODE.N.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-200000}
. "$top/tools/lib.sh"
cd "$top"
ferry_release_build "$top" ferry
ferry=${FERRY_BENCH_BIN:-$top/build/release/ferry}

ferry_bench_sandbox fanout
sql <"$top/bench/workload.sql"
mdb_pid=$(cat "$sb/mysql/mariadbd.pid")

bytes_sent() { sql -N -B -e "SHOW GLOBAL STATUS LIKE 'Bytes_sent'" | awk '{print $2}'; }
dumps() {
	sql -N -B -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'"
}
binlog_end() { sql -N -B -e "SHOW MASTER STATUS" | awk '{print $1, $2}'; }
cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }
# Whether every job's checkpoint is at "FILE POS".
at_end() {
	"$ferry" status --json | /usr/bin/python3 -c '
import json, sys
f, p = sys.argv[1], int(sys.argv[2])
js = json.load(sys.stdin)
sys.exit(0 if js and all(j["checkpoint"]["file"] == f and
                         j["checkpoint"]["pos"] == p for j in js) else 1)' "$@"
}
incremental() {
	"$ferry" status --json | /usr/bin/python3 -c '
import json, sys
js = json.load(sys.stdin)
sys.exit(0 if js and all(j["state"] == "incremental" for j in js) else 1)'
}

run=0
# One run: N jobs ($1), --shared-reader $2; prints its line unless $3 is
# "quiet" (the warm-up).
measure() {
	local n=$1 mode=$2 k serve end b0 b1 c0 c1 r0 r1 t0 t1 d sh perf= tables
	local busy=$n
	run=$((run + 1))
	export FERRY_DB=$sb/ferry$run.db
	"$ferry" endpoint add src --mysql "$FERRY_TEST_MYSQL" \
	    --password-file "$FERRY_TEST_MYSQL_PASSWORD_FILE" >/dev/null
	"$ferry" endpoint add k --kafka "$FERRY_TEST_KAFKA" >/dev/null
	[ "${3:-}" != one-busy ] || busy=1
	for k in $(seq "$n"); do
		tools/sandbox topic "$sb" "fan-$run-$k" 1 >/dev/null
		tables=ferry_bench.narrow
		[ "$k" -le "$busy" ] || tables=ferry_bench.wide
		"$ferry" job create "j$k" --source src --target k \
		    --topic "fan-$run-$k" --tables "$tables" \
		    --initial none >/dev/null
		"$ferry" job start "j$k" >/dev/null
	done
	sql -e "TRUNCATE ferry_bench.narrow"
	"$ferry" serve --log "$sb/serve$run.log" --checkpoint-ms 200 \
	    --poll-ms 200 --heartbeat-ms 0 --shared-reader "$mode" &
	serve=$!
	bench_pids="$bench_pids $serve"
	until incremental; do sleep 0.2; done
	sleep 2
	end=$(binlog_end)
	until at_end $end; do sleep 0.2; done
	if [ -n "${FERRY_BENCH_PERF:-}" ] && [ "${3:-}" != quiet ]; then
		perf record -q -g -o "$FERRY_BENCH_PERF.$mode.$n" -p "$serve" \
		    2>/dev/null &
		perf=$!
	fi
	b0=$(bytes_sent)
	c0=$(cpu "$serve")
	r0=$(ferry_rdk_cpu "$serve")
	t0=$(date +%s.%N)
	sql -e "CALL ferry_bench.fill_narrow($rows)"
	d=$(dumps)
	end=$(binlog_end)
	until at_end $end; do sleep 0.1; done
	t1=$(date +%s.%N)
	c1=$(cpu "$serve")
	r1=$(ferry_rdk_cpu "$serve")
	b1=$(bytes_sent)
	sh=$("$ferry" status --json | /usr/bin/python3 -c '
import json, sys
print(sum(j.get("binlog_reader") == "shared" for j in json.load(sys.stdin)))')
	[ -z "$perf" ] || { kill -INT "$perf"; wait "$perf" || true; }
	kill "$serve"
	wait "$serve" || true
	[ "${3:-}" = quiet ] ||
	echo "$mode $n $rows $t0 $t1 $b0 $b1 $d $c0 $c1 $sh $busy $r0 $r1" |
	awk '{
	    w = $5 - $4; c = $10 - $9; k = $14 - $13;
	    printf "%-6s %3d %4d %7d %10.0f %8.2f %12.1f %6d %8.2f %8.2f %10.2f\n",
	        $1, $2, $12, $11, $3 / w, w, ($7 - $6) / 1048576, $8, c,
	        c - k, (c - k) / $12 }'
}

echo "warming up (the broker's JIT): a run of each kind, not counted"
measure 1 on quiet
measure 1 off quiet
printf '%-6s %3s %4s %7s %10s %8s %12s %6s %8s %8s %10s\n' reader N busy \
    shared rows/s wall_s sent_MB dumps CPU_s own_s own_s/busy
# Two rounds; the order alternates, so that neither kind always runs on a
# warmer broker (runs vary by a third on this machine: compare rounds).
for round in 1 2; do
	for n in 1 3 10; do
		if [ $(((n + round) % 2)) = 0 ]; then
			measure "$n" on
			measure "$n" off
		else
			measure "$n" off
			measure "$n" on
		fi
	done
done
# One busy job among idle ones (their tables untouched): what reading the
# binlog costs the jobs that carry none of it.
for n in 3 10; do
	measure "$n" off one-busy
	measure "$n" on one-busy
done
echo "binlog per run: $(sql -N -B -e "SHOW BINARY LOGS" | awk '{s += $2} END {printf "%.1f MB in all", s / 1048576}')"
