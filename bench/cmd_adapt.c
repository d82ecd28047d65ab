/*
 * cmd_adapt.c - "dembench adapt": one run on a feature file, outside
 * any suite.  It prints the online accuracy per task, and can write the
 * prediction of every sample and the adapted model, so that other
 * implementations (tools/perf/torch_reference.py, the export test) can
 * be compared with dembench sample by sample and parameter by
 * parameter.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "feature_file.h"
#include "runner.h"
#include "util.h"
#include "writer.h"

#define MAX_SETS 64

struct adapt_args {
	const char *path, *method_name;
	const char *predictions, *save_model;
	char **tasks;		/* --task names, NULL: every task */
	int n_tasks;
	char *sets[MAX_SETS];
	int n_sets;
	struct run_config c;
};

static const char usage_text[] =
	"usage: dembench adapt FILE.h5 METHOD [options]\n"
	"\n"
	"Streams tasks of FILE.h5 through METHOD once and prints the online\n"
	"accuracy of each task.\n"
	"\n"
	"  --task NAME          a task to stream (repeat; default: all)\n"
	"  --protocol P         single (reset per task, default) or continual\n"
	"  --set NAME=VALUE     a tunable of the method\n"
	"  --lr X               learning rate (default 0.001)\n"
	"  --batch-size N       samples per batch (default 64)\n"
	"  --optimizer O        sgd (default) or adam\n"
	"  --momentum X         SGD momentum (default 0)\n"
	"  --nesterov           Nesterov momentum\n"
	"  --weight-decay X     L2 weight decay (default 0)\n"
	"  --params P           batchnorm (default), linear or all\n"
	"  --seed N             stream order seed (default 1)\n"
	"  --steps N            stop each task after N batches\n"
	"  --predictions FILE   write task,batch,row,label,predicted as CSV\n"
	"  --save-model FILE    write the adapted model as HDF5\n";

static void usage(FILE *fp)
{
	fputs(usage_text, fp);
}

static NORETURN void bad_value(const char *option, const char *text,
			       const char *expected)
{
	die(EXIT_USAGE, "--%s: invalid value '%s'; expected %s", option,
	    text, expected);
}

static double number(const char *option, const char *text, double min,
		     double max)
{
	char *end;
	double v = strtod(text, &end);

	if (!*text || *end || !isfinite(v) || v < min || v > max) {
		char *expected = xasprintf("a number from %g to %g", min, max);

		bad_value(option, text, expected);
	}
	return v;
}

/* Parses a keyword option with its parser (-1 for an unknown word). */
static int keyword(const char *option, const char *text,
		   int (*parse)(const char *), const char *expected)
{
	int v = parse(text);

	if (v < 0)
		bad_value(option, text, expected);
	return v;
}

static int protocol_no_gradual(const char *text)
{
	int p = protocol_parse(text);

	return p == PROTOCOL_GRADUAL ? -1 : p;
}

enum {
	OPT_TASK = 256, OPT_PROTOCOL, OPT_SET, OPT_LR, OPT_BATCH,
	OPT_OPTIMIZER, OPT_MOMENTUM, OPT_NESTEROV, OPT_DECAY, OPT_PARAMS,
	OPT_SEED, OPT_STEPS, OPT_PREDICTIONS, OPT_SAVE, OPT_HELP
};

static const struct option options[] = {
	{ "task", required_argument, NULL, OPT_TASK },
	{ "protocol", required_argument, NULL, OPT_PROTOCOL },
	{ "set", required_argument, NULL, OPT_SET },
	{ "lr", required_argument, NULL, OPT_LR },
	{ "batch-size", required_argument, NULL, OPT_BATCH },
	{ "optimizer", required_argument, NULL, OPT_OPTIMIZER },
	{ "momentum", required_argument, NULL, OPT_MOMENTUM },
	{ "nesterov", no_argument, NULL, OPT_NESTEROV },
	{ "weight-decay", required_argument, NULL, OPT_DECAY },
	{ "params", required_argument, NULL, OPT_PARAMS },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "steps", required_argument, NULL, OPT_STEPS },
	{ "predictions", required_argument, NULL, OPT_PREDICTIONS },
	{ "save-model", required_argument, NULL, OPT_SAVE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 }
};

/* Applies one option to a; returns 0, or -1 for an unknown option. */
static int apply_option(struct adapt_args *a, int opt, const char *v,
			struct run_hooks *hooks)
{
	struct run_config *c = &a->c;

