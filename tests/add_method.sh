#!/bin/sh
# Adding a method is adding one file: a scratch copy of the tree with
# examples/dem_sq.c copied into methods/ builds, lists the method, passes
# its gradient check and runs in a suite, with no other file edited.
set -u
. "$(dirname "$0")/lib/tap.sh"
tmp=$(mktemp -d /tmp/dembench-method.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
plan 5

tar cf - Makefile bench loaders methods tools examples suites |
	(cd "$tmp" && tar xf -)
cp examples/dem_sq.c "$tmp/methods/dem_sq.c"
# B is set on the command line: a make check with its own B must not
# send this build into its folder.
make -C "$tmp" B=build build/dembench build/synth >"$tmp/build.log" 2>&1
ok $? "the tree builds with the new file"

"$tmp/build/dembench" methods | grep -q '^dem-sq '
ok $? "dembench methods lists dem-sq"

"$tmp/build/dembench" gradcheck dem-sq --set beta=0.1 >/dev/null
ok $? "dem-sq passes the gradient check"

"$tmp/build/synth" --out "$tmp/data.h5" --n 500 --tasks 1
cat > "$tmp/suite.ini" <<INI
[suite]
data = $tmp/data.h5
methods = noadapt, dem-sq
lrs = 0.01
[dem-sq]
beta = 0, 0.1
INI
"$tmp/build/dembench" run "$tmp/suite.ini" --out "$tmp/out" 2>/dev/null
ok $? "a suite runs dem-sq"

ls "$tmp/out/runs" | grep -q '^single-dem-sq-beta=0.1-lr=0.01-seed=1.csv$'
ok $? "its result file is named after its tunables"

finish
