/*
 * roofline.c - times dembench's online loop on one task of a feature file
 * and compares it with the roofline: OpenBLAS sgemm timed alone on the
 * matrix products of the same step.  tools/perf/bench.sh ("make
 * bench") runs it on the benchmark's files and writes the table of
 * docs/performance.md.
 *
 * Every figure is the best of --repeat measurements, the usual way to
 * take out other processes' noise on a shared machine.  Output is one
 * line per measurement, KEY=VALUE fields, for scripts to parse.
 */
#include <cblas.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature_file.h"
#include "runner.h"
#include "util.h"

#define MAX_LIST 16

struct options {
	const char *path, *task;
	const char *methods[MAX_LIST];
	int n_methods;
	int threads[MAX_LIST];
	int n_threads;
	int batch_size;
	int repeat;
	double lr;
};

static void usage(FILE *fp)
{
	fputs("usage: roofline FILE.h5 [--task NAME] [--methods M,M...]\n"
	      "                [--threads N,N...] [--batch-size N] [--repeat R]\n"
	      "                [--lr X]\n"
	      "\n"
	      "Times one task of FILE.h5 (the first by default) per method\n"
	      "and OpenBLAS thread count (defaults em,adadem and 1), and\n"
	      "sgemm alone on the step's matrix products.\n", fp);
}

/* Splits a comma-separated list into at most MAX_LIST words. */
static int split(char *text, const char **words)
{
	int n = 0;

	for (char *w = strtok(text, ","); w; w = strtok(NULL, ","))
		if (n < MAX_LIST)
			words[n++] = w;
	return n;
}

static void parse_threads(struct options *o, char *text)
{
	const char *words[MAX_LIST];

	o->n_threads = split(text, words);
	for (int i = 0; i < o->n_threads; i++)
		o->threads[i] = (int)option_whole("threads", words[i], 1,
						  256);
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option options[] = {
		{ "task", required_argument, NULL, 't' },
		{ "methods", required_argument, NULL, 'm' },
		{ "threads", required_argument, NULL, 'j' },
		{ "batch-size", required_argument, NULL, 'b' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "lr", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static char default_methods[] = "em,adadem";
	int c;

	memset(o, 0, sizeof(*o));
	o->n_methods = split(default_methods, o->methods);
	o->threads[o->n_threads++] = 1;
	o->batch_size = 64;
	o->repeat = 3;
	o->lr = 1e-3;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 't')
			o->task = optarg;
		else if (c == 'm')
			o->n_methods = split(optarg, o->methods);
		else if (c == 'j')
			parse_threads(o, optarg);
		else if (c == 'b')
			o->batch_size = (int)option_whole("batch-size", optarg, 2,
						   1 << 16);
		else if (c == 'r')
			o->repeat = (int)option_whole("repeat", optarg, 1, 100);
		else if (c == 'l')
			o->lr = atof(optarg);
		else if (c == 'h')
			usage(stdout), exit(0);
		else
			usage(stderr), exit(2);
	}
	if (optind != argc - 1)
		usage(stderr), exit(2);
	o->path = argv[optind];
}

static float *random_floats(size_t n, struct rng *r)
{
	float *v = xmalloc(n * sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i] = (float)rng_normal(r);
	return v;
}

static void call_gemm(const struct gemm_shape *g, const float *a,
		      const float *b, float *c)
{
	cblas_sgemm(CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans,
		    g->trans_b ? CblasTrans : CblasNoTrans, g->m, g->n, g->k,
		    1, a, g->trans_a ? g->m : g->k, b,
		    g->trans_b ? g->k : g->n, 0, c, g->n);
}

/*
 * Seconds per call of one product: the best of repeat timings of as
 * many calls as last about 0.2 s, after a warm-up call.
 */
static double time_gemm(const struct gemm_shape *g, int repeat)
{
	struct rng r;
	float *a, *b, *c;
	double t0, per_call, best = 1e30;
	long calls;

	rng_seed(&r, 1);
	a = random_floats((size_t)g->m * g->k, &r);
	b = random_floats((size_t)g->k * g->n, &r);
	c = random_floats((size_t)g->m * g->n, &r);
	call_gemm(g, a, b, c);
	t0 = now_seconds();
	call_gemm(g, a, b, c);
	per_call = now_seconds() - t0;
	calls = per_call > 0.2 ? 1 : (long)(0.2 / (per_call + 1e-9)) + 1;
	for (int i = 0; i < repeat; i++) {
		t0 = now_seconds();
		for (long k = 0; k < calls; k++)
			call_gemm(g, a, b, c);
		per_call = (now_seconds() - t0) / (double)calls;
		best = per_call < best ? per_call : best;
	}
	free(a);
	free(b);
	free(c);
	return best;
}

/*
 * Times the step's products alone and prints them; returns the seconds
 * of one step's products and their floating-point operations in flops.
 */
static double roofline_step(struct features *f, const struct method *m,
			    const struct options *o, int threads,
			    double *flops)
{
	struct tail *t = tail_create(&f->model, o->batch_size,
				     PARAMS_BATCHNORM);
	struct gemm_shape *shapes = xmalloc(3 * (size_t)t->n_layers *
					    sizeof(*shapes));
	int n = tail_gemms(t, o->batch_size, m->adapts, shapes);
	double total = 0;

	*flops = 0;
	for (int i = 0; i < n; i++) {
		const struct gemm_shape *g = &shapes[i];
		double s = time_gemm(g, o->repeat);
		double fl = 2.0 * g->m * g->n * g->k;

		printf("gemm method=%s threads=%d op=%c%c m=%d n=%d k=%d "
		       "seconds=%.6g gflops=%.2f\n", m->name, threads,
		       g->trans_a ? 'T' : 'N', g->trans_b ? 'T' : 'N', g->m,
		       g->n, g->k, s, fl / s * 1e-9);
		total += s;
		*flops += fl;
	}
	free(shapes);
	tail_free(t);
	return total;
}