	switch (opt) {
	case OPT_TASK:
		a->tasks = xrealloc(a->tasks, (size_t)(a->n_tasks + 1) *
				    sizeof(*a->tasks));
		a->tasks[a->n_tasks++] = (char *)v;
		return 0;
	case OPT_PROTOCOL:
		c->protocol = keyword("protocol", v, protocol_no_gradual,
				      "single or continual (gradual needs a "
				      "suite)");
		return 0;
	case OPT_SET:
		if (a->n_sets == MAX_SETS)
			bad_value("set", v, "at most 64 --set options");
		a->sets[a->n_sets++] = (char *)v;
		return 0;
	case OPT_LR:
		c->optim.lr = number("lr", v, 1e-12, 1e6);
		return 0;
	case OPT_BATCH:
		c->batch_size = (int)option_whole("batch-size", v, 2,
						  1 << 20);
		return 0;
	case OPT_OPTIMIZER:
		c->optim.kind = keyword("optimizer", v, optim_kind_parse,
					"sgd or adam");
		return 0;
	case OPT_MOMENTUM:
		c->optim.momentum = number("momentum", v, 0, 0.999999);
		return 0;
	case OPT_NESTEROV:
		c->optim.nesterov = 1;
		return 0;
	case OPT_DECAY:
		c->optim.weight_decay = number("weight-decay", v, 0, 1);
		return 0;
	case OPT_PARAMS:
		c->params = keyword("params", v, param_set_parse,
				    "batchnorm, linear or all");
		return 0;
	case OPT_SEED:
		c->seed = (uint64_t)option_whole("seed", v, 0, 1L << 53);
		return 0;
	case OPT_STEPS:
		hooks->max_batches = option_whole("steps", v, 1, 1L << 40);
		return 0;
	case OPT_PREDICTIONS:
		a->predictions = v;
		return 0;
	case OPT_SAVE:
		a->save_model = v;
		return 0;
	}
	return -1;
}

/* Parses the command line into a; returns an exit code, or -1 to go on. */
static int parse_args(int argc, char **argv, struct adapt_args *a,
		      struct run_hooks *hooks)
{
	int opt;

	memset(a, 0, sizeof(*a));
	optim_defaults(&a->c.optim);
	a->c.batch_size = 64;
	a->c.params = PARAMS_BATCHNORM;
	a->c.protocol = PROTOCOL_SINGLE;
	a->c.seed = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == OPT_HELP)
			return usage(stdout), EXIT_OK;
		if (apply_option(a, opt, optarg, hooks))
			return usage(stderr), EXIT_USAGE;
	}
	if (optind != argc - 2)
		return usage(stderr), EXIT_USAGE;
	a->path = argv[optind];
	a->method_name = argv[optind + 1];
	a->c.method = method_find(a->method_name);
	if (!a->c.method)
		die(EXIT_USAGE, "unknown method '%s'; 'dembench methods' "
		    "lists them", a->method_name);
	method_defaults(a->c.method, a->c.tunables);
	for (int i = 0; i < a->n_sets; i++)
		if (method_set_tunable(a->c.method, a->sets[i],
				       a->c.tunables))
			die(EXIT_USAGE, "--set: %s", err_msg());
	return -1;
}

/* Writes every scored sample as a CSV row, for the scored() hook. */
struct prediction_log {
	struct atomic_file af;
	const struct features *f;
	int task;
	long batch;		/* within the task, 1-based */
};

static void log_batch(void *ctx, int task, const int32_t *rows,
		      const int32_t *labels, const real *out, int batch,
		      int classes)
{
	struct prediction_log *log = ctx;

	if (task != log->task) {
		log->task = task;
		log->batch = 0;
	}
	log->batch++;
	for (int n = 0; n < batch; n++) {
		const real *z = out + (size_t)n * classes;
		int best = 0;

		for (int i = 1; i < classes; i++)
			if (z[i] > z[best])
				best = i;
		fprintf(log->af.fp, "%s,%ld,%d,%d,%d\n",
			log->f->tasks[task].name, log->batch, rows[n],
			labels[rows[n]], best);
	}
}

/* Checks the values of the tasks to stream, in the probe process. */
static int check_named_tasks(struct features *f, void *ctx)
{
	const struct adapt_args *a = ctx;

	if (!a->n_tasks)
		return features_check_all(f, NULL);
	for (int i = 0; i < a->n_tasks; i++) {
		int t = features_find_task(f, a->tasks[i]);

		if (t < 0) {
			err_set("%s: no task '%s'; 'dembench inspect %s' "
				"lists the tasks", f->path, a->tasks[i],
				f->path);
			return -1;
		}
		if (features_check_task(f, t))
			return -1;
	}
	return 0;
}

