/*
 * optim.h - optimizers over a tail's adapted parameters.
 *
 * SGD with optional momentum (and Nesterov momentum), and Adam.  The
 * optimizer keeps one state slot per parameter element; optim_reset()
 * clears it when the protocol resets the model.
 */
#ifndef DEMBENCH_OPTIM_H
#define DEMBENCH_OPTIM_H

#include "tail.h"

enum optim_kind {
	OPTIM_SGD,
	OPTIM_ADAM
};

struct optim_config {
	enum optim_kind kind;
	double lr;
	double momentum;	/* SGD; 0 disables it */
	int nesterov;		/* SGD with momentum */
	double weight_decay;
	double beta1, beta2, eps;	/* Adam */
};

struct optim;

/* Fills config with SGD, no momentum, lr 1e-3, Adam's usual betas. */
void optim_defaults(struct optim_config *config);

/* Parses "sgd" or "adam"; -1 if unknown. */
int optim_kind_parse(const char *s);

struct optim *optim_create(const struct optim_config *config,
			   const struct tail *t);
void optim_free(struct optim *o);
void optim_reset(struct optim *o);

/* Applies one update from the gradients last computed by the tail. */
void optim_step(struct optim *o, struct tail *t);

#endif
