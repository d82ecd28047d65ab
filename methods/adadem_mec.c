/*
 * adadem-mec - the AdaDEM ablation with the calibrator only: the CADF
 * gradient plus the marginal entropy calibrator M (mec.h), with no
 * normalisation.  Per sample n, with y_n = argmax_i p_{n,i} and M
 * updated before the loss and held constant:
 *   L_n = T(z_n) + sum_i M[y_n]_i z_{n,i}
 *   dL_n/dz_i = -p_{n,i} (z_{n,i} + T(z_n) + 1) + M[y_n]_i.
 * The batch loss is the mean over n.
 *
 * Source: Ma, Li and Xiang, "Decoupled Entropy Minimization",
 * NeurIPS 2025, arXiv:2511.03256.
 */
#include "mec.h"

static void mec_only_observe(const struct method_batch *b)
{
	mec_observe(b, MEC_PI);
}

static double mec_only_loss_grad(const struct method_batch *b,
				 double *grad)
{
	int c = b->classes;
	double *p = b->work;
	double total = 0;

	for (int n = 0; n < b->batch; n++) {
		const double *z = b->logits + (size_t)n * c;
		const double *a = b->anchor + (size_t)n * c;
		const double *m = mec_row(b->state, c, argmax_row(a, c));
		double *g = grad ? grad + (size_t)n * c : NULL;
		double t, mz = 0;

		softmax_row(z, c, p);
		t = cadf_value(z, p, c);
		for (int i = 0; i < c; i++)
			mz += m[i] * z[i];
		total += t + mz;
		for (int i = 0; g && i < c; i++)
			g[i] = (-p[i] * (z[i] + t + 1) + m[i]) / b->batch;
	}
	return total / b->batch;
}

const struct method method_adadem_mec = {
	.name = "adadem-mec",
	.summary = "AdaDEM ablation: CADF plus the MEC, not normalised",
	.bn = BN_BATCH,
	.adapts = 1,
	.n_tunables = 1,
	.tunables = {
		{ "pi", 0.1, 0.0, 1.0, 1, 0,
		  "momentum of the marginal entropy calibrator" },
	},
	.state_size = mec_state_size,
	.reset = mec_reset,
	.observe = mec_only_observe,
	.loss_grad = mec_only_loss_grad,
};
