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
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corrupt.h"
#include "fmnist.h"
#include "idx.h"
#include "train.h"
#include "writer.h"

#define DEFAULT_SOURCE "/usr/share/datasets/fashion-mnist"
#define N_TRAIN 60000
#define N_TEST 10000

static const char usage_text[] =
	"usage: fmnist-c --out PATH [--severities LIST] [--seed N] "
	"[--source DIR]\n"
	"\n"
	"Builds the Fashion-MNIST-C feature file for dembench: trains the "
	"source\n"
	"model on the clean training images, corrupts the test images with "
	"15\n"
	"corruptions and stores each task's 256 features per image with the\n"
	"model tail.  Progress and the NoAdapt accuracy of every task go to\n"
	"stderr.\n"
	"\n"
	"  --out PATH         HDF5 file to write (required); missing folders "
	"are\n"
	"                     created\n"
	"  --severities LIST  severities to build, 1..5, separated by spaces "
	"or\n"
	"                     commas (default \"5\")\n"
	"  --seed N           seed of the training and of every corruption, "
	"an\n"
	"                     unsigned integer (default 1)\n"
	"  --source DIR       folder with the Fashion-MNIST IDX files\n"
	"                     (default " DEFAULT_SOURCE ")\n"
	"  --help             print this help and exit\n";

static char *class_names[N_CLASSES] = {
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"
};

struct options {
	const char *out;
	const char *source;
	uint64_t seed;
	int n_severities;
	int severities[MAX_SEVERITY];	/* ascending, no repeats */
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

NORETURN static void usage_error(const char *fmt, ...) PRINTF_LIKE(1, 2);

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("fmnist-c: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	fputs(usage_text, stderr);
	exit(EXIT_USAGE);
}

/* Parses "1 2 3", "1,2,3" or "5" into ascending severities. */
static void parse_severities(const char *list, struct options *opt)
{
	int seen[MAX_SEVERITY + 1] = { 0 };
	const char *p = list;

	while (*p) {
		char *end;
		long s;

		if (*p == ' ' || *p == ',' || *p == '\t') {
			p++;
			continue;
		}
		errno = 0;
		s = strtol(p, &end, 10);
		if (end == p || errno || s < 1 || s > MAX_SEVERITY ||
		    (*end && !strchr(" ,\t", *end)))
			usage_error("invalid --severities \"%s\": expected "
				    "numbers 1..%d separated by spaces or "
				    "commas, such as \"1 2 3 4 5\"", list,
				    MAX_SEVERITY);
		if (seen[s])
			usage_error("invalid --severities \"%s\": severity "
				    "%ld is listed twice", list, s);
		seen[s] = 1;
		p = end;
	}

	opt->n_severities = 0;
	for (int s = 1; s <= MAX_SEVERITY; s++)
		if (seen[s])
			opt->severities[opt->n_severities++] = s;
	if (!opt->n_severities)
		usage_error("invalid --severities \"%s\": the list is empty; "
			    "give at least one of 1..%d", list, MAX_SEVERITY);
}

static uint64_t parse_seed(const char *text)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (end == text || *end || errno || strchr(text, '-'))
		usage_error("invalid --seed \"%s\": expected an unsigned "
			    "integer such as 1", text);
	return (uint64_t)v;
}

static void parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "severities", required_argument, NULL, 'v' },
		{ "seed", required_argument, NULL, 's' },
		{ "source", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	opt->source = DEFAULT_SOURCE;
	opt->seed = 1;
	parse_severities("5", opt);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			opt->out = optarg;
			break;
		case 'v':
			parse_severities(optarg, opt);
			break;
		case 's':
			opt->seed = parse_seed(optarg);
			break;
		case 'd':
			opt->source = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(EXIT_OK);
		default:
			usage_error("invalid option or missing value: %s",
				    argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument \"%s\"", argv[optind]);
	if (!opt->out || !*opt->out)
		usage_error("missing --out PATH, the HDF5 file to write");
}

/* Creates the folder that will hold path, if it has one. */
static void make_parent_dir(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		fail(EXIT_USAGE, "--out %s is a directory; give the path of "
		     "the .h5 file to write", path);
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir) != 0)
			fail(EXIT_FAILURE_RUN, "%s; check the --out path",
			     err_msg());
	}
	free(dir);
}

/*
 * Creates the output folder and checks that it is writable, so that a
 * bad --out fails before the training rather than after it.
 */
static void check_output_path(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');

	make_parent_dir(path);
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (access(dir, W_OK) != 0)
		fail(EXIT_FAILURE_RUN, "cannot write to the folder %s of --out "
		     "%s: %s", dir, path, strerror(errno));
	free(dir);
}

NORETURN static void write_failed(struct build *b)
{
	char *msg = xstrdup(err_msg());

	features_writer_abort(b->writer);
	fail(EXIT_FAILURE_RUN, "writing %s failed: %s", b->opt.out, msg);
}

/* Stops between tasks on SIGINT or SIGTERM, removing the partial file. */
static void check_interrupted(struct build *b)
{
	if (!stop_signal)
		return;
	features_writer_abort(b->writer);
	fail(EXIT_INTERRUPTED, "interrupted by signal %d; removed the "
	     "partial output, %s was not written", (int)stop_signal,
	     b->opt.out);
}

static void open_output(struct build *b)
{
	char *description = xasprintf("Fashion-MNIST-C: features of the "
		"10,000 Fashion-MNIST test images, clean and under 15 "
		"corruptions, built by fmnist-c with seed %llu",
		(unsigned long long)b->opt.seed);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	b->writer = features_writer_create(b->opt.out, description);
	free(description);
	if (!b->writer)
		fail(EXIT_FAILURE_RUN, "cannot create %s: %s", b->opt.out,
		     err_msg());
	if (features_writer_classes(b->writer, class_names, N_CLASSES) ||
	    features_writer_model(b->writer, &b->model.tail))
		write_failed(b);
}

/*
 * Builds, writes and scores one task; c is NULL for the clean task,
 * whose attributes are corruption "none" and severity 0.
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
	char list[4 * MAX_SEVERITY + 1] = "";

	for (int s = 0; s < opt->n_severities; s++)
		sprintf(list + strlen(list), "%s%d", s ? " " : "",
			opt->severities[s]);
	note("building %s: seed %llu, severities \"%s\", source %s",
	     opt->out, (unsigned long long)opt->seed, list, opt->source);
}

int main(int argc, char **argv)
{
	struct build b = { 0 };
	struct dataset train = { 0 };
	double start = now_seconds();

	parse_options(argc, argv, &b.opt);
	print_config(&b.opt);

	/* With one BLAS thread the summation order of sgemm, and so every
	 * stored number, does not depend on the number of cores; the small
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
		fail(EXIT_FAILURE_RUN, "writing %s failed: %s", b.opt.out,
		     err_msg());

	print_summary(&b, now_seconds() - start);
	free_build(&b);
	return EXIT_OK;
}
