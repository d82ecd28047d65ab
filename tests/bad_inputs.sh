#!/bin/sh
# Bad input through the command line: each malformed feature file,
# suite file and option gives its message on stderr, the documented
# exit code, and no results folder.
set -u
. "$(dirname "$0")/lib/tap.sh"
build=${BUILD:-build}
dembench=${DEMBENCH:-$build/dembench}
python=/usr/bin/python3
tmp=$(mktemp -d /tmp/dembench-bad.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if ! $python -c 'import h5py, numpy' 2>/dev/null; then
	echo "1..0 # SKIP python3-h5py is not installed (make deps)"
	exit 0
fi
plan 42

# Writes NAME.h5: a valid BN-ReLU-Linear features file, then the break.
$python - "$tmp" <<'PY'
import sys, h5py, numpy as np
tmp = sys.argv[1]
rng = np.random.default_rng(3)

def valid(path):
    f = h5py.File(path, "w")
    f.attrs["format"] = "dembench-features"
    f.attrs["version"] = 1
    bn = f.create_group("model/layer_0")
    bn.attrs["type"] = "batchnorm"
    bn.attrs["eps"] = 1e-5
    for k, v in [("running_mean", 0), ("running_var", 1), ("weight", 1),
                 ("bias", 0)]:
        bn[k] = np.full(6, v, "f4")
    f.create_group("model/layer_1").attrs["type"] = "relu"
    lin = f.create_group("model/layer_2")
    lin.attrs["type"] = "linear"
    lin["weight"] = rng.normal(size=(4, 6)).astype("f4")
    lin["bias"] = np.zeros(4, "f4")
    f["tasks/a/features"] = rng.normal(size=(50, 6)).astype("f4")
    f["tasks/a/labels"] = rng.integers(0, 4, 50)
    return f

def rewrite(f, name, data):
    del f[name]
    f[name] = data

breaks = {
    "no-tasks": lambda f: f.__delitem__("tasks"),
    "no-labels": lambda f: f.__delitem__("tasks/a/labels"),
    "rank3": lambda f: rewrite(f, "tasks/a/features", np.zeros((50, 6, 1), "f4")),
    "string-features": lambda f: rewrite(f, "tasks/a/features", np.array([b"x"] * 50)),
    "label-range": lambda f: rewrite(f, "tasks/a/labels", np.full(50, 4)),
    "nan-features": lambda f: rewrite(f, "tasks/a/features", np.full((50, 6), np.nan, "f4")),
    "empty-task": lambda f: (rewrite(f, "tasks/a/features", np.zeros((0, 6), "f4")),
                             rewrite(f, "tasks/a/labels", np.zeros(0, "i8"))),
    "wrong-format": lambda f: f.attrs.__setitem__("format", "other"),
    "version-2": lambda f: f.attrs.__setitem__("version", 2),
    "shape-mismatch": lambda f: rewrite(f, "tasks/a/labels", np.zeros(49, "i8")),
    "tail-not-c": lambda f: f.__setitem__("classes", [b"a", b"b", b"c"]),
    "zero-var": lambda f: rewrite(f, "model/layer_0/running_var", np.zeros(6, "f4")),
}
for name, brk in breaks.items():
    f = valid(f"{tmp}/{name}.h5")
    brk(f)
    f.close()
PY
ok $? "h5py writes the malformed files"

# name, HDF5 path the message must name, a word it must contain
while read -r name where what; do
	printf '[suite]\ndata = %s\nmethods = noadapt\n' "$tmp/$name.h5" \
		> "$tmp/$name.ini"
	$dembench run "$tmp/$name.ini" --out "$tmp/out-$name" 2>"$tmp/err"
	status=$?
	[ $status -eq 3 ]
	ok $? "$name: exit code 3"
	grep -q "$tmp/$name.h5: $where.*$what" "$tmp/err"
	status=$?
	ok $status "$name: the message names the file, $where and '$what'"
	[ $status -eq 0 ] || diag "$(cat "$tmp/err")"
	[ ! -e "$tmp/out-$name" ]
	ok $? "$name: no results folder"
done <<'CASES'
no-tasks /tasks missing
no-labels /tasks/a/labels missing
rank3 /tasks/a/features rank
string-features /tasks/a/features string
label-range /tasks/a/labels 4
nan-features /tasks/a/features NaN
empty-task /tasks/a/features N
wrong-format / format
version-2 / version
shape-mismatch /tasks/a/labels 49
tail-not-c /model 3
zero-var /model/layer_0 running_var
CASES

# Truncated and non-HDF5 files.
$python -c "import shutil; shutil.copy('$tmp/zero-var.h5', '$tmp/x.h5')"
head -c 3000 "$tmp/x.h5" > "$tmp/truncated.h5"
printf 'not hdf5\n' > "$tmp/text.h5"
for name in truncated text; do
	printf '[suite]\ndata = %s\nmethods = noadapt\n' "$tmp/$name.h5" \
		> "$tmp/$name.ini"
	$dembench run "$tmp/$name.ini" --out "$tmp/out-$name" 2>"$tmp/err"
	[ $? -eq 3 ] && grep -q "$tmp/$name.h5" "$tmp/err" &&
		[ ! -e "$tmp/out-$name" ]
	ok $? "$name file: exit code 3, named, no results"
done

# Options: exit code 2 and a message.
$dembench run 2>"$tmp/err"
[ $? -eq 2 ]
ok $? "run without a suite is a usage error"
$dembench run "$tmp/text.ini" --jobs 0 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "jobs" "$tmp/err"
ok $? "--jobs 0 is rejected by name"
$dembench frobnicate 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "unknown command 'frobnicate'" "$tmp/err"
ok $? "an unknown command is named"

finish
