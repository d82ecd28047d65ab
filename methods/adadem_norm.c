/*
 * adadem-norm - the AdaDEM ablation with normalisation only: the EM
 * gradient of each sample divided by delta_n, the L1 norm of its CADF
 * reward, held constant:
 *   delta_n = sum_i |p_{n,i} (z_{n,i} + T(z_n) + 1)|
 *   L_n = H(z_n) / delta_n,  dL_n/dz_i = -p_{n,i} (log p_{n,i} + H) / delta_n.
 * The batch loss is the mean over n.
 *
 * Implementations that apply delta to the gradient alone (a detached
 * rescaling) have a surrogate loss whose value is zero by construction.
 * So that the logged value means the same as em's, this method logs the
 * batch's mean entropy H (log_value); the gradient check differentiates
 * the mean of H / delta above.
 *
 * Source: Ma, Li and Xiang, "Decoupled Entropy Minimization",
 * NeurIPS 2025, arXiv:2511.03256.
 */
#include "mec.h"

/* Entropy of row z, with p = softmax(z) written into p. */
static double entropy_row(const double *z, int c, double *p)
{
	double lse = softmax_row(z, c, p), h = 0;

	for (int i = 0; i < c; i++)
		h -= p[i] * (z[i] - lse);
	return h;
}

static double norm_loss_grad(const struct method_batch *b, double *grad)
{
	int c = b->classes;
	double *p = b->work, *tmp = b->work + c;
	double total = 0;

	for (int n = 0; n < b->batch; n++) {
		const double *z = b->logits + (size_t)n * c;
		double delta = cadf_reward_l1(b->anchor + (size_t)n * c, c,
					      tmp);
		double h = entropy_row(z, c, p), lse = h - cadf_value(z, p, c);
		double *g = grad ? grad + (size_t)n * c : NULL;

		total += h / delta;
		for (int i = 0; g && i < c; i++)
			g[i] = -p[i] * (z[i] - lse + h) / (delta * b->batch);
	}
	return total / b->batch;
}

static double mean_entropy(const struct method_batch *b)
{
	double total = 0;

	for (int n = 0; n < b->batch; n++)
		total += entropy_row(b->logits + (size_t)n * b->classes,
				     b->classes, b->work);
	return total / b->batch;
}

const struct method method_adadem_norm = {
	.name = "adadem-norm",
	.summary = "AdaDEM ablation: EM gradient normalised by delta",
	.bn = BN_BATCH,
	.adapts = 1,
	.loss_grad = norm_loss_grad,
	.log_value = mean_entropy,
};
