/*
 * h5util.h - helpers shared by the feature-file reader and writer.
 */
#ifndef DEMBENCH_H5UTIL_H
#define DEMBENCH_H5UTIL_H

#include <hdf5.h>

/*
 * Returns HDF5's own description of its latest failure, from the
 * innermost frame of its error stack, or "HDF5 gave no reason" when
 * the stack is empty.  HDF5's automatic error printing is off in
 * dembench, so messages quote this.  The text lives until the next
 * call.
 */
const char *h5_reason(void);

/*
 * Reads rows [row0, row0 + rows) of dataset dset, with cols columns (0
 * for a 1-D dataset), into buf as memtype.  Returns HDF5's status.
 */
herr_t h5_read_rows(hid_t dset, hid_t memtype, hsize_t row0, hsize_t rows,
		    hsize_t cols, void *buf);

#endif
