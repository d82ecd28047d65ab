#!/bin/sh
# Seeds the fuzzing corpora in BUILD/fuzz: the project's suite files and
# small valid feature files (features and logits), so that the fuzzers
# start from inputs that get past the first checks.
set -eu
build=${1:-build}
mkdir -p "$build/fuzz/corpus-suite" "$build/fuzz/corpus-features"
cp suites/*.ini "$build/fuzz/corpus-suite/"
"$build/synth" --out "$build/fuzz/corpus-features/features.h5" \
	--n 16 --dim 4 --classes 3 --tasks 1
"$build/synth" --out "$build/fuzz/corpus-features/logits.h5" \
	--n 16 --dim 4 --classes 3 --tasks 1 --logits
