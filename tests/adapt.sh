#!/bin/sh
# "dembench adapt": the per-sample predictions agree with the printed
# accuracy, --steps stops each task, the saved model loads with h5py
# and is the source model when nothing adapts, and bad options are
# named with exit code 2.
set -u
. "$(dirname "$0")/lib/tap.sh"
build=${BUILD:-build}
dembench=${DEMBENCH:-$build/dembench}
python=/usr/bin/python3
tmp=$(mktemp -d /tmp/dembench-adapt.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
plan 11

"$build"/synth --out "$tmp/data.h5" --n 500 --tasks 2 >/dev/null
$dembench adapt "$tmp/data.h5" em --lr 0.01 --momentum 0.9 \
	--predictions "$tmp/p.csv" --save-model "$tmp/m.h5" > "$tmp/out"
ok $? "adapt runs em over every task"

# The accuracy of task "clean" recomputed from the predictions file.
acc=$(awk -F, '$1 == "clean" { n++; c += $4 == $5 }
	END { printf "%.2f%%", 100 * c / n }' "$tmp/p.csv")
grep -q "^clean  *500  *$acc " "$tmp/out"
ok $? "the predictions give the printed accuracy ($acc)"
[ "$(grep -c '' "$tmp/p.csv")" -eq $((3 * 500 + 1)) ]
ok $? "one prediction per sample and task"

$dembench adapt "$tmp/data.h5" em --steps 3 --batch-size 50 \
	--predictions "$tmp/p3.csv" > "$tmp/out3"
[ "$(grep -c '' "$tmp/p3.csv")" -eq $((3 * 150 + 1)) ] &&
	grep -q '^clean  *150 ' "$tmp/out3"
ok $? "--steps 3 stops every task after three batches"

$python - "$tmp/data.h5" "$tmp/m.h5" <<'PY'
import sys, h5py, numpy as np
src, out = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])
assert out.attrs["format"] == "dembench-model"
w0, w1 = src["model/layer_0/weight"][:], out["model/layer_0/weight"][:]
assert w0.shape == w1.shape
assert not np.array_equal(w0, w1)
PY
ok $? "the saved model loads with h5py and em changed the BN weight"

$dembench adapt "$tmp/data.h5" noadapt --save-model "$tmp/m0.h5" \
	>/dev/null &&
$python - "$tmp/data.h5" "$tmp/m0.h5" <<'PY'
import sys, h5py, numpy as np
src, out = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])
def walk(g, path=""):
    for k, v in g.items():
        if isinstance(v, h5py.Dataset):
            yield path + k, v[:]
        else:
            yield from walk(v, path + k + "/")
a, b = dict(walk(src["model"])), dict(walk(out["model"]))
assert a.keys() == b.keys()
assert all(np.array_equal(a[k], b[k]) for k in a)
PY
ok $? "noadapt saves the source model unchanged"

$dembench adapt "$tmp/data.h5" em --lr -1 2>"$tmp/err"
[ $? -eq 2 ] && grep -q -- "--lr: invalid value '-1'" "$tmp/err"
ok $? "a negative --lr is named, exit code 2"
$dembench adapt "$tmp/data.h5" em --task nope 2>"$tmp/err"
[ $? -eq 3 ] && grep -q "no task 'nope'" "$tmp/err"
ok $? "an unknown task is named, exit code 3"
$dembench adapt "$tmp/data.h5" em --predictions "$tmp/no/dir/p.csv" \
	>/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "$tmp/no/dir/p.csv" "$tmp/err" &&
	[ ! -e "$tmp/no" ]
ok $? "an unwritable predictions path is named, exit code 1"

# A tail without BatchNorm under params = batchnorm adapts nothing.
$python - "$tmp/nobn.h5" <<'PY'
import sys, h5py, numpy as np
rng = np.random.default_rng(1)
f = h5py.File(sys.argv[1], "w")
f.attrs["format"] = "dembench-features"
f.attrs["version"] = 1
lin = f.create_group("model/layer_0")
lin.attrs["type"] = "linear"
lin["weight"] = rng.normal(size=(3, 4)).astype("f4")
lin["bias"] = np.zeros(3, "f4")
f["tasks/a/features"] = rng.normal(size=(100, 4)).astype("f4")
f["tasks/a/labels"] = np.zeros(100, "i8")
PY
$dembench adapt "$tmp/nobn.h5" em >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "no batchnorm parameters, so em would adapt nothing" \
	"$tmp/err"
ok $? "em on a tail without BatchNorm is refused, not run as noadapt"
printf '[suite]\ndata = %s\nmethods = noadapt, em\nlrs = 0.01\n' \
	"$tmp/nobn.h5" > "$tmp/nobn.ini"
$dembench run "$tmp/nobn.ini" --out "$tmp/nobn-out" 2>"$tmp/err"
[ $? -eq 3 ] && grep -q "params = batchnorm, but the tail" "$tmp/err" &&
	[ ! -e "$tmp/nobn-out" ]
ok $? "a suite that would adapt nothing is refused before any run"

finish
