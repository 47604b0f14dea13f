#!/usr/bin/env bash
# bench/decode.sh [ROWS]: decode-only throughput on ROWS (default 1,000,000)
# narrow and wide rows, beside mariadb-binlog reading the same files.
#
# Builds a release ferry (build/release), starts a private MariaDB
# (tools/sandbox start --only mariadb), writes the workloads of
# bench/workload.sql, copies each binlog out and measures:
#   ferry      bench_decode: every event, row and value decoded
#   ceiling    mariadb-binlog FILE (event parsing, rows printed as base64)
#              mariadb-binlog --base64-output=decode-rows -vv FILE (values)
# Figures are CPU seconds (user+sys) of the median of 5 runs.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-1000000}
. "$top/tools/lib.sh"
cd "$top"
out=$top/build/bench
mkdir -p "$out"
ferry_release_build "$top" ferry bench

sb=$(mktemp -d /tmp/ferry-bench.XXXXXX)
trap 'tools/sandbox stop "$sb" >/dev/null 2>&1; rm -rf "$sb"' EXIT
tools/sandbox start --only mariadb "$sb" >/dev/null
eval "$(tools/sandbox env "$sb")"
sql() { mariadb --defaults-file="$sb/mysql/client.cnf" "$@"; }
sql <"$top/bench/workload.sql"
datadir=$(sql -N -e 'SELECT @@datadir')

for kind in narrow wide; do
	if [ ! -f "$out/$kind-$rows.binlog" ]; then
		sql -e "FLUSH BINARY LOGS"
		f=$(sql -N -e "SHOW MASTER STATUS" | cut -f1)
		sql -e "CALL ferry_bench.fill_$kind($rows)"
		sql -e "FLUSH BINARY LOGS"
		cp "$datadir/$f" "$out/$kind-$rows.binlog"
	fi
done

median_cpu() {
	# median user+sys seconds of 5 runs of "$@" (output discarded)
	local t=() i tf
	tf=$(mktemp)
	for i in 1 2 3 4 5; do
		/usr/bin/time -f '%U %S' -o "$tf" "$@" >/dev/null 2>&1 || true
		t+=("$(awk '{print $1 + $2}' "$tf")")
	done
	rm -f "$tf"
	printf '%s\n' "${t[@]}" | sort -n | sed -n 3p
}

printf '\n%-8s %10s %12s %14s %14s %14s\n' workload rows "ferry cpu s" \
    "ferry rows/s" "m-binlog s" "m-binlog -vv s"
for kind in narrow wide; do
	file=$out/$kind-$rows.binlog
	res=$(build/release/bench/bench_decode -n 5 "$file")
	cpu=$(echo "$res" | sed -n 's/.*cpu median \([0-9.]*\) s.*/\1/p')
	rps=$(echo "$res" | sed -n 's/rows\/s per core: \([0-9]*\);.*/\1/p')
	m1=$(median_cpu mariadb-binlog "$file")
	m2=$(median_cpu mariadb-binlog --base64-output=decode-rows -vv "$file")
	printf '%-8s %10s %12s %14s %14s %14s\n' "$kind" "$rows" "$cpu" "$rps" \
	    "$m1" "$m2"
	echo "$res" | sed 's/^/    /'
done
