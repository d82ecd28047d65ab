/*
 * main.c - fmnist-c builds the Fashion-MNIST-C feature file.
 *
 * It trains the source model on the 60,000 clean training images,
 * corrupts the 10,000 test images with each corruption at each chosen
 * severity, and writes the frozen extractor's features of every task
 * with the model tail, in dembench's HDF5 format.  docs/fmnist-c.md
 * describes the data set.
 */
#include <cblas.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "corrupt.h"
#include "fmnist.h"
#include "idx.h"
#include "options.h"
#include "train.h"
#include "writer.h"

#define N_TRAIN 60000
#define N_TEST 10000

static char *class_names[N_CLASSES] = {
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"
};

/* The NoAdapt accuracy of one written task, for the closing summary. */
struct task_result {
	char *name;
	int severity;		/* 0 for the clean task */
	double accuracy;
};

struct build {
	struct options opt;
	struct dataset test;
	struct source_model model;
	struct features_writer *writer;
	float *images;		/* [N_TEST x 784] the task's images */
	float *features;	/* [N_TEST x 256] */
	int n_results;
	struct task_result *results;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

NORETURN static void write_failed(struct build *b)
{
	char *msg = xstrdup(err_msg());

	features_writer_abort(b->writer);
	die(EXIT_FAILURE_RUN, "writing %s failed: %s", b->opt.out, msg);
}

/* Stops between tasks on SIGINT or SIGTERM, removing the partial file. */
static void check_interrupted(struct build *b)
{
	if (!stop_signal)
		return;
	features_writer_abort(b->writer);
	die(EXIT_INTERRUPTED, "interrupted by signal %d; removed the "
	    "partial output, %s was not written", (int)stop_signal,
	    b->opt.out);
}

/* Writes the severities as "1 2 5" into list [4 * MAX_SEVERITY]. */
static void format_severities(const struct options *opt, char *list)
{
	list[0] = '\0';
	for (int s = 0; s < opt->n_severities; s++)
		sprintf(list + strlen(list), "%s%d", s ? " " : "",
			opt->severities[s]);
}

static void open_output(struct build *b)
{
	char list[4 * MAX_SEVERITY];
	char *description;

	format_severities(&b->opt, list);
	description = xasprintf("Fashion-MNIST-C: features of the %d "
		"Fashion-MNIST test images, clean and under %d corruptions "
		"at severities %s, built by fmnist-c with seed %llu", N_TEST,
		n_corruptions, list, (unsigned long long)b->opt.seed);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	b->writer = features_writer_create(b->opt.out, description);
	free(description);
	if (!b->writer)
		die(EXIT_FAILURE_RUN, "cannot create %s: %s", b->opt.out,
		    err_msg());
	if (features_writer_classes(b->writer, class_names, N_CLASSES) ||
	    features_writer_model(b->writer, &b->model.tail))
		write_failed(b);
}

/*
 * Builds, writes and scores one task.  The corruption c is NULL for the
 * clean task, whose attributes are corruption "none" and severity 0.
 */
static void build_task(struct build *b, const struct corruption *c,
		       int severity, int total)
{
	double start = now_seconds();
	struct task_result *r = &b->results[b->n_results];
	const char *corruption = c ? c->name : "none";

	check_interrupted(b);
	r->name = c ? xasprintf("%s_%d", c->name, severity) :
		xstrdup("clean");
	r->severity = severity;

	memcpy(b->images, b->test.images,
	       (size_t)N_TEST * IMAGE_PIXELS * sizeof(float));
	if (c)
		corrupt_images(c, severity, b->opt.seed, b->images, N_TEST);
	extract_features(&b->model, b->images, N_TEST, b->features);
	if (features_writer_task(b->writer, r->name, b->features,
				 b->test.labels, N_TEST, FEATURE_DIM, 0,
				 corruption, severity))
		write_failed(b);

	r->accuracy = noadapt_accuracy(&b->model.tail, b->features,
				       b->test.labels, N_TEST);
	b->n_results++;
	note("task %d/%d %s: NoAdapt accuracy %.2f%% (%.1f s)",
	     b->n_results, total, r->name, 100.0 * r->accuracy,
	     now_seconds() - start);
}

/* Clean first, then severity-major: every corruption at each level. */
static void build_tasks(struct build *b)
{
	int total = 1 + b->opt.n_severities * n_corruptions;

	b->results = xcalloc((size_t)total, sizeof(struct task_result));
	b->images = xmalloc((size_t)N_TEST * IMAGE_PIXELS * sizeof(float));
	b->features = xmalloc((size_t)N_TEST * FEATURE_DIM * sizeof(float));

	build_task(b, NULL, 0, total);
	for (int s = 0; s < b->opt.n_severities; s++)
		for (int i = 0; i < n_corruptions; i++)
			build_task(b, &corruptions[i], b->opt.severities[s],
				   total);
	check_interrupted(b);
}

static void print_summary(const struct build *b, double seconds)
{
	double clean = b->results[0].accuracy;
	struct stat st;

	note("NoAdapt accuracy, BatchNorm on running statistics:");
	for (int i = 0; i < b->n_results; i++)
		note("  %-22s %6.2f%%", b->results[i].name,
		     100.0 * b->results[i].accuracy);

	note("clean: %.2f%%", 100.0 * clean);
	for (int s = 0; s < b->opt.n_severities; s++) {
		int severity = b->opt.severities[s];
		double sum = 0;

		for (int i = 1; i < b->n_results; i++)
			if (b->results[i].severity == severity)
				sum += b->results[i].accuracy;
		sum /= n_corruptions;
		note("mean over the %d corruptions at severity %d: %.2f%% "
		     "(%.2f points below clean)", n_corruptions, severity,
		     100.0 * sum, 100.0 * (clean - sum));
	}

	if (stat(b->opt.out, &st) == 0)
		note("wrote %s (%.1f MB) in %.1f s", b->opt.out,
		     (double)st.st_size / 1e6, seconds);
}

static void free_build(struct build *b)
{
	for (int i = 0; i < b->n_results; i++)
		free(b->results[i].name);
	free(b->results);
	free(b->images);
	free(b->features);
	dataset_free(&b->test);
	source_model_free(&b->model);
}

static void print_config(const struct options *opt)
{
	char list[4 * MAX_SEVERITY];

	format_severities(opt, list);
	note("building %s: seed %llu, severities \"%s\", source %s",
	     opt->out, (unsigned long long)opt->seed, list, opt->source);
}

int main(int argc, char **argv)
{
	struct build b = { 0 };
	struct dataset train = { 0 };
	double start = now_seconds();

	set_program_name("fmnist-c");
	parse_options(argc, argv, &b.opt);
	print_config(&b.opt);

	/* With one BLAS thread, the summation order of sgemm and so every
	 * stored number do not depend on the number of cores.  The small
	 * products of training gain little from more threads. */
	openblas_set_num_threads(1);
	check_output_path(b.opt.out);

	idx_load(b.opt.source, "train-images-idx3-ubyte.gz",
		 "train-labels-idx1-ubyte.gz", N_TRAIN, &train);
	idx_load(b.opt.source, "t10k-images-idx3-ubyte.gz",
		 "t10k-labels-idx1-ubyte.gz", N_TEST, &b.test);

	train_source_model(&train, &b.test, b.opt.seed, &b.model);
	dataset_free(&train);

	open_output(&b);
	build_tasks(&b);
	if (features_writer_close(b.writer) != 0)
		die(EXIT_FAILURE_RUN, "writing %s failed: %s", b.opt.out,
		    err_msg());

	print_summary(&b, now_seconds() - start);
	free_build(&b);
	return EXIT_OK;
}
