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

/* Errors and progress go through die() and note() of bench/util.h. */

#endif
