/*
 * em - classical entropy minimization (Tent).
 *
 * With p = softmax(z), the per-sample loss is the Shannon entropy
 *   H(z) = -sum_i p_i log p_i = logsumexp(z) - sum_i p_i z_i,
 * and its gradient
 *   dH/dz_i = -p_i (log p_i + H).
 * The batch loss is the mean over the batch.  BatchNorm uses batch
 * statistics, and the runner updates the adapted parameters.
 *
 * Source: Wang et al., "Tent: Fully test-time adaptation by entropy
 * minimization", ICLR 2021.
 */
#include "method.h"

static double em_loss_grad(const struct method_batch *b, double *grad)
{
	double total = 0;
	double *p = b->work;

	for (int n = 0; n < b->batch; n++) {
		const double *z = b->logits + (size_t)n * b->classes;
		double lse = softmax_row(z, b->classes, p);
		double h = 0;

		for (int i = 0; i < b->classes; i++)
			h -= p[i] * (z[i] - lse);
		total += h;
		if (!grad)
			continue;
		for (int i = 0; i < b->classes; i++)
			grad[(size_t)n * b->classes + i] =
				-p[i] * (z[i] - lse + h) / b->batch;
	}
	return total / b->batch;
}

const struct method method_em = {
	.name = "em",
	.summary = "entropy minimization (Tent): mean of H(softmax(z))",
	.bn = BN_BATCH,
	.adapts = 1,
	.loss_grad = em_loss_grad,
};
