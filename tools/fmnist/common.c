/* common.c - the data set of fmnist-c. */
#include "fmnist.h"

#include <stdlib.h>

void dataset_free(struct dataset *d)
{
	free(d->images);
	free(d->labels);
	d->images = NULL;
	d->labels = NULL;
	d->n = 0;
}
