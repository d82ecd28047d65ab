#!/bin/sh
# The Fashion-MNIST-C builder: bad inputs get a clear error and exit
# code, and two builds with the same seed give the same bytes, with the
# accuracy the data set promises (docs/fmnist-c.md).
set -u
. "$(dirname "$0")/lib/tap.sh"
build=${BUILD:-build}
tmp=$(mktemp -d /tmp/dembench-fmnist.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
source=/usr/share/datasets/fashion-mnist
plan 9

"$build"/fmnist-c >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "no --out is a usage error"

"$build"/fmnist-c --out "$tmp/x.h5" --source "$tmp/none" 2>"$tmp/err"
[ $? -eq 3 ] && grep -q "$tmp/none" "$tmp/err"
ok $? "a missing source folder is named"

mkdir "$tmp/bad"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte \
	t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
	printf 'not an idx file' | gzip > "$tmp/bad/$f.gz"
done
"$build"/fmnist-c --out "$tmp/x.h5" --source "$tmp/bad" 2>"$tmp/err"
[ $? -eq 3 ] && grep -q "train-images-idx3-ubyte.gz" "$tmp/err"
ok $? "a file that is not IDX is rejected by name"
[ -e "$tmp/x.h5" ]
[ $? -ne 0 ]
ok $? "no output file is left after an error"

"$build"/fmnist-c --out "$tmp/a.h5" --source "$source" 2>"$tmp/log-a" &&
	"$build"/fmnist-c --out "$tmp/b.h5" --source "$source" 2>"$tmp/log-b"
ok $? "two builds with seed 1 succeed"
cmp -s "$tmp/a.h5" "$tmp/b.h5"
ok $? "the same seed gives the same bytes"

"$build"/dembench inspect "$tmp/a.h5" --check >/dev/null 2>&1
ok $? "the file passes dembench inspect --check"

# The summary lines: "clean: 89.98%" and "mean over the 15 corruptions
# at severity 5: 46.96% (...)".
clean=$(sed -n 's/^fmnist-c: clean: \([0-9.]*\)%.*/\1/p' "$tmp/log-a")
mean=$(sed -n 's/^fmnist-c: mean over .* severity 5: \([0-9.]*\)%.*/\1/p' \
	"$tmp/log-a")
awk -v a="${clean:-0}" 'BEGIN { exit !(a >= 88) }'
status=$?
ok $status "clean NoAdapt accuracy is at least 88%"
[ $status -eq 0 ] || diag "clean: ${clean:-none}" "$(tail -5 "$tmp/log-a")"
awk -v a="${clean:-0}" -v m="${mean:-0}" \
	'BEGIN { exit !(m >= 25 && m <= 75 && a - m >= 15) }'
status=$?
ok $status "severity 5 is 25-75% and at least 15 points below clean"
[ $status -eq 0 ] || diag "clean ${clean:-none}, mean ${mean:-none}"

finish
