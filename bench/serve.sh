#!/usr/bin/env bash
# bench/serve.sh [ROWS]: ferry serve end to end on a private sandbox, beside
# the ceilings of the same run (shared/docs/PERFORMANCE.md).
#
#   full sync   ROWS narrow rows (bench/workload.sql) copied by a job with
#               --initial full: wall time from "job start" to the job's
#               first checkpoint, the daemon's CPU seconds and peak RSS.
#               Ceiling: SELECT * of the same table through the mariadb
#               client (Connector/C) into /dev/null.
#   streaming   ROWS narrow rows written (1,000 per transaction) while the
#               job is paused, then the job resumed: wall time until its
#               checkpoint reaches the end of the binlog, CPU, RSS.
#               Ceiling: bench_produce, the same number of messages of the
#               same size with the same producer settings (idempotent,
#               acks=all, linger 5 ms) to the same broker.
#
# The streaming phase's source ceiling: mariadb-binlog reading the same
# stretch of binlog as a replica, raw (shared/docs/PERFORMANCE.md).
# A second ceiling per phase: bench_produce of messages shaped like the
# phase's records (a key and ferry's headers: 3 on an INIT record, 2 on a
# binlog one), which librdkafka charges for (an allocation per header).
# Before measuring, the broker is warmed up (its JIT): twice bench_produce
# of plain messages, then of messages shaped like each phase's records (a
# broker whose header parsing is still cold spent 8-13 CPU s on a 1M-row
# full sync, warm 2-3).  The broker gets Kafka's own 1 GiB heap, in 4 MiB
# regions (tools/lib.sh, ferry_bench_sandbox).
#
# The servers' own CPU seconds (MariaDB, the broker) are printed for each
# phase and each produce ceiling: on 2 cores they show what is left for
# ferry.
#
# FERRY_BENCH_PERF=FILE records a perf profile of the daemon in each phase:
# FILE.full and FILE.stream.
#
# FERRY_BENCH_BIN=BINARY measures that ferry instead of this tree's release
# build (the ceilings still come from this tree's bench_produce).
# FERRY_BENCH_BASE=BINARY measures another ferry build beside this tree's
# in the same run (same servers, warm-up, table and binlog; each build in a
# daemon and a store of its own, phases alternating, base first): a change
# is judged against the commit before it on the same ceilings.
#
# Everything shares the machine's 2 cores: MariaDB, the broker and ferry.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-1000000}
. "$top/tools/lib.sh"
cd "$top"
ferry_release_build "$top" ferry bench
ferry=${FERRY_BENCH_BIN:-$top/build/release/ferry}

ferry_bench_sandbox serve
sql <"$top/bench/workload.sql"
sql ferry_bench <<'SQL'
CREATE TABLE stream LIKE narrow;
DELIMITER //
CREATE OR REPLACE PROCEDURE fill_stream(n INT)
BEGIN
	DECLARE i INT DEFAULT 0;
	WHILE i < n DO
		START TRANSACTION;
		INSERT INTO stream SELECT * FROM narrow WHERE id >= i AND id < i + 1000;
		COMMIT;
		SET i = i + 1000;
	END WHILE;
END//
DELIMITER ;
SQL
echo "filling ferry_bench.narrow with $rows rows"
sql -e "CALL ferry_bench.fill_narrow($rows)"
# The broker stamps every batch with its append time: the span from the
# first message's to the last one's is the rate at which the stream went in,
# measured the same way for ferry and for the ceilings.
for t in bench-full bench-stream bench-warm bench-ceiling bench-ceiling-init \
    bench-ceiling-binlog; do
	tools/sandbox topic "$sb" "$t" 1 message.timestamp.type=LogAppendTime \
	    >/dev/null
done
mdb_pid=$(cat "$sb/mysql/mariadbd.pid")
kfk_pid=$(cat "$sb/kafka/kafka.pid")
append_ms() {	# the broker's append time of message $2 of topic $1, in ms
	kcat -C -b "$FERRY_TEST_KAFKA" -t "$1" -p 0 -o "$2" -c 1 -e -q -f '%T'
}
end_offset() { kcat -Q -b "$FERRY_TEST_KAFKA" -t "$1:0:-1" -q | awk '{print $NF}'; }
span() {	# "M messages appended in S s: R/s", the messages of topic $1
		# from offset $2 up to offset $3 (default: the end), first to
		# last append time
	local end=${3:-$(end_offset "$1")} first last
	first=$(append_ms "$1" "$2")
	last=$(append_ms "$1" $((end - 1)))
	echo "$((end - $2)) $first $last" | awk '{s = ($3 - $2) / 1000;
	    r = s > 0 ? ($1 - 1) / s : 0;
	    printf "%d messages appended in %.2f s: %.0f/s", $1, s, r}'
}
produce_n() {	# bench_produce of $1 messages to topic $2, $3 bytes each,
		# options; its line, the append span, the broker's CPU
		# seconds meanwhile
	local n=$1 t=$2 sz=$3 k0 line o0
	shift 3
	o0=$(end_offset "$t")
	k0=$(awk '{print $14 + $15}' "/proc/$kfk_pid/stat")
	line=$(build/release/bench/bench_produce -b "$FERRY_TEST_KAFKA" \
	    -t "$t" -n "$n" -s "$sz" "$@")
	echo "$line; broker $(awk -v k0="$k0" \
	    '{printf "%.2f", ($14 + $15 - k0) / 100}' "/proc/$kfk_pid/stat") CPU s; $(span "$t" "$o0")"
}
produce() { produce_n "$rows" "$@"; }	# as many messages as rows
echo "warming the broker up"
warm=$((rows < 1000000 ? rows : 1000000))	# messages per round
for round in 1 2; do	# the JIT still compiled much after one round
	produce_n "$warm" bench-warm 306 >/dev/null
	produce_n "$warm" bench-warm 302 -k -H 3 >/dev/null
	produce_n "$warm" bench-warm 306 -k -H 2 >/dev/null
