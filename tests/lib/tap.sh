# tap.sh - TAP output for shell tests, sourced by tests/*.sh.
# plan N; ok CONDITION-EXIT-CODE NAME; diag TEXT; done_testing.

tap_count=0
tap_failed=0

plan() {
	echo "1..$1"
}

# ok STATUS NAME: "ok" when STATUS is 0, else "not ok".
ok() {
	tap_count=$((tap_count + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_count - $2"
	else
		echo "not ok $tap_count - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

# Exits non-zero if any test failed, so that prove also reports the exit code.
finish() {
	[ "$tap_failed" -eq 0 ]
}
