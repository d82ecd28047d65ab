/* h5util.c - helpers shared by the feature-file reader and writer. */
#include "h5util.h"

#include <stdio.h>

#include <hdf5.h>

static herr_t keep_innermost(unsigned n, const H5E_error2_t *e, void *data)
{
	if (n == 0 && e->desc)
		snprintf(data, 256, "%s", e->desc);
	return 0;
}

const char *h5_reason(void)
{
	static char reason[256];

	reason[0] = '\0';
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, reason);
	return reason[0] ? reason : "HDF5 gave no reason";
}
