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

static double mec_only_loss_grad(const struct method_batch *b, double *grad)
{
	return mec_loss_grad(b, grad, 0);
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
