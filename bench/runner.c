/* runner.c - the online adaptation loop of one run. */
#include "runner.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const protocol_names[PROTOCOL_COUNT] = {
	"single", "continual", "gradual"
};

int protocol_parse(const char *s)
{
	for (int p = 0; p < PROTOCOL_COUNT; p++)
		if (!strcmp(s, protocol_names[p]))
			return p;
	return -1;
}

const char *protocol_name(enum protocol p)
{
	return protocol_names[p];
}

void stream_order(const char *task, uint64_t seed, int32_t *order, long n)
{
	struct rng r;

	rng_seed(&r, hash_string(task, 0) ^ (seed * 0x9e3779b97f4a7c15ULL));
	for (long i = 0; i < n; i++)
		order[i] = (int32_t)i;
	rng_shuffle(&r, order, (size_t)n);
}

void selection_mask(const char *task, unsigned char *mask, long n)
{
	int32_t *order = xmalloc((size_t)n * sizeof(*order));
	long k = (long)ceil(SELECTION_FRACTION * (double)n);
	struct rng r;

	rng_seed(&r, hash_string(task, hash_string("selection", 0)));
	for (long i = 0; i < n; i++)
		order[i] = (int32_t)i;
	rng_shuffle(&r, order, (size_t)n);
	memset(mask, 0, (size_t)n);
	for (long i = 0; i < k; i++)
		mask[order[i]] = 1;
	free(order);
}

/*
 * A task's data, its selection split and its stream order, in buffers
 * that a run keeps from one task to the next (features_read_task()).
 */
struct task_data {
	float *x;		/* [n x dim] */
	int32_t *y;		/* [n] */
	unsigned char *select;	/* [n] */
	int32_t *rows;		/* [n], the first n_stream are streamed */
	long n_stream;
	long cap;		/* samples the buffers hold */
};

/* Makes room for n samples; the old contents are not kept. */
static void task_data_reserve(struct task_data *d, long n, int dim)
{
	if (n <= d->cap)
		return;
	free(d->x);
	free(d->y);
	free(d->select);
	free(d->rows);
	d->x = xmalloc((size_t)n * (size_t)dim * sizeof(*d->x));
	d->y = xmalloc((size_t)n * sizeof(*d->y));
	d->select = xmalloc((size_t)n);
	d->rows = xmalloc((size_t)n * sizeof(*d->rows));
	d->cap = n;
}

static void task_data_free(struct task_data *d)
{
	free(d->x);
	free(d->y);
	free(d->select);
	free(d->rows);
}

/* Buffers reused by every batch, so that the loop does not allocate. */
struct workspace {
	struct tail *tail;
	struct optim *optim;
	void *state;
	real *x;		/* [batch x dim] gathered inputs */
	double *logits;		/* [batch x classes] */
	double *grad;		/* [batch x classes] */
	real *dout;		/* [batch x classes] */
	double *work;
	struct task_data data;	/* the current task */
};

static int workspace_init(struct workspace *w, struct features *f,
			  const struct run_config *c)
{
	size_t bc = (size_t)c->batch_size * (size_t)f->n_classes;
	const struct method *m = c->method;

	memset(w, 0, sizeof(*w));
	w->tail = tail_create(&f->model, c->batch_size, c->params);
	if (!w->tail)
		return -1;
	if (m->adapts && w->tail->n_params == 0) {
		/* else the method would quietly give the noadapt result */
		err_set("%s: the tail has no %s parameters, so %s would adapt "
			"nothing; set params to %s, or add a BatchNorm layer "
			"to the tail (tools/export_features.py --add-bn)",
			f->path, param_set_name(c->params), m->name,
			c->params == PARAMS_BATCHNORM ? "linear or all" :
			"batchnorm or all");
		tail_free(w->tail);
		return -1;
	}
	w->optim = optim_create(&c->optim, w->tail);
	if (m->state_size)
		w->state = xcalloc(1, m->state_size(f->n_classes));
	w->x = xmalloc((size_t)c->batch_size * (size_t)f->dim * sizeof(real));
	w->logits = xmalloc(bc * sizeof(double));
	w->grad = xmalloc(bc * sizeof(double));
	w->dout = xmalloc(bc * sizeof(real));
	w->work = xmalloc(METHOD_WORK(c->batch_size, f->n_classes) *
			  sizeof(double));
	return 0;
}

