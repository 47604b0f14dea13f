#!/usr/bin/env bash
# bench/peer.sh [ROWS]: ferry beside a peer, Debezium, in one run on one
# private sandbox (MariaDB and Kafka with Kafka's own 1 GiB heap).
#
# The peer: Debezium's MySQL connector 2.5.4 on a Kafka Connect 3.6.1
# standalone worker (the version it is built against), JSON without
# schemas, heap -Xms1g -Xmx1g, from Maven Central through tools/deps.
# Debezium's MariaDB connector is not on Maven Central, and its MySQL
# connector from 2.6 on asks MariaDB for MySQL 8.4's SHOW BINARY LOG
# STATUS; 2.5 reads MariaDB by file and position.  Twice: with its
# defaults, and with the producer batching ferry uses (1 MB batches, 5
# requests in flight, linger 5 ms): the second is the honest comparison.
#
# Each tool, in a process of its own that lives through both phases:
#
#   full sync   ROWS narrow rows (bench/workload.sql) copied: from the
#               start to the last record in the topic (the snapshot; for
#               Debezium the JVM's start is in it, as a user sees it)
#   streaming   a warm-up batch of ROWS/4 rows, then ROWS rows, 1,000 per
#               transaction, into a table of the tool's own: from the
#               first insert to the last record in the topic
#
# Reported per phase: rows/s, the tool's CPU seconds (all its threads,
# /proc) and the broker's, per million rows; the tool's peak RSS; the mean
# size of a row's message.  Everything shares the machine's 2 cores.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-200000}
. "$top/tools/lib.sh"
cd "$top"
ferry_release_build "$top" ferry
ferry=${FERRY_BENCH_BIN:-$top/build/release/ferry}
[ -f "$FERRY_DEBEZIUM_LIB/.complete" ] ||
	{ echo "peer.sh: no Debezium in $FERRY_DEBEZIUM_LIB: run tools/deps" >&2; exit 1; }

ferry_bench_sandbox peer
sql <"$top/bench/workload.sql"
sql ferry_bench <<'SQL'
DELIMITER //
CREATE OR REPLACE PROCEDURE stream_batch(tbl VARCHAR(64), base INT, n INT)
BEGIN
	DECLARE i INT DEFAULT 0;
	WHILE i < n DO
		START TRANSACTION;
		EXECUTE IMMEDIATE CONCAT('INSERT INTO ', tbl, ' SELECT id + ', base,
		    ', b, s1, s2, dt, d, f, t FROM narrow WHERE id > ', i,
		    ' AND id <= ', i + 1000);
		COMMIT;
		SET i = i + 1000;
	END WHILE;
END//
DELIMITER ;
SQL
echo "filling ferry_bench.narrow with $rows rows"
sql -e "CALL ferry_bench.fill_narrow($rows)"
kfk_pid=$(cat "$sb/kafka/kafka.pid")
pw=$(cat "$FERRY_TEST_MYSQL_PASSWORD_FILE")
myport=${FERRY_TEST_MYSQL##*:}
warm=$((rows / 4))

now() { date +%s.%N; }
cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }
hwm() { awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' "/proc/$1/status"; }
end_offset() {
	kcat -Q -b "$FERRY_TEST_KAFKA" -t "$1:0:-1" -q 2>/dev/null |
	    awk '{print $NF}' | grep -E '^[0-9]+$' || echo 0
}
until_offset() {	# topic $1 holds $2 messages
	while [ "$(end_offset "$1")" -lt "$2" ]; do sleep 0.1; done
}
msg_size() {		# the mean size of 1000 messages of topic $1
	kcat -C -b "$FERRY_TEST_KAFKA" -t "$1" -c 1000 -e -q -f '%S\n' |
	    awk '{s += $1; n++} END {printf "%.0f", n ? s / n : 0}'
}
# One phase's line: tool phase rows t0 t1 c0 c1 k0 k1
line() {
	echo "$@" | awk '{w = $5 - $4; m = $3 / 1e6;
	    printf "%-22s %-10s %10.0f %9.2f %12.2f %12.2f\n", $1, $2, $3 / w,
	        w, ($7 - $6) / m, ($9 - $8) / m}'
}

