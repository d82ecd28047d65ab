/*
 * weather.c - snow, frost and fog.  Each parameter table is indexed by
 * severity - 1; lengths are in pixels of the 28 x 28 image.
 */
#include <math.h>
#include <string.h>

#include "corrupt.h"
#include "image.h"

#define SIDE IMAGE_SIDE

/* A power of two above SIDE, for the fractal maps that are cropped. */
#define MAP_SIDE 32

/*
 * Snow: a layer of Gaussian noise (mean, std) is magnified by zoom, cut
 * below threshold and smeared by a motion blur (radius, sigma).  The
 * image is brightened with weight 1 - blend, and the layer and its
 * 180-degree rotation are added.
 */
struct snow_level {
	double mean, std, zoom, threshold;
	int radius;
	double sigma, blend;
};

static const struct snow_level snow_params[MAX_SEVERITY] = {
	{ 0.10, 0.20, 1.00, 0.60, 7, 3, 0.95 },
	{ 0.10, 0.20, 1.00, 0.50, 8, 4, 0.90 },
	{ 0.15, 0.30, 1.75, 0.55, 8, 4, 0.90 },
	{ 0.25, 0.30, 2.25, 0.60, 10, 6, 0.85 },
	{ 0.30, 0.30, 1.25, 0.65, 12, 10, 0.80 },
};

/* Frost: image weight and frost texture weight of the blend. */
static const struct {
	double image, frost;
} frost_params[MAX_SEVERITY] = {
	{ 1.00, 0.30 }, { 0.90, 0.40 }, { 0.80, 0.50 }, { 0.75, 0.55 },
	{ 0.70, 0.65 }
};

/* Fog: strength of the added plasma fractal and its decay. */
static const struct {
	double strength, decay;
} fog_params[MAX_SEVERITY] = {
	{ 0.1, 3.0 }, { 0.15, 3.0 }, { 0.2, 2.5 }, { 0.3, 2.0 }, { 0.4, 1.75 }
};

void snow(float *image, int severity, struct rng *rng)
{
	const struct snow_level *p = &snow_params[severity - 1];
	float layer[IMAGE_PIXELS], zoomed[IMAGE_PIXELS];
	float flakes[IMAGE_PIXELS];
	double angle = -135.0 + 90.0 * rng_uniform(rng);

	for (int i = 0; i < IMAGE_PIXELS; i++)
		layer[i] = (float)(p->mean + p->std * rng_normal(rng));
	zoom_center(layer, zoomed, SIDE, SIDE, p->zoom);
	for (int i = 0; i < IMAGE_PIXELS; i++)
		if (zoomed[i] < p->threshold)
			zoomed[i] = 0.0f;
	clip_unit(zoomed, IMAGE_PIXELS);
	motion_blur(zoomed, flakes, SIDE, SIDE, p->radius, p->sigma, angle);

	/* Brighten the scene: ImageNet-C blends in max(x, 1.5 gray(x) +
	 * 0.5), which for a grayscale image is always 1.5 x + 0.5. */
	for (int i = 0; i < IMAGE_PIXELS; i++) {
		float lit = 1.5f * image[i] + 0.5f;

		image[i] = (float)(p->blend * image[i] +
				   (1 - p->blend) * lit);
		image[i] += flakes[i] + flakes[IMAGE_PIXELS - 1 - i];
	}
}

/* Adds value at (x, y) spread bilinearly, wrapping around the edges. */
static void splat(float *texture, double x, double y, float value)
{
	double fx = floor(x), fy = floor(y);
	double ax = x - fx, ay = y - fy;
	int x0 = ((int)fx % MAP_SIDE + MAP_SIDE) % MAP_SIDE;
	int y0 = ((int)fy % MAP_SIDE + MAP_SIDE) % MAP_SIDE;
	int x1 = (x0 + 1) % MAP_SIDE, y1 = (y0 + 1) % MAP_SIDE;

	texture[y0 * MAP_SIDE + x0] += (float)((1 - ax) * (1 - ay) * value);
	texture[y0 * MAP_SIDE + x1] += (float)(ax * (1 - ay) * value);
	texture[y1 * MAP_SIDE + x0] += (float)((1 - ax) * ay * value);
	texture[y1 * MAP_SIDE + x1] += (float)(ax * ay * value);
}

