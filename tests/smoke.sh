#!/bin/sh
# End to end on a synthetic file: suites/smoke.ini runs every method in
# both protocols; the summary does not depend on --jobs, and a run
# interrupted by SIGINT resumes to the same bytes.
set -u
. "$(dirname "$0")/lib/tap.sh"
build=${BUILD:-build}
dembench=${DEMBENCH:-$build/dembench}
tmp=$(mktemp -d /tmp/dembench-smoke.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
plan 12

"$build"/synth --out build/smoke.h5
ok $? "synth writes the smoke data"

$dembench run suites/smoke.ini --jobs 2 --out "$tmp/a" 2>"$tmp/log"
ok $? "smoke suite runs with --jobs 2"
$dembench report "$tmp/a" 2>>"$tmp/log"
ok $? "report writes the tables"

rows=0
for t in main single continual; do
	n=$(grep -c -E '^"(noadapt|norm|em|cadf|dem\*|adadem-norm|adadem-mec|adadem)' \
		"$tmp/a/table-$t.csv")
	rows=$((rows + n))
done
[ "$rows" -eq 24 ]
ok $? "main and per-task tables have a row per method"
[ "$rows" -eq 24 ] || diag "rows: $rows" "$(cat "$tmp/a/table.md")"

$dembench run suites/smoke.ini --jobs 1 --out "$tmp/b" 2>>"$tmp/log" &&
	$dembench report "$tmp/b" 2>>"$tmp/log"
cmp -s "$tmp/a/summary.csv" "$tmp/b/summary.csv"
ok $? "--jobs 1 and --jobs 2 give the same summary bytes"

# A larger file, so that SIGINT arrives while runs are in flight.
"$build"/synth --out "$tmp/big.h5" --n 100000 --tasks 3
sed "s|build/smoke.h5|$tmp/big.h5|" suites/smoke.ini > "$tmp/big.ini"
$dembench run "$tmp/big.ini" --jobs 2 --out "$tmp/c" 2>>"$tmp/log" &
pid=$!
sleep 1
kill -INT $pid
wait $pid
status=$?
[ "$status" -eq 130 ]
ok $? "SIGINT stops the sweep with exit code 130"
[ "$status" -eq 130 ] || diag "exit code $status"

leftover=$(find "$tmp/c" -name '*.tmp.*' | wc -l)
[ "$leftover" -eq 0 ]
ok $? "no temporary file is left after SIGINT"

$dembench run "$tmp/big.ini" --jobs 2 --out "$tmp/c" 2>>"$tmp/log" &&
	$dembench report "$tmp/c" 2>>"$tmp/log" &&
	$dembench run "$tmp/big.ini" --jobs 1 --out "$tmp/d" 2>>"$tmp/log" &&
	$dembench report "$tmp/d" 2>>"$tmp/log"
cmp -s "$tmp/c/summary.csv" "$tmp/d/summary.csv"
ok $? "the resumed sweep matches an uninterrupted one"

# Two sweeps on one folder at once share the runs through per-run
# locks and give the same bytes as one sweep.
$dembench run suites/smoke.ini --jobs 2 --out "$tmp/two" 2>"$tmp/two1" &
first=$!
$dembench run suites/smoke.ini --jobs 2 --out "$tmp/two" 2>"$tmp/two2"
second=$?
wait $first
[ $? -eq 0 ] && [ $second -eq 0 ]
ok $? "two concurrent sweeps on one folder both succeed"
$dembench run suites/smoke.ini --out "$tmp/two" 2>>"$tmp/log" &&
	$dembench report "$tmp/two" 2>>"$tmp/log"
cmp -s "$tmp/b/summary.csv" "$tmp/two/summary.csv"
ok $? "their summary matches a single sweep"

# The gradual protocol runs severities up and back down per corruption.
"$build"/synth --out "$tmp/g.h5" --n 300 --tasks 5
printf '[suite]\ndata = %s\nprotocols = gradual\nmethods = em\nlrs = 0.01\n' \
	"$tmp/g.h5" > "$tmp/g.ini"
$dembench run "$tmp/g.ini" --out "$tmp/g" 2>>"$tmp/log"
ok $? "the gradual protocol runs"
tasks=$(cut -d, -f8 "$tmp/g/runs/gradual-em-lr=0.01-seed=1.csv" | tail -n +2 |
	tr -d '"' | tr '\n' ' ')
up_down="shift_1 shift_2 shift_3 shift_4 shift_5 shift_4 shift_3 shift_2"
[ "$tasks" = "$up_down shift_1 " ]
ok $? "its stream goes up in severity and back down"
[ $? -eq 0 ] || diag "tasks: $tasks"

finish
