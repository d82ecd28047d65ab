#!/bin/sh
# Bad suite files and bad option values through the command line.  A
# bad suite exits with 3 and creates no results folder.  Its message
# names the suite file, the line, the bad value and what is expected.
# A bad option value exits with 2 and its message names the option.
set -u
. "$(dirname "$0")/lib/tap.sh"
build=${BUILD:-build}
dembench=${DEMBENCH:-$build/dembench}
# getopt's and strerror's messages in English, as the cases expect.
export LC_ALL=C
tmp=$(mktemp -d /tmp/dembench-bad-suites.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
plan 243

"$build"/synth --out "$tmp/data.h5" --n 50 --tasks 2 2>/dev/null
ok $? "synth writes the feature file"

# check_suite NAME LINE BAD EXPECTED: runs $tmp/NAME.ini and checks the
# exit code, each part of the message and that no results folder
# appeared.  LINE is empty for errors that no single line causes.
check_suite() {
	ini=$tmp/$1.ini
	$dembench run "$ini" --out "$tmp/out-$1" 2>"$tmp/err"
	status=$?
	[ $status -eq 3 ]
	ok $? "$1: exit code 3"
	[ $status -eq 3 ] || diag "exit code $status"
	where="$ini:$2: "
	[ -n "$2" ] || where="$ini"
	for part in "$where" "$3" "$4"; do
		grep -qF -- "$part" "$tmp/err"
		status=$?
		ok $status "$1: the message contains \"$part\""
		[ $status -eq 0 ] || diag "$(cat "$tmp/err")"
	done
	[ ! -e "$tmp/out-$1" ]
	ok $? "$1: no results folder"
}

# Two lines per case: name | line | bad value | expected, then the
# suite text, indented.  In the text, @HEAD@ starts [suite] with the
# data file (lines 1 and 2) and @EM@ adds em at one learning rate
# (lines 3 and 4).
while IFS='|' read -r name line bad expected; do
	read -r text
	printf '%s' "$text" | sed "s|@HEAD@|[suite]\\ndata = @DATA@\\n|;
		s|@EM@|methods = em\\nlrs = 0.1\\n|;
		s|@DATA@|$tmp/data.h5|g" > "$tmp/text"
	printf '%b' "$(cat "$tmp/text")" > "$tmp/$name.ini"
	check_suite "$name" "$line" "$bad" "$expected"
done <<'CASES'
unknown-section|6|[sweep]|add it to 'methods'
	@HEAD@@EM@[sweep]\nlr = 1\n
key-before-section|1|'data'|expected it under [suite]
	data = @DATA@\n[suite]\nmethods = em\n
unknown-key|4|'lr'|expected one of: data, tasks
	@HEAD@methods = em\nlr = 0.1\n
unknown-method|3|'tent'|known methods: adadem
	@HEAD@methods = em, tent\nlrs = 0.1\n
unknown-tunable|7|'beta'|expected: lr, tau, alpha
	@HEAD@methods = dem\nlrs = 0.1\n[dem]\ntau = 1\nbeta = 2\n
unknown-protocol|4|'sequential'|expected single, continual or gradual
	@HEAD@methods = noadapt\nprotocols = single, sequential\n
malformed-number|5|'6x4'|expected a whole number in 2..1048576
	@HEAD@@EM@batch_size = 6x4\n
malformed-lr|4|'1e-3x'|expected numbers or ranges
	@HEAD@methods = em\nlrs = 0.1, 1e-3x\n
malformed-momentum|5|'-0.5'|expected a number >= 0
	@HEAD@@EM@momentum = -0.5\n
zero-lr|4|learning rate 0 in '0'|expected a number > 0
	@HEAD@methods = em\nlrs = 0\n
negative-lr|4|learning rate -0.01 in|expected a number > 0
	@HEAD@methods = em\nlrs = 1e-3, -0.01\n
negative-method-lr|6|'-1'|expected a number > 0
	@HEAD@@EM@[em]\nlr = -1\n
duplicate-seeds|5|seed twice: 1|expected each seed once
	@HEAD@@EM@seeds = 1, 2, 1\n
duplicate-seed-range|5|seed twice: 2|expected each seed once
	@HEAD@@EM@seeds = 1 .. 3 step 1, 2\n
duplicate-lrs-in-id|4|learning rate twice: 0.001|6 significant digits
	@HEAD@methods = em\nlrs = 0.001, 0.0010000001\n
duplicate-tunable|6|value twice: 0.5|expected each value once
	@HEAD@methods = dem\nlrs = 0.1\n[dem]\ntau = 0.5 .. 1 step 0.25, 0.5\n
fractional-seed|5|seed 1.5|expected whole numbers from 0
	@HEAD@@EM@seeds = 1.5\n
empty-seeds|5|seeds: empty list|expected numbers or ranges
	@HEAD@@EM@seeds =\n
empty-methods|3|methods: empty list|expected method names
	@HEAD@methods =\n
empty-tasks|5|tasks: empty list|expected task names or shell globs
	@HEAD@@EM@tasks =\n
empty-item|4|empty item 2|expected numbers or ranges
	@HEAD@methods = em\nlrs = 0.1,,0.2\n
trailing-comma|3|empty item 2|expected method names
	@HEAD@methods = em,\nlrs = 0.1\n
missing-data-file|3|/nonexistent/x.h5|fix 'data' in the suite
	[suite]\nmethods = noadapt\ndata = /nonexistent/x.h5\n
task-not-in-file|4|'fog_5'|run 'dembench inspect
	@HEAD@methods = noadapt\ntasks = clean, fog_5\n
tunable-out-of-range|6|tau = 200|expected a value in (0, 100]
	@HEAD@methods = dem\nlrs = 0.1\n[dem]\ntau = 0.5, 200\n
tunable-zero|6|tau = 0|expected a value in (0, 100]
	@HEAD@methods = dem\nlrs = 0.1\n[dem]\ntau = 0\n
range-reversed|5|'5 .. 1 step 1'|with a <= b and s > 0
	@HEAD@@EM@seeds = 5 .. 1 step 1\n
range-zero-step|4|'0.1 .. 0.5 step 0'|with a <= b and s > 0
	@HEAD@methods = em\nlrs = 0.1 .. 0.5 step 0\n
range-no-step|4|'0.1 .. 0.5'|a range 'a .. b step s'
	@HEAD@methods = em\nlrs = 0.1 .. 0.5\n
range-too-long|5|more than 1024 values|split the sweep
	@HEAD@@EM@seeds = 1 .. 2000 step 1\n
invalid-line|4|'this is not ini'|expected 'key = value'
	@HEAD@methods = em\nthis is not ini\n
control-byte|3|byte 0x01 at column 13|expected a suite file in INI text
	@HEAD@methods = em\001\n
missing-key||missing key 'lrs'|e.g. lrs = 1e-3
	@HEAD@methods = em\n
CASES

# Whole files that are no suite at all.
head -c 4096 /dev/urandom | tr '\n' '\001' > "$tmp/binary.ini"
check_suite binary 1 "byte 0x" "expected a suite file in INI text"
cp "$tmp/data.h5" "$tmp/hdf5.ini"
check_suite hdf5 "" "is an HDF5 file" "name it in 'data ='"
mkdir "$tmp/folder.ini"
check_suite folder "" "is a directory" "expected a suite file"

$dembench run "$tmp/missing.ini" --out "$tmp/out-missing" 2>"$tmp/err"
[ $? -eq 3 ]
ok $? "missing suite file: exit code 3"
grep -qF "cannot open suite file $tmp/missing.ini: No such file" "$tmp/err"
ok $? "missing suite file: the message names the file and the cause"
[ ! -e "$tmp/out-missing" ]
ok $? "missing suite file: no results folder"

# Options: exit code 2 and the option or argument named.  @SUITE@ is a valid suite.
# An empty --out once put the results in /runs: those cases use
# @NODATA@, whose missing data file stops a regression before it
# writes anything.
printf '[suite]\ndata = %s\nmethods = noadapt\n' "$tmp/data.h5" \
	> "$tmp/good.ini"
printf '[suite]\ndata = %s\nmethods = noadapt\n' "$tmp/none.h5" \
	> "$tmp/nodata.ini"
mkdir -p "$tmp/results/runs"
# name | what the message must contain | arguments, evaluated by sh
while IFS='|' read -r name expected args; do
	args=$(printf '%s' "$args" | sed "s|@SUITE@|$tmp/good.ini|g;
		s|@NODATA@|$tmp/nodata.ini|g;
		s|@DATA@|$tmp/data.h5|g; s|@OUT@|$tmp/out-$name|g;
		s|@RESULTS@|$tmp/results|g")
	expected=$(printf '%s' "$expected" | sed "s|@SUITE@|$tmp/good.ini|g")
	eval "set -- $args"
	$dembench "$@" </dev/null >/dev/null 2>"$tmp/err"
	status=$?
	[ $status -eq 2 ]
	ok $? "$name: exit code 2"
	[ $status -eq 2 ] || diag "exit code $status"
	grep -qF -- "$expected" "$tmp/err"
	status=$?
	ok $status "$name: the message names the option or argument"
	[ $status -eq 0 ] || diag "$(cat "$tmp/err")"
done <<'CASES'
run-jobs-zero|--jobs: invalid value '0'|run @SUITE@ --out @OUT@ --jobs 0
run-jobs-text|--jobs: invalid value 'abc'|run @SUITE@ --out @OUT@ --jobs abc
run-jobs-large|--jobs: invalid value '1025'|run @SUITE@ --out @OUT@ --jobs 1025
run-jobs-missing|'--jobs' requires an argument|run @SUITE@ --out @OUT@ --jobs
run-out-empty|--out: empty path|run @NODATA@ --out ''
run-only-unknown|--only: @SUITE@ has no run|run @SUITE@ --out @OUT@ --only x
run-unknown-option|'--frob'|run @SUITE@ --out @OUT@ --frob
run-help-value|'--help' doesn't allow an argument|run @SUITE@ --help=1
run-extra-argument|unexpected argument 'extra'|run @SUITE@ extra
plan-out-empty|--out: empty path|plan @NODATA@ --out ''
plan-out-missing|'--out' requires an argument|plan @SUITE@ --out
plan-all-value|'--all' doesn't allow an argument|plan @SUITE@ --all=1
plan-unknown-option|'--frob'|plan @SUITE@ --frob
report-unknown-option|unknown option '--frob'|report --frob
report-empty-dir|report: empty DIR|report ''
report-extra-argument|unexpected argument 'extra'|report @RESULTS@ extra
inspect-check-value|unknown option '--check=1'|inspect --check=1 @DATA@
inspect-unknown-option|unknown option '--frob'|inspect --frob @DATA@
inspect-two-files|one file expected|inspect @DATA@ @DATA@
grad-set-range|--set: dem: tau = 0 is out of range|grad dem --set tau=0
grad-set-number|--set: dem: tau: invalid number 'abc'|grad dem --set tau=abc
grad-set-name|--set: dem has no tunable 'beta'|grad dem --set beta=1
grad-set-form|--set: dem: invalid setting 'tau'|grad dem --set tau
grad-set-missing|'--set' requires an argument|grad dem --set
grad-unknown-option|'--frob'|grad dem --frob
gradcheck-set-range|--set: dem: tau = -1 is out|gradcheck dem --set tau=-1
gradcheck-set-no-method|--set tau=1: a METHOD is needed|gradcheck --set tau=1
gradcheck-unknown-option|'--frob'|gradcheck --frob
methods-unknown-option|'--frob'|methods --frob
CASES

for name in run-jobs-zero run-jobs-text run-jobs-large run-unknown-option; do
	[ ! -e "$tmp/out-$name" ] || break
done
[ ! -e "$tmp/out-$name" ]
ok $? "a bad run option creates no results folder"

finish
