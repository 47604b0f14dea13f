#!/usr/bin/env bash
# bench/store.sh [JOBS]: the job store as the CLI uses it, in a release
# build.  Makes a store with JOBS jobs (default 1000) through the real
# commands, gives each a checkpoint and statistics as a daemon would, then
# times listing and showing them with hyperfine.  The floor of the same run
# is "ferry version": starting the binary without touching the store.
# Target (issue 5): 1,000 jobs listed in under 100 ms.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tools/lib.sh"
cd "$top"
jobs=${1:-1000}
ferry_release_build "$top" ferry
ferry=$top/build/release/ferry
work=$(mktemp -d /tmp/ferry-bench-store.XXXXXX)
trap 'rm -rf "$work"' EXIT
export FERRY_DB=$work/ferry.db

"$ferry" endpoint add src --mysql mysql://repl@db.example:3306 \
    --password-ref env:DB_PASSWORD >/dev/null
"$ferry" endpoint add kafka --kafka k1.example:9092,k2.example:9092 >/dev/null
start=$(date +%s.%N)
for i in $(seq 1 "$jobs"); do
	"$ferry" job create "job$i" --source src --target kafka \
	    --topic "topic$i" --tables "shop.orders,shop.items,db$i.*" >/dev/null
done
end=$(date +%s.%N)
echo "created $jobs jobs through the CLI in $(echo "$end - $start" | bc) s"
# What a running daemon leaves behind: a checkpoint and statistics per job.
python3 - "$FERRY_DB" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
con.execute("UPDATE jobs SET state = 'incremental'")
con.execute("INSERT INTO checkpoints (job_id, binlog_file, binlog_pos, gtid, "
            "updated_at) SELECT id, 'mysql-bin.000042', id * 1000, "
            "'0-1-' || id, 0 FROM jobs")
con.execute("INSERT INTO job_stats (job_id, lag_seconds, lag_bytes, "
            "rows_per_sec, updated_at) SELECT id, 1, 4096, 1500.0, 1 FROM jobs")
con.commit()
PY
ls -l "$FERRY_DB" | awk '{print "store size: " $5 " bytes"}'
hyperfine -N --warmup 3 --runs 30 \
    "$ferry version" \
    "$ferry job list" \
    "$ferry job list --json" \
    "$ferry status" \
    "$ferry status --json" \
    "$ferry job show $((jobs / 2))"
