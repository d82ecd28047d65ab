/*
 * method.h - the interface of an adaptation method.
 *
 * A method turns a batch of logits into a loss value (for logging) and
 * the gradient of the batch loss with respect to the logits; the runner
 * does the forward pass, the backward pass through the tail and the
 * optimizer step.  A new method is one file methods/NAME.c defining
 *
 *     const struct method method_NAME = { ... };
 *
 * and the build registers it (docs/adding-a-method.md).  Methods work
 * in double precision on the logits: C values per sample are cheap next
 * to the tail's matrix products, and the gradient check needs double.
 */
#ifndef DEMBENCH_METHOD_H
#define DEMBENCH_METHOD_H

#include <stddef.h>

#include "tail.h"

#define METHOD_MAX_TUNABLES 8

/* A named hyperparameter with its default and valid range. */
struct tunable {
	const char *name;
	double def;
	double min, max;
	int min_open, max_open;	/* 1: the bound itself is excluded */
	const char *help;
	/* The default grid of an oracle search ("dem*"); step 0: none. */
	double search_min, search_max, search_step;
};

/*
 * The batch a method receives.  Terms that the
 * loss treats as constants (stop-gradient: AdaDEM's delta and pseudo-
 * labels) are computed from anchor, the rest from logits.  The runner
 * passes the same array twice; the gradient check moves logits and
 * keeps anchor, so that it differentiates what the method claims to.
 */
struct method_batch {
	const double *logits;	/* [batch x classes], row-major */
	const double *anchor;	/* [batch x classes], constant terms */
	int batch, classes;
	const double *tunables;	/* values in the order of the method's */
	void *state;		/* state_size() bytes, or NULL */
	double *work;		/* METHOD_WORK(batch, classes) doubles */
};

/* Scratch per batch: four rows of C values and one value per sample. */
#define METHOD_WORK(batch, classes) \
	(4 * (size_t)(classes) + (size_t)(batch))

struct method {
	const char *name;
	const char *summary;	/* one line for "dembench methods" */
	enum bn_mode bn;	/* how BatchNorm normalises */
	int adapts;		/* 0: no gradient, no update */
	int n_tunables;
	struct tunable tunables[METHOD_MAX_TUNABLES];

	/* Bytes of state for a given class count; NULL if stateless. */
	size_t (*state_size)(int classes);

	/* Sets the state to its start; called at every model reset. */
	void (*reset)(void *state, int classes, const double *tunables);

	/*
	 * Updates the state from a batch, without gradient, before the
	 * loss is computed on it.  Optional; called once per batch.
	 */
	void (*observe)(const struct method_batch *b);

	/*
	 * Writes dL/dlogits [batch x classes] into grad and returns the
	 * batch loss L, the function whose gradient grad is.  With grad
	 * NULL it returns L alone.  Must not change the state.
	 */
	double (*loss_grad)(const struct method_batch *b, double *grad);

	/*
	 * The value to log for a batch instead of L, for methods whose L
	 * is not informative.  Optional.
	 */
	double (*log_value)(const struct method_batch *b);

	/*
	 * A warning about tunable values that are valid but unwise, or
	 * NULL.  Optional; shown once when a suite or command sets them.
	 */
	const char *(*caveat)(const double *tunables);
};

/* NULL-terminated, sorted by file name; generated from methods/. */
extern const struct method *const method_registry[];

/* Returns the method called name, or NULL. */
const struct method *method_find(const char *name);

/* Returns the index of the tunable called name, or -1. */
int method_tunable_index(const struct method *m, const char *name);

/*
 * Checks value against the range of tunable i.  Returns 0, or -1 with
 * err_set() naming the method, the tunable, the value and the range.
 */
int method_check_tunable(const struct method *m, int i, double value);

/* Writes the tunable names of m, comma-separated, into buf. */
void method_list_tunables(const struct method *m, char *buf, size_t size);

/*
 * Sets one tunable from "name=value" text into values.  Returns 0, or
 * -1 with err_set() naming the valid tunables or the valid range.
 */
int method_set_tunable(const struct method *m, const char *text,
		       double *values);

/*
 * Sets tunables from "name=value,name=value" text (as written by
 * method_format_tunables); 0 or -1 with err_set().
 */
int method_parse_tunables(const struct method *m, const char *text,
			  double *values);

/* Fills values with the defaults of m. */
void method_defaults(const struct method *m, double *values);

/* Writes "name=value,..." of the tunables into buf. */
void method_format_tunables(const struct method *m, const double *values,
			    char *buf, size_t size);

/*
 * Numerically stable helpers on one row of C logits: the maximum is
 * subtracted before exp.  softmax_row() writes p and returns
 * logsumexp(z).
 */
double softmax_row(const double *z, int classes, double *p);
int argmax_row(const double *z, int classes);

#endif