/*
 * Draws one ice needle of the given length from (x, y), bending a
 * little at each step.  Side needles sprout at 60 degrees, as on
 * hexagonal ice crystals, down to depth 0.
 */
static void grow_needle(float *texture, double x, double y, double angle,
			double length, int depth, struct rng *rng)
{
	for (double t = 0; t < length; t += 0.5) {
		splat(texture, x, y, 0.5f);
		angle += 0.15 * (rng_uniform(rng) - 0.5);
		x += 0.5 * cos(angle);
		y += 0.5 * sin(angle);
		if (depth > 0 && rng_uniform(rng) < 0.08) {
			double side = rng_uniform(rng) < 0.5 ? -1 : 1;

			grow_needle(texture, x, y, angle + side * M_PI / 3,
				    0.4 * (length - t), depth - 1, rng);
		}
	}
}

/*
 * Fills texture [MAP_SIDE x MAP_SIDE] with a procedural frost: a haze
 * from a plasma fractal under branching ice needles from a few seed
 * points, scaled to [0, 1].  ImageNet-C blends crops of frost
 * photographs instead, which are not available here.
 */
static void frost_texture(float *texture, struct rng *rng)
{
	float crystals[MAP_SIDE * MAP_SIDE] = { 0 };
	int seeds = 4 + (int)rng_below(rng, 4);
	float hi = 0;

	plasma_fractal(texture, MAP_SIDE, 1.6, rng);
	for (int s = 0; s < seeds; s++) {
		double x = MAP_SIDE * rng_uniform(rng);
		double y = MAP_SIDE * rng_uniform(rng);
		double angle = 2 * M_PI * rng_uniform(rng);
		int arms = 2 + (int)rng_below(rng, 3);

		for (int a = 0; a < arms; a++)
			grow_needle(crystals, x, y,
				    angle + a * 2 * M_PI / arms,
				    8 + 16 * rng_uniform(rng), 2, rng);
	}
	gaussian_blur(crystals, MAP_SIDE, MAP_SIDE, 0.5);

	for (int i = 0; i < MAP_SIDE * MAP_SIDE; i++) {
		texture[i] = 0.35f * texture[i] + crystals[i];
		hi = texture[i] > hi ? texture[i] : hi;
	}
	for (int i = 0; i < MAP_SIDE * MAP_SIDE; i++)
		texture[i] /= hi;
}

void frost(float *image, int severity, struct rng *rng)
{
	float texture[MAP_SIDE * MAP_SIDE];
	int ox = (int)rng_below(rng, MAP_SIDE - SIDE + 1);
	int oy = (int)rng_below(rng, MAP_SIDE - SIDE + 1);
	double wi = frost_params[severity - 1].image;
	double wf = frost_params[severity - 1].frost;

	frost_texture(texture, rng);
	for (int y = 0; y < SIDE; y++)
		for (int x = 0; x < SIDE; x++)
			image[y * SIDE + x] = (float)(wi * image[y * SIDE + x] +
				wf * texture[(y + oy) * MAP_SIDE + x + ox]);
}

void fog(float *image, int severity, struct rng *rng)
{
	float map[MAP_SIDE * MAP_SIDE];
	double strength = fog_params[severity - 1].strength;
	float hi = 0;

	for (int i = 0; i < IMAGE_PIXELS; i++)
		hi = image[i] > hi ? image[i] : hi;
	plasma_fractal(map, MAP_SIDE, fog_params[severity - 1].decay, rng);

	/* Rescaling by hi / (hi + strength) keeps the brightest point of
	 * the image near its old level, so the fog lowers contrast. */
	for (int y = 0; y < SIDE; y++) {
		for (int x = 0; x < SIDE; x++) {
			float *p = &image[y * SIDE + x];

			*p += (float)(strength * map[y * MAP_SIDE + x]);
			*p = (float)(*p * hi / (hi + strength));
		}
	}
}
