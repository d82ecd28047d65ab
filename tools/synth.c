/*
 * synth - writes a synthetic dembench feature file with a known shift.
 *
 * Class k has a random mean mu_k in R^D; a source sample is
 * mu_y + N(0, I).  The tail is BatchNorm(D) with the source statistics,
 * optionally ReLU and a hidden Linear, then a Linear classifier whose
 * weights are the normalised class means, so the source model is a
 * nearest-mean classifier.  Task t (of K) adds a random offset of norm
 * shift * t / K to every sample and scales it by 1 + t / K, a covariate
 * shift that BatchNorm adaptation can undo.  Used by the tests, the
 * smoke suite and the benchmarks.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "writer.h"

struct synth {
	const char *out;
	long n;
	int dim, classes, tasks, logits;
	double shift;
	uint64_t seed;
};

static void usage(FILE *fp)
{
	fputs("usage: synth --out FILE [--n N] [--dim D] [--classes C]\n"
	      "             [--tasks K] [--shift S] [--seed N] [--logits]\n"
	      "\n"
	      "Writes K + 1 tasks (clean, shift_1 .. shift_K) of N samples,\n"
	      "D features and C classes (defaults 2000, 32, 10, 3, 8.0, 1).\n"
	      "--logits stores the source model's logits instead of\n"
	      "features and a tail.\n", fp);
}

static float *alloc_floats(size_t n)
{
	return xcalloc(n, sizeof(float));
}

/* Per-feature mean and variance of the source distribution. */
static void source_stats(const struct synth *s, const double *mu,
			 float *mean, float *var)
{
	for (int j = 0; j < s->dim; j++) {
		double m = 0, sq = 0;

		for (int k = 0; k < s->classes; k++)
			m += mu[k * s->dim + j] / s->classes;
		for (int k = 0; k < s->classes; k++)
			sq += pow(mu[k * s->dim + j] - m, 2) / s->classes;
		mean[j] = (float)m;
		var[j] = (float)(sq + 1.0);
	}
}

/* BatchNorm with the source statistics, then the nearest-mean layer. */
static void make_model(const struct synth *s, const double *mu,
		       struct tail_spec *spec)
{
	struct layer_spec *bn, *lin;
	int d = s->dim, c = s->classes;

	spec->n_layers = 2;
	spec->layers = xcalloc(2, sizeof(*spec->layers));
	bn = &spec->layers[0];
	lin = &spec->layers[1];
	*bn = (struct layer_spec){ LAYER_BATCHNORM, d, d, alloc_floats(d),
		alloc_floats(d), alloc_floats(d), alloc_floats(d), 1e-5 };
	*lin = (struct layer_spec){ .kind = LAYER_LINEAR, .in = d, .out = c,
		.weight = alloc_floats((size_t)d * c),
		.bias = alloc_floats(c) };
	source_stats(s, mu, bn->running_mean, bn->running_var);
	for (int j = 0; j < d; j++)
		bn->weight[j] = 1;
	for (int k = 0; k < c; k++) {
		double sq = 0;

		for (int j = 0; j < d; j++) {
			double w = (mu[k * d + j] - bn->running_mean[j]) /
				   sqrt(bn->running_var[j]);

			lin->weight[k * d + j] = (float)w;
			sq += w * w;
		}
		lin->bias[k] = (float)(-sq / 2);
	}
}

/* Samples task t: shifted, scaled class-conditional Gaussians. */
static void make_task(const struct synth *s, const double *mu, int t,
		      float *x, int32_t *y)
{
	struct rng r;
	double *offset = xcalloc((size_t)s->dim, sizeof(double)), norm = 0;
	double scale = 1.0 + (double)t / s->tasks;

	rng_seed(&r, s->seed * 1000003 + (uint64_t)t);
	for (int j = 0; j < s->dim; j++) {
		offset[j] = rng_normal(&r);
		norm += offset[j] * offset[j];
	}
	for (int j = 0; j < s->dim; j++)
		offset[j] *= s->shift * t / s->tasks / sqrt(norm);
	for (long n = 0; n < s->n; n++) {
		y[n] = (int32_t)rng_below(&r, (uint64_t)s->classes);
		for (int j = 0; j < s->dim; j++)
			x[n * s->dim + j] = (float)(scale *
				(mu[y[n] * s->dim + j] + rng_normal(&r)) +
				offset[j]);
	}
	free(offset);
}

