/*
 * digital.c - brightness, contrast, elastic transform, pixelate and
 * JPEG compression.  Each parameter table is indexed by severity - 1;
 * lengths are in pixels of the 28 x 28 image.
 */
#include <math.h>
#include <stdio.h>	/* jpeglib.h needs FILE and size_t declared first */
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "corrupt.h"
#include "image.h"

#define SIDE IMAGE_SIDE

/* Brightness: added to every pixel (the V channel of HSV for colour). */
static const double brightness_shift[MAX_SEVERITY] = {
	0.05, 0.08, 0.11, 0.15, 0.2
};

/* Contrast: factor on each pixel's distance from the image mean. */
static const double contrast_factor[MAX_SEVERITY] = {
	0.9, 0.8, 0.7, 0.6, 0.45
};

/*
 * Elastic transform: a random affine map that moves three control
 * points by up to affine pixels, then a displacement field of uniform
 * noise smoothed by a Gaussian of std sigma and scaled by alpha.
 */
static const struct {
	double alpha, sigma, affine;
} elastic[MAX_SEVERITY] = {
	{ 10, 4.0, 0.5 }, { 17, 4.0, 1.0 }, { 24, 4.0, 1.5 },
	{ 31, 4.0, 2.0 }, { 38, 4.0, 2.5 }
};

/* Pixelate: the side of the coarse image, as a fraction of 28. */
static const double pixelate_scale[MAX_SEVERITY] = {
	0.6, 0.5, 0.4, 0.3, 0.22
};

/*
 * JPEG: the libjpeg quality setting, 1..100, with 16-bit quantisation
 * tables allowed (not baseline).
 */
static const int jpeg_quality[MAX_SEVERITY] = { 8, 5, 3, 2, 1 };

void brightness(float *image, int severity, struct rng *rng)
{
	(void)rng;
	for (int i = 0; i < IMAGE_PIXELS; i++)
		image[i] += (float)brightness_shift[severity - 1];
}

void contrast(float *image, int severity, struct rng *rng)
{
	double mean = 0, factor = contrast_factor[severity - 1];

	(void)rng;
	for (int i = 0; i < IMAGE_PIXELS; i++)
		mean += image[i];
	mean /= IMAGE_PIXELS;
	for (int i = 0; i < IMAGE_PIXELS; i++)
		image[i] = (float)((image[i] - mean) * factor + mean);
}

/*
 * Solves for the affine map m (x' = m0 x + m1 y + m2, y' = m3 x + m4 y
 * + m5) that takes the points from[3] to to[3], by Cramer's rule.
 */
static void affine_from_points(const double from[3][2],
			       const double to[3][2], double m[6])
{
	double x0 = from[0][0], y0 = from[0][1];
	double x1 = from[1][0], y1 = from[1][1];
	double x2 = from[2][0], y2 = from[2][1];
	double det = x0 * (y1 - y2) - y0 * (x1 - x2) + (x1 * y2 - x2 * y1);

	for (int k = 0; k < 2; k++) {
		double u0 = to[0][k], u1 = to[1][k], u2 = to[2][k];
		double *r = m + 3 * k;

		r[0] = (u0 * (y1 - y2) - y0 * (u1 - u2) +
			(u1 * y2 - u2 * y1)) / det;
		r[1] = (x0 * (u1 - u2) - u0 * (x1 - x2) +
			(x1 * u2 - x2 * u1)) / det;
		r[2] = (x0 * (y1 * u2 - y2 * u1) - y0 * (x1 * u2 - x2 * u1) +
			u0 * (x1 * y2 - x2 * y1)) / det;
	}
}

/*
 * Warps the image by a random affine map: three points around the
 * centre move by up to max_shift pixels in each axis.  The map is
 * solved from the moved points back to the originals, so that it gives
 * each output pixel its sampling point directly.
 */
static void random_affine(float *image, double max_shift, struct rng *rng)
{
	double c = 0.5 * (SIDE - 1), d = SIDE / 3;
	double orig[3][2] = { { c + d, c + d }, { c + d, c - d },
			      { c - d, c - d } };
	double moved[3][2], m[6];
	float in[IMAGE_PIXELS];

	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 2; k++)
			moved[i][k] = orig[i][k] +
				max_shift * (2 * rng_uniform(rng) - 1);
	affine_from_points(moved, orig, m);

	memcpy(in, image, sizeof(in));
	for (int y = 0; y < SIDE; y++)
		for (int x = 0; x < SIDE; x++)
			image[y * SIDE + x] = sample_bilinear(in, SIDE, SIDE,
				m[0] * x + m[1] * y + m[2],
				m[3] * x + m[4] * y + m[5]);
}

