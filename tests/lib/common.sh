# Shared by the shell tests: sourced, not run.
#
# FERRY_BIN, FERRY_SRCDIR and FERRY_BUILDDIR come from the Makefile's test
# environment.  Helpers fail the test with a message; skip() exits 77 unless
# FERRY_TEST_REQUIRE=1 (set by tools/test), in which case it is a hard error.

set -u

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	if [ "${FERRY_TEST_REQUIRE:-0}" = 1 ]; then
		echo "ERROR: $*, and FERRY_TEST_REQUIRE=1 says it must be there" >&2
		exit 99
	fi
	echo "SKIP: $*" >&2
	exit 77
}

# run CMD...: run, keep stdout in $out, stderr in $err, status in $rc.
run() {
	local o e
	o=$(mktemp) e=$(mktemp)
	set +e
	"$@" >"$o" 2>"$e"
	rc=$?
	set -e
	out=$(cat "$o")
	err=$(cat "$e")
	rm -f "$o" "$e"
}

expect_rc() {
	[ "$rc" -eq "$1" ] || fail "expected exit $1, got $rc (stdout: $out; stderr: $err)"
}

expect_out() {
	case "$out" in *"$1"*) ;; *) fail "stdout lacks '$1': $out" ;; esac
}

expect_err() {
	case "$err" in *"$1"*) ;; *) fail "stderr lacks '$1': $err" ;; esac
}
