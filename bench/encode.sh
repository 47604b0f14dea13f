#!/usr/bin/env bash
# bench/encode.sh [RECORDS]: DTS Avro encoding, ferry beside avro-c's generic
# value API on the same records (bench_encode), in a release build.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tools/lib.sh"
cd "$top"
ferry_release_build "$top" bench
export FERRY_SHARED=${FERRY_SHARED:-$(ferry_find_shared "$top")}
for i in 1 2 3; do
	build/release/bench/bench_encode -n "${1:-3000000}"
done
