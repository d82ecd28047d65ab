/*
 * dem-sq - an example variant for docs/adding-a-method.md: the CADF
 * term with a quadratic penalty on the logits' scale,
 *   L = T(z) + beta / 2 * sum_i z_i^2,
 *   dL/dz_i = -p_i (z_i + T + 1) + beta z_i.
 * Copy this file into methods/ and run make to register it.
 */
#include "method.h"

enum { BETA };

static double dem_sq_loss_grad(const struct method_batch *b, double *grad)
{
	int c = b->classes;
	double beta = b->tunables[BETA], total = 0;
	double *p = b->work;

	for (int n = 0; n < b->batch; n++) {
		const double *z = b->logits + (size_t)n * c;
		double *g = grad ? grad + (size_t)n * c : NULL;
		double t = 0, sq = 0;

		softmax_row(z, c, p);
		for (int i = 0; i < c; i++) {
			t -= p[i] * z[i];
			sq += z[i] * z[i];
		}
		total += t + beta / 2 * sq;
		for (int i = 0; g && i < c; i++)
			g[i] = (-p[i] * (z[i] + t + 1) + beta * z[i]) /
			       b->batch;
	}
	return total / b->batch;
}

const struct method method_dem_sq = {
	.name = "dem-sq",
	.summary = "example: CADF plus beta/2 times the squared logits",
	.bn = BN_BATCH,
	.adapts = 1,
	.n_tunables = 1,
	.tunables = {
		{ "beta", 0.01, 0.0, 1.0, 0, 0,
		  "weight of the squared-logit penalty" },
	},
	.loss_grad = dem_sq_loss_grad,
};
