/* corrupt.c - the table of corruptions and the per-task driver. */
#include "corrupt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

const struct corruption corruptions[] = {
	{ "gaussian_noise", gaussian_noise },
	{ "shot_noise", shot_noise },
	{ "impulse_noise", impulse_noise },
	{ "defocus_blur", defocus_blur },
	{ "glass_blur", glass_blur },
	{ "motion_blur", motion_blur_image },
	{ "zoom_blur", zoom_blur },
	{ "snow", snow },
	{ "frost", frost },
	{ "fog", fog },
	{ "brightness", brightness },
	{ "contrast", contrast },
	{ "elastic_transform", elastic_transform },
	{ "pixelate", pixelate },
	{ "jpeg_compression", jpeg_compression },
};

const int n_corruptions = sizeof(corruptions) / sizeof(corruptions[0]);

const struct corruption *find_corruption(const char *name)
{
	for (int i = 0; i < n_corruptions; i++)
		if (!strcmp(corruptions[i].name, name))
			return &corruptions[i];
	return NULL;
}

static void quantise(float *image, int n)
{
	clip_unit(image, n);
	for (int i = 0; i < n; i++)
		image[i] = roundf(image[i] * 255.0f) / 255.0f;
}

void corrupt_images(const struct corruption *c, int severity,
		    uint64_t seed, float *images, long n)
{
	char *key = xasprintf("%llu/%s/%d", (unsigned long long)seed,
			      c->name, severity);
	struct rng rng;

	rng_seed(&rng, hash_string(key, 0));
	free(key);

	for (long i = 0; i < n; i++) {
		float *image = images + i * IMAGE_PIXELS;

		c->apply(image, severity, &rng);
		quantise(image, IMAGE_PIXELS);
	}
}
