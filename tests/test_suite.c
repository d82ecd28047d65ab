/*
 * test_suite.c - suite files: a valid one expands to the expected
 * runs, and each malformed one is rejected with its line and value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "suite.h"
#include "util.h"

static char dir[] = "/tmp/dembench-suite-XXXXXX";

static char *write_suite(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s.ini", dir, name);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return path;
}

static void valid_suite_expands(void **state)
{
	char *path = write_suite("ok",
		"; a comment\n"
		"[suite]\n"
		"data = data/x.h5\n"
		"tasks = fog_*, clean ; inline comment\n"
		"protocols = single, continual\n"
		"methods = noadapt, em, cadf\n"
		"lrs = 1e-3, 0.01\n"
		"seeds = 1 .. 3 step 1\n"
		"batch_size = 32\n"
		"momentum = 0.9\n"
		"[cadf]\n"
		"lr = 0.005\n");
	struct suite *s = suite_load(path);
	struct run_spec *runs;
	int n;

	(void)state;
	assert_non_null(s);
	assert_string_equal(s->name, "ok");
	assert_string_equal(s->data, "data/x.h5");
	assert_int_equal(s->n_task_patterns, 2);
	assert_string_equal(s->task_patterns[1], "clean");
	assert_int_equal(s->n_seeds, 3);
	assert_int_equal(s->batch_size, 32);
	assert_true(s->optim.momentum == 0.9);
	n = suite_expand(s, &runs);

	/* Per protocol: noadapt 3 seeds, em 2 lrs x 3, cadf fixed lr x 3. */
	assert_int_equal(n, 2 * (3 + 6 + 3));
	assert_string_equal(runs[0].id, "single-noadapt-seed=1");
	assert_string_equal(runs[3].id, "single-em-lr=0.001-seed=1");
	assert_string_equal(runs[9].id, "single-cadf-lr=0.005-seed=1");
	assert_string_equal(runs[12].id, "continual-noadapt-seed=1");
	free(runs);
	suite_free(s);
	free(path);
}

/* Each malformed suite and a part of the message it must produce. */
static const struct {
	const char *text;
	const char *message;
} bad_suites[] = {
	{ "[suite]\nmethods = em\nlrs = 1e-3\n", "missing key 'data'" },
	{ "[suite]\ndata = x.h5\nlrs = 1e-3\n", "missing key 'methods'" },
	{ "[suite]\ndata = x.h5\nmethods = em\n", "missing key 'lrs'" },
	{ "[suite]\ndata = x.h5\nmethods = em, tent\nlrs = 1\n",
	  ":3: methods: unknown method 'tent'" },
	{ "[suite]\ndata = x.h5\nmethods = em\nlrs = 0.1, -1\n",
	  ":4: lrs: invalid learning rate" },
	{ "[suite]\ndata = x.h5\nmethods = em\nlrs = 0\n",
	  "expected a number > 0" },
	{ "[suite]\ndata = x.h5\nmethods = em\nlrs = abc\n",
	  "lrs: invalid value 'abc'" },
	{ "[suite]\ndata = x.h5\nmethods = em\nlrs = 1\nseeds = 1, 2, 1\n",
	  ":5: seeds: '1, 2, 1' lists a seed twice" },
	{ "[suite]\ndata = x.h5\nmethods = em\nlrs = 1\nlr = 2\n",
	  ":5: unknown key 'lr' in [suite]" },
	{ "[suite]\ndata = x.h5\nmethods = em\nlrs = 1\n[dem]\ntau = 1\n",
	  "section [dem] names no method of the suite" },
	{ "[suite]\ndata = x.h5\nmethods = em\nlrs = 1\n[em]\ntau = 1\n",
	  "[em] unknown tunable 'tau'" },
	{ "[suite]\ndata = x.h5\nmethods = em\nlrs = 1\nbatch_size = 1\n",
	  "batch_size: invalid value '1'" },
	{ "[suite]\ndata = x.h5\nmethods = em\nlrs = 1\nprotocols = sequential\n",
	  "unknown protocol 'sequential'" },
	{ "[suite]\ndata = x.h5\nmethods = em\nlrs = 1\noptimizer = rmsprop\n",
	  "unknown optimizer 'rmsprop'" },
	{ "[suite]\ndata = x.h5\nmethods = em\nlrs = 1\nmethods = em\n",
	  ":5: [suite] sets 'methods' twice" },
	{ "[suite]\ndata = x.h5\nmethods = em\nlrs =\n",
	  "lrs: empty list" },
	{ "[suite]\ndata = x.h5\nthis line is wrong\n", ":3: invalid line" },
	{ "[suite]\ndata = x.h5\nmethods = em\nlrs = 1\nseeds = 1 .. 2000 step 1\n",
	  ":5: seeds: more than 1024 values" },
	/* Found by fuzz/fuzz_suite.c: the count overflowed an int. */
	{ "[suite]\ndata = x.h5\nmethods = em\nlrs = 1\n"
	  "seeds = 0 .. 1e300 step 1e-300\n", ":5: seeds: more than 1024" },
	{ "[suite]\ndata = x.h5\nmethods = em\nlrs = 1\n"
	  "seeds = 0 .. inf step 1\n", ":5: seeds: invalid value" },
};

static void bad_suites_rejected(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_suites) / sizeof(*bad_suites);
	     i++) {
		char *path = write_suite("bad", bad_suites[i].text);
		struct suite *s = suite_load(path);

		if (s || !strstr(err_msg(), bad_suites[i].message))
			print_message("case %zu: got '%s'\n", i,
				      s ? "(accepted)" : err_msg());
		assert_null(s);
		assert_non_null(strstr(err_msg(), bad_suites[i].message));
		assert_non_null(strstr(err_msg(), path));
		free(path);
	}
}

static void missing_suite_file(void **state)
{
	(void)state;
	assert_null(suite_load("/nonexistent/suite.ini"));
	assert_non_null(strstr(err_msg(), "/nonexistent/suite.ini"));
}

static int make_dir(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	int rc = system(cmd);

	(void)state;
	free(cmd);
	return rc;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_suite_expands),
		cmocka_unit_test(bad_suites_rejected),
		cmocka_unit_test(missing_suite_file),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("suite", tests, make_dir,
					   remove_dir);
}
