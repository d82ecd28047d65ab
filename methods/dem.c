/*
 * dem - Decoupled Entropy Minimization with temperature tau and GMC
 * weight alpha.
 *
 * Per sample, with q = softmax(z / tau) and Q(z) = logsumexp(z):
 *   L = T_tau(z) + alpha Q(z),  T_tau(z) = -sum_i q_i z_i,
 * and, differentiating q through z / tau,
 *   dT_tau/dz_i = -q_i (1 + (z_i + T_tau) / tau),  dQ/dz_i = p_i.
 * The batch loss is the mean over the batch.  tau = alpha = 1 gives
 * classical EM; tau = 1, alpha = 0 gives CADF alone.  The paper finds
 * the useful range 0 < tau <= 2 / alpha; outside it a warning is shown.
 *
 * Source: Ma, Li and Xiang, "Decoupled Entropy Minimization",
 * NeurIPS 2025, arXiv:2511.03256.
 */
#include <stdio.h>

#include "method.h"

enum { TAU, ALPHA };

static double dem_loss_grad(const struct method_batch *b, double *grad)
{
	int c = b->classes;
	double tau = b->tunables[TAU], alpha = b->tunables[ALPHA];
	double *q = b->work, *p = b->work + c, *scaled = b->work + 2 * c;
	double total = 0;

	for (int n = 0; n < b->batch; n++) {
		const double *z = b->logits + (size_t)n * c;
		double *g = grad ? grad + (size_t)n * c : NULL;
		double lse = softmax_row(z, c, p), t = 0;

		for (int i = 0; i < c; i++)
			scaled[i] = z[i] / tau;
		softmax_row(scaled, c, q);
		for (int i = 0; i < c; i++)
			t -= q[i] * z[i];
		total += t + alpha * lse;
		for (int i = 0; g && i < c; i++)
			g[i] = (-q[i] * (1 + (z[i] + t) / tau) +
				alpha * p[i]) / b->batch;
	}
	return total / b->batch;
}

static const char *dem_caveat(const double *tunables)
{
	static char text[160];
	double tau = tunables[TAU], alpha = tunables[ALPHA];

	if (alpha <= 0 || tau <= 2 / alpha)
		return NULL;
	snprintf(text, sizeof(text), "tau = %g is above 2 / alpha = %g, "
		 "outside the range 0 < tau <= 2 / alpha where DEM is "
		 "found to help", tau, 2 / alpha);
	return text;
}

const struct method method_dem = {
	.name = "dem",
	.summary = "decoupled EM: T(softmax(z / tau)) + alpha logsumexp(z)",
	.bn = BN_BATCH,
	.adapts = 1,
	.n_tunables = 2,
	.tunables = {
		/* The search grid of DEM*: the paper's, step 0.1. */
		{ "tau", 1.0, 0.0, 100.0, 1, 0,
		  "temperature of the CADF term's softmax", 0.1, 2.0, 0.1 },
		{ "alpha", 1.0, 0.0, 100.0, 0, 0,
		  "weight of the GMC term logsumexp(z)", 0.0, 2.0, 0.1 },
	},
	.loss_grad = dem_loss_grad,
	.caveat = dem_caveat,
};
