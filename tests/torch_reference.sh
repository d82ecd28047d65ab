#!/bin/sh
# dembench against the PyTorch reference in tools/perf/torch_reference.py.
# After 50 steps of `dembench adapt`, torch autograd and torch.optim on
# the same batches predict the same class for every sample, and every
# final parameter agrees within 1e-4 relative.  The cases cover each
# method, SGD and Adam, a features file, a logits file and a
# BN-ReLU-Linear-BN-ReLU-Linear tail.  The reference runs every case in
# one Python process, because importing torch takes about a second.
set -u
. "$(dirname "$0")/lib/tap.sh"
build=${BUILD:-build}
dembench=${DEMBENCH:-$build/dembench}
python=/usr/bin/python3
reference="$(dirname "$0")/../tools/perf/torch_reference.py"
tmp=$(mktemp -d /tmp/dembench-torch.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if ! $python -c 'import torch, h5py' 2>/dev/null; then
	echo "1..0 # SKIP python3-torch or python3-h5py is not installed"
	exit 0
fi

"$build"/synth --out "$tmp/features.h5" --n 2000 --tasks 1 >/dev/null
"$build"/synth --out "$tmp/logits.h5" --n 2000 --tasks 1 --logits \
	>/dev/null

# Two hidden BatchNorm layers and ReLUs: the backward pass through a
# ReLU and through a BatchNorm with batch statistics, and a float64
# features dataset, which both sides read as float32.
$python - "$tmp/deep.h5" <<'PY'
import sys
import h5py
import numpy as np

n, d, h, c = 1500, 24, 16, 7
rng = np.random.default_rng(3)


def batchnorm(f, i, width, eps):
    g = f.create_group("model/layer_%d" % i)
    g.attrs["type"] = "batchnorm"
    g.attrs["eps"] = eps
    g["running_mean"] = rng.normal(0, 0.1, width).astype(np.float32)
    g["running_var"] = rng.uniform(0.5, 2, width).astype(np.float32)
    g["weight"] = rng.uniform(0.5, 1.5, width).astype(np.float32)
    g["bias"] = rng.normal(0, 0.1, width).astype(np.float32)


def linear(f, i, n_in, n_out):
    g = f.create_group("model/layer_%d" % i)
    g.attrs["type"] = "linear"
    g["weight"] = rng.normal(0, 0.3, (n_out, n_in)).astype(np.float32)
    g["bias"] = rng.normal(0, 0.1, n_out).astype(np.float32)


with h5py.File(sys.argv[1], "w") as f:
    f.attrs["format"] = "dembench-features"
    f.attrs["version"] = 1
    batchnorm(f, 0, d, 1e-5)
    f.create_group("model/layer_1").attrs["type"] = "relu"
    linear(f, 2, d, h)
    batchnorm(f, 3, h, 1e-3)
    f.create_group("model/layer_4").attrs["type"] = "relu"
    linear(f, 5, h, c)
    means = rng.normal(0, 1, (c, d))
    for name in ["second", "first"]:
        y = rng.integers(0, c, n)
        task = f.create_group("tasks/" + name)
        task["features"] = means[y] + rng.normal(0, 1.5, (n, d))
        task["labels"] = y.astype(np.int32)
    f["tasks"].attrs["order"] = ["second", "first"]
PY

# name, file, batch size, method and options, the same for dembench and
# torch.  50 batches of 32 leave 400 samples of each task unstreamed,
# and 2000 samples in batches of 48 end with a short batch of 32.  The
# learning rates keep every run away from collapse: there, float32
# rounding grows step by step in both implementations alike.  The deep
# tail is adapted with SGD only: the bias of a Linear layer in front of
# a BatchNorm with batch statistics has a gradient of exactly zero.  In
# float32 that gradient is rounding noise of about 1e-8, which Adam
# scales up to steps of about lr, in a different direction in each
# implementation.
sgd="--optimizer sgd --lr 0.01 --momentum 0.9"
adam="--optimizer adam --lr 0.001"
cat > "$tmp/cases" <<EOF
noadapt features 32 noadapt
norm features 32 norm
em-sgd features 32 em $sgd
em-adam-all features 48 em $adam --params all
adadem-sgd-nesterov features 32 adadem $sgd --nesterov --weight-decay 0.01
adadem-adam-all features 32 adadem $adam --params all --weight-decay 0.01
cadf-sgd features 32 cadf $sgd
dem-sgd features 32 dem $sgd --set tau=0.5 --set alpha=1.5
adadem-norm-sgd features 32 adadem-norm $sgd
adadem-mec-sgd features 32 adadem-mec $sgd
em-logits logits 32 em $sgd
adadem-logits-adam logits 32 adadem $adam --params all
adadem-deep-all deep 32 adadem $sgd --params all
em-deep-linear-continual deep 32 em $sgd --params linear --protocol continual
EOF
plan $(($(grep -c '' "$tmp/cases") + 3))

# dembench runs first; each case's reference arguments go to args.
while read -r name file batch rest; do
	$dembench adapt "$tmp/$file.h5" $rest --batch-size "$batch" \
		--steps 50 --predictions "$tmp/$name.csv" \
		--save-model "$tmp/$name.h5" >/dev/null 2>"$tmp/$name.err" ||
		echo "$name" >> "$tmp/failed"
	printf '%s\t%s %s --batch-size %s --steps 50 --order %s --check %s\n' \
		"$name" "$tmp/$file.h5" "$rest" "$batch" "$tmp/$name.csv" \
		"$tmp/$name.h5" >> "$tmp/args"
done < "$tmp/cases"

# Every reference run in one process; its output per case in NAME.out.
$python - "$reference" "$tmp" <<'PY' > "$tmp/codes"
import contextlib
import os
import shlex
import sys

sys.path.insert(0, os.path.dirname(sys.argv[1]))
import torch_reference

tmp = sys.argv[2]
for line in open(os.path.join(tmp, "args")):
    name, args = line.rstrip("\n").split("\t")
    with open(os.path.join(tmp, name + ".out"), "w") as out, \
            contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(out):
        try:
            code = torch_reference.main(shlex.split(args))
        except SystemExit as e:
            code = e.code
    print(name, code)
PY

while read -r name file batch rest; do
	code=$(awk -v n="$name" '$1 == n { print $2 }' "$tmp/codes")
	! grep -qx "$name" "$tmp/failed" 2>/dev/null && [ "$code" = 0 ]
	status=$?
	ok $status "$name: torch agrees with dembench"
	if [ $status -ne 0 ]; then
		diag "dembench adapt $file $rest --batch-size $batch" \
			"$(cat "$tmp/$name.err")" \
			"$(cat "$tmp/$name.out" 2>/dev/null)"
	else
		diag "$(tail -n 1 "$tmp/$name.out")"
	fi
done < "$tmp/cases"

# The command line itself, with the exit code of a pass.
args=$(awk -F'\t' '$1 == "em-sgd" { print $2 }' "$tmp/args")
$python "$reference" $args > "$tmp/cli.out" 2>&1
ok $? "reference command line exits 0"

# The check can fail: a learning rate 10% off moves the parameters by
# more than the tolerance, and the exit code is 1.
$python "$reference" $(echo "$args" | sed 's/--lr 0.01/--lr 0.011/') \
	> "$tmp/off.out" 2>&1
code=$?
[ $code -eq 1 ] && grep -q '^result FAIL' "$tmp/off.out"
ok $? "a different learning rate fails the check"
[ $code -eq 1 ] || diag "exit code $code" "$(cat "$tmp/off.out")"

# --time prints one line of key=value pairs.
$python "$reference" "$tmp/features.h5" adadem --time --fixed-order 1 \
	--threads 1 --openblas-threads 1 > "$tmp/time.out" 2>&1
grep -Eq '^torch samples_per_s=[0-9.]+ threads=1 openblas_threads=1 ' \
	"$tmp/time.out"
ok $? "--time prints samples per second and threads"
diag "$(cat "$tmp/time.out")"

finish
