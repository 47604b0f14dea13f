# tools/lib.sh: paths shared by tools/deps, sandbox, test and quickstart.
# Sourced, not run.

# Where tools/deps keeps what it fetches and builds, outside the checkout.
FERRY_CACHE=${FERRY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry}
FERRY_KAFKA_VERSION=${FERRY_KAFKA_VERSION:-4.4.0}
FERRY_KAFKA_LIB=${FERRY_KAFKA_LIB:-$FERRY_CACHE/kafka-$FERRY_KAFKA_VERSION/lib}
FERRY_RDKAFKA_VERSION=2.8.0
FERRY_RDKAFKA=${FERRY_RDKAFKA:-$FERRY_CACHE/librdkafka-$FERRY_RDKAFKA_VERSION}
# Dolt, a MySQL-compatible server written in Go that acts as a binlog
# primary (GTIDs, COM_BINLOG_DUMP_GTID): the tests' live MySQL-flavour
# source, since no registry here serves a MySQL server.  The module
# version of Dolt 2.2.0 (@latest resolves to an old 2022 release).
FERRY_DOLT_MODULE=github.com/dolthub/dolt/go/cmd/dolt
FERRY_DOLT_VERSION=v0.40.5-0.20260715172757-a6690826d767
FERRY_DOLT=${FERRY_DOLT:-$FERRY_CACHE/dolt-$FERRY_DOLT_VERSION/dolt}
# Older brokers, ZooKeeper mode, for the version matrix (tools/sandbox
# start --kafka VERSION): each with the Scala build Maven Central has.
FERRY_KAFKA_LEGACY=${FERRY_KAFKA_LEGACY:-"0.10.1.0 0.10.2.2 0.11.0.3 1.0.2 2.8.2"}
# The peer bench/peer.sh runs beside ferry: Debezium's MySQL connector on a
# Kafka Connect standalone worker of the Kafka version it is built against
# (2.5 is the last release whose connector asks MariaDB SHOW MASTER STATUS;
# from 2.6 it asks MySQL 8.4's SHOW BINARY LOG STATUS, which MariaDB 10.11
# refuses).
FERRY_DEBEZIUM_VERSION=2.5.4.Final
FERRY_CONNECT_VERSION=3.6.1
FERRY_DEBEZIUM_LIB=${FERRY_DEBEZIUM_LIB:-$FERRY_CACHE/debezium-$FERRY_DEBEZIUM_VERSION/lib}
export FERRY_CACHE FERRY_KAFKA_VERSION FERRY_KAFKA_LIB FERRY_RDKAFKA FERRY_DOLT
export FERRY_KAFKA_LEGACY FERRY_DEBEZIUM_LIB

# The jar directory of Kafka VERSION (the default's, or a legacy one's).
ferry_kafka_lib() {
	if [ "$1" = "$FERRY_KAFKA_VERSION" ]; then
		echo "$FERRY_KAFKA_LIB"
	else
		echo "$FERRY_CACHE/kafka-$1/lib"
	fi
}

# The Scala build Maven Central has of Kafka VERSION.
ferry_kafka_scala() {
	case $1 in
	0.*) echo 2.11 ;;
	1.*|2.*) echo 2.12 ;;
	*) echo 2.13 ;;
	esac
}

# configure finds the librdkafka tools/deps built before the system's.
FERRY_PKG_CONFIG_PATH=$FERRY_RDKAFKA/lib/pkgconfig

# The shared reference data (docs, binlog corpus, DTS schema): beside the
# checkout, unless FERRY_SHARED says otherwise.
ferry_find_shared() {
	local top=$1
	if [ -n "${FERRY_SHARED:-}" ]; then
		echo "$FERRY_SHARED"
	elif [ -d "$top/../shared/reference" ]; then
		(cd "$top/../shared" && pwd)
	fi
}

ferry_jobs() {
	nproc 2>/dev/null || echo 2
}

# Build TARGETS in TOP/build/release (configured once: optimised, no debug
# flags), quietly: what the benchmarks measure.
ferry_release_build() {
	local top=$1
	shift
	mkdir -p "$top/build/release"
	if [ ! -f "$top/build/release/Makefile" ]; then
		(cd "$top" && autoreconf -fi >/dev/null)
		(cd "$top/build/release" && ../../configure --quiet \
		    PKG_CONFIG_PATH="$FERRY_PKG_CONFIG_PATH" >/dev/null)
	fi
	make -s -C "$top/build/release" -j"$(ferry_jobs)" "$@" >/dev/null
}

# Benchmarks: a private sandbox in a new directory $sb (/tmp/ferry-bench-
# NAME.*), its servers' environment (FERRY_TEST_*), and sql() for its
# MariaDB.  On exit the processes listed in $bench_pids (the script adds
# what it starts) are killed, the sandbox stopped and its directory
# removed.  Run from the top of the checkout.
# The CPU seconds of librdkafka's threads (named rdk:...) of process $1.
# Their share varies a lot between identical runs on this machine (the
# broker thread's polling: 0.2 to 1.2 s for the same 500k messages), so
# the benchmarks show ferry's own threads apart.
ferry_rdk_cpu() {
	local t s=0
	for t in /proc/"$1"/task/*; do
		case $(cat "$t/comm" 2>/dev/null) in
		rdk:*) s=$(awk -v s="$s" '{printf "%.2f", s + ($14 + $15) / 100}' "$t/stat") ;;
		esac
	done
	echo "$s"
}

bench_pids=
ferry_bench_sandbox() {
	sb=$(mktemp -d "/tmp/ferry-bench-$1.XXXXXX")
	trap ferry_bench_cleanup EXIT
	# Kafka's own start script gives the broker a 1 GiB heap.  Regions of
	# 4 MiB keep a produce request of a full 1 MB batch from being a
	# "humongous" object for G1 (half a region or more), which goes to
	# the old generation and, thousands a run, keeps its concurrent
	# marking busy: broker CPU that neither ferry nor a ceiling causes.
	FERRY_KAFKA_HEAP=${FERRY_KAFKA_HEAP:--Xms1g -Xmx1g -XX:G1HeapRegionSize=4m} \
	    tools/sandbox start "$sb" >/dev/null
	eval "$(tools/sandbox env "$sb")"
	sql() { mariadb --defaults-file="$sb/mysql/client.cnf" "$@"; }
}

ferry_bench_cleanup() {
	local p
	for p in $bench_pids; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	tools/sandbox stop "$sb" >/dev/null 2>&1
	rm -rf "$sb"
}
