/*
 * report.h - tables from the result files of a suite.
 *
 * Rows are grouped by configuration (protocol, method, tunables,
 * learning rate).  A configuration's score for one seed is its mean
 * accuracy over the tasks; tables show mean +- std over seeds.  Each
 * method is shown at the learning rate whose mean accuracy on the
 * selection split is best, so that the choice does not use the scored
 * accuracy itself.
 */
#ifndef DEMBENCH_REPORT_H
#define DEMBENCH_REPORT_H

#include "results.h"

/* Accuracies of one configuration: [seed][task] in percent. */
struct config_scores {
	const char *protocol, *method, *tunables;
	double lr;
	int n_seeds, n_tasks;
	long *seeds;
	double *accuracy;	/* [n_seeds x n_tasks] */
	double *selection;	/* [n_seeds x n_tasks] */
	int diverged;		/* some seed diverged on some task */
};

/* The task sequence of one protocol, in the runs' order. */
struct task_list {
	int n;
	char **names;
};

struct report {
	char *dir;
	int n_tasks;
	char **tasks;		/* the first protocol's task sequence */
	int n_configs;
	struct config_scores *configs;
	int n_methods;
	char **methods;		/* in the suite's order */
	double *fixed_lr;	/* [n_methods]: set by the suite, or 0 */
	double margin;		/* of the tolerance table, in points */
	int n_protocols;
	char **protocols;
	struct task_list task_lists[PROTOCOL_COUNT];	/* per protocol */
};

/* The task sequence of a protocol of the report (empty if unknown). */
const struct task_list *report_tasks(const struct report *r,
				     const char *protocol);

/* Builds the report of dir from its runs; 0, or -1 with err_set(). */
int report_load(const char *dir, struct report *r);

/* The same from rows already read from dir. */
int report_build(const char *dir, const struct result_table *t,
		 struct report *r);
void report_free(struct report *r);

/* Mean over tasks of seed s of a configuration. */
double config_seed_mean(const struct config_scores *c, int s, int select);

/* Mean and sample std over seeds of a per-seed value. */
void config_mean_std(const struct config_scores *c, int task, int select,
		     double *mean, double *std);

/*
 * The configuration of method (and tunables) in protocol at its best
 * learning rate on the selection split, or NULL.
 */
const struct config_scores *report_best(const struct report *r,
					const char *protocol,
					const char *method,
					const char *tunables);

/*
 * Fills rows (room for r->n_configs) with one configuration per method
 * and tunable setting of protocol, each at its best learning rate, in
 * the suite's method order, and returns their count.  Search runs of
 * oracles are left out.
 */
int report_rows(const struct report *r, const char *protocol,
		const struct config_scores **rows);

/* Is this method label an oracle's search ("dem*-search")? */
int report_is_search(const char *method);

/* Is this method label an oracle ("dem*")? */
int report_is_oracle(const char *method);

/* One point of a learning-rate curve: mean and std over seeds. */
struct lr_point {
	double lr;
	double mean, std;		/* accuracy over all tasks */
	double select_mean;		/* on the selection split */
	const struct config_scores *config;
};

/*
 * Fills points (room for max) with the configurations of method and
 * tunables in protocol, sorted by learning rate, and returns their
 * count.  Methods that do not adapt give one point at lr 0.
 */
int report_lr_curve(const struct report *r, const char *protocol,
		    const char *method, const char *tunables,
		    struct lr_point *points, int max);

/*
 * Writes dir/summary.csv, the tables (table.md, table.tex and a CSV per
 * table) and the figures (dir/figures/); 0, or -1 with err_set().
 */
int report_write(const char *dir);

#endif