static void workspace_free(struct workspace *w)
{
	task_data_free(&w->data);
	tail_free(w->tail);
	optim_free(w->optim);
	free(w->state);
	free(w->x);
	free(w->logits);
	free(w->grad);
	free(w->dout);
	free(w->work);
}

/* Restores the source model, the optimizer and the method state. */
static void reset_model(struct workspace *w, struct features *f,
			const struct run_config *c)
{
	tail_reset(w->tail, &f->model);
	optim_reset(w->optim);
	if (c->method->reset)
		c->method->reset(w->state, f->n_classes, c->tunables);
}

static int all_finite(const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return 0;
	return 1;
}

static int params_finite(const struct tail *t)
{
	for (int i = 0; i < t->n_params; i++)
		for (size_t k = 0; k < t->params[i].size; k++)
			if (!isfinite((double)t->params[i].value[k]))
				return 0;
	return 1;
}

/* Scores the pre-update predictions of one batch. */
static void score_batch(const real *out, const int32_t *rows,
			const int32_t *labels, const unsigned char *select,
			int batch, int classes, struct task_result *r)
{
	for (int n = 0; n < batch; n++) {
		const real *z = out + (size_t)n * classes;
		int32_t row = rows[n];
		int best = 0;

		for (int i = 1; i < classes; i++)
			if (z[i] > z[best])
				best = i;
		r->predicted[best]++;
		r->truth[labels[row]]++;
		r->n++;
		r->correct += best == labels[row];
		if (select[row]) {
			r->n_select++;
			r->correct_select += best == labels[row];
		}
	}
}

/*
 * Computes the method's gradient on the logits, back-propagates it and
 * steps.  Returns the batch loss; NaN if the loss, the gradient or
 * the updated parameters are not finite.
 */
static double adapt_batch(struct workspace *w, const struct run_config *c,
			  const real *out, int batch, int classes)
{
	size_t bc = (size_t)batch * (size_t)classes;
	const struct method *m = c->method;
	struct method_batch mb = {
		.logits = w->logits, .anchor = w->logits, .batch = batch,
		.classes = classes, .tunables = c->tunables,
		.state = w->state, .work = w->work,
	};
	double loss;

	for (size_t i = 0; i < bc; i++)
		w->logits[i] = (double)out[i];
	if (m->observe)
		m->observe(&mb);
	loss = m->loss_grad(&mb, w->grad);
	if (!isfinite(loss) || !all_finite(w->grad, bc))
		return NAN;
	if (m->log_value)
		loss = m->log_value(&mb);
	for (size_t i = 0; i < bc; i++)
		w->dout[i] = (real)w->grad[i];
	tail_backward(w->tail, w->dout);
	optim_step(w->optim, w->tail);
	return params_finite(w->tail) ? loss : NAN;
}

/* The rows of the task that this run streams, in stream order. */
static long stream_rows(const struct task_info *task,
			const struct run_config *c,
			const unsigned char *select, int32_t *rows)
{
	long kept = 0;

	stream_order(task->name, c->seed, rows, task->n);
	if (!c->selection_only)
		return task->n;
	for (long i = 0; i < task->n; i++)
		if (select[rows[i]])
			rows[kept++] = rows[i];
	return kept;
}

static int task_data_load(struct features *f, const struct run_config *c,
			  int t, struct task_data *d)
{
	const struct task_info *task = &f->tasks[t];

	if (!features_task_fits(f, t))
		return -1;
	task_data_reserve(d, task->n, f->dim);
	if (features_read_task(f, t, d->x, d->y))
		return -1;
	selection_mask(task->name, d->select, task->n);
	d->n_stream = stream_rows(task, c, d->select, d->rows);
	return 0;
}


/*
 * Copies the batch's rows, in stream order, into w->x.  The rows lie
 * anywhere in the task, so each starts with a cache miss; glibc's
 * memcpy moves the rest with the widest vector unit.
 */
static void gather(struct workspace *w, const float *x, int dim,
		   const int32_t *rows, int batch)
{
	for (int b = 0; b < batch; b++) {
		const float *src = x + (size_t)rows[b] * dim;
		real *dst = w->x + (size_t)b * dim;

		if (sizeof(real) == sizeof(float)) {
			memcpy(dst, src, (size_t)dim * sizeof(float));
			continue;
		}
		for (int j = 0; j < dim; j++)
			dst[j] = (real)src[j];
	}
}

/*
 * Asks for the next batch's rows while the current one is computed:
 * the first cache lines of each row, which the hardware prefetcher
 * cannot guess since the rows are in random order.
 */
