/* image.c - filters and resampling for the corruptions. */
#include "image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int reflect_index(int i, int n)
{
	int period = 2 * n;

	i %= period;
	if (i < 0)
		i += period;
	return i < n ? i : period - 1 - i;
}

void clip_unit(float *image, int n)
{
	for (int i = 0; i < n; i++) {
		if (image[i] < 0.0f)
			image[i] = 0.0f;
		else if (image[i] > 1.0f)
			image[i] = 1.0f;
	}
}

/* Fills kernel [2 radius + 1] with a normalised Gaussian. */
static void gaussian_kernel(float *kernel, int radius, double sigma)
{
	double sum = 0;

	for (int i = -radius; i <= radius; i++) {
		double v = exp(-0.5 * i * i / (sigma * sigma));

		kernel[i + radius] = (float)v;
		sum += v;
	}
	for (int i = 0; i <= 2 * radius; i++)
		kernel[i] = (float)(kernel[i] / sum);
}

/* One pass of a separable filter: along rows, or along columns. */
static void filter_1d(const float *in, float *out, int w, int h,
		      const float *kernel, int radius, int along_columns)
{
	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++) {
			float sum = 0;

			for (int k = -radius; k <= radius; k++) {
				int xi = along_columns ? x :
					reflect_index(x + k, w);
				int yi = along_columns ?
					reflect_index(y + k, h) : y;

				sum += kernel[k + radius] * in[yi * w + xi];
			}
			out[y * w + x] = sum;
		}
	}
}

void gaussian_blur(float *image, int w, int h, double sigma)
{
	int radius;
	float *kernel, *tmp;

	if (sigma <= 0)
		return;

	/* Four standard deviations, as scipy.ndimage truncates. */
	radius = (int)ceil(4.0 * sigma);
	kernel = xmalloc((size_t)(2 * radius + 1) * sizeof(float));
	tmp = xmalloc((size_t)w * (size_t)h * sizeof(float));
	gaussian_kernel(kernel, radius, sigma);

	filter_1d(image, tmp, w, h, kernel, radius, 0);
	filter_1d(tmp, image, w, h, kernel, radius, 1);
	free(kernel);
	free(tmp);
}

void convolve(const float *in, float *out, int w, int h,
	      const float *kernel, int radius)
{
	int side = 2 * radius + 1;

	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++) {
			float sum = 0;

			for (int ky = -radius; ky <= radius; ky++) {
				const float *row = in +
					reflect_index(y + ky, h) * w;
				const float *k = kernel +
					(ky + radius) * side + radius;

				for (int kx = -radius; kx <= radius; kx++)
					sum += k[kx] *
						row[reflect_index(x + kx, w)];
			}
			out[y * w + x] = sum;
		}
	}
}

float sample_bilinear(const float *image, int w, int h, double x, double y)
{
	double fx = floor(x), fy = floor(y);
	double ax = x - fx, ay = y - fy;
	int x0 = reflect_index((int)fx, w), x1 = reflect_index((int)fx + 1, w);
	int y0 = reflect_index((int)fy, h), y1 = reflect_index((int)fy + 1, h);
	double top = (1 - ax) * image[y0 * w + x0] + ax * image[y0 * w + x1];
	double bottom = (1 - ax) * image[y1 * w + x0] +
		ax * image[y1 * w + x1];

	return (float)((1 - ay) * top + ay * bottom);
}

void zoom_center(const float *in, float *out, int w, int h, double factor)
{
	double cx = 0.5 * (w - 1), cy = 0.5 * (h - 1);

	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			out[y * w + x] = sample_bilinear(in, w, h,
				cx + (x - cx) / factor,
				cy + (y - cy) / factor);
}

/* Length of the overlap of [a, b) with the pixel [i, i + 1). */
static double overlap(double a, double b, int i)
{
	double lo = a > i ? a : i;
	double hi = b < i + 1 ? b : i + 1;

	return hi > lo ? hi - lo : 0;
}

