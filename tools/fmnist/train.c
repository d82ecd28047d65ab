/*
 * train.c - trains the source model with the dembench tail and
 * optimizer, then splits it into the frozen extractor and the tail.
 */
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "optim.h"

_Static_assert(sizeof(real) == sizeof(float),
	       "fmnist-c stores float32 and needs the float build of the tail");

#define HIDDEN_DIM 128
#define BATCH 128
#define EPOCHS 12
#define DECAY_EPOCH 9	/* the first epoch at the lower rate */
#define LEARNING_RATE 1e-3
#define DECAYED_RATE 1e-4
#define BN_MOMENTUM 0.1	/* PyTorch's default */
#define BN_EPS 1e-5	/* PyTorch's default */
#define EVAL_BATCH 1000

/*
 * PyTorch's default for nn.Linear: Kaiming-uniform with a = sqrt(5),
 * which bounds the weights by 1 / sqrt(fan_in), and the same bound for
 * the bias.
 */
static void init_linear(struct layer_spec *l, int in, int out,
			struct rng *rng)
{
	double bound = 1.0 / sqrt((double)in);
	size_t n = (size_t)in * (size_t)out;

	l->kind = LAYER_LINEAR;
	l->in = in;
	l->out = out;
	l->weight = xmalloc(n * sizeof(float));
	l->bias = xmalloc((size_t)out * sizeof(float));
	for (size_t i = 0; i < n; i++)
		l->weight[i] = (float)(bound * (2 * rng_uniform(rng) - 1));
	for (int i = 0; i < out; i++)
		l->bias[i] = (float)(bound * (2 * rng_uniform(rng) - 1));
}

static void init_batchnorm(struct layer_spec *l, int dim)
{
	l->kind = LAYER_BATCHNORM;
	l->in = l->out = dim;
	l->eps = BN_EPS;
	l->weight = xmalloc((size_t)dim * sizeof(float));
	l->bias = xcalloc((size_t)dim, sizeof(float));
	l->running_mean = xcalloc((size_t)dim, sizeof(float));
	l->running_var = xmalloc((size_t)dim * sizeof(float));
	for (int i = 0; i < dim; i++)
		l->weight[i] = l->running_var[i] = 1.0f;
}

static void init_relu(struct layer_spec *l, int dim)
{
	l->kind = LAYER_RELU;
	l->in = l->out = dim;
}

static void build_network(struct tail_spec *net, uint64_t seed)
{
	char *key = xasprintf("%llu/init", (unsigned long long)seed);
	struct rng rng;

	rng_seed(&rng, hash_string(key, 0));
	free(key);

	net->n_layers = 7;
	net->layers = xcalloc(7, sizeof(struct layer_spec));
	init_linear(&net->layers[0], IMAGE_PIXELS, FEATURE_DIM, &rng);
	init_batchnorm(&net->layers[1], FEATURE_DIM);
	init_relu(&net->layers[2], FEATURE_DIM);
	init_linear(&net->layers[3], FEATURE_DIM, HIDDEN_DIM, &rng);
	init_batchnorm(&net->layers[4], HIDDEN_DIM);
	init_relu(&net->layers[5], HIDDEN_DIM);
	init_linear(&net->layers[6], HIDDEN_DIM, N_CLASSES, &rng);
}

/* Sets the mean and population std over every training pixel. */
static void pixel_stats(const struct dataset *d, struct source_model *m)
{
	size_t count = (size_t)d->n * IMAGE_PIXELS;
	double sum = 0, sum_sq = 0, mean;

	for (size_t i = 0; i < count; i++) {
		sum += d->images[i];
		sum_sq += (double)d->images[i] * d->images[i];
	}
	mean = sum / (double)count;
	m->pixel_mean = (float)mean;
	m->pixel_std = (float)sqrt(sum_sq / (double)count - mean * mean);
}

/* Copies the standardised images of rows[0..n) into x [n x 784]. */
static void gather(const struct source_model *m, const float *images,
		   const int32_t *rows, int n, float *x)
{
	float inv_std = 1.0f / m->pixel_std;

	for (int b = 0; b < n; b++) {
		const float *src = images + (size_t)rows[b] * IMAGE_PIXELS;
		float *dst = x + (size_t)b * IMAGE_PIXELS;

		for (int p = 0; p < IMAGE_PIXELS; p++)
			dst[p] = (src[p] - m->pixel_mean) * inv_std;
	}
}

