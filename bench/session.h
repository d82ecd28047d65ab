/*
 * session.h - a suite being run into a results folder: the suite, the
 * tasks it selects, its runs and which of them are still to do.
 */
#ifndef DEMBENCH_SESSION_H
#define DEMBENCH_SESSION_H

#include <stdio.h>
#include <sys/types.h>

#include "feature_file.h"
#include "suite.h"

struct session {
	struct suite *suite;
	char *dir;		/* results folder */
	char *runs_dir;		/* dir/runs */
	char *crc_cache;	/* dir/data-crc32.txt */
	struct features *features;	/* open only inside a run */
	int n_tasks;
	int *tasks;		/* the suite's tasks, in the file's order */
	int n_gradual;
	int *gradual;		/* the gradual protocol's task sequence */
	int n_runs;
	struct run_spec *runs;
	int n_pending;
	int *pending;		/* indices of runs without a result file */
	int phase;		/* 0: plain runs, 1: searches, 2: oracles */
};

/*
 * Loads the suite, validates the feature file (and the values of every
 * selected task when check_values is set), prepares the results folder
 * and lists the pending runs.  On failure prints the error and returns
 * NULL with the exit code in *rc.
 */
struct session *session_open(const char *suite_path, const char *out,
			     int check_values, int *rc);
void session_close(struct session *ss);

/*
 * Adds the runs of the next phase, whose plan depends on the results
 * of the previous ones: the oracle searches (at the learning rate
 * where em is best, unless the suite sets one), then the oracle runs
 * at each search's best point.  Returns the number of runs added
 * (pending or not; 0 once the suite is complete), or -1 with
 * err_set().
 */
int session_next_phase(struct session *ss);

/*
 * Moves through the phases until some run is pending or the suite is
 * complete.  Returns the number of pending runs, or -1 with err_set().
 */
int session_advance(struct session *ss);

/*
 * Narrows the pending runs to the run called id, planning later phases
 * as needed.  Returns 1 if it is pending, 0 if it is finished, or -1
 * with err_set() if the suite has no such run (yet).
 */
int session_select(struct session *ss, const char *id);

/* The result file of run i. */
char *session_run_path(const struct session *ss, int i);

/* session_execute() found the run locked by another process. */
#define SESSION_BUSY 1

/*
 * Executes run i and writes its result file; in a child process.
 * Returns 0 (also when the run turned out finished), SESSION_BUSY when
 * another process holds the run's lock, or -1 with err_set().
 */
int session_execute(struct session *ss, int i);

/* Removes the temporary files that process pid left in runs/. */
void session_remove_temp(const struct session *ss, pid_t pid);

/* Progress on stderr: a bar on a terminal, else a line per run. */
struct progress {
	int tty;
	int done, total;
	int skipped;		/* runs another process was running */
	double start, busy;
};
void progress_start(struct progress *pg, const struct session *ss);
void progress_done(struct progress *pg, const struct session *ss, int run,
		   double seconds);
void progress_end(struct progress *pg);

#endif
