/*
 * optim.c - SGD (with momentum and Nesterov, as torch.optim.SGD) and
 * Adam (as torch.optim.Adam) over the adapted parameters of a tail.
 */
#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct optim {
	struct optim_config config;
	int n_params;
	real **first;	/* SGD momentum buffer or Adam's first moment */
	real **second;	/* Adam's second moment */
	long steps;
};

void optim_defaults(struct optim_config *config)
{
	memset(config, 0, sizeof(*config));
	config->kind = OPTIM_SGD;
	config->lr = 1e-3;
	config->beta1 = 0.9;
	config->beta2 = 0.999;
	config->eps = 1e-8;
}

int optim_kind_parse(const char *s)
{
	if (!strcmp(s, "sgd"))
		return OPTIM_SGD;
	if (!strcmp(s, "adam"))
		return OPTIM_ADAM;
	return -1;
}

struct optim *optim_create(const struct optim_config *config,
			   const struct tail *t)
{
	struct optim *o = xcalloc(1, sizeof(*o));

	o->config = *config;
	o->n_params = t->n_params;
	o->first = xcalloc((size_t)t->n_params + 1, sizeof(real *));
	o->second = xcalloc((size_t)t->n_params + 1, sizeof(real *));
	for (int i = 0; i < t->n_params; i++) {
		o->first[i] = xcalloc(t->params[i].size, sizeof(real));
		o->second[i] = xcalloc(t->params[i].size, sizeof(real));
	}
	return o;
}

void optim_free(struct optim *o)
{
	if (!o)
		return;
	for (int i = 0; i < o->n_params; i++) {
		free(o->first[i]);
		free(o->second[i]);
	}
	free(o->first);
	free(o->second);
	free(o);
}

/* Clears the moment buffers, as a freshly built torch optimizer has. */
void optim_reset(struct optim *o)
{
	o->steps = 0;
}

/*
 * torch.optim.SGD: g += wd p; buf = g on the first step, else
 * buf = momentum buf + g; step along buf, or along g + momentum buf
 * with Nesterov.
 */
static void sgd_step(struct optim *o, const struct param_ref *p, real *buf)
{
	const struct optim_config *c = &o->config;
	real lr = (real)c->lr, mu = (real)c->momentum;
	real wd = (real)c->weight_decay;

	for (size_t k = 0; k < p->size; k++) {
		real g = p->grad[k] + wd * p->value[k];

		if (mu != 0) {
			buf[k] = o->steps ? mu * buf[k] + g : g;
			g = c->nesterov ? g + mu * buf[k] : buf[k];
		}
		p->value[k] -= lr * g;
	}
}

/* torch.optim.Adam without amsgrad, with bias-corrected moments. */
static void adam_step(struct optim *o, const struct param_ref *p, real *m,
		      real *v)
{
	const struct optim_config *c = &o->config;
	double t = (double)(o->steps + 1);
	double c1 = 1 - pow(c->beta1, t), c2 = 1 - pow(c->beta2, t);
	real b1 = (real)c->beta1, b2 = (real)c->beta2;
	real step = (real)(c->lr / c1);
	real root_c2 = (real)sqrt(c2);

	for (size_t k = 0; k < p->size; k++) {
		real g = p->grad[k] + (real)c->weight_decay * p->value[k];

		if (!o->steps)
			m[k] = v[k] = 0;
		m[k] = b1 * m[k] + (1 - b1) * g;
		v[k] = b2 * v[k] + (1 - b2) * g * g;
		p->value[k] -= step * m[k] /
			((real)sqrt((double)v[k]) / root_c2 + (real)c->eps);
	}
}

void optim_step(struct optim *o, struct tail *t)
{
	for (int i = 0; i < t->n_params; i++) {
		if (o->config.kind == OPTIM_ADAM)
			adam_step(o, &t->params[i], o->first[i],
				  o->second[i]);
		else
			sgd_step(o, &t->params[i], o->first[i]);
	}
	o->steps++;
}
