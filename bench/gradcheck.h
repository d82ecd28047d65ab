/*
 * gradcheck.h - compare a method's analytic gradient with central
 * finite differences of its own loss, in double precision.
 *
 * The error of one logit is |numeric - analytic| / (|numeric| +
 * |analytic| + GRADCHECK_FLOOR): relative for gradients of ordinary
 * size, and absolute below the floor, where the rounding error of the
 * difference quotient (about 1e-16 |L| / h) is larger than the
 * gradients of near-one-hot rows.
 */
#ifndef DEMBENCH_GRADCHECK_H
#define DEMBENCH_GRADCHECK_H

#include "method.h"

#define GRADCHECK_TOLERANCE 1e-5
#define GRADCHECK_FLOOR 1e-4

struct gradcheck_result {
	double max_error;	/* the largest error over every case */
	char worst[128];	/* the case where it occurred */
	int n_cases;
};

/*
 * Checks m with the given tunables on random logits at several scales,
 * near-one-hot rows, and (for stateful methods) after a few batches
 * have updated the state.  Returns 0 if every error is within
 * GRADCHECK_TOLERANCE, else 1; the result is filled either way.
 * Methods that do not adapt pass with no case.
 */
int gradcheck_method(const struct method *m, const double *tunables,
		     struct gradcheck_result *r);

#endif
