/*
 * noise.c - Gaussian, shot (Poisson) and impulse (salt-and-pepper)
 * noise.  Each parameter table is indexed by severity - 1.
 */
#include <math.h>

#include "corrupt.h"

/* Standard deviation of the added noise, in units of the pixel range. */
static const double gaussian_sigma[MAX_SEVERITY] = {
	0.08, 0.12, 0.18, 0.26, 0.38
};

/* Photons per unit of intensity: fewer photons, more noise. */
static const double shot_photons[MAX_SEVERITY] = { 6, 3, 2, 1.2, 0.7 };

/* Fraction of pixels set to black or white, half each. */
static const double impulse_amount[MAX_SEVERITY] = {
	0.03, 0.06, 0.09, 0.17, 0.27
};

void gaussian_noise(float *image, int severity, struct rng *rng)
{
	double sigma = gaussian_sigma[severity - 1];

	for (int i = 0; i < IMAGE_PIXELS; i++)
		image[i] += (float)(sigma * rng_normal(rng));
}

/* Knuth's multiplication method; expected work grows with lambda. */
static double poisson_small(double lambda, struct rng *rng)
{
	double limit = exp(-lambda), product = rng_uniform(rng);
	int k = 0;

	while (product > limit) {
		product *= rng_uniform(rng);
		k++;
	}
	return k;
}

/*
 * Hormann's transformed rejection with squeeze (PTRS), "The
 * transformed rejection method for generating Poisson random
 * variables", Insurance: Mathematics and Economics 12 (1993); valid for
 * lambda >= 10, with constant expected work.
 */
static double poisson_large(double lambda, struct rng *rng)
{
	double b = 0.931 + 2.53 * sqrt(lambda);
	double a = -0.059 + 0.02483 * b;
	double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
	double v_r = 0.9277 - 3.6224 / (b - 2);
	double log_lambda = log(lambda);

	for (;;) {
		double u = rng_uniform(rng) - 0.5;
		double v = rng_uniform(rng);
		double us = 0.5 - fabs(u);
		double k = floor((2 * a / us + b) * u + lambda + 0.43);

		if (us >= 0.07 && v <= v_r)
			return k;
		if (k < 0 || (us < 0.013 && v > us))
			continue;
		if (log(v * inv_alpha / (a / (us * us) + b)) <=
		    -lambda + k * log_lambda - lgamma(k + 1))
			return k;
	}
}

static double poisson(double lambda, struct rng *rng)
{
	if (lambda <= 0)
		return 0;
	return lambda < 10 ? poisson_small(lambda, rng) :
		poisson_large(lambda, rng);
}

void shot_noise(float *image, int severity, struct rng *rng)
{
	double photons = shot_photons[severity - 1];

	for (int i = 0; i < IMAGE_PIXELS; i++)
		image[i] = (float)(poisson(image[i] * photons, rng) /
				   photons);
}

void impulse_noise(float *image, int severity, struct rng *rng)
{
	double amount = impulse_amount[severity - 1];

	for (int i = 0; i < IMAGE_PIXELS; i++) {
		if (rng_uniform(rng) >= amount)
			continue;
		image[i] = rng_uniform(rng) < 0.5 ? 0.0f : 1.0f;
	}
}
