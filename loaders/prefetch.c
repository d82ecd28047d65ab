/*
 * prefetch.c - read-ahead of the next task's data.
 *
 * A run reads one task at a time, and while it adapts on one task the
 * disk is idle.  features_prefetch_start() reads the next task's data
 * in a background thread, slab by slab into one small buffer that it
 * throws away: what stays is the file's pages in the kernel's page
 * cache, from which features_load_task() then copies at memory speed.
 * The page cache is not the process's memory, so peak resident memory
 * stays one task plus the model.
 *
 * Debian's HDF5 is built thread-safe, with one lock around every call.
 * The runner makes no HDF5 call while it adapts, so the thread does not
 * wait for that lock.  The position of a dataset's chunks in the file
 * would let posix_fadvise() do the same without a thread, but HDF5
 * 1.10.8's H5Dget_num_chunks() returns 0 for chunked datasets here.
 */
#include "feature_file.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <hdf5.h>

#include "h5util.h"
#include "util.h"

/* Bytes per read: HDF5's default chunk cache, and dembench's chunks. */
#define SLAB_BYTES (1 << 20)

struct prefetch {
	pthread_t thread;
	hid_t dset;
	long n;
	int dim;
	atomic_int stop;
};

static void *read_ahead(void *arg)
{
	struct prefetch *p = arg;
	long step = SLAB_BYTES / ((long)p->dim * (long)sizeof(float));
	float *buf;

	step = step > 0 ? step : 1;
	buf = xmalloc((size_t)step * (size_t)p->dim * sizeof(*buf));
	for (long row0 = 0; row0 < p->n && !atomic_load(&p->stop);
	     row0 += step) {
		long rows = p->n - row0 < step ? p->n - row0 : step;

		/* a failure is the loader's to report, when it reads */
		if (h5_read_rows(p->dset, H5T_NATIVE_FLOAT, (hsize_t)row0,
				 (hsize_t)rows, (hsize_t)p->dim, buf) < 0)
			break;
	}
	free(buf);
	return NULL;
}

/* Is the dataset stored without filters?  Reading ahead a compressed
 * one would decompress it twice. */
static int unfiltered(hid_t dset)
{
	hid_t dcpl = H5Dget_create_plist(dset);
	int n = dcpl >= 0 ? H5Pget_nfilters(dcpl) : -1;

	if (dcpl >= 0)
		H5Pclose(dcpl);
	return n == 0;
}

struct prefetch *features_prefetch_start(struct features *f, int t)
{
	char *path = xasprintf("/tasks/%s/%s", f->tasks[t].name,
			       f->is_logits ? "logits" : "features");
	struct prefetch *p = xcalloc(1, sizeof(*p));

	p->dset = H5Dopen2((hid_t)f->hid, path, H5P_DEFAULT);
	free(path);
	p->n = f->tasks[t].n;
	p->dim = f->dim;
	atomic_init(&p->stop, 0);
	if (p->dset < 0 || !unfiltered(p->dset) ||
	    pthread_create(&p->thread, NULL, read_ahead, p) != 0) {
		if (p->dset >= 0)
			H5Dclose(p->dset);
		free(p);
		return NULL;
	}
	return p;
}

void features_prefetch_stop(struct prefetch *p)
{
	if (!p)
		return;
	atomic_store(&p->stop, 1);
	pthread_join(p->thread, NULL);
	H5Dclose(p->dset);
	free(p);
}
