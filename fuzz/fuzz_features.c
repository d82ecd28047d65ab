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
	static char path[64];
	struct features *f;
	FILE *fp;

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/dembench-fuzz-%ld.h5",
			 (long)getpid());
	fp = fopen(path, "wb");
	if (!fp)
		return 0;
	fwrite(data, 1, size, fp);
	fclose(fp);
	f = features_open(path);
	if (f) {
		exercise(f);
		features_close(f);
	}
	unlink(path);
	return 0;
}
