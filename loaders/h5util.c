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

herr_t h5_read_rows(hid_t dset, hid_t memtype, hsize_t row0, hsize_t rows,
		    hsize_t cols, void *buf)
{
	hsize_t start[2] = { row0, 0 };
	hsize_t count[2] = { rows, cols };
	hid_t fspace = H5Dget_space(dset);
	hid_t mspace = H5Screate_simple(cols ? 2 : 1, count, NULL);
	herr_t rc = -1;

	if (fspace >= 0 && mspace >= 0 &&
	    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count,
				NULL) >= 0)
		rc = H5Dread(dset, memtype, mspace, fspace, H5P_DEFAULT, buf);
	if (mspace >= 0)
		H5Sclose(mspace);
	if (fspace >= 0)
		H5Sclose(fspace);
	return rc;
}
