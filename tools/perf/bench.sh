#!/bin/sh
# bench.sh - "make bench": dembench's speed against the roofline and
# against PyTorch, its memory, and its scaling with --jobs, on synthetic
# feature files of the real schema:
#   small  N = 10,000  D = 256   C = 10    (the Fashion-MNIST-C tail)
#   large  N = 50,000  D = 2048  C = 1000  (ResNet-50 features)
#   sweep  N = 20,000  D = 512   C = 100   (four tasks, for --jobs)
# each with a BatchNorm(D) then Linear(D -> C) tail.  Raw figures go to
# BUILD/bench/*.txt; the table goes to stdout and into the part of
# docs/performance.md between the bench markers.
#
# Usage: tools/perf/bench.sh [BUILD]
# REPEAT=N (default 3) sets the best-of-N of every timing; the small
# shape's runs last milliseconds, so they take 10 times as many.
set -eu
build=${1:-build}
dir=$build/bench
python=/usr/bin/python3
repeat=${REPEAT:-3}

# repeats SHAPE: best-of count for a shape.
repeats() {
	if [ "$1" = small ]; then
		echo $((10 * repeat))
	else
		echo "$repeat"
	fi
}
doc=docs/performance.md
mkdir -p "$dir"

say() {
	printf 'bench: %s\n' "$*" >&2
}

# field KEY LINE...: the value of KEY=VALUE in the first matching line.
field() {
	key=$1
	shift
	printf '%s\n' "$@" | tr ' ' '\n' | sed -n "s/^$key=//p" | head -1
}

make_data() {
	[ -e "$dir/small.h5" ] ||
		"$build"/synth --out "$dir/small.h5" --n 10000 --dim 256 \
			--classes 10 --tasks 1 >/dev/null
	[ -e "$dir/large.h5" ] ||
		"$build"/synth --out "$dir/large.h5" --n 50000 --dim 2048 \
			--classes 1000 --tasks 1 >/dev/null
	[ -e "$dir/sweep.h5" ] ||
		"$build"/synth --out "$dir/sweep.h5" --n 20000 --dim 512 \
			--classes 100 --tasks 3 >/dev/null
}

# Each shape: dembench at 1 and 2 BLAS threads, and sgemm alone.
run_roofline() {
	for shape in small large; do
		say "timing dembench on $shape"
		"$build"/roofline "$dir/$shape.h5" --threads 1,2 \
			--repeat "$(repeats "$shape")" \
			> "$dir/roofline-$shape.txt"
	done
}

have_torch() {
	$python -c 'import torch, h5py' 2>/dev/null
}

# torch_time SHAPE METHOD TORCH_THREADS BLAS_THREADS: samples per second.
torch_time() {
	line=$(OPENBLAS_NUM_THREADS=$4 $python tools/perf/torch_reference.py \
		"$dir/$1.h5" "$2" --time --task clean --fixed-order 1 \
		--threads "$3" --openblas-threads "$4" \
		--repeat "$(repeats "$1")" \
		2>>"$dir/torch.log" | grep '^torch ')
	field samples_per_s "$line"
}

# PyTorch's best setting at each core count: its own pool or OpenBLAS's.
run_torch() {
	: > "$dir/torch.txt"
	have_torch || { say "python3-torch missing: no PyTorch figures"; \
		return 0; }
	for shape in small large; do
		for m in em adadem; do
			say "timing PyTorch on $shape, $m"
			for setting in "1 1" "2 1" "1 2" "2 2"; do
				set -- $setting
				s=$(torch_time "$shape" "$m" "$1" "$2")
				echo "torch shape=$shape method=$m" \
					"torch_threads=$1 blas_threads=$2" \
					"samples_per_s=$s" >> "$dir/torch.txt"
			done
		done
	done
}

# dembench and PyTorch after 50 steps of each method on the small file.
run_agreement() {
	: > "$dir/agreement.txt"
	have_torch || return 0
	for m in em adadem; do
		say "checking $m against PyTorch"
		"$build"/dembench adapt "$dir/small.h5" "$m" --task clean \
			--steps 50 --lr 0.01 --predictions "$dir/$m.csv" \
			--save-model "$dir/$m-model.h5" >/dev/null
		if $python tools/perf/torch_reference.py "$dir/small.h5" "$m" \
			--task clean --steps 50 --lr 0.01 \
			--order "$dir/$m.csv" --check "$dir/$m-model.h5" \
			> "$dir/agreement-$m.txt" 2>&1; then
			echo "agreement method=$m result=pass"
		else
			echo "agreement method=$m result=FAIL"
		fi >> "$dir/agreement.txt"
	done
}

# Peak resident memory of one run over one task of the large file.
run_memory() {
	say "measuring peak memory on large"
	/usr/bin/time -f 'memory max_rss_kb=%M' -o "$dir/memory.txt" \
		"$build"/dembench adapt "$dir/large.h5" em --task clean \
		>/dev/null
}

# A sweep of 16 independent runs with --jobs 1, then --jobs 2; each
# run adapts over 4 tasks of 20,000 samples, D = 512, C = 100.
run_scaling() {
	printf '[suite]\ndata = %s\nmethods = em, adadem\n%s\n%s\n' \
		"$dir/sweep.h5" "lrs = 1e-4, 1e-3, 1e-2, 0.1" \
		"seeds = 1, 2" > "$dir/sweep.ini"
	: > "$dir/scaling.txt"
	for jobs in 1 2; do
		say "timing a sweep with --jobs $jobs"
		rm -rf "$dir/sweep-$jobs"
		t0=$(date +%s.%N)
		"$build"/dembench run "$dir/sweep.ini" --jobs "$jobs" \
			--out "$dir/sweep-$jobs" 2>/dev/null
		t1=$(date +%s.%N)
		echo "scaling jobs=$jobs seconds=$(echo "$t1 - $t0" | bc -l)" \
			>> "$dir/scaling.txt"
	done
}

make_data
run_roofline
run_torch
run_agreement
run_memory
run_scaling
$python tools/perf/table.py "$dir" "$doc" "${BENCH_COMMAND:-sh tools/perf/bench.sh $build}"
say "wrote $dir/table.md and updated $doc"