static int write_task(struct features_writer *w, const struct synth *s,
		      struct tail *model, int t, const float *x,
		      const int32_t *y)
{
	char name[32], corruption[32];
	const float *values = x;
	int dim = s->dim;

	snprintf(name, sizeof(name), t ? "shift_%d" : "clean", t);
	snprintf(corruption, sizeof(corruption), t ? "shift" : "none");
	if (s->logits) {
		float *z = alloc_floats((size_t)s->n * s->classes);

		for (long n = 0; n < s->n; n += model->max_batch) {
			int b = (int)(s->n - n < model->max_batch ?
				      s->n - n : model->max_batch);
			const float *out = tail_forward(model,
				x + n * s->dim, b, BN_RUNNING);

			memcpy(z + n * s->classes, out,
			       (size_t)b * s->classes * sizeof(float));
		}
		values = z;
		dim = s->classes;
	}
	int rc = features_writer_task(w, name, values, y, s->n, dim,
				      s->logits, corruption, t);

	if (values != x)
		free((float *)values);
	return rc;
}

static int synthesize(const struct synth *s)
{
	struct features_writer *w;
	struct tail_spec spec;
	struct tail *model;
	struct rng r;
	double *mu = xmalloc((size_t)s->classes * s->dim * sizeof(double));
	double spread = 3.0 / sqrt(2.0 * s->dim);
	float *x = alloc_floats((size_t)s->n * s->dim);
	int32_t *y = xcalloc((size_t)s->n, sizeof(int32_t));
	int rc = 0;

	rng_seed(&r, s->seed);
	for (int i = 0; i < s->classes * s->dim; i++)
		mu[i] = spread * rng_normal(&r);
	make_model(s, mu, &spec);
	model = tail_create(&spec, 256, PARAMS_BATCHNORM);
	w = features_writer_create(s->out, "synthetic shifted Gaussians");
	if (!w || (!s->logits && features_writer_model(w, &spec)))
		rc = -1;
	for (int t = 0; !rc && t <= s->tasks; t++) {
		make_task(s, mu, t, x, y);
		rc = write_task(w, s, model, t, x, y);
	}
	if (rc && w)
		features_writer_abort(w);
	else if (!rc)
		rc = features_writer_close(w);
	tail_free(model);
	tail_spec_free(&spec);
	free(mu);
	free(x);
	free(y);
	return rc;
}

static long parse_count(const char *opt, const char *text, long max)
{
	char *end;
	long v = strtol(text, &end, 10);

	if (!*text || *end || v < 1 || v > max)
		die(EXIT_USAGE, "%s: invalid value '%s'; expected a whole "
		    "number from 1 to %ld", opt, text, max);
	return v;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "n", required_argument, NULL, 'n' },
		{ "dim", required_argument, NULL, 'd' },
		{ "classes", required_argument, NULL, 'c' },
		{ "tasks", required_argument, NULL, 't' },
		{ "shift", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'r' },
		{ "logits", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct synth s = { NULL, 2000, 32, 10, 3, 0, 8.0, 1 };
	int c;

	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'o': s.out = optarg; break;
		case 'n': s.n = parse_count("--n", optarg, 1L << 30); break;
		case 'd': s.dim = (int)parse_count("--dim", optarg, 65536); break;
		case 'c': s.classes = (int)parse_count("--classes", optarg,
						       65536); break;
		case 't': s.tasks = (int)parse_count("--tasks", optarg, 1000);
			break;
		case 's': s.shift = atof(optarg); break;
		case 'r': s.seed = (uint64_t)parse_count("--seed", optarg,
							 1L << 62); break;
		case 'l': s.logits = 1; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (!s.out || optind != argc || s.classes < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (synthesize(&s))
		die(EXIT_FAILURE_RUN, "%s", err_msg());
	return EXIT_OK;
}