/* Seconds to read task t, the best of repeat reads. */
static double time_load(struct features *f, int t, int repeat)
{
	double best = 1e30;

	for (int i = 0; i < repeat; i++) {
		double t0 = now_seconds(), s;
		float *x;
		int32_t *y;

		if (features_load_task(f, t, &x, &y))
			die(1, "%s", err_msg());
		s = now_seconds() - t0;
		best = s < best ? s : best;
		free(x);
		free(y);
	}
	return best;
}

/* When the first and the last batch of a run were scored. */
struct loop_clock {
	double first, last;
	long batches;
};

static void tick(void *ctx, int task, const int32_t *rows,
		 const int32_t *labels, const real *out, int batch,
		 int classes)
{
	struct loop_clock *clock = ctx;

	(void)task, (void)rows, (void)labels, (void)out, (void)batch;
	(void)classes;
	clock->last = now_seconds();
	if (clock->batches++ == 0)
		clock->first = clock->last;
}

/*
 * Runs m over task t repeat times.  Returns the best seconds per step of
 * the online loop: between the first batch's scoring and the last's lie
 * whole steps (adapt, then gather, forward and score the next batch),
 * so reading the task and setting up are left out.  run gets the best
 * time of a whole run, reading included.
 */
static double time_steps(struct features *f, int t, const struct method *m,
			 const struct options *o, long *samples, double *run)
{
	struct loop_clock clock;
	struct run_hooks hooks = { .scored = tick, .ctx = &clock };
	struct run_config c = { .method = m, .params = PARAMS_BATCHNORM,
		.protocol = PROTOCOL_SINGLE, .batch_size = o->batch_size,
		.seed = 1, .n_tasks = 1, .tasks = &t, .hooks = &hooks };
	struct task_result r;
	double best = 1e30;

	method_defaults(m, c.tunables);
	optim_defaults(&c.optim);
	c.optim.lr = o->lr;
	*run = 1e30;
	for (int i = 0; i < o->repeat; i++) {
		double t0 = now_seconds(), step;

		memset(&clock, 0, sizeof(clock));
		if (run_execute(f, &c, &r))
			die(1, "%s", err_msg());
		*run = fmin(*run, now_seconds() - t0);
		step = (clock.last - clock.first) / (double)(clock.batches - 1);
		best = fmin(best, step);
		*samples = r.n;
		if (r.diverged_batch)
			warn("%s diverged at batch %ld; lower --lr", m->name,
			     r.diverged_batch);
		task_results_free(&r, 1);
	}
	return best;
}

static void measure(struct features *f, int t, const struct method *m,
		    const struct options *o, int threads)
{
	double flops, roof, load, run, step;
	long samples = 0;

	openblas_set_num_threads(threads);
	roof = roofline_step(f, m, o, threads, &flops);
	load = time_load(f, t, o->repeat);
	step = time_steps(f, t, m, o, &samples, &run);
	printf("run method=%s threads=%d batch=%d samples=%ld "
	       "seconds=%.4f load_seconds=%.4f step_seconds=%.6g "
	       "samples_per_s=%.1f gemm_flop_per_sample=%.0f gflops=%.2f "
	       "roofline_samples_per_s=%.1f of_roofline=%.3f\n", m->name,
	       threads, o->batch_size, samples, run, load, step,
	       o->batch_size / step, flops / o->batch_size,
	       flops / step * 1e-9, o->batch_size / roof, roof / step);
	fflush(stdout);
}

/* Bytes of the model's arrays, as float32 in the feature file. */
static double model_bytes(const struct tail_spec *m)
{
	double floats = 0;

	for (int i = 0; i < m->n_layers; i++) {
		const struct layer_spec *l = &m->layers[i];

		if (l->kind == LAYER_LINEAR)
			floats += (double)l->out * l->in + l->out;
		else if (l->kind == LAYER_BATCHNORM)
			floats += 4.0 * l->in;
		else if (l->kind == LAYER_BIAS)
			floats += l->out;
	}
	return floats * sizeof(float);
}

int main(int argc, char **argv)
{
	struct options o;
	struct features *f;
	int t = 0;

	set_program_name("roofline");
	parse_options(argc, argv, &o);
	f = features_open(o.path);
	if (!f)
		die(3, "%s", err_msg());
	if (o.task && (t = features_find_task(f, o.task)) < 0)
		die(3, "%s: no task '%s'", o.path, o.task);
	printf("file path=%s task=%s samples=%ld dim=%d classes=%d "
	       "task_bytes=%.0f model_bytes=%.0f\n", o.path,
	       f->tasks[t].name, f->tasks[t].n, f->dim, f->n_classes,
	       (double)f->tasks[t].n * (f->dim + 1) * sizeof(float),
	       model_bytes(&f->model));
	for (int i = 0; i < o.n_methods; i++) {
		const struct method *m = method_find(o.methods[i]);

		if (!m)
			die(2, "unknown method '%s'", o.methods[i]);
		for (int j = 0; j < o.n_threads; j++)
			measure(f, t, m, &o, o.threads[j]);
	}
	features_close(f);
	return 0;
}
