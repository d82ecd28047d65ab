/*
 * train.h - the source model of Fashion-MNIST-C: training, the frozen
 * feature extractor and the NoAdapt evaluation of the stored tail.
 *
 * The network is 784 -> Linear 256 -> BatchNorm, ReLU -> Linear 128 ->
 * BatchNorm, ReLU -> Linear 10, on pixels standardised with the mean
 * and standard deviation of all training pixels.  It is trained end to
 * end.  Afterwards the first Linear layer is frozen as the feature
 * extractor, and the six layers after it are the adaptable tail.
 */
#ifndef FMNIST_TRAIN_H
#define FMNIST_TRAIN_H

#include <stdint.h>

#include "fmnist.h"
#include "tail.h"

#define FEATURE_DIM 256

struct source_model {
	float pixel_mean, pixel_std;	/* the input standardisation */
	struct layer_spec extractor;	/* Linear 784 -> 256, frozen */
	struct tail_spec tail;		/* the six layers after it */
};

/*
 * Trains the network on train, seeded by seed, printing each epoch's
 * loss and accuracies on stderr (test is evaluated for that only), and
 * fills model.  Exits through fail() if the tail library rejects the
 * network.
 */
void train_source_model(const struct dataset *train,
			const struct dataset *test, uint64_t seed,
			struct source_model *model);

void source_model_free(struct source_model *model);

/*
 * Writes the features [n x FEATURE_DIM] of n images: the extractor
 * applied to the standardised pixels.
 */
void extract_features(const struct source_model *model, const float *images,
		      long n, float *features);

/*
 * Returns the fraction of the n rows of features that the stored tail
 * classifies correctly, with BatchNorm on its running statistics.
 */
double noadapt_accuracy(const struct tail_spec *tail, const float *features,
			const int32_t *labels, long n);

#endif
