#!/usr/bin/env bash
# bench/encode.sh [RECORDS]: DTS Avro encoding, ferry beside avro-c's generic
# value API on the same records (bench_encode), in a release build.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tools/lib.sh"
cd "$top"
mkdir -p build/release
if [ ! -f build/release/Makefile ]; then
	autoreconf -fi >/dev/null
	(cd build/release && ../../configure --quiet \
	    PKG_CONFIG_PATH="$FERRY_PKG_CONFIG_PATH" >/dev/null)
fi
make -s -C build/release -j"$(ferry_jobs)" bench >/dev/null
export FERRY_SHARED=${FERRY_SHARED:-$(ferry_find_shared "$top")}
for i in 1 2 3; do
	build/release/bench/bench_encode -n "${1:-3000000}"
done
