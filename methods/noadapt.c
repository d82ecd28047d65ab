/*
 * noadapt - the source model as it is: BatchNorm normalises with the
 * running statistics stored in the feature file, and nothing is
 * updated.  The lower bound of every table.
 */
#include "method.h"

const struct method method_noadapt = {
	.name = "noadapt",
	.summary = "source model, running BatchNorm statistics, no update",
	.bn = BN_RUNNING,
	.adapts = 0,
};
