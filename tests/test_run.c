/*
 * test_run.c - end to end: the dembench command on a feature file this
 * test writes, with results known in advance.
 *
 * The file has C = 4 classes and D = 4 features; class k sits at
 * 3 e_k plus small noise, and the tail is BatchNorm (identity running
 * statistics) then Linear (identity).  Task "shifted" adds 10 to
 * feature 0, so the source model predicts class 0 for every sample:
 * NoAdapt scores exactly the share of class 0.  Batch statistics
 * remove the shift, so BN adaptation scores (nearly) 100%.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "results.h"
#include "util.h"
#include "writer.h"

#define N 1000
#define C 4

static char *dir;
static long class0;	/* labels equal to 0 in the shifted task */

static const char *dembench(void)
{
	const char *path = getenv("DEMBENCH");

	return path ? path : "build/dembench";
}

static void make_task(struct rng *r, float shift, float *x, int32_t *y)
{
	for (int n = 0; n < N; n++) {
		y[n] = (int32_t)rng_below(r, C);
		for (int j = 0; j < C; j++)
			x[n * C + j] = (float)(0.2 * rng_normal(r)) +
				       (j == y[n] ? 3.0f : 0.0f);
		x[n * C] += shift;
	}
}

static void identity_model(struct tail_spec *spec)
{
	struct layer_spec *bn, *lin;

	spec->n_layers = 2;
	spec->layers = xcalloc(2, sizeof(*spec->layers));
	bn = &spec->layers[0];
	lin = &spec->layers[1];
	*bn = (struct layer_spec){ .kind = LAYER_BATCHNORM, .in = C,
				   .out = C, .eps = 1e-5 };
	bn->weight = xcalloc(C, sizeof(float));
	bn->bias = xcalloc(C, sizeof(float));
	bn->running_mean = xcalloc(C, sizeof(float));
	bn->running_var = xcalloc(C, sizeof(float));
	*lin = (struct layer_spec){ .kind = LAYER_LINEAR, .in = C, .out = C };
	lin->weight = xcalloc(C * C, sizeof(float));
	lin->bias = xcalloc(C, sizeof(float));
	for (int j = 0; j < C; j++) {
		bn->weight[j] = 1;
		bn->running_var[j] = 1;
		lin->weight[j * C + j] = 1;
	}
}

static void write_data(void)
{
	char *path = xasprintf("%s/data.h5", dir);
	struct features_writer *w = features_writer_create(path, "test");
	float *x = xmalloc(N * C * sizeof(float));
	int32_t *y = xmalloc(N * sizeof(int32_t));
	struct tail_spec spec;
	struct rng r;

	assert_non_null(w);
	rng_seed(&r, 11);
	identity_model(&spec);
	assert_int_equal(features_writer_model(w, &spec), 0);
	make_task(&r, 0, x, y);
	assert_int_equal(features_writer_task(w, "clean", x, y, N, C, 0,
					      NULL, 0), 0);
	make_task(&r, 10, x, y);
	class0 = 0;
	for (int n = 0; n < N; n++)
		class0 += y[n] == 0;
	assert_int_equal(features_writer_task(w, "shifted", x, y, N, C, 0,
					      "shift", 5), 0);
	assert_int_equal(features_writer_close(w), 0);
	tail_spec_free(&spec);
	free(x);
	free(y);
	free(path);
}

static void write_suite(const char *name, const char *extra)
{
	char *path = xasprintf("%s/%s.ini", dir, name);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fprintf(fp, "[suite]\ndata = %s/data.h5\ntasks = shifted, clean\n"
		"protocols = single, continual\n"
		"methods = noadapt, norm, em, cadf\nlrs = 1e-3, 0.05\n"
		"seeds = 1, 2\nbatch_size = 50\n%s", dir, extra);
	fclose(fp);
	free(path);
}

