/* gradcheck.c - finite-difference check of method gradients. */
#include "gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define BATCH 6
#define CLASSES 10

/* Buffers of one check, sized for BATCH x CLASSES. */
struct check {
	const struct method *m;
	const double *tunables;
	void *state;
	double z[BATCH * CLASSES];
	double anchor[BATCH * CLASSES];
	double grad[BATCH * CLASSES];
	double scratch[BATCH * CLASSES];
	double work[METHOD_WORK(BATCH, CLASSES)];
};

static double loss_at(struct check *c, const double *z, double *grad)
{
	struct method_batch b = {
		.logits = z, .anchor = c->anchor, .batch = BATCH,
		.classes = CLASSES, .tunables = c->tunables,
		.state = c->state, .work = c->work,
	};

	return c->m->loss_grad(&b, grad);
}

static void observe(struct check *c, const double *z)
{
	struct method_batch b = {
		.logits = z, .anchor = z, .batch = BATCH, .classes = CLASSES,
		.tunables = c->tunables, .state = c->state, .work = c->work,
	};

	if (c->m->observe)
		c->m->observe(&b);
}

/* The loss with logit i moved by delta. */
static double moved(struct check *c, int i, double delta)
{
	memcpy(c->scratch, c->z, sizeof(c->z));
	c->scratch[i] = c->z[i] + delta;
	return loss_at(c, c->scratch, NULL);
}

/*
 * Fourth-order central differences on every logit, with anchor held at
 * c->z: f' = (8 (f(+h) - f(-h)) - (f(+2h) - f(-2h))) / 12h.
 */
static double compare(struct check *c)
{
	double worst = 0;

	memcpy(c->anchor, c->z, sizeof(c->z));
	observe(c, c->z);
	loss_at(c, c->z, c->grad);
	for (int i = 0; i < BATCH * CLASSES; i++) {
		double h = 1e-4 * fmax(1.0, fabs(c->z[i]));
		double numeric, err;

		numeric = (8 * (moved(c, i, h) - moved(c, i, -h)) -
			   (moved(c, i, 2 * h) - moved(c, i, -2 * h))) /
			  (12 * h);
		err = fabs(numeric - c->grad[i]) /
		      (fabs(numeric) + fabs(c->grad[i]) + GRADCHECK_FLOOR);
		if (err > worst)
			worst = err;
	}
	return worst;
}

static void random_logits(struct rng *r, double *z, double scale,
			  int one_hot)
{
	for (int i = 0; i < BATCH * CLASSES; i++)
		z[i] = scale * rng_normal(r);
	if (!one_hot)
		return;
	for (int n = 0; n < BATCH; n++)
		z[n * CLASSES + (int)rng_below(r, CLASSES)] += 25.0;
}

static void record(struct gradcheck_result *res, double err,
		   const char *what)
{
	res->n_cases++;
	if (err > res->max_error || res->n_cases == 1) {
		res->max_error = err;
		snprintf(res->worst, sizeof(res->worst), "%s", what);
	}
}

int gradcheck_method(const struct method *m, const double *tunables,
		     struct gradcheck_result *res)
{
	static const double scales[] = { 0.1, 1.0, 4.0, 12.0 };
	struct check *c = xcalloc(1, sizeof(*c));
	struct rng r;
	char what[128];

	memset(res, 0, sizeof(*res));
	if (!m->adapts || !m->loss_grad) {
		free(c);
		return 0;
	}
	c->m = m;
	c->tunables = tunables;
	c->state = m->state_size ? xcalloc(1, m->state_size(CLASSES)) : NULL;
	if (m->reset)
		m->reset(c->state, CLASSES, tunables);
	rng_seed(&r, 2025);
	for (size_t s = 0; s < sizeof(scales) / sizeof(*scales); s++)
		for (int one_hot = 0; one_hot < 2; one_hot++) {
			random_logits(&r, c->z, scales[s], one_hot);
			snprintf(what, sizeof(what), "logit scale %g%s",
				 scales[s], one_hot ? ", near one-hot" : "");
			record(res, compare(c), what);
		}

	/* compare() observed 8 batches, so the state has moved by now. */
	random_logits(&r, c->z, 2.0, 0);
	record(res, compare(c), "after 8 batches of state updates");
	free(c->state);
	free(c);
	return res->max_error <= GRADCHECK_TOLERANCE ? 0 : 1;
}
