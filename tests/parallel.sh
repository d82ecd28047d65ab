#!/bin/sh
# Scale-out through GNU parallel: the commands of "dembench plan" run by
# parallel give the same summary bytes as "dembench run", and a run
# killed under parallel is planned again on the next pass, alone.
set -u
. "$(dirname "$0")/lib/tap.sh"
build=${BUILD:-build}
dembench=${DEMBENCH:-$build/dembench}
tmp=$(mktemp -d /tmp/dembench-parallel.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if ! command -v parallel >/dev/null; then
	echo "1..0 # SKIP GNU parallel is not installed (make deps)"
	exit 0
fi
plan 7

"$build"/synth --out "$tmp/data.h5" --n 1000
sed "s|build/smoke.h5|$tmp/data.h5|" suites/smoke.ini > "$tmp/suite.ini"
$dembench run "$tmp/suite.ini" --out "$tmp/run" 2>"$tmp/log" &&
	$dembench report "$tmp/run" 2>>"$tmp/log"
ok $? "dembench run finishes the suite"

# Each pass runs what can start now; the dem* phases need three.
passes=0
while [ $passes -lt 5 ]; do
	$dembench plan "$tmp/suite.ini" --out "$tmp/par" > "$tmp/plan" \
		2>>"$tmp/log" || break
	[ -s "$tmp/plan" ] || break
	parallel -j 2 < "$tmp/plan" 2>>"$tmp/log" || break
	passes=$((passes + 1))
done
[ $passes -eq 3 ]
ok $? "plan and parallel finish the suite in three passes"
[ $passes -eq 3 ] || diag "passes: $passes" "$(tail -5 "$tmp/log")"

$dembench report "$tmp/par" 2>>"$tmp/log"
cmp -s "$tmp/run/summary.csv" "$tmp/par/summary.csv"
ok $? "the summary is byte-identical to dembench run"

# Kill one run in flight with SIGKILL, the dembench process and the
# child it forked, as a job engine kills a task: nothing cleans up.
"$build"/synth --out "$tmp/big.h5" --n 200000 --tasks 2
printf '[suite]\ndata = %s\nmethods = em\nlrs = 1e-3, 1e-2\nseeds = 1, 2\n' \
	"$tmp/big.h5" > "$tmp/big.ini"
$dembench plan "$tmp/big.ini" --out "$tmp/k" > "$tmp/plan" 2>>"$tmp/log"
parallel -j 2 < "$tmp/plan" 2>>"$tmp/log" &
ppid=$!
victim="--only single-em-lr=0.001-seed=1"
# Kill as soon as the run's process exists: before it forks or while
# its child runs, it has not written its result file yet.
for i in $(seq 400); do
	pgrep -f -- "$victim" >/dev/null && break
	sleep 0.02
done
pkill -KILL -f -- "$victim"
wait $ppid
$dembench plan "$tmp/big.ini" --out "$tmp/k" > "$tmp/plan2" 2>>"$tmp/log"
[ "$(wc -l < "$tmp/plan2")" -eq 1 ] &&
	grep -q -- "--only 'single-em-lr=0.001-seed=1'" "$tmp/plan2"
status=$?
ok $status "the next plan lists the killed run and nothing else"
[ $status -eq 0 ] || diag "$(cat "$tmp/plan2")"

leftover=$(find "$tmp/k" -name '*.tmp.*' | wc -l)
[ "$leftover" -eq 0 ]
ok $? "planning again removed the killed run's temporary file"

parallel -j 2 < "$tmp/plan2" 2>>"$tmp/log"
ok $? "the second pass finishes it"
[ "$(ls "$tmp/k/runs" | wc -l)" -eq 4 ]
ok $? "every run has its result file"

finish
