/*
 * fixture.h - small, valid feature files for the tests, written with
 * loaders/writer.c from a seed, plus a scratch directory to hold them.
 *
 * The data are a deterministic function of the options, so a test can
 * regenerate what it wrote with fixture_task() and fixture_model() and
 * compare it with what the loader returns.
 */
#ifndef DEMBENCH_FIXTURE_H
#define DEMBENCH_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "tail.h"

/*
 * What to write.  A zero field takes the default in brackets, so
 * "struct fixture_opts o = { 0 }" gives a valid features file.
 */
struct fixture_opts {
	const char *file;	/* name inside dir ["fixture.h5"] */
	long n;			/* rows per task [37] */
	int dim;		/* D [6]; logits files use C */
	int n_classes;		/* C [4] */
	int n_tasks;		/* [3], at most 26 */
	uint64_t seed;		/* [1] */
	int logits;		/* store logits [N x C] and no /model */
	int no_classes;		/* leave out /classes */

	/* Knobs that make the file invalid; zero leaves it valid. */
	int label_out_of_range;	/* the last label of the last task = C */
	int nan_feature;	/* the last value of the last task = NaN */
	int inf_in_model;	/* the last linear weight = +Inf */
	int extra_outputs;	/* the linear layer has C + this outputs */
};

/* Returns the options with every zero field replaced by its default. */
struct fixture_opts fixture_defaults(const struct fixture_opts *o);

/*
 * Writes task t's name into buf.  Tasks are written in the order
 * task_z, task_y, ... so that the declared order differs from the
 * alphabetical one.
 */
void fixture_task_name(int t, char *buf, size_t size);

/* Fills x [n x dim] and y [n] with task t's values. */
void fixture_task(const struct fixture_opts *o, int t, float *x,
		  int32_t *y);

/*
 * Fills spec with the model: BatchNorm(D), ReLU, Linear(D -> C) for a
 * features file, or one zero bias layer over C for a logits file.  The
 * caller frees it with tail_spec_free().
 */
void fixture_model(const struct fixture_opts *o, struct tail_spec *spec);

/*
 * Writes the file dir/o->file and returns its path (free() it), or
 * NULL with err_set().  o may be NULL for the defaults.
 */
char *fixture_write(const char *dir, const struct fixture_opts *o);

/* Creates a scratch directory under /tmp; returns its path (free() it). */
char *fixture_tmpdir(void);

/* Removes dir and the files in it (fixtures make no subdirectories). */
void fixture_rmdir(const char *dir);

#endif