/* Runs dembench with arguments; returns its exit code. */
static int run(const char *args)
{
	char *cmd = xasprintf("%s %s 2>%s/stderr.txt", dembench(), args, dir);
	int rc = system(cmd);

	free(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *text;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	text = xcalloc((size_t)n + 1, 1);
	if (fread(text, 1, (size_t)n, fp) != (size_t)n)
		n = 0;
	fclose(fp);
	return text;
}

static const struct result_row *find_row(const struct result_table *t,
					 const char *run_id, const char *task)
{
	for (int i = 0; i < t->n; i++)
		if (!strcmp(t->rows[i].run_id, run_id) &&
		    !strcmp(t->rows[i].task, task))
			return &t->rows[i];
	return NULL;
}

static void known_accuracies(void **state)
{
	char *out = xasprintf("%s/a", dir), *args, *summary;
	struct result_table t = { 0 };
	const struct result_row *row;

	(void)state;
	args = xasprintf("run %s/e2e.ini --jobs 2 --out %s", dir, out);
	assert_int_equal(run(args), 0);
	free(args);
	args = xasprintf("report %s", out);
	assert_int_equal(run(args), 0);
	free(args);
	summary = xasprintf("%s/summary.csv", out);
	assert_int_equal(results_read(summary, &t), 0);

	/* 2 protocols x (noadapt 2 + norm 2 + em 4 + cadf 4) runs x 2. */
	assert_int_equal(t.n, 2 * 12 * 2);
	row = find_row(&t, "single-noadapt-seed=1", "shifted");
	assert_non_null(row);
	assert_int_equal(row->n, N);
	assert_int_equal(row->correct, class0);
	assert_int_equal(row->n_select, N / 5);
	row = find_row(&t, "single-norm-seed=2", "shifted");
	assert_non_null(row);
	assert_true(row->correct >= N * 99 / 100);
	row = find_row(&t, "continual-em-lr=0.001-seed=1", "clean");
	assert_non_null(row);
	assert_true(row->correct >= N * 99 / 100);
	assert_string_equal(row->status, "ok");
	results_free(&t);
	free(summary);
	free(out);
}

/* The same runs give the same bytes, whatever the number of jobs. */
static void reruns_are_byte_identical(void **state)
{
	char *args = xasprintf("run %s/e2e.ini --jobs 1 --out %s/b", dir, dir);
	char *a, *b, *pa, *pb;

	(void)state;
	assert_int_equal(run(args), 0);
	free(args);
	args = xasprintf("report %s/b", dir);
	assert_int_equal(run(args), 0);
	pa = xasprintf("%s/a/summary.csv", dir);
	pb = xasprintf("%s/b/summary.csv", dir);
	a = slurp(pa);
	b = slurp(pb);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, b);
	free(a);
	free(b);
	free(pa);
	free(pb);
	free(args);
}

/* A second run skips finished runs and redoes only a missing one. */
static void rerun_resumes(void **state)
{
	char *victim = xasprintf("%s/b/runs/single-em-lr=0.05-seed=2.csv",
				 dir);
	char *before = slurp(victim), *after, *log, *log_path;
	char *args = xasprintf("run %s/e2e.ini --jobs 2 --out %s/b", dir, dir);

	(void)state;
	assert_non_null(before);
	assert_int_equal(remove(victim), 0);
	assert_int_equal(run(args), 0);
	after = slurp(victim);
	assert_non_null(after);
	assert_string_equal(before, after);
	log_path = xasprintf("%s/stderr.txt", dir);
	log = slurp(log_path);
	assert_non_null(strstr(log, "1 of 24 runs to run"));
	free(log);
	free(log_path);
	free(before);
	free(after);
	free(args);
	free(victim);
}

/* Changed settings must not mix with the runs already in a folder. */
static void changed_settings_rejected(void **state)
{
	char *args = xasprintf("run %s/e2e64.ini --out %s/b", dir, dir);
	char *log_path = xasprintf("%s/stderr.txt", dir), *log;

	(void)state;
	assert_int_equal(run(args), EXIT_FAILURE_RUN);
	log = slurp(log_path);
	assert_non_null(strstr(log, "holds runs made with other settings"));
	free(log);
	free(log_path);
	free(args);
}

/* A suite naming a missing data file fails before any run. */
static void missing_data_file(void **state)
{
	char *path = xasprintf("%s/nodata.ini", dir);
	FILE *fp = fopen(path, "w");
	char *args = xasprintf("run %s --out %s/c", path, dir);
	char *log_path = xasprintf("%s/stderr.txt", dir), *log, *runs;

	(void)state;
	fprintf(fp, "[suite]\ndata = %s/none.h5\nmethods = noadapt\n", dir);
	fclose(fp);
	assert_int_equal(run(args), EXIT_INPUT);
	log = slurp(log_path);
	assert_non_null(strstr(log, "none.h5 not found"));
	runs = xasprintf("%s/c", dir);
	assert_false(path_exists(runs));
	free(runs);
	free(log);
	free(log_path);
	free(args);
	free(path);
}

static int setup(void **state)
{
	(void)state;
	dir = fixture_tmpdir();
	write_data();
	write_suite("e2e", "");
	write_suite("e2e64", "momentum = 0.5\n");
	return 0;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	int rc = system(cmd);

	(void)state;
	free(cmd);
	free(dir);
	return rc;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_accuracies),
		cmocka_unit_test(reruns_are_byte_identical),
		cmocka_unit_test(rerun_resumes),
		cmocka_unit_test(changed_settings_rejected),
		cmocka_unit_test(missing_data_file),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("run", tests, setup, teardown);
}
