/*
 * blur.c - defocus, glass, motion and zoom blur.  Each parameter table
 * is indexed by severity - 1; lengths are in pixels of the 28 x 28
 * image.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "corrupt.h"
#include "image.h"

#define SIDE IMAGE_SIDE

/* Defocus: a disk of this radius, softened by a small Gaussian. */
static const struct {
	double radius, alias_sigma;
} defocus[MAX_SEVERITY] = {
	{ 1.5, 0.3 }, { 2.0, 0.4 }, { 2.5, 0.5 }, { 3.0, 0.5 }, { 4.0, 0.5 }
};

/* Glass: blur, local pixel swaps within max_delta, blur again. */
static const struct {
	double sigma;
	int max_delta, iterations;
} glass[MAX_SEVERITY] = {
	{ 0.7, 1, 1 }, { 0.8, 1, 2 }, { 0.9, 1, 3 }, { 1.0, 2, 2 },
	{ 1.1, 2, 3 }
};

/* Motion: a one-sided Gaussian smear along a random direction. */
static const struct {
	int radius;
	double sigma;
} motion[MAX_SEVERITY] = {
	{ 6, 1.0 }, { 6, 1.5 }, { 8, 2.0 }, { 10, 2.5 }, { 12, 3.5 }
};

/* Zoom: the mean of the image magnified by 1, 1 + step, ... < max. */
static const struct {
	double max, step;
} zoom[MAX_SEVERITY] = {
	{ 1.16, 0.01 }, { 1.26, 0.01 }, { 1.36, 0.02 }, { 1.46, 0.02 },
	{ 1.56, 0.03 }
};

/*
 * Fills kernel [(2 half + 1)^2] with a disk of the given radius,
 * blurred by alias_sigma to soften its pixel steps, summing to 1.
 */
static void disk_kernel(float *kernel, int half, double radius,
			double alias_sigma)
{
	int side = 2 * half + 1;
	double sum = 0;

	for (int y = -half; y <= half; y++)
		for (int x = -half; x <= half; x++)
			kernel[(y + half) * side + x + half] =
				x * x + y * y <= radius * radius;
	gaussian_blur(kernel, side, side, alias_sigma);

	for (int i = 0; i < side * side; i++)
		sum += kernel[i];
	for (int i = 0; i < side * side; i++)
		kernel[i] = (float)(kernel[i] / sum);
}

void defocus_blur(float *image, int severity, struct rng *rng)
{
	double radius = defocus[severity - 1].radius;
	int half = (int)ceil(radius) + 1;
	size_t side = 2 * (size_t)half + 1;
	float *kernel = xmalloc(side * side * sizeof(float));
	float out[IMAGE_PIXELS];

	(void)rng;
	disk_kernel(kernel, half, radius, defocus[severity - 1].alias_sigma);
	convolve(image, out, SIDE, SIDE, kernel, half);
	memcpy(image, out, sizeof(out));
	free(kernel);
}

static void swap_pixels(float *image, int a, int b)
{
	float t = image[a];

	image[a] = image[b];
	image[b] = t;
}

/*
 * Scans the image from the bottom-right corner and swaps each pixel
 * with a random one at most max_delta rows and columns away, staying
 * inside the image.  A pixel can move again when the scan reaches it,
 * which gives the streaks of frosted glass.  ImageNet-C draws offsets
 * from -max_delta to max_delta - 1, because numpy's randint excludes
 * the upper end; the offsets here are symmetric.
 */
static void shuffle_locally(float *image, int max_delta, struct rng *rng)
{
	uint64_t span = 2 * (uint64_t)max_delta + 1;

	for (int y = SIDE - 1; y >= 0; y--) {
		for (int x = SIDE - 1; x >= 0; x--) {
			int dy = (int)rng_below(rng, span) - max_delta;
			int dx = (int)rng_below(rng, span) - max_delta;
			int ny = y + dy, nx = x + dx;

			if (ny < 0 || ny >= SIDE || nx < 0 || nx >= SIDE)
				continue;
			swap_pixels(image, y * SIDE + x, ny * SIDE + nx);
		}
	}
}

void glass_blur(float *image, int severity, struct rng *rng)
{
	double sigma = glass[severity - 1].sigma;

	gaussian_blur(image, SIDE, SIDE, sigma);
	for (int i = 0; i < glass[severity - 1].iterations; i++)
		shuffle_locally(image, glass[severity - 1].max_delta, rng);
	gaussian_blur(image, SIDE, SIDE, sigma);
}

void motion_blur_image(float *image, int severity, struct rng *rng)
{
	double angle = -45.0 + 90.0 * rng_uniform(rng);
	float out[IMAGE_PIXELS];

	motion_blur(image, out, SIDE, SIDE, motion[severity - 1].radius,
		    motion[severity - 1].sigma, angle);
	memcpy(image, out, sizeof(out));
}

void zoom_blur(float *image, int severity, struct rng *rng)
{
	double sum[IMAGE_PIXELS];
	float zoomed[IMAGE_PIXELS];
	int count = 1;

	(void)rng;
	for (int i = 0; i < IMAGE_PIXELS; i++)
		sum[i] = image[i];

	/* The i-th factor is computed, not accumulated, to avoid drift. */
	for (int i = 1;; i++) {
		double factor = 1.0 + i * zoom[severity - 1].step;

		if (factor >= zoom[severity - 1].max - 1e-9)
			break;
		zoom_center(image, zoomed, SIDE, SIDE, factor);
		for (int p = 0; p < IMAGE_PIXELS; p++)
			sum[p] += zoomed[p];
		count++;
	}
	for (int i = 0; i < IMAGE_PIXELS; i++)
		image[i] = (float)(sum[i] / count);
}