static void prefetch_rows(const float *x, int dim, const int32_t *rows,
			  int batch)
{
	for (int b = 0; b < batch; b++) {
		const char *row = (const char *)(x + (size_t)rows[b] * dim);
		size_t bytes = (size_t)dim * sizeof(float);

		for (size_t k = 0; k < bytes && k < 1024; k += 64)
			__builtin_prefetch(row + k, 0, 1);
	}
}

/*
 * Predicts one batch, scores the predictions and, for a method that
 * adapts, adapts on the same batch.  Returns the batch loss (0 without
 * adaptation), or NaN when the run diverged.
 */
static double step_batch(struct workspace *w, struct features *f,
			 const struct run_config *c, int t,
			 const struct task_data *d, long start, int batch,
			 struct task_result *r)
{
	const int32_t *rows = d->rows + start;
	const real *out;

	gather(w, d->x, f->dim, rows, batch);
	if (start + batch < d->n_stream) {
		long left = d->n_stream - start - batch;

		prefetch_rows(d->x, f->dim, rows + batch,
			      left < batch ? (int)left : batch);
	}

	/* Predict first: these predictions are the ones scored. */
	out = tail_forward(w->tail, w->x, batch, c->method->bn);
	score_batch(out, rows, d->y, d->select, batch, f->n_classes, r);
	if (c->hooks && c->hooks->scored)
		c->hooks->scored(c->hooks->ctx, t, rows, d->y, out, batch,
				 f->n_classes);
	if (!c->method->adapts)
		return 0;
	return adapt_batch(w, c, out, batch, f->n_classes);
}

/*
 * Streams task t through the model, and has the next task (-1: none)
 * read ahead meanwhile; 0, or -1 on a read failure.
 */
static int run_task(struct workspace *w, struct features *f,
		    const struct run_config *c, int t, int next,
		    struct task_result *r)
{
	long max = c->hooks && c->hooks->max_batches ?
		   c->hooks->max_batches : LONG_MAX;
	long batches = 0;
	double loss_sum = 0;
	struct task_data *d = &w->data;
	struct prefetch *ahead;

	if (task_data_load(f, c, t, d))
		return -1;
	ahead = next >= 0 ? features_prefetch_start(f, next) : NULL;
	for (long start = 0; start < d->n_stream && batches < max;
	     start += c->batch_size) {
		long left = d->n_stream - start;
		int batch = left < c->batch_size ? (int)left : c->batch_size;
		double loss = step_batch(w, f, c, t, d, start, batch, r);

		batches++;
		if (isnan(loss)) {
			r->diverged_batch = batches;
			break;
		}
		loss_sum += loss;
	}
	features_prefetch_stop(ahead);
	r->loss = batches ? loss_sum / (double)batches : 0;
	return 0;
}

void task_results_free(struct task_result *results, int n)
{
	for (int i = 0; i < n; i++) {
		free(results[i].predicted);
		free(results[i].truth);
	}
}

int run_execute(struct features *f, const struct run_config *c,
		struct task_result *results)
{
	return run_execute_model(f, c, results, NULL);
}

int run_execute_model(struct features *f, const struct run_config *c,
		      struct task_result *results, struct tail_spec *model)
{
	struct workspace w;
	int diverged = 0;

	for (int i = 0; i < c->n_tasks; i++) {
		memset(&results[i], 0, sizeof(results[i]));
		results[i].task = c->tasks[i];
		results[i].predicted = xcalloc((size_t)f->n_classes,
					       sizeof(long));
		results[i].truth = xcalloc((size_t)f->n_classes, sizeof(long));
	}
	if (workspace_init(&w, f, c))
		return -1;
	reset_model(&w, f, c);
	for (int i = 0; i < c->n_tasks && !diverged; i++) {
		int next = i + 1 < c->n_tasks ? c->tasks[i + 1] : -1;

		if (i > 0 && c->protocol == PROTOCOL_SINGLE)
			reset_model(&w, f, c);
		if (run_task(&w, f, c, c->tasks[i], next, &results[i])) {
			workspace_free(&w);
			return -1;
		}
		/* A continual stream cannot go on past a divergence. */
		diverged = results[i].diverged_batch != 0 &&
			   c->protocol != PROTOCOL_SINGLE;
	}
	if (model)
		tail_store(w.tail, model);
	workspace_free(&w);
	return 0;
}