/*
 * Opens path once the probe has checked it and the tasks to stream;
 * exits with a message otherwise.
 */
static struct features *open_checked(const struct adapt_args *a)
{
	struct features *f;

	if (!path_exists(a->path))
		die(EXIT_INPUT, "%s: no such feature file", a->path);
	if (features_probe(a->path, check_named_tasks, (void *)a) < 1)
		die(EXIT_INPUT, "%s", err_msg());
	f = features_open(a->path);
	if (!f)
		die(EXIT_INPUT, "%s", err_msg());
	return f;
}

/* Resolves the --task names into c->tasks, or every task without any. */
static void resolve_tasks(struct adapt_args *a, struct features *f,
			  int *indices)
{
	a->c.n_tasks = a->n_tasks ? a->n_tasks : f->n_tasks;
	for (int i = 0; i < a->c.n_tasks; i++)
		indices[i] = a->n_tasks ? features_find_task(f, a->tasks[i])
					: i;
	a->c.tasks = indices;
}

/* Prints the table of results, with "-" as the loss when nothing adapts. */
static void print_results(const struct features *f,
			  const struct task_result *r, int n, int adapts,
			  double seconds)
{
	long samples = 0, correct = 0;

	printf("%-24s %8s %9s %10s  %s\n", "task", "samples", "accuracy",
	       "loss", "status");
	for (int i = 0; i < n; i++) {
		char status[48] = "ok", loss[32] = "-";

		if (r[i].diverged_batch)
			snprintf(status, sizeof(status), "diverged at batch "
				 "%ld", r[i].diverged_batch);
		if (adapts)
			snprintf(loss, sizeof(loss), "%.6f", r[i].loss);
		printf("%-24s %8ld %8.2f%% %10s  %s\n",
		       f->tasks[r[i].task].name, r[i].n,
		       r[i].n ? 100.0 * r[i].correct / r[i].n : 0.0, loss,
		       status);
		samples += r[i].n;
		correct += r[i].correct;
	}
	printf("%-24s %8ld %8.2f%%\n", "all", samples,
	       samples ? 100.0 * correct / samples : 0.0);
	printf("time %.3f s, %.0f samples/s\n", seconds,
	       seconds > 0 ? samples / seconds : 0.0);
}

/* Writes the adapted model, which run_execute_model() stored in f. */
static int save_model(const char *path, const struct features *f)
{
	char *what = xasprintf("adapted by: %s", command_line);
	int rc = model_file_write(path, &f->model, f->classes,
				  f->classes ? f->n_classes : 0, what);

	free(what);
	return rc;
}

int cmd_adapt(int argc, char **argv)
{
	struct run_hooks hooks = { 0 };
	struct prediction_log log = { .task = -1 };
	struct task_result *results;
	struct adapt_args a;
	struct features *f;
	int rc = parse_args(argc, argv, &a, &hooks), *indices, failed;
	double start;

	if (rc >= 0)
		return rc;
	f = open_checked(&a);
	indices = xmalloc((size_t)(a.n_tasks ? a.n_tasks : f->n_tasks) *
			  sizeof(int));
	resolve_tasks(&a, f, indices);
	if (a.predictions) {
		if (atomic_open(&log.af, a.predictions))
			die(EXIT_FAILURE_RUN, "%s", err_msg());
		fputs("task,batch,row,label,predicted\n", log.af.fp);
		log.f = f;
		hooks.scored = log_batch;
		hooks.ctx = &log;
	}
	a.c.hooks = &hooks;
	results = xcalloc((size_t)a.c.n_tasks, sizeof(*results));
	start = now_seconds();
	failed = run_execute_model(f, &a.c, results,
				   a.save_model ? &f->model : NULL);
	if (failed)
		die(EXIT_FAILURE_RUN, "%s", err_msg());
	print_results(f, results, a.c.n_tasks, a.c.method->adapts,
		      now_seconds() - start);
	if ((a.predictions && atomic_commit(&log.af)) ||
	    (a.save_model && save_model(a.save_model, f)))
		die(EXIT_FAILURE_RUN, "%s", err_msg());
	task_results_free(results, a.c.n_tasks);
	free(results);
	free(indices);
	free(a.tasks);
	features_close(f);
	return EXIT_OK;
}
