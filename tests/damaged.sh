#!/bin/sh
# A damaged feature file found by fuzz/fuzz_features.c crashes HDF5
# 1.10 inside H5HG_read.  dembench opens every file in a child process
# first, so the crash becomes an error, exit code 3 and no results.
set -u
. "$(dirname "$0")/lib/tap.sh"
build=${BUILD:-build}
dembench=${DEMBENCH:-$build/dembench}
tmp=$(mktemp -d /tmp/dembench-damaged.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
plan 5

printf '[suite]\ndata = tests/data/heap-crash.h5\nmethods = noadapt\n' \
	> "$tmp/suite.ini"
$dembench run "$tmp/suite.ini" --out "$tmp/out" 2>"$tmp/err"
[ $? -eq 3 ]
ok $? "the run stops with exit code 3"
grep -q "heap-crash.h5: .*the file is damaged" "$tmp/err"
ok $? "the message names the file and the cause"
[ ! -e "$tmp/out" ]
ok $? "no results folder is created"

$dembench inspect tests/data/heap-crash.h5 >/dev/null 2>"$tmp/err"
[ $? -eq 3 ]
ok $? "inspect stops with exit code 3"
grep -q "heap-crash.h5: .*the file is damaged" "$tmp/err"
ok $? "inspect names the file and the cause"

finish
