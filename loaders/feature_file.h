/*
 * feature_file.h - reader for dembench feature files (HDF5, format 1).
 *
 * docs/file-format.md is the contract.  features_open() validates the
 * structure of the whole file (names, types, shapes, the model's
 * values) before it returns, and features_check_task() the values of
 * one task, so that the runner can check every task it needs before a
 * run starts.  Task data are then read one task at a time with
 * features_load_task().
 */
#ifndef DEMBENCH_FEATURE_FILE_H
#define DEMBENCH_FEATURE_FILE_H

#include <stdint.h>

#include "tail.h"

#define FEATURES_FORMAT "dembench-features"
#define FEATURES_VERSION 1

struct task_info {
	char *name;
	char *corruption;	/* NULL when the attribute is absent */
	int severity;		/* 0 when the attribute is absent */
	long n;			/* samples */
};

struct features {
	char *path;
	char *description;	/* NULL when absent */
	int n_classes;
	char **classes;		/* NULL when /classes is absent */
	int dim;		/* D for features, C for logits */
	int is_logits;		/* tasks store logits; no /model */
	struct tail_spec model;	/* for logits files: one bias layer */
	int n_tasks;
	struct task_info *tasks;	/* in the file's declared order */
	long hid;		/* the open HDF5 file (hid_t) */
};

/*
 * Opens and validates path.  Returns NULL with err_set() naming the
 * file, the dataset and the fix when anything is wrong.
 */
struct features *features_open(const char *path);
void features_close(struct features *f);

/* A check of an open file's values: 0, or -1 with err_set(). */
typedef int (*features_check_fn)(struct features *f, void *ctx);

/*
 * Opens path in a child process first, then runs check (NULL: none)
 * there too, because HDF5 1.10 can crash or loop on a damaged file.
 * Returns 1 if the child found the file valid.  Returns 0 if it found
 * an error, and the child passes its message back to err_msg(); do not
 * open the file again for the message, because that repeats the read
 * the probe isolates.  Returns -1 with err_set() if the child crashed,
 * took more than a minute to open, or could not start.
 */
int features_probe(const char *path, features_check_fn check, void *ctx);

/* A check for features_probe(): every task's values. */
int features_check_all(struct features *f, void *ctx);

/* Returns the index of the task called name, or -1. */
int features_find_task(const struct features *f, const char *name);

/*
 * Reads task t: x [n x dim] as float and y [n] as class ids.  The
 * caller frees both.  Returns 0, or -1 with err_set() (for example when
 * a value turned out NaN, or a label is out of range).
 */
int features_load_task(struct features *f, int t, float **x, int32_t **y);

/*
 * Reads task t as features_load_task() does, into the caller's
 * x [n x dim] and y [n], so that a run reuses one buffer for all its
 * tasks.  The kernel zeroes every page of a fresh allocation, which
 * took 0.2 s or more for a task of 50,000 x 2048 features here.
 * features_task_fits() checks that n x dim fits in memory.
 */
int features_read_task(struct features *f, int t, float *x, int32_t *y);
int features_task_fits(const struct features *f, int t);

/*
 * Reads task t through once and checks its values: no NaN or Inf in
 * the features or logits, every label in 0..n_classes-1.  The runner
 * calls it for every task of a suite before the first run starts.
 * Returns 0, or -1 with err_set() naming the row and column.
 */
int features_check_task(struct features *f, int t);

/*
 * Starts reading task t's data in a background thread, so that the
 * file's pages are in the kernel's page cache when features_load_task()
 * reads it.  Best effort: returns NULL, having started nothing, for a
 * compressed dataset or when a thread cannot start.  The caller makes
 * no other HDF5 call on f until features_prefetch_stop(), which stops
 * the thread, waits for it and frees p (NULL is allowed).
 */
struct prefetch *features_prefetch_start(struct features *f, int t);
void features_prefetch_stop(struct prefetch *p);

#endif