/* Area-weighted mean of in over the rectangle [x0, x1) x [y0, y1). */
static float box_mean(const float *in, int iw, double x0, double x1,
		      double y0, double y1)
{
	double sum = 0, area = 0;

	for (int y = (int)floor(y0); y < (int)ceil(y1); y++) {
		double wy = overlap(y0, y1, y);

		for (int x = (int)floor(x0); x < (int)ceil(x1); x++) {
			double a = wy * overlap(x0, x1, x);

			sum += a * in[y * iw + x];
			area += a;
		}
	}
	return (float)(sum / area);
}

void resize_box(const float *in, int iw, int ih, float *out, int ow, int oh)
{
	double sx = (double)iw / ow, sy = (double)ih / oh;

	for (int y = 0; y < oh; y++)
		for (int x = 0; x < ow; x++)
			out[y * ow + x] = box_mean(in, iw, x * sx,
				(x + 1) * sx, y * sy, (y + 1) * sy);
}

void motion_blur(const float *in, float *out, int w, int h, int radius,
		 double sigma, double angle_deg)
{
	double angle = angle_deg * M_PI / 180.0;
	double dx = cos(angle), dy = -sin(angle);
	float *weight = xmalloc((size_t)(radius + 1) * sizeof(float));
	double total = 0;

	for (int t = 0; t <= radius; t++) {
		weight[t] = (float)exp(-0.5 * t * t / (sigma * sigma));
		total += weight[t];
	}

	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++) {
			double sum = 0;

			for (int t = 0; t <= radius; t++)
				sum += weight[t] * sample_bilinear(in, w, h,
					x - t * dx, y - t * dy);
			out[y * w + x] = (float)(sum / total);
		}
	}
	free(weight);
}

/* Reads map at (x, y), wrapping around as on a torus. */
static float torus_at(const float *map, int size, int x, int y)
{
	return map[((y + size) % size) * size + (x + size) % size];
}

static float noise(struct rng *rng, double amplitude)
{
	return (float)(amplitude * (2.0 * rng_uniform(rng) - 1.0));
}

/* Sets the centre of each square of side step to its corners' mean. */
static void square_step(float *map, int size, int step, double amplitude,
			struct rng *rng)
{
	int half = step / 2;

	for (int y = 0; y < size; y += step) {
		for (int x = 0; x < size; x += step) {
			float mean = 0.25f * (torus_at(map, size, x, y) +
				torus_at(map, size, x + step, y) +
				torus_at(map, size, x, y + step) +
				torus_at(map, size, x + step, y + step));

			map[(y + half) * size + x + half] =
				mean + noise(rng, amplitude);
		}
	}
}

/* Sets a point to the mean of its four neighbours at distance half. */
static void diamond_point(float *map, int size, int x, int y, int half,
			  double amplitude, struct rng *rng)
{
	float mean = 0.25f * (torus_at(map, size, x - half, y) +
		torus_at(map, size, x + half, y) +
		torus_at(map, size, x, y - half) +
		torus_at(map, size, x, y + half));

	map[y * size + x] = mean + noise(rng, amplitude);
}

static void diamond_step(float *map, int size, int step, double amplitude,
			 struct rng *rng)
{
	int half = step / 2;

	for (int y = 0; y < size; y += step) {
		for (int x = 0; x < size; x += step) {
			diamond_point(map, size, x + half, y, half, amplitude,
				      rng);
			diamond_point(map, size, x, y + half, half, amplitude,
				      rng);
		}
	}
}

static void normalise_range(float *map, int n)
{
	float lo = map[0], hi = map[0];

	for (int i = 1; i < n; i++) {
		lo = map[i] < lo ? map[i] : lo;
		hi = map[i] > hi ? map[i] : hi;
	}
	for (int i = 0; i < n; i++)
		map[i] = hi > lo ? (map[i] - lo) / (hi - lo) : 0.0f;
}

void plasma_fractal(float *map, int size, double decay, struct rng *rng)
{
	double amplitude = 1.0;

	memset(map, 0, (size_t)size * (size_t)size * sizeof(float));
	for (int step = size; step >= 2; step /= 2) {
		square_step(map, size, step, amplitude, rng);
		diamond_step(map, size, step, amplitude, rng);
		amplitude /= decay * decay;
	}
	normalise_range(map, size * size);
}
