/*
 * corrupt.h - the 15 corruptions of Fashion-MNIST-C, adapted to 28 x 28
 * grayscale from the ImageNet-C and CIFAR-10-C definitions of Hendrycks
 * and Dietterich ("Benchmarking Neural Network Robustness to Common
 * Corruptions and Perturbations", ICLR 2019).  docs/fmnist-c.md lists
 * each definition and its parameter at every severity.
 */
#ifndef FMNIST_CORRUPT_H
#define FMNIST_CORRUPT_H

#include <stdint.h>

#include "fmnist.h"

#define MAX_SEVERITY 5

/*
 * Corrupts one image [IMAGE_SIDE x IMAGE_SIDE] in place at severity
 * 1..MAX_SEVERITY, drawing all randomness from rng.  The result may
 * leave [0, 1], and corrupt_images() clips it.
 */
typedef void corrupt_fn(float *image, int severity, struct rng *rng);

struct corruption {
	const char *name;
	corrupt_fn *apply;
};

/* The corruptions in the benchmark's order, which task order follows. */
extern const struct corruption corruptions[];
extern const int n_corruptions;

/* Returns the corruption called name, or NULL. */
const struct corruption *find_corruption(const char *name);

/*
 * Corrupts n images in place and rounds them to 8-bit levels, as the
 * stored ImageNet-C images are.  The generator is seeded from seed,
 * the corruption's name and the severity, so each task is reproducible
 * on its own.
 */
void corrupt_images(const struct corruption *c, int severity,
		    uint64_t seed, float *images, long n);

/* Noise, in noise.c. */
corrupt_fn gaussian_noise, shot_noise, impulse_noise;

/* Blur, in blur.c. */
corrupt_fn defocus_blur, glass_blur, motion_blur_image, zoom_blur;

/* Weather, in weather.c. */
corrupt_fn snow, frost, fog;

/* Digital, in digital.c. */
corrupt_fn brightness, contrast, elastic_transform, pixelate,
	jpeg_compression;

#endif
