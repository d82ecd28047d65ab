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

/*
 * Photons per unit of intensity: fewer photons, more noise.  The black
 * background of Fashion-MNIST gets no shot noise, so the counts are
 * lower than the 60 .. 3 of ImageNet-C.
 */
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

/*
 * Draws from a Poisson distribution by Knuth's multiplication method,
 * which takes about lambda + 1 uniforms.  That is cheap here because
 * lambda is at most the photon count, 6, but the method would be slow
 * for large lambda (and exp(-lambda) underflows above about 745).
 */
static int poisson(double lambda, struct rng *rng)
{
	double limit = exp(-lambda), product = rng_uniform(rng);
	int k = 0;

	while (product > limit) {
		product *= rng_uniform(rng);
		k++;
	}
	return k;
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
