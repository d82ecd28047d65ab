/*
 * cmd_grad.c - "dembench grad" and "dembench gradcheck": a method's
 * loss and gradient on logits given as CSV, and its check against
 * finite differences.  For authors of new methods, and for comparing
 * with other implementations.
 */
#include <csv.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "gradcheck.h"
#include "method.h"
#include "util.h"

/* Logits read from CSV: rows of equal length. */
struct logits {
	double *values;
	int rows, cols, cap;
	int field;		/* fields in the current row */
	long line;
	int failed;
};

static void on_field(void *data, size_t len, void *user)
{
	struct logits *l = user;
	char *text = xmalloc(len + 1), *end;
	double v;

	memcpy(text, data, len);
	text[len] = '\0';
	v = strtod(text, &end);
	if (!l->failed && (end == text || *end || !isfinite(v))) {
		err_set("stdin:%ld: invalid logit '%s'; expected a finite "
			"number", l->line + 1, text);
		l->failed = 1;
	}
	free(text);
	if (l->rows * l->cols + l->field >= l->cap)
		l->values = xrealloc(l->values, (size_t)(l->cap = l->cap ?
				     2 * l->cap : 1024) * sizeof(double));
	l->values[(size_t)l->rows * l->cols + l->field++] = v;
}

static void on_row(int c, void *user)
{
	struct logits *l = user;

	(void)c;
	l->line++;
	if (!l->rows)
		l->cols = l->field;
	if (!l->failed && l->field != l->cols) {
		err_set("stdin:%ld: %d values, but the first row has %d",
			l->line, l->field, l->cols);
		l->failed = 1;
	}
	l->rows++;
	l->field = 0;
}

static int read_logits(FILE *fp, struct logits *l)
{
	struct csv_parser parser;
	char buf[65536];
	size_t got;

	memset(l, 0, sizeof(*l));
	csv_init(&parser, CSV_STRICT | CSV_APPEND_NULL);
	while ((got = fread(buf, 1, sizeof(buf), fp)) > 0 && !l->failed)
		if (csv_parse(&parser, buf, got, on_field, on_row, l) != got) {
			err_set("stdin: %s",
				csv_strerror(csv_error(&parser)));
			l->failed = 1;
		}
	csv_fini(&parser, on_field, on_row, l);
	csv_free(&parser);
	if (!l->failed && (l->rows < 1 || l->cols < 2)) {
		err_set("stdin: expected at least one row of two or more "
			"logits");
		l->failed = 1;
	}
	return l->failed ? -1 : 0;
}

