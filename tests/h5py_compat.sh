#!/bin/sh
# Files written by h5py and numpy with their defaults load as meant:
# float16/32/64 values, int32/int64/uint8 labels, chunked and gzip
# datasets, variable- and fixed-length class names, attributes as numpy
# scalars or strings.  Each file stores logits whose NoAdapt accuracy
# is computed here by numpy and must match dembench's to the sample.
set -u
. "$(dirname "$0")/lib/tap.sh"
build=${BUILD:-build}
dembench=${DEMBENCH:-$build/dembench}
python=/usr/bin/python3
tmp=$(mktemp -d /tmp/dembench-h5py.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if ! $python -c 'import h5py, numpy' 2>/dev/null; then
	echo "1..0 # SKIP python3-h5py is not installed (make deps)"
	exit 0
fi
cases="f16-u8 f32-i32 f64-i64 gzip-fixed scalar-attrs"
plan 10

$python - "$tmp" <<'PY'
import sys, h5py, numpy as np
tmp = sys.argv[1]
rng = np.random.default_rng(7)
cases = {
    "f16-u8": dict(ftype="f2", ltype="u1"),
    "f32-i32": dict(ftype="f4", ltype="i4"),
    "f64-i64": dict(ftype="f8", ltype="i8"),
    "gzip-fixed": dict(ftype="f4", ltype="i8", gzip=True, fixed=True),
    "scalar-attrs": dict(ftype="f4", ltype="i4", numpy_attrs=True),
}
for name, c in cases.items():
    z = rng.normal(size=(300, 5)).astype(c["ftype"])
    y = rng.integers(0, 5, 300).astype(c["ltype"])
    with h5py.File(f"{tmp}/{name}.h5", "w") as f:
        if c.get("numpy_attrs"):
            f.attrs["format"] = np.bytes_(b"dembench-features")
            f.attrs["version"] = np.array([1], dtype="u2")
        else:
            f.attrs["format"] = "dembench-features"
            f.attrs["version"] = 1
        names = [f"class{i}" for i in range(5)]
        if c.get("fixed"):
            f["classes"] = np.array(names, dtype="S8")
        else:
            f["classes"] = names
        gz = c.get("gzip")
        zkw = dict(chunks=(64, 5), compression="gzip") if gz else {}
        ykw = dict(chunks=(64,), compression="gzip") if gz else {}
        f.create_dataset("tasks/t/logits", data=z, **zkw)
        f.create_dataset("tasks/t/labels", data=y, **ykw)
    pred = z.astype("f4").argmax(axis=1)
    with open(f"{tmp}/{name}.expected", "w") as out:
        out.write(str(int((pred == y.astype("i8")).sum())) + "\n")
PY
ok $? "h5py writes the test files"

for name in $cases; do
	printf '[suite]\ndata = %s\nmethods = noadapt\n' "$tmp/$name.h5" \
		> "$tmp/$name.ini"
	$dembench run "$tmp/$name.ini" --out "$tmp/$name" 2>"$tmp/$name.log"
	got=$(cut -d, -f10 "$tmp/$name/runs/single-noadapt-seed=1.csv" \
		2>/dev/null | sed -n 2p)
	[ "$got" = "$(cat "$tmp/$name.expected")" ]
	status=$?
	ok $status "$name: dembench matches numpy's correct count"
	[ $status -eq 0 ] || diag "got '$got'" "$(cat "$tmp/$name.log")"
done

$dembench inspect "$tmp/gzip-fixed.h5" | grep -q 'class0, class1'
ok $? "fixed-length class names are read"
$dembench inspect "$tmp/f16-u8.h5" | grep -q 'class0, class1'
ok $? "variable-length class names are read"
$dembench inspect "$tmp/scalar-attrs.h5" --check >/dev/null
ok $? "numpy scalar attributes are accepted"
$dembench inspect "$tmp/f64-i64.h5" --check >/dev/null
ok $? "float64 logits with int64 labels pass the value check"

finish
