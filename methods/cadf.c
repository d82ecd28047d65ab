/*
 * cadf - the cluster aggregation driving factor of entropy alone.
 *
 * Entropy splits as H(z) = T(z) + Q(z) with Q(z) = logsumexp(z) and
 *   T(z) = -sum_i p_i z_i,  p = softmax(z).
 * This method minimises the mean of T over the batch; its gradient is
 *   dT/dz_i = -p_i (z_i + T + 1).
 * T rewards the dominant classes without the penalty that Q puts on
 * confident ones.  It is DEM with tau = 1 and alpha = 0.
 *
 * Source: Ma, Li and Xiang, "Decoupled Entropy Minimization",
 * NeurIPS 2025, arXiv:2511.03256.
 */
#include "method.h"

static double cadf_loss_grad(const struct method_batch *b, double *grad)
{
	double total = 0;
	double *p = b->work;

	for (int n = 0; n < b->batch; n++) {
		const double *z = b->logits + (size_t)n * b->classes;
		double t = 0;

		softmax_row(z, b->classes, p);
		for (int i = 0; i < b->classes; i++)
			t -= p[i] * z[i];
		total += t;
		if (!grad)
			continue;
		for (int i = 0; i < b->classes; i++)
			grad[(size_t)n * b->classes + i] =
				-p[i] * (z[i] + t + 1) / b->batch;
	}
	return total / b->batch;
}

const struct method method_cadf = {
	.name = "cadf",
	.summary = "CADF only: mean of T(z) = -sum_i p_i z_i",
	.bn = BN_BATCH,
	.adapts = 1,
	.loss_grad = cadf_loss_grad,
};