/* Parses the METHOD and --set arguments shared by both commands. */
static int parse_method_args(int argc, char **argv, int need_method,
			     const struct method **m, double *tunables,
			     const char *usage)
{
	static const struct option options[] = {
		{ "set", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char *sets[64];
	int n_sets = 0, c;

	while ((c = getopt_long(argc, argv, "s:h", options, NULL)) != -1) {
		if (c == 'h')
			return printf("%s", usage), -2;
		if (c != 's')
			return fputs(usage, stderr), -1;
		if (n_sets == 64) {
			fputs("dembench: error: --set: more than 64 settings\n",
			      stderr);
			return -1;
		}
		sets[n_sets++] = optarg;
	}
	*m = NULL;
	if (optind < argc - 1)
		fprintf(stderr, "dembench: error: unexpected argument '%s'\n",
			argv[optind + 1]);
	if (optind < argc - 1 || (need_method && optind != argc - 1))
		return fputs(usage, stderr), -1;
	if (optind == argc - 1 && !(*m = method_find(argv[optind]))) {
		fprintf(stderr, "dembench: error: unknown method '%s'; "
			"'dembench methods' lists them\n", argv[optind]);
		return -1;
	}
	if (n_sets && !*m) {
		fprintf(stderr, "dembench: error: --set %s: a METHOD is needed "
			"to set its tunables\n", sets[0]);
		return fputs(usage, stderr), -1;
	}
	if (*m)
		method_defaults(*m, tunables);
	for (int i = 0; i < n_sets; i++)
		if (method_set_tunable(*m, sets[i], tunables)) {
			fprintf(stderr, "dembench: error: --set: %s\n",
				err_msg());
			return -1;
		}
	return 0;
}

static void print_grad(const double *grad, int rows, int cols)
{
	for (int n = 0; n < rows; n++)
		for (int i = 0; i < cols; i++)
			printf("%.17g%c", grad[(size_t)n * cols + i],
			       i == cols - 1 ? '\n' : ',');
}

int cmd_grad(int argc, char **argv)
{
	static const char usage[] =
		"usage: dembench grad METHOD [--set NAME=VALUE ...] < LOGITS\n"
		"\n"
		"Reads one batch of logits as CSV on stdin (a row per sample)\n"
		"and prints the batch loss on the first line, then dL/dz as\n"
		"CSV, a row per sample.  A stateful method starts from its\n"
		"reset state and observes the batch first.\n";
	double tunables[METHOD_MAX_TUNABLES], *grad, *work, loss;
	const struct method *m;
	struct logits l;
	void *state = NULL;
	int rc = parse_method_args(argc, argv, 1, &m, tunables, usage);

	if (rc)
		return rc == -2 ? EXIT_OK : EXIT_USAGE;
	if (!m->adapts) {
		fprintf(stderr, "dembench: error: %s does not adapt, so it "
			"has no loss\n", m->name);
		return EXIT_USAGE;
	}
	if (read_logits(stdin, &l)) {
		fprintf(stderr, "dembench: error: %s\n", err_msg());
		free(l.values);
		return EXIT_INPUT;
	}
	grad = xmalloc((size_t)l.rows * l.cols * sizeof(double));
	work = xmalloc(METHOD_WORK(l.rows, l.cols) * sizeof(double));
	if (m->state_size) {
		state = xcalloc(1, m->state_size(l.cols));
		m->reset(state, l.cols, tunables);
	}
	struct method_batch b = {
		.logits = l.values, .anchor = l.values, .batch = l.rows,
		.classes = l.cols, .tunables = tunables, .state = state,
		.work = work,
	};
	if (m->observe)
		m->observe(&b);
	loss = m->loss_grad(&b, grad);
	printf("%.17g\n", loss);
	print_grad(grad, l.rows, l.cols);
	free(state);
	free(work);
	free(grad);
	free(l.values);
	return EXIT_OK;
}

static int check_one(const struct method *m, const double *tunables)
{
	struct gradcheck_result r;
	int failed = gradcheck_method(m, tunables, &r);

	if (!m->adapts) {
		printf("%-12s no gradient (does not adapt)\n", m->name);
		return 0;
	}
	printf("%-12s %s  max error %.2e over %d cases (worst: %s)\n",
	       m->name, failed ? "FAIL" : "ok  ", r.max_error, r.n_cases,
	       r.worst);
	return failed;
}

int cmd_gradcheck(int argc, char **argv)
{
	static const char usage[] =
		"usage: dembench gradcheck [METHOD [--set NAME=VALUE ...]]\n"
		"\n"
		"Compares each method's analytic gradient (or METHOD's) with\n"
		"central finite differences of its loss in double precision,\n"
		"and fails if an error exceeds the tolerance; see\n"
		"docs/methods.md.\n";
	double tunables[METHOD_MAX_TUNABLES];
	const struct method *m;
	int failed = 0;
	int rc = parse_method_args(argc, argv, 0, &m, tunables, usage);

	if (rc)
		return rc == -2 ? EXIT_OK : EXIT_USAGE;
	printf("tolerance %.0e on |numeric - analytic| / (|numeric| + "
	       "|analytic| + %.0e)\n", GRADCHECK_TOLERANCE, GRADCHECK_FLOOR);
	if (m)
		return check_one(m, tunables) ? EXIT_FAILURE_RUN : EXIT_OK;
	for (int i = 0; method_registry[i]; i++) {
		method_defaults(method_registry[i], tunables);
		failed |= check_one(method_registry[i], tunables);
	}
	return failed ? EXIT_FAILURE_RUN : EXIT_OK;
}
