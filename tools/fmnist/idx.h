/*
 * idx.h - reads the Fashion-MNIST IDX files (gzip-compressed or plain).
 */
#ifndef FMNIST_IDX_H
#define FMNIST_IDX_H

#include "fmnist.h"

/*
 * Loads dir/images_name and dir/labels_name into d, with pixels scaled
 * to [0, 1].  Both files must hold exactly n items of 28 x 28 images
 * and labels 0..9.  Exits through fail() with EXIT_INPUT, naming the
 * file, the value found and the fix, when a file is missing or invalid.
 */
void idx_load(const char *dir, const char *images_name,
	      const char *labels_name, long n, struct dataset *d);

#endif