done

# The builds measured: this tree's, and with FERRY_BENCH_BASE=BINARY
# another ferry (an earlier commit's release build) in the same run: the
# same servers, warm-up, table and binlog, each build in a daemon and a
# store of its own; the phases alternate between them (base first).
bins=("$ferry")
[ -z "${FERRY_BENCH_BASE:-}" ] || bins=("$FERRY_BENCH_BASE" "$ferry")
serves=()
for k in "${!bins[@]}"; do
	export FERRY_DB=$sb/ferry$k.db
	b=${bins[$k]}
	"$b" endpoint add src --mysql "$FERRY_TEST_MYSQL" \
	    --password-file "$FERRY_TEST_MYSQL_PASSWORD_FILE" >/dev/null
	"$b" endpoint add k --kafka "$FERRY_TEST_KAFKA" >/dev/null
	[ "$k" -eq 0 ] || for t in bench-full bench-stream; do
		tools/sandbox topic "$sb" "$t-$k" 1 \
		    message.timestamp.type=LogAppendTime >/dev/null
	done
	sfx=$([ "$k" -eq 0 ] || echo "-$k")
	"$b" job create full --source src --target k --topic "bench-full$sfx" \
	    --tables ferry_bench.narrow --initial full >/dev/null
	"$b" job create stream --source src --target k \
	    --topic "bench-stream$sfx" --tables ferry_bench.stream \
	    --initial none >/dev/null
	"$b" serve --log "$sb/serve$k.log" --checkpoint-ms 200 --poll-ms 200 &
	serves+=($!)
	bench_pids="$bench_pids $!"
done
use() {	# build $1: its binary, store, daemon and topics
	ferry_k=${bins[$1]}
	export FERRY_DB=$sb/ferry$1.db
	serve=${serves[$1]}
	sfx=$([ "$1" -eq 0 ] || echo "-$1")
}

