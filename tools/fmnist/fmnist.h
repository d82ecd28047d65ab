/*
 * fmnist.h - shared parts of fmnist-c, the Fashion-MNIST-C builder:
 * image sizes, the in-memory data set and the tool's error output.
 */
#ifndef FMNIST_FMNIST_H
#define FMNIST_FMNIST_H

#include <stdint.h>

#include "util.h"

#define IMAGE_SIDE 28
#define IMAGE_PIXELS (IMAGE_SIDE * IMAGE_SIDE)
#define N_CLASSES 10

/* Images as float pixels in [0, 1], row-major, one image per row. */
struct dataset {
	long n;
	float *images;		/* [n x IMAGE_PIXELS] */
	int32_t *labels;	/* [n], class ids 0..9 */
};

void dataset_free(struct dataset *d);

/* Prints "fmnist-c: error: MSG" on stderr and exits with code. */
NORETURN void fail(int code, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Prints "fmnist-c: MSG" on stderr, for progress. */
void note(const char *fmt, ...) PRINTF_LIKE(1, 2);

#endif
