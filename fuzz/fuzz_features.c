/*
 * fuzz_features.c - libFuzzer target for the feature-file loader: the
 * input is written to a temporary file, opened with features_open()
 * and, if valid, every task is checked and loaded.  A malformed file
 * must give an error, never a crash, a leak or a read out of bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "feature_file.h"
#include "fuzz_input.h"
#include "util.h"

static void exercise(struct features *f)
{
	for (int t = 0; t < f->n_tasks; t++) {
		float *x = NULL;
		int32_t *y = NULL;

		if (features_check_task(f, t))
			continue;
		if (features_load_task(f, t, &x, &y) == 0) {
			free(x);
			free(y);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_input_file(data, size, "h5");
	struct features *f = path ? features_open(path) : NULL;

	if (f) {
		exercise(f);
		features_close(f);
	}
	if (path)
		unlink(path);
	return 0;
}