now() { date +%s.%N; }
cpu() {	# the daemon's user+sys seconds
	awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$serve/stat"
}
hwm() { awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' "/proc/$serve/status"; }
# The servers' CPU seconds (they share the 2 cores with ferry).
srv_cpu() {
	awk '{printf "%.2f ", ($14 + $15) / 100}' "/proc/$mdb_pid/stat" \
	    "/proc/$kfk_pid/stat"
}
srv_delta() {	# "MariaDB X, broker Y CPU s" between two srv_cpu readings
	echo "$1 $2" | awk '{printf "MariaDB %.2f, broker %.2f CPU s", \
	    $3 - $1, $4 - $2}'
}
state() { "$ferry_k" job show "$1" --json | sed 's/.*"state":"\([a-z_]*\)".*/\1/'; }
ckpos() {
	"$ferry_k" job show "$1" --json |
	    sed 's/.*"checkpoint":{"file":"\([^"]*\)","pos":\([0-9]*\).*/\1:\2/'
}
until_state() {
	while [ "$(state "$1")" != "$2" ]; do sleep 0.25; done
}

perf_start() {
	[ -n "${FERRY_BENCH_PERF:-}" ] || return 0
	perf record -q -F 999 -g -p "$serve" -o "$FERRY_BENCH_PERF.$1" \
	    >/dev/null 2>&1 &
	perf=$!
}
perf_stop() {
	[ -n "${FERRY_BENCH_PERF:-}" ] || return 0
	kill -INT "$perf"
	wait "$perf" || true
}

# Full sync, by each build in turn.
for k in "${!bins[@]}"; do
	use "$k"
	perf_start "full$sfx"
	s0=$(srv_cpu); c0=$(cpu); t0=$(now); r0=$(ferry_rdk_cpu "$serve")
	"$ferry_k" job start full >/dev/null
	until_state full incremental
	t1=$(now); c1=$(cpu); full_srv[$k]=$(srv_delta "$s0" "$(srv_cpu)")
	r1=$(ferry_rdk_cpu "$serve")
	perf_stop
	full_s[$k]=$(echo "$t1 - $t0" | bc)
	full_cpu[$k]=$(echo "$c1 - $c0" | bc)
	full_own[$k]=$(echo "$c1 - $c0 - ($r1 - $r0)" | bc)
	full_rss[$k]=$(hwm)
	full_o1[$k]=$(end_offset "bench-full$sfx")	# before any heartbeat
	"$ferry_k" job stop full >/dev/null
done
sel=$( { /usr/bin/time -f '%e %U %S' mariadb \
    --defaults-file="$sb/mysql/client.cnf" -N -B -q \
    -e "SELECT * FROM ferry_bench.narrow" >/dev/null; } 2>&1 | tail -1)

# Streaming: a backlog of ROWS rows (one, read by each build), then resume.
for k in "${!bins[@]}"; do
	use "$k"
	"$ferry_k" job start stream >/dev/null
	until_state stream incremental
	"$ferry_k" job pause stream >/dev/null
done
sleep 1
start=$(sql -N -e "SHOW MASTER STATUS" | awk '{print $1 " " $2}')
sql -e "CALL ferry_bench.fill_stream($rows)"
end=$(sql -N -e "SHOW MASTER STATUS" | awk '{print $1 ":" $2}')
for k in "${!bins[@]}"; do
	use "$k"
	stream_o0[$k]=$(end_offset "bench-stream$sfx")
	perf_start "stream$sfx"
	s0=$(srv_cpu); c0=$(cpu); t0=$(now); r0=$(ferry_rdk_cpu "$serve")
	"$ferry_k" job resume stream >/dev/null
	while [ "$(ckpos stream)" != "$end" ]; do sleep 0.25; done
	t1=$(now); c1=$(cpu); stream_srv[$k]=$(srv_delta "$s0" "$(srv_cpu)")
	r1=$(ferry_rdk_cpu "$serve")
	perf_stop
	stream_s[$k]=$(echo "$t1 - $t0" | bc)
	stream_cpu[$k]=$(echo "$c1 - $c0" | bc)
	stream_own[$k]=$(echo "$c1 - $c0 - ($r1 - $r0)" | bc)
	stream_rss[$k]=$(hwm)
	stream_o1[$k]=$(end_offset "bench-stream$sfx")
	"$ferry_k" job pause stream >/dev/null
done
size=$(kcat -C -b "$FERRY_TEST_KAFKA" -t bench-stream -o 5 -c 1 -e -q \
    -f '%S')
ceiling=$(produce bench-ceiling "$size")
init_size=$(kcat -C -b "$FERRY_TEST_KAFKA" -t bench-full -o 5 -c 1 -e -q \
    -f '%S')
ceiling_init=$(produce bench-ceiling-init "$init_size" -k -H 3)
ceiling_binlog=$(produce bench-ceiling-binlog "$size" -k -H 2)
# The source's ceiling: the same stretch of binlog read as a replica, raw.
mkdir -p "$sb/raw"
read_s=$( { /usr/bin/time -f '%e' mariadb-binlog \
    --defaults-file="$sb/mysql/client.cnf" --read-from-remote-server --raw \
    --to-last-log --result-file="$sb/raw/" \
    --start-position="${start#* }" "${start% *}" >/dev/null; } 2>&1 | tail -1)
read_bytes=$(du -cb "$sb/raw" | tail -1 | cut -f1)

echo
printf '%-10s %8s %8s %10s %10s %9s   %s\n' phase rows "wall s" "rows/s" \
    "CPU s" "peak RSS" "ceiling (same run)"
for k in "${!bins[@]}"; do
	use "$k"
	[ "${#bins[@]}" -eq 1 ] || echo "build: $ferry_k"
	printf '%-10s %8s %8.2f %10.0f %10s %9s   SELECT: %s s wall, %s CPU s\n' \
	    "full sync" "$rows" "${full_s[$k]}" \
	    "$(echo "$rows / ${full_s[$k]}" | bc -l)" "${full_cpu[$k]}" \
	    "${full_rss[$k]}" "$(echo "$sel" | cut -d' ' -f1)" \
	    "$(echo "$sel" | awk '{print $2 + $3}')"
	printf '%-10s %8s %8.2f %10.0f %10s %9s   %s\n' "streaming" "$rows" \
	    "${stream_s[$k]}" "$(echo "$rows / ${stream_s[$k]}" | bc -l)" \
	    "${stream_cpu[$k]}" "${stream_rss[$k]}" "$ceiling"
	echo "appended (the broker's time stamps, first to last message):"
	echo "  full sync: $(span "bench-full$sfx" 0 "${full_o1[$k]}")"
	echo "  streaming: $(span "bench-stream$sfx" "${stream_o0[$k]}" \
	    "${stream_o1[$k]}")"
	echo "the servers meanwhile: full sync ${full_srv[$k]}; streaming" \
	    "${stream_srv[$k]}"
	echo "ferry's own threads (CPU s without librdkafka's): full sync" \
	    "${full_own[$k]}, streaming ${stream_own[$k]}"
done
echo "binlog read (mariadb-binlog --read-from-remote-server --raw, the" \
    "streaming phase's binlog, $read_bytes bytes): $read_s s"
echo "shaped like the records (a key, headers):"
echo "  INIT ($init_size bytes, 3 headers):  $ceiling_init"
echo "  binlog ($size bytes, 2 headers): $ceiling_binlog"
echo "(RSS is the daemon's peak over the whole run)"
