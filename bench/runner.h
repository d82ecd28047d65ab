/*
 * runner.h - one run: a method, its tunables, an optimizer and a seed,
 * streamed online over a sequence of tasks.
 *
 * For each batch of the stream: forward with the method's BatchNorm
 * mode, record the predictions (these are scored), then, for methods
 * that adapt, compute the loss and dL/dlogits, backward through the
 * tail, and step the optimizer.  Online accuracy is the fraction of
 * pre-update predictions that are correct.
 */
#ifndef DEMBENCH_RUNNER_H
#define DEMBENCH_RUNNER_H

#include <stdint.h>

#include "feature_file.h"
#include "method.h"
#include "optim.h"

enum protocol {
	PROTOCOL_SINGLE,	/* reset the tail and method state per task */
	PROTOCOL_CONTINUAL,	/* one stream over the tasks, no reset */
	PROTOCOL_GRADUAL,	/* continual, severities 1..5..1 per corruption */
	PROTOCOL_COUNT
};

/* Parses "single", "continual" or "gradual"; -1 if unknown. */
int protocol_parse(const char *s);
const char *protocol_name(enum protocol p);

/* The share of every task held out as the selection split. */
#define SELECTION_FRACTION 0.2

/*
 * Optional observers of a run, for "dembench adapt" and the benchmarks.
 * scored() receives every batch's rows (indices into the task), the
 * task's labels [n] and the batch's pre-update outputs [batch x
 * classes].  max_batches > 0 stops each task after that many batches.
 */
struct run_hooks {
	void (*scored)(void *ctx, int task, const int32_t *rows,
		       const int32_t *labels, const real *out, int batch,
		       int classes);
	void *ctx;
	long max_batches;
};

struct run_config {
	const struct method *method;
	double tunables[METHOD_MAX_TUNABLES];
	struct optim_config optim;
	enum param_set params;
	enum protocol protocol;
	int batch_size;
	uint64_t seed;
	int n_tasks;
	const int *tasks;	/* indices into the feature file, in order */
	int selection_only;	/* stream only the selection split */
	const struct run_hooks *hooks;	/* NULL for none */
};

struct task_result {
	int task;
	long n, correct;		/* every scored sample */
	long n_select, correct_select;	/* the selection split among them */
	double loss;			/* mean batch loss; 0 without update */
	long diverged_batch;		/* 1-based batch, or 0 if finite */
	long *predicted;		/* [classes] counts of predictions */
	long *truth;			/* [classes] counts of labels */
};

/*
 * Executes one run.  results has n_tasks entries, filled in order;
 * the caller frees them with task_results_free().  Returns 0, or -1 with
 * err_set() when a task cannot be read.  A divergence is not an error:
 * it is recorded in the task's result; in a continual stream the tasks
 * after it are recorded with n = 0.
 */
int run_execute(struct features *f, const struct run_config *c,
		struct task_result *results);

/*
 * As run_execute(), and then copies the adapted parameters into model
 * (a copy of f->model's shapes) when model is not NULL.
 */
int run_execute_model(struct features *f, const struct run_config *c,
		      struct task_result *results, struct tail_spec *model);

/* Frees the arrays of n task results. */
void task_results_free(struct task_result *results, int n);

/*
 * Fills order [n] with the stream order of a task: a permutation that
 * depends only on the seed and the task's name.
 */
void stream_order(const char *task, uint64_t seed, int32_t *order, long n);

/*
 * Marks the selection split of a task in mask [n]: a fixed 20% of its
 * samples that depends only on the task's name, not on the run seed.
 */
void selection_mask(const char *task, unsigned char *mask, long n);

#endif