static int argmax(const float *v, int n)
{
	int best = 0;

	for (int i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return best;
}

static int count_correct(const float *logits, const int32_t *labels, int n)
{
	int correct = 0;

	for (int b = 0; b < n; b++)
		correct += argmax(logits + b * N_CLASSES, N_CLASSES) ==
			labels[b];
	return correct;
}

/*
 * Returns the mean softmax cross-entropy of logits [n x 10] and writes
 * its gradient, (softmax - one_hot(label)) / n, into grad.
 */
static double cross_entropy(const float *logits, const int32_t *labels,
			    int n, float *grad)
{
	double loss = 0;

	for (int b = 0; b < n; b++) {
		const float *z = logits + b * N_CLASSES;
		float *g = grad + b * N_CLASSES;
		float top = z[argmax(z, N_CLASSES)];
		double sum = 0;

		/* Subtracting the maximum keeps exp() from overflowing. */
		for (int c = 0; c < N_CLASSES; c++)
			sum += exp((double)(z[c] - top));
		loss += log(sum) - (z[labels[b]] - top);
		for (int c = 0; c < N_CLASSES; c++)
			g[c] = (float)(exp((double)(z[c] - top)) / sum / n);
		g[labels[b]] -= 1.0f / (float)n;
	}
	return loss / n;
}

/*
 * Returns the accuracy of the network on d with BatchNorm on running
 * statistics.  x and rows are scratch buffers of BATCH rows.
 */
static double evaluate(struct tail *t, const struct source_model *m,
		       const struct dataset *d, float *x, int32_t *rows)
{
	long correct = 0;

	for (long start = 0; start < d->n; start += BATCH) {
		int n = d->n - start < BATCH ? (int)(d->n - start) : BATCH;
		const float *logits;

		for (int b = 0; b < n; b++)
			rows[b] = (int32_t)(start + b);
		gather(m, d->images, rows, n, x);
		logits = tail_forward(t, x, n, BN_RUNNING);
		correct += count_correct(logits, d->labels + start, n);
	}
	return (double)correct / (double)d->n;
}

/* The state of one training run, to keep the epoch loop short. */
struct trainer {
	struct tail *net;
	struct optim *optim;
	float *x;		/* [BATCH x 784] standardised inputs */
	int32_t *y;		/* [BATCH] labels */
	float *grad;		/* [BATCH x 10] dloss/dlogits */
	int32_t *order;		/* [n_train] the shuffled sample order */
	struct rng shuffle;
};

/* Runs one epoch of mini-batch training and returns the mean loss. */
static double train_epoch(struct trainer *tr, const struct source_model *m,
			  const struct dataset *train, long *correct)
{
	double loss_sum = 0;
	long batches = 0;

	rng_shuffle(&tr->shuffle, tr->order, (size_t)train->n);
	*correct = 0;

	for (long start = 0; start < train->n; start += BATCH) {
		int n = train->n - start < BATCH ?
			(int)(train->n - start) : BATCH;
		const int32_t *rows = tr->order + start;
		const float *logits;

		/* Forward in batch mode, as nn.BatchNorm1d trains. */
		gather(m, train->images, rows, n, tr->x);
		for (int b = 0; b < n; b++)
			tr->y[b] = train->labels[rows[b]];
		logits = tail_forward(tr->net, tr->x, n, BN_BATCH);
		*correct += count_correct(logits, tr->y, n);

		/* Loss, backward, update. */
		loss_sum += cross_entropy(logits, tr->y, n, tr->grad);
		tail_backward(tr->net, tr->grad);
		optim_step(tr->optim, tr->net);
		tail_update_running_stats(tr->net, BN_MOMENTUM);
		batches++;
	}
	return loss_sum / (double)batches;
}

/*
 * Replaces the optimizer by a fresh Adam at rate lr.  The optimizer
 * fixes its rate at creation, so the step decay starts a new one.  Its
 * bias correction makes the restarted moments safe.
 */
static void set_adam(struct trainer *tr, double lr)
{
	struct optim_config config;

	optim_free(tr->optim);
	optim_defaults(&config);
	config.kind = OPTIM_ADAM;
	config.lr = lr;
	tr->optim = optim_create(&config, tr->net);
}

static void trainer_init(struct trainer *tr, const struct tail_spec *spec,
			 long n_train, uint64_t seed)
{
	char *key = xasprintf("%llu/shuffle", (unsigned long long)seed);

	tr->net = tail_create(spec, BATCH, PARAMS_ALL);
	if (!tr->net)
		die(EXIT_FAILURE_RUN, "the tail library rejected the source "
		    "network: %s", err_msg());
	tr->optim = NULL;
	set_adam(tr, LEARNING_RATE);

	tr->x = xmalloc((size_t)BATCH * IMAGE_PIXELS * sizeof(float));
	tr->y = xmalloc(BATCH * sizeof(int32_t));
	tr->grad = xmalloc((size_t)BATCH * N_CLASSES * sizeof(float));
	tr->order = xmalloc((size_t)n_train * sizeof(int32_t));
	for (long i = 0; i < n_train; i++)
		tr->order[i] = (int32_t)i;
	rng_seed(&tr->shuffle, hash_string(key, 0));
	free(key);
}

static void trainer_free(struct trainer *tr)
{
	tail_free(tr->net);
	optim_free(tr->optim);
	free(tr->x);
	free(tr->y);
	free(tr->grad);
	free(tr->order);
}

/* Moves layer 0 into the extractor and layers 1.. into the tail. */
static void split_network(struct tail_spec *net, struct source_model *m)
{
	m->extractor = net->layers[0];
	m->tail.n_layers = net->n_layers - 1;
	m->tail.layers = xmalloc((size_t)m->tail.n_layers *
				 sizeof(struct layer_spec));
	memcpy(m->tail.layers, net->layers + 1,
	       (size_t)m->tail.n_layers * sizeof(struct layer_spec));
	free(net->layers);
	net->layers = NULL;
	net->n_layers = 0;
}

void train_source_model(const struct dataset *train,
			const struct dataset *test, uint64_t seed,
			struct source_model *model)
{
	struct tail_spec net;
	struct trainer tr;
	double start = now_seconds();

	pixel_stats(train, model);
	build_network(&net, seed);
	trainer_init(&tr, &net, train->n, seed);
	note("training the source model on %ld images: %d epochs of Adam "
	     "with batch %d, lr %g, then %g from epoch %d", train->n, EPOCHS,
	     BATCH, LEARNING_RATE, DECAYED_RATE, DECAY_EPOCH);

	for (int epoch = 1; epoch <= EPOCHS; epoch++) {
		long correct;
		double loss;

		if (epoch == DECAY_EPOCH)
			set_adam(&tr, DECAYED_RATE);
		loss = train_epoch(&tr, model, train, &correct);
		double test_acc = evaluate(tr.net, model, test, tr.x, tr.y);

		note("epoch %d/%d: loss %.4f, train accuracy %.2f%%, "
		     "test accuracy %.2f%% (%.1f s)", epoch, EPOCHS, loss,
		     100.0 * correct / train->n, 100.0 * test_acc,
		     now_seconds() - start);
	}

	tail_store(tr.net, &net);
	trainer_free(&tr);
	split_network(&net, model);
}

void source_model_free(struct source_model *model)
{
	tail_spec_free(&model->tail);
	free(model->extractor.weight);
	free(model->extractor.bias);
	memset(&model->extractor, 0, sizeof(model->extractor));
}

void extract_features(const struct source_model *model, const float *images,
		      long n, float *features)
{
	const struct layer_spec *l = &model->extractor;
	size_t count = (size_t)n * IMAGE_PIXELS;
	float *x = xmalloc(count * sizeof(float));
	float inv_std = 1.0f / model->pixel_std;

	for (size_t i = 0; i < count; i++)
		x[i] = (images[i] - model->pixel_mean) * inv_std;
	for (long r = 0; r < n; r++)
		memcpy(features + r * FEATURE_DIM, l->bias,
		       FEATURE_DIM * sizeof(float));

	/* features = x W^T + b, as the tail's Linear layer computes. */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n,
		    FEATURE_DIM, IMAGE_PIXELS, 1.0f, x, IMAGE_PIXELS,
		    l->weight, IMAGE_PIXELS, 1.0f, features, FEATURE_DIM);
	free(x);
}

double noadapt_accuracy(const struct tail_spec *tail, const float *features,
			const int32_t *labels, long n)
{
	struct tail *t = tail_create(tail, EVAL_BATCH, PARAMS_ALL);
	long correct = 0;

	if (!t)
		die(EXIT_FAILURE_RUN, "the tail library rejected the model "
		    "tail: %s", err_msg());
	for (long start = 0; start < n; start += EVAL_BATCH) {
		int rows = n - start < EVAL_BATCH ?
			(int)(n - start) : EVAL_BATCH;
		const float *logits = tail_forward(t,
			features + start * FEATURE_DIM, rows, BN_RUNNING);

		correct += count_correct(logits, labels + start, rows);
	}
	tail_free(t);
	return (double)correct / (double)n;
}
