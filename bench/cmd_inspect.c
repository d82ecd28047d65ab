/*
 * cmd_inspect.c - "dembench inspect FILE.h5": validate a feature file
 * and describe it on stdout (format, classes, model tail, tasks).
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "feature_file.h"
#include "util.h"

/* Width of the label column: "description" and one space. */
#define LABEL_WIDTH 12
/* Column at which the class list wraps. */
#define WRAP_COLUMN 78

static void usage(FILE *fp)
{
	fputs("usage: dembench inspect FILE.h5 [--check]\n"
	      "\n"
	      "Validates a feature file (names, types, shapes and the model\n"
	      "parameters) and prints its format, classes, model tail and\n"
	      "tasks in their declared order.\n"
	      "\n"
	      "  --check  also read every task and check its values: no NaN\n"
	      "           or Inf, every label in 0..C-1\n"
	      "  --help   show this help\n"
	      "\n"
	      "docs/file-format.md describes the file format.\n", fp);
}

static void print_header(const struct features *f)
{
	printf("%-*s%s\n", LABEL_WIDTH, "file", f->path);
	printf("%-*s%s, version %d\n", LABEL_WIDTH, "format",
	       FEATURES_FORMAT, FEATURES_VERSION);
	if (f->description)
		printf("%-*s%s\n", LABEL_WIDTH, "description", f->description);
	if (f->is_logits)
		printf("%-*slogits, C = %d\n", LABEL_WIDTH, "stores", f->dim);
	else
		printf("%-*sfeatures, D = %d\n", LABEL_WIDTH, "stores", f->dim);
}

/* Prints the class names, comma-separated and wrapped. */
static void print_classes(const struct features *f)
{
	int column;

	if (!f->classes) {
		printf("%-*s%d (unnamed: the file has no /classes)\n",
		       LABEL_WIDTH, "classes", f->n_classes);
		return;
	}
	column = printf("%-*s%d:", LABEL_WIDTH, "classes", f->n_classes);
	for (int c = 0; c < f->n_classes; c++) {
		int len = 1 + (int)strlen(f->classes[c]) + 1;

		if (c) {
			putchar(',');
			column++;
		}
		if (column + len > WRAP_COLUMN) {
			printf("\n%*s", LABEL_WIDTH - 1, "");
			column = LABEL_WIDTH - 1;
		}
		column += printf(" %s", f->classes[c]);
	}
	putchar('\n');
}

static void print_layer(int i, const struct layer_spec *l)
{
	printf("  layer_%-3d %-10s %d -> %d", i, layer_kind_name(l->kind),
	       l->in, l->out);
	if (l->kind == LAYER_BATCHNORM)
		printf("  eps %g", l->eps);
	else if (l->kind == LAYER_LINEAR)
		printf("  weight [%d x %d]", l->out, l->in);
	else if (l->kind == LAYER_BIAS)
		fputs("  per-class bias from zeros, not stored", stdout);
	putchar('\n');
}

static void print_model(const struct features *f)
{
	printf("%-*s%d layer%s\n", LABEL_WIDTH, "tail", f->model.n_layers,
	       f->model.n_layers == 1 ? "" : "s");
	for (int i = 0; i < f->model.n_layers; i++)
		print_layer(i, &f->model.layers[i]);
}

/* Prints one row per task in the file's declared order. */
static void print_tasks(const struct features *f)
{
	int width = 4;

	for (int t = 0; t < f->n_tasks; t++) {
		int len = (int)strlen(f->tasks[t].name);

		width = len > width ? len : width;
	}
	printf("%-*s%d, in declared order\n", LABEL_WIDTH, "tasks",
	       f->n_tasks);
	printf("  %-*s %9s %6s  %-20s %s\n", width, "name", "N",
	       f->is_logits ? "C" : "D", "corruption", "severity");
	for (int t = 0; t < f->n_tasks; t++) {
		const struct task_info *task = &f->tasks[t];

		printf("  %-*s %9ld %6d  %-20s ", width, task->name, task->n,
		       f->dim, task->corruption ? task->corruption : "-");
		/* severity 0 is also what an absent attribute reads as */
		if (task->severity || task->corruption)
			printf("%d\n", task->severity);
		else
			puts("-");
	}
}

/* Prints one line per task, whose values the probe has checked. */
static void print_checks(const struct features *f)
{
	for (int t = 0; t < f->n_tasks; t++)
		printf("%-*s%s ok\n", LABEL_WIDTH, "check", f->tasks[t].name);
	printf("%-*sall %d tasks: values finite, labels in 0..%d\n",
	       LABEL_WIDTH, "check", f->n_tasks, f->n_classes - 1);
}

/* Parses the arguments into *path and *check; returns -1 on misuse. */
static int parse_args(int argc, char **argv, const char **path,
		      int *check)
{
	*path = NULL;
	*check = 0;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "--check")) {
			*check = 1;
		} else if (arg[0] == '-' && arg[1]) {
			fprintf(stderr, "dembench: error: inspect: unknown "
				"option '%s'\n", arg);
			return -1;
		} else if (*path) {
			fprintf(stderr, "dembench: error: inspect: one file "
				"expected, got '%s' and '%s'\n", *path, arg);
			return -1;
		} else {
			*path = arg;
		}
	}
	if (!*path || !**path) {
		fputs("dembench: error: inspect: missing FILE.h5\n", stderr);
		return -1;
	}
	return 0;
}

int cmd_inspect(int argc, char **argv)
{
	struct features *f;
	const char *path;
	int check;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EXIT_OK;
		}
	}
	if (parse_args(argc, argv, &path, &check) < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* The probe validates the file, and its values with --check, in a
	 * child process; this one opens the file only once it is valid. */
	f = features_probe(path, check ? features_check_all : NULL, NULL) == 1 ?
	    features_open(path) : NULL;
	if (!f) {
		fprintf(stderr, "dembench: error: %s\n", err_msg());
		return EXIT_INPUT;
	}
	print_header(f);
	print_classes(f);
	print_model(f);
	print_tasks(f);
	if (check)
		print_checks(f);
	features_close(f);
	return EXIT_OK;
}
