/*
 * results.h - result files: one CSV per finished run, one row per task.
 *
 * A run's file is written atomically, so its presence means the run
 * finished; "dembench run" skips runs whose file exists.  The columns
 * are documented in docs/results.md.
 */
#ifndef DEMBENCH_RESULTS_H
#define DEMBENCH_RESULTS_H

#include "feature_file.h"
#include "runner.h"
#include "suite.h"

/* One row of a result file: a run's outcome on one task. */
struct result_row {
	char *run_id;
	char *protocol;
	char *method;
	char *tunables;		/* "tau=0.5,alpha=1" or "" */
	double lr;		/* 0 for methods that do not adapt */
	long seed;
	int task_index;		/* position in the run's task sequence */
	char *task;
	long n, correct;
	long n_select, correct_select;
	double accuracy;	/* percent */
	double select_accuracy;	/* percent */
	double loss;
	char *status;		/* "ok", "diverged at batch 37", ... */
	char *predicted;	/* counts of predicted classes, "12;40;..." */
	char *truth;		/* counts of true classes, the same way */
};

struct result_table {
	int n, cap;
	struct result_row *rows;
};

/* The header line of result and summary files, without newline. */
extern const char results_header[];

/*
 * Writes the result file of one run atomically to path.  Returns 0, or
 * -1 with err_set() (a full disk or a read-only folder), leaving no
 * partial file behind.
 */
int results_write_run(const char *path, const struct run_spec *spec,
		      const struct features *f,
		      const struct task_result *results, int n_tasks);

/*
 * Appends the rows of a result or summary file to table.  Returns 0,
 * or -1 with err_set() naming the file and line.
 */
int results_read(const char *path, struct result_table *table);

/* Reads every runs/<id>.csv below dir; 0, or -1 with err_set(). */
int results_read_dir(const char *dir, struct result_table *table);

/* Writes rows to fp as CSV with the header. */
void results_print(FILE *fp, const struct result_table *table);

void results_free(struct result_table *table);

#endif
