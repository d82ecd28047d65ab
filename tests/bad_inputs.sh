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
writer=
trap '[ -z "$writer" ] || kill $writer 2>/dev/null; rm -rf "$tmp"' EXIT

if ! $python -c 'import h5py, numpy' 2>/dev/null; then
	echo "1..0 # SKIP python3-h5py is not installed (make deps)"
	exit 0
fi
plan 61

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

# A feature file that another process is writing, or whose writer
# stopped before closing it.  HDF5 1.10 holds a flock(2) on every open
# file; a version 3 superblock (libver="latest", SWMR) also flags the
# file as open for writing until the writer closes it.
"$build"/synth --out "$tmp/valid.h5" --n 50 --tasks 1 2>/dev/null
cat > "$tmp/writer.py" <<'PY'
import os, shutil, signal, sys, time, h5py
mode, src, path = sys.argv[1:4]
if mode == "append":
    shutil.copy(src, path)
    f = h5py.File(path, "a")
    f.attrs["note"] = "being edited"
else:
    f = h5py.File(path, "w", libver="latest")
    with h5py.File(src, "r") as s:
        for k, v in s.attrs.items():
            f.attrs[k] = v
        for k in s:
            s.copy(k, f)
    if mode == "swmr":
        f.swmr_mode = True
f.flush()
print("ready", flush=True)
if mode == "died":
    os.kill(os.getpid(), signal.SIGKILL)
time.sleep(60)
PY

# start_writer MODE NAME: starts writer.py on $tmp/NAME.h5 and waits
# until it has written the file.
start_writer() {
	$python "$tmp/writer.py" "$1" "$tmp/valid.h5" "$tmp/$2.h5" \
		> "$tmp/$2.ready" &
	writer=$!
	for i in $(seq 100); do
		grep -q ready "$tmp/$2.ready" && return
		sleep 0.1
	done
}

stop_writer() {
	kill $writer
	wait $writer 2>/dev/null
	writer=
}

# check_writer NAME WORDS FIX: runs a suite on $tmp/NAME.h5.
check_writer() {
	printf '[suite]\ndata = %s\nmethods = noadapt\n' "$tmp/$1.h5" \
		> "$tmp/$1.ini"
	$dembench run "$tmp/$1.ini" --out "$tmp/out-$1" 2>"$tmp/err"
	[ $? -eq 3 ]
	ok $? "$1: exit code 3"
	grep -qF "$tmp/$1.h5: $2" "$tmp/err"
	status=$?
	ok $status "$1: the message names the file and says '$2'"
	[ $status -eq 0 ] || diag "$(cat "$tmp/err")"
	grep -qF "$3" "$tmp/err"
	ok $? "$1: the message says what to do: '$3'"
	[ ! -e "$tmp/out-$1" ]
	ok $? "$1: no results folder"
}

start_writer append held
check_writer held "another process has this file open for writing" \
	"wait until it has closed the file"
$dembench inspect "$tmp/held.h5" >/dev/null 2>"$tmp/err"
[ $? -eq 3 ] && grep -qF "another process has this file open" "$tmp/err"
ok $? "held: inspect gives the same error"
stop_writer

start_writer swmr swmr
check_writer swmr "HDF5 marks this file as open for writing" \
	"wait for the writer"
stop_writer

# The writer kills itself; the subshell keeps sh's "Killed" off stderr.
($python "$tmp/writer.py" died "$tmp/valid.h5" "$tmp/died.h5"; true) \
	>/dev/null 2>&1
check_writer died "HDF5 marks this file as open for writing" \
	"h5clear -s $tmp/died.h5"
if command -v h5clear >/dev/null; then
	h5clear -s "$tmp/died.h5" &&
		$dembench inspect --check "$tmp/died.h5" >/dev/null 2>&1
	ok $? "died: after h5clear -s the file opens"
else
	ok 0 "died: after h5clear -s the file opens # SKIP no h5clear"
fi

# A fuzzed file whose damaged global heap claims a 20 GB string, which
# HDF5 1.10.8 allocates and fills.  The probe process runs under a cap
# of half the physical memory, so the allocation fails at once and the
# file is opened nowhere else.  The cap is off under AddressSanitizer,
# so there ASAN_OPTIONS bounds HDF5's allocations instead.
printf '[suite]\ndata = tests/data/heap-oom.h5\nmethods = noadapt\n' \
	> "$tmp/heap-oom.ini"
asan=${ASAN_OPTIONS:+$ASAN_OPTIONS:max_allocation_size_mb=4096}
asan=${asan:+$asan:allocator_may_return_null=1}
# GNU time's %M is the peak RSS of dembench and of its probe process.
timer=
[ -x /usr/bin/time ] && timer="/usr/bin/time -f %M -o $tmp/rss"
start=$(date +%s)
ASAN_OPTIONS=$asan $timer \
	$dembench run "$tmp/heap-oom.ini" --out "$tmp/out-heap" 2>"$tmp/err"
status=$?
seconds=$(($(date +%s) - start))
[ $status -eq 3 ]
ok $? "heap-oom: exit code 3"
grep -qF "tests/data/heap-oom.h5: /tasks attribute order: cannot read" "$tmp/err"
status=$?
ok $status "heap-oom: the message names the file and the attribute"
[ $status -eq 0 ] || diag "$(cat "$tmp/err")"
[ ! -e "$tmp/out-heap" ]
ok $? "heap-oom: no results folder"
[ "$seconds" -lt 20 ]
ok $? "heap-oom: the error comes within 20 s (took $seconds s)"
if [ -n "$timer" ]; then
	rss=$(tail -n 1 "$tmp/rss")
	[ "$rss" -lt 1048576 ]
	ok $? "heap-oom: no process takes 1 GiB or more (peak $rss KiB)"
else
	ok 0 "heap-oom: peak memory # SKIP /usr/bin/time is not installed"
fi

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