# The tool in process $pid writes phase topics $full and $stream, the
# streaming rows going into table $tbl.
measure() {
	local name=$1 t0 t1 c0 c1 k0 k1 base=0
	t0=$start_t; c0=0; k0=$start_k
	until_offset "$full" "$rows"
	t1=$(now); c1=$(cpu "$pid"); k1=$(cpu "$kfk_pid")
	full_line=$(line "$name" "full" "$rows" "$t0" "$t1" "$c0" "$c1" \
	    "$k0" "$k1")
	sql -e "CALL ferry_bench.stream_batch('$tbl', $base, $warm)"
	until_offset "$stream" "$warm"
	base=$((base + rows))
	t0=$(now); c0=$(cpu "$pid"); k0=$(cpu "$kfk_pid")
	sql -e "CALL ferry_bench.stream_batch('$tbl', $base, $rows)"
	until_offset "$stream" $((warm + rows))
	t1=$(now); c1=$(cpu "$pid"); k1=$(cpu "$kfk_pid")
	echo "$full_line"
	line "$name" "streaming" "$rows" "$t0" "$t1" "$c0" "$c1" "$k0" "$k1"
	echo "  peak RSS $(hwm "$pid"); a row's message $(msg_size "$full") bytes (full), $(msg_size "$stream") (streaming)"
}

debezium() {	# $1: label, then worker properties
	local label=$1 k=$2
	shift 2
	tbl=peer_stream_$k
	sql -e "CREATE TABLE ferry_bench.$tbl LIKE ferry_bench.narrow"
	mkdir -p "$sb/dbz$k"
	cat >"$sb/dbz$k/worker.properties" <<EOF
bootstrap.servers=$FERRY_TEST_KAFKA
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=false
value.converter.schemas.enable=false
offset.storage.file.filename=$sb/dbz$k/offsets
offset.flush.interval.ms=1000
topic.creation.enable=true
listeners=http://127.0.0.1:0
EOF
	for p in "$@"; do echo "$p" >>"$sb/dbz$k/worker.properties"; done
	cat >"$sb/dbz$k/connector.properties" <<EOF
name=dbz$k
connector.class=io.debezium.connector.mysql.MySqlConnector
tasks.max=1
database.hostname=127.0.0.1
database.port=$myport
database.user=root
database.password=$pw
database.server.id=$((5400 + k))
topic.prefix=dbz$k
table.include.list=ferry_bench.narrow,ferry_bench.$tbl
schema.history.internal.kafka.bootstrap.servers=$FERRY_TEST_KAFKA
schema.history.internal.kafka.topic=dbz$k-history
snapshot.mode=initial
topic.creation.default.replication.factor=1
topic.creation.default.partitions=1
EOF
	echo 'log4j.rootLogger=WARN, f
log4j.appender.f=org.apache.log4j.FileAppender
log4j.appender.f.File='"$sb/dbz$k/connect.log"'
log4j.appender.f.layout=org.apache.log4j.PatternLayout
log4j.appender.f.layout.ConversionPattern=[%d] %p %m (%c)%n' \
	    >"$sb/dbz$k/log4j.properties"
	full=dbz$k.ferry_bench.narrow
	stream=dbz$k.ferry_bench.$tbl
	start_t=$(now); start_k=$(cpu "$kfk_pid")
	java -Xms1g -Xmx1g \
	    -Dlog4j.configuration="file:$sb/dbz$k/log4j.properties" \
	    -cp "$FERRY_DEBEZIUM_LIB/*" \
	    org.apache.kafka.connect.cli.ConnectStandalone \
	    "$sb/dbz$k/worker.properties" "$sb/dbz$k/connector.properties" \
	    >"$sb/dbz$k/stdout.log" 2>&1 &
	pid=$!
	bench_pids="$bench_pids $pid"
	measure "$label"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

ferry_run() {
	local k=$1
	tbl=peer_stream_$k
	sql -e "CREATE TABLE ferry_bench.$tbl LIKE ferry_bench.narrow"
	full=ferry$k.narrow
	stream=ferry$k.$tbl
	tools/sandbox topic "$sb" "$full" 1 >/dev/null
	tools/sandbox topic "$sb" "$stream" 1 >/dev/null
	export FERRY_DB=$sb/ferry$k.db
	"$ferry" endpoint add src --mysql "$FERRY_TEST_MYSQL" \
	    --password-file "$FERRY_TEST_MYSQL_PASSWORD_FILE" >/dev/null
	"$ferry" endpoint add k --kafka "$FERRY_TEST_KAFKA" >/dev/null
	"$ferry" job create peer --source src --target k \
	    --topic-template "ferry$k.{table}" \
	    --tables "ferry_bench.narrow,ferry_bench.$tbl" >/dev/null
	"$ferry" job start peer >/dev/null
	start_t=$(now); start_k=$(cpu "$kfk_pid")
	"$ferry" serve --log "$sb/ferry$k.log" --poll-ms 200 &
	pid=$!
	bench_pids="$bench_pids $pid"
	measure "ferry"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

printf '%-22s %-10s %10s %9s %12s %12s\n' tool phase rows/s wall_s \
    "CPU s/M rows" "broker s/M"
ferry_run 1
debezium debezium-defaults 2
debezium debezium-1MB-batches 3 producer.batch.size=1048576 \
    producer.linger.ms=5 producer.max.in.flight.requests.per.connection=5
ferry_run 4
