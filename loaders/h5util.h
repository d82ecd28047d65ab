/*
 * h5util.h - helpers shared by the feature-file reader and writer.
 */
#ifndef DEMBENCH_H5UTIL_H
#define DEMBENCH_H5UTIL_H

/*
 * Returns HDF5's own description of its latest failure, from the
 * innermost frame of its error stack, or "HDF5 gave no reason" when
 * the stack is empty.  HDF5's automatic error printing is off in
 * dembench, so messages quote this.  The text lives until the next
 * call.
 */
const char *h5_reason(void);

#endif
