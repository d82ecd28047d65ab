/*
 * image.h - filters and resampling on small float grayscale images,
 * row-major with pixels in [0, 1], for the corruptions.
 *
 * Reads outside an image reflect at the edge (d c b a | a b c d), as
 * scipy.ndimage does by default.
 */
#ifndef FMNIST_IMAGE_H
#define FMNIST_IMAGE_H

#include "util.h"

/* Maps any index to 0..n-1 by reflection at the edges. */
int reflect_index(int i, int n);

/* Clips every pixel to [0, 1]. */
void clip_unit(float *image, int n);

/* Blurs in place with a Gaussian of standard deviation sigma pixels. */
void gaussian_blur(float *image, int w, int h, double sigma);

/*
 * Convolves in with a (2 radius + 1)^2 kernel into out (not in place).
 */
void convolve(const float *in, float *out, int w, int h,
	      const float *kernel, int radius);

/* Interpolates the image bilinearly at (x, y), in pixel units. */
float sample_bilinear(const float *image, int w, int h, double x, double y);

/*
 * Magnifies the image by factor about its centre into out, keeping the
 * size, so that the border is cropped away.
 */
void zoom_center(const float *in, float *out, int w, int h, double factor);

/*
 * Resamples in [ih x iw] to out [oh x ow] with a box filter: each output
 * pixel is the area-weighted mean of the input pixels it covers.
 */
void resize_box(const float *in, int iw, int ih, float *out, int ow, int oh);

/*
 * Blurs along a line at angle_deg, counter-clockwise from the x axis
 * with y pointing down the rows.  Each output pixel averages the input
 * at distances 0..radius pixels behind it, weighted by a Gaussian of
 * standard deviation sigma, so the smear is one-sided like a moving
 * camera's.
 */
void motion_blur(const float *in, float *out, int w, int h, int radius,
		 double sigma, double angle_deg);

/*
 * Fills map [size x size] (size a power of two) with a plasma fractal
 * in [0, 1] by the diamond-square algorithm on a torus.  The noise
 * added at each level shrinks by decay^2, so a larger decay gives a
 * smoother map.
 */
void plasma_fractal(float *map, int size, double decay, struct rng *rng);

#endif
