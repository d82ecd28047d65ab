#!/bin/sh
# The figures of "dembench report" on the smoke suite: each figure's
# data, script and images exist and are well formed, the scripts run
# again on their own, and the report handles a diverged run, missing
# methods and a missing gnuplot.
set -u
. "$(dirname "$0")/lib/tap.sh"
build=${BUILD:-build}
dembench=${DEMBENCH:-$build/dembench}
tmp=$(mktemp -d /tmp/dembench-figures.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
figures="lr-tolerance class-bias reward-curves"
plan 47

"$build"/synth --out "$tmp/smoke.h5"
ok $? "synth writes the smoke data"
sed "s|build/smoke.h5|$tmp/smoke.h5|" suites/smoke.ini > "$tmp/smoke.ini"
$dembench run "$tmp/smoke.ini" --jobs 2 --out "$tmp/a" 2>"$tmp/log"
ok $? "smoke suite runs"
$dembench report "$tmp/a" 2>>"$tmp/log"
status=$?
ok $status "report writes the figures"
[ "$status" -eq 0 ] || diag "$(cat "$tmp/log")"
fig="$tmp/a/figures"

for name in $figures; do
	for ext in dat gp png svg pdf; do
		[ -s "$fig/$name.$ext" ]
		ok $? "$name.$ext exists and is not empty"
	done
done

# The first bytes of a file, in hex.
magic() {
	head -c "$2" "$1" | od -An -tx1 | tr -d ' \n'
}

for name in $figures; do
	[ "$(magic "$fig/$name.png" 8)" = 89504e470d0a1a0a ]
	ok $? "$name.png starts with the PNG signature"
	[ "$(head -c 4 "$fig/$name.pdf")" = %PDF ]
	ok $? "$name.pdf starts with %PDF"
	grep -q '<svg' "$fig/$name.svg"
	ok $? "$name.svg holds an svg element"
done

# Data lines: neither comments nor the blank lines between blocks.
data_lines() {
	grep -c '^[^#]' "$fig/$1.dat"
}

# Two protocols, each with 6 methods that adapt at 2 learning rates
# and 2 (noadapt, norm) at lr 0: 2 * (6 * 2 + 2).
n=$(data_lines lr-tolerance)
[ "$n" -eq 28 ]
ok $? "lr-tolerance.dat has a line per protocol, method and lr"
[ "$n" -eq 28 ] || diag "data lines: $n, expected 28"

classes=$(sed -n 2p "$tmp/a/summary.csv" | awk -F, '{ print $NF }' |
	tr -d '"' | awk -F';' '{ print NF }')
n=$(data_lines class-bias)
[ "$n" -eq "$classes" ]
ok $? "class-bias.dat has a line per class"
[ "$n" -eq "$classes" ] || diag "data lines: $n, classes: $classes"

n=$(data_lines reward-curves)
[ "$n" -eq 200 ]
ok $? "reward-curves.dat has 200 points"
[ "$n" -eq 200 ] || diag "data lines: $n, expected 200"

# Column NAME of the last line of reward-curves.dat (p_top = 0.999).
last_value() {
	awk -v name="$1" '
		/^# columns:/ {
			for (i = 3; i <= NF; i++)
				if ($i == name)
					col = i - 2
		}
		/^[^#]/ { if (col) last = $col }
		END { print last }' "$fig/reward-curves.dat"
}

# Below ("lt") or above ("gt") a bound, as numbers.
compare() {
	awk -v v="$1" -v op="$2" -v b="$3" 'BEGIN {
		if (v == "") exit 1
		exit !(op == "lt" ? v + 0 < b : v + 0 > b)
	}'
}

em=$(last_value em)
compare "$em" lt 0.05
ok $? "EM's reward vanishes near p_top = 1"
compare "$em" lt 0.05 || diag "em reward at p_top = 0.999: '$em'"
cadf=$(last_value cadf)
compare "$cadf" gt 0.9
ok $? "CADF's reward stays near 1 at p_top = 1"
compare "$cadf" gt 0.9 || diag "cadf reward at p_top = 0.999: '$cadf'"

leftover=$(find "$fig" -name '*.tmp.*' | wc -l)
[ "$leftover" -eq 0 ]
ok $? "no temporary file is left in figures/"

# gnuplot-nox has no default terminal, so each script writes its PNG.
for name in $figures; do
	rm -f "$fig/$name.png"
	(cd "$fig" && gnuplot "$name.gp") 2>"$tmp/rerun.log"
	status=$?
	ok $status "gnuplot $name.gp runs again in the folder"
	[ "$status" -eq 0 ] || diag "$(cat "$tmp/rerun.log")"
	[ "$(magic "$fig/$name.png" 8)" = 89504e470d0a1a0a ]
	ok $? "gnuplot $name.gp writes $name.png"
done

# A diverged run is circled and named in the key.
cp -r "$tmp/a" "$tmp/div"
run="$tmp/div/runs/single-em-lr=0.01-seed=1.csv"
sed '2s/,"ok",/,"diverged at batch 3",/' "$run" > "$tmp/run.csv" &&
	mv "$tmp/run.csv" "$run"
$dembench report "$tmp/div" 2>>"$tmp/log"
ok $? "report draws a diverged run"
grep -q "title 'diverged'" "$tmp/div/figures/lr-tolerance.gp"
ok $? "lr-tolerance.gp names the diverged run in the key"

# Without em and adadem, class-bias draws the truth and names them.
cp -r "$tmp/a" "$tmp/part"
rm -f "$tmp/part"/runs/*-em-* "$tmp/part"/runs/*-adadem-pi=*
$dembench report "$tmp/part" 2>>"$tmp/log"
ok $? "report runs without em and adadem"
grep -q 'em and adadem not in the results' "$tmp/part/figures/class-bias.gp"
ok $? "class-bias.gp says that em and adadem are missing"
[ "$(magic "$tmp/part/figures/class-bias.png" 8)" = 89504e470d0a1a0a ]
ok $? "class-bias.png is drawn from the truth alone"

# No gnuplot in PATH: a clear error, and the data are still written.
cp -r "$tmp/a" "$tmp/nognuplot"
rm -rf "$tmp/nognuplot/figures"
PATH=/nonexistent $dembench report "$tmp/nognuplot" 2>"$tmp/nognuplot.log"
status=$?
[ "$status" -eq 1 ]
ok $? "report fails with exit code 1 without gnuplot"
[ "$status" -eq 1 ] || diag "exit code $status"
grep -q 'gnuplot not found; install gnuplot-nox' "$tmp/nognuplot.log"
ok $? "the error names gnuplot and the package"
grep -q 'gnuplot not found' "$tmp/nognuplot.log" ||
	diag "$(cat "$tmp/nognuplot.log")"
[ -s "$tmp/nognuplot/figures/lr-tolerance.gp" ]
ok $? "scripts are written before gnuplot is needed"

finish