/* Fills field with uniform noise in [-1, 1), smoothed and scaled. */
static void displacement_field(float *field, double alpha, double sigma,
			       struct rng *rng)
{
	for (int i = 0; i < IMAGE_PIXELS; i++)
		field[i] = (float)(2 * rng_uniform(rng) - 1);
	gaussian_blur(field, SIDE, SIDE, sigma);
	for (int i = 0; i < IMAGE_PIXELS; i++)
		field[i] = (float)(alpha * field[i]);
}

void elastic_transform(float *image, int severity, struct rng *rng)
{
	float dx[IMAGE_PIXELS], dy[IMAGE_PIXELS], in[IMAGE_PIXELS];
	double alpha = elastic[severity - 1].alpha;
	double sigma = elastic[severity - 1].sigma;

	random_affine(image, elastic[severity - 1].affine, rng);
	displacement_field(dx, alpha, sigma, rng);
	displacement_field(dy, alpha, sigma, rng);

	memcpy(in, image, sizeof(in));
	for (int y = 0; y < SIDE; y++) {
		for (int x = 0; x < SIDE; x++) {
			int i = y * SIDE + x;

			image[i] = sample_bilinear(in, SIDE, SIDE,
						   x + dx[i], y + dy[i]);
		}
	}
}

void pixelate(float *image, int severity, struct rng *rng)
{
	int side = (int)lround(SIDE * pixelate_scale[severity - 1]);
	float coarse[IMAGE_PIXELS];

	(void)rng;
	resize_box(image, SIDE, SIDE, coarse, side, side);
	resize_box(coarse, side, side, image, SIDE, SIDE);
}

/* libjpeg calls this on a fatal error, and it must not return. */
static void jpeg_fail(j_common_ptr cinfo)
{
	char msg[JMSG_LENGTH_MAX];

	cinfo->err->format_message(cinfo, msg);
	die(EXIT_FAILURE_RUN, "libjpeg failed on a 28 x 28 image: %s", msg);
}

/*
 * Drops libjpeg's warnings.  The only one expected states that qualities
 * 1 and 2 give tables too coarse for baseline JPEG, which is intended.
 */
static void jpeg_ignore(j_common_ptr cinfo)
{
	(void)cinfo;
}

/*
 * Compresses the 8-bit image to a JPEG in memory and returns the buffer,
 * which the caller frees.
 */
static unsigned char *jpeg_encode(const unsigned char *pixels, int quality,
				  unsigned long *size)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr err;
	unsigned char *buf = NULL;

	c.err = jpeg_std_error(&err);
	err.error_exit = jpeg_fail;
	err.output_message = jpeg_ignore;
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &buf, size);
	c.image_width = SIDE;
	c.image_height = SIDE;
	c.input_components = 1;
	c.in_color_space = JCS_GRAYSCALE;
	jpeg_set_defaults(&c);
	/* Without the baseline limit, quantisation steps may pass 255, so
	 * that qualities 1 and 2 still differ on these tiny images. */
	jpeg_set_quality(&c, quality, FALSE);

	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		JSAMPROW row = (JSAMPROW)(pixels + c.next_scanline * SIDE);

		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	return buf;
}

static void jpeg_decode(const unsigned char *buf, unsigned long size,
			unsigned char *pixels)
{
	struct jpeg_decompress_struct d;
	struct jpeg_error_mgr err;

	d.err = jpeg_std_error(&err);
	err.error_exit = jpeg_fail;
	err.output_message = jpeg_ignore;
	jpeg_create_decompress(&d);
	jpeg_mem_src(&d, buf, size);
	jpeg_read_header(&d, TRUE);
	jpeg_start_decompress(&d);
	while (d.output_scanline < d.output_height) {
		JSAMPROW row = pixels + d.output_scanline * SIDE;

		jpeg_read_scanlines(&d, &row, 1);
	}
	jpeg_finish_decompress(&d);
	jpeg_destroy_decompress(&d);
}

void jpeg_compression(float *image, int severity, struct rng *rng)
{
	unsigned char pixels[IMAGE_PIXELS];
	unsigned char *buf;
	unsigned long size = 0;

	(void)rng;
	clip_unit(image, IMAGE_PIXELS);
	for (int i = 0; i < IMAGE_PIXELS; i++)
		pixels[i] = (unsigned char)lroundf(image[i] * 255.0f);
	buf = jpeg_encode(pixels, jpeg_quality[severity - 1], &size);
	jpeg_decode(buf, size, pixels);
	free(buf);
	for (int i = 0; i < IMAGE_PIXELS; i++)
		image[i] = pixels[i] / 255.0f;
}
