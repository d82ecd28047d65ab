/*
 * suite.h - suite files (INI) and the list of runs they expand to.
 *
 * docs/suite-format.md is the reference.  A suite names a feature
 * file, the tasks, protocols, methods, learning rates and seeds; each
 * combination is one independent run.
 */
#ifndef DEMBENCH_SUITE_H
#define DEMBENCH_SUITE_H

#include <stdint.h>

#include "method.h"
#include "optim.h"
#include "runner.h"

#define SUITE_MAX_LIST 1024

/* The values a suite gives to one tunable of one method. */
struct tunable_values {
	int n;
	double *values;
};

/*
 * A method of the suite with the values of each of its tunables.  An
 * oracle entry ("dem*") searches its tunables' grid with labels on the
 * selection split, then runs at the best point like any other method.
 */
struct suite_method {
	const struct method *method;
	char *label;		/* the name in the suite: "em", "dem*" */
	char *search_label;	/* its search runs' label: "dem*-search" */
	int oracle;
	struct tunable_values tunables[METHOD_MAX_TUNABLES];
	double lr;		/* a learning rate fixed for this method, or 0 */
	double search_lr;	/* oracle: the search's; 0 for EM's best */
};

struct suite {
	char *path;
	char *name;		/* file name without directory and .ini */
	char *data;
	int n_task_patterns;
	char **task_patterns;
	int n_protocols;
	enum protocol protocols[PROTOCOL_COUNT];
	int n_methods;
	struct suite_method *methods;
	int n_lrs;
	double *lrs;
	int n_seeds;
	uint64_t *seeds;
	int batch_size;
	struct optim_config optim;
	enum param_set params;
	double margin;		/* points below the best, tolerance table */
};

/*
 * Reads and checks a suite file.  Returns NULL with err_set() naming
 * the file, the line, the bad value and what is expected.
 */
struct suite *suite_load(const char *path);
void suite_free(struct suite *s);

/*
 * Resolves the task patterns (names or shell globs) against the
 * feature file, in the file's declared order.  Writes the indices into
 * a new array and returns their count, or -1 with err_set() if a
 * pattern matches nothing.
 */
int suite_tasks(const struct suite *s, const struct features *f,
		int **tasks);

/* One run of a suite, as the runner and the results files see it. */
struct run_spec {
	char id[256];		/* unique, safe as a file name */
	enum protocol protocol;
	const struct method *method;
	const char *label;	/* the method column: "em", "dem*", ... */
	int selection_only;	/* a search run on the selection split */
	double tunables[METHOD_MAX_TUNABLES];
	double lr;		/* 0 for methods that do not adapt */
	uint64_t seed;
};

/*
 * Expands the suite into its runs, in a fixed order: protocol, method,
 * tunable values, learning rate, seed.  Returns the count and a new
 * array in *runs.  Oracle methods are left out: their runs depend on
 * the search (suite_expand_search, suite_expand_oracle).
 */
int suite_expand(const struct suite *s, struct run_spec **runs);

/*
 * Appends to *runs (holding *n) the search runs of oracle method sm in
 * one protocol: every grid point at learning rate lr, on the selection
 * split, with the suite's first seed.
 */
void suite_expand_search(const struct suite *s, const struct suite_method *sm,
			 enum protocol protocol, double lr,
			 struct run_spec **runs, int *n);

/*
 * Appends the runs of oracle method sm in one protocol at the chosen
 * tunables: every learning rate (or its fixed one) and seed.
 */
void suite_expand_oracle(const struct suite *s, const struct suite_method *sm,
			 enum protocol protocol, const double *tunables,
			 struct run_spec **runs, int *n);

/* Fills a run configuration for spec; tasks are the suite's tasks. */
void suite_run_config(const struct suite *s, const struct run_spec *spec,
		      const int *tasks, int n_tasks, struct run_config *c);

#endif
