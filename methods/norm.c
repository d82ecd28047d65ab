/*
 * norm - BatchNorm adaptation (BN-adapt, "norm" in the Tent paper):
 * BatchNorm normalises with the current batch's mean and biased
 * variance, and no parameter is updated.
 *
 * Source: Schneider et al., "Improving robustness against common
 * corruptions by covariate shift adaptation", NeurIPS 2020.
 */
#include "method.h"

const struct method method_norm = {
	.name = "norm",
	.summary = "BatchNorm with test-batch statistics, no update",
	.bn = BN_BATCH,
	.adapts = 0,
};
