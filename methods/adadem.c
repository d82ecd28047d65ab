/*
 * adadem - adaptive decoupled entropy minimization.
 *
 * AdaDEM normalises the CADF reward of each sample by its L1 norm and
 * replaces the GMC term by the marginal entropy calibrator M (mec.h),
 * a per-pseudo-class moving average of the predictions.  Per sample n,
 * with y_n = argmax_i p_{n,i}, M updated before the loss, and
 *   delta_n = sum_i |p_{n,i} (z_{n,i} + T(z_n) + 1)|
 * (the L1 norm of the CADF reward), both held constant:
 *   L_n = -sum_i (p_{n,i} - M[y_n]_i) z_{n,i} / delta_n
 *   dL_n/dz = (dT/dz(z_n) + M[y_n]) / delta_n,
 *   dT/dz_i = -p_i (z_i + T + 1).
 * The batch loss is the mean over n.  pi is the momentum of M.
 *
 * Source: Ma, Li and Xiang, "Decoupled Entropy Minimization",
 * NeurIPS 2025, arXiv:2511.03256, Algorithm 1.
 */
#include "mec.h"

static void adadem_observe(const struct method_batch *b)
{
	mec_observe(b, MEC_PI);
}

static double adadem_loss_grad(const struct method_batch *b, double *grad)
{
	return mec_loss_grad(b, grad, 1);
}

const struct method method_adadem = {
	.name = "adadem",
	.summary = "AdaDEM: CADF normalised by its L1 norm, plus the MEC",
	.bn = BN_BATCH,
	.adapts = 1,
	.n_tunables = 1,
	.tunables = {
		{ "pi", 0.1, 0.0, 1.0, 1, 0,
		  "momentum of the marginal entropy calibrator" },
	},
	.state_size = mec_state_size,
	.reset = mec_reset,
	.observe = adadem_observe,
	.loss_grad = adadem_loss_grad,
};
