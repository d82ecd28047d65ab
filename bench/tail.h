/*
 * tail.h - the adaptable tail of a network: BatchNorm, ReLU and Linear
 * layers (and a per-class bias for logits files), with forward and
 * backward passes on OpenBLAS.
 *
 * A tail_spec is the source model as stored in a feature file (float,
 * owned by the code that loaded it).  A tail is the working copy that a run
 * adapts; tail_reset() copies the source parameters back into it.
 */
#ifndef DEMBENCH_TAIL_H
#define DEMBENCH_TAIL_H

#include <stddef.h>

#include "real.h"

enum layer_kind {
	LAYER_BATCHNORM,
	LAYER_RELU,
	LAYER_LINEAR,
	LAYER_BIAS	/* y = x + b, the adapted bias of a logits file */
};

/* One layer of the source model, in the feature file's float32. */
struct layer_spec {
	enum layer_kind kind;
	int in, out;		/* out == in except for linear */
	float *weight;		/* linear: [out x in] row-major; bn: [in] */
	float *bias;		/* linear, bn, bias: [out] */
	float *running_mean;	/* bn: [in] */
	float *running_var;	/* bn: [in] */
	double eps;		/* bn */
};

struct tail_spec {
	int n_layers;
	struct layer_spec *layers;
};

/* Frees the arrays of every layer and the layer array itself. */
void tail_spec_free(struct tail_spec *spec);

/* Returns the printable name of a layer kind ("batchnorm", ...). */
const char *layer_kind_name(enum layer_kind kind);

/* The set of parameters a run adapts: the suite's "params" key. */
enum param_set {
	PARAMS_BATCHNORM,	/* BatchNorm weight and bias (and bias layers) */
	PARAMS_LINEAR,		/* Linear weight and bias (and bias layers) */
	PARAMS_ALL
};

/* Does any layer of spec have parameters that the set which adapts? */
int tail_spec_adapts(const struct tail_spec *spec, enum param_set which);

/* Parses "batchnorm", "linear" or "all"; -1 if unknown. */
int param_set_parse(const char *s);
const char *param_set_name(enum param_set set);

/* The statistics BatchNorm normalises with in the forward pass. */
enum bn_mode {
	BN_RUNNING,	/* the stored running statistics (eval mode) */
	BN_BATCH	/* the current batch's mean and biased variance */
};

/* A parameter tensor of the working tail with its gradient. */
struct param_ref {
	real *value;
	real *grad;
	size_t size;
	int layer;
	const char *name;	/* "weight" or "bias" */
};

struct tail_layer {
	enum layer_kind kind;
	int in, out;
	int adapted;			/* its parameters are updated */
	real *weight, *bias;		/* parameters */
	real *dweight, *dbias;		/* their gradients */
	real *running_mean, *running_var;
	double eps;
	real *output;			/* [max_batch x out] */
	real *product;			/* linear: [out x max_batch] */
	real *dinput;			/* [max_batch x in], gradient */
	real *xhat;			/* bn: normalised input */
	real *inv_std;			/* bn: 1 / sqrt(var + eps) */
	real *batch_mean, *batch_var;	/* bn: last batch statistics */
};

struct tail {
	int n_layers;
	int in_dim, out_dim;
	int max_batch;
	struct tail_layer *layers;
	const real *input;		/* the last forward's input */
	int batch;			/* the last forward's batch size */
	enum bn_mode mode;		/* the last forward's mode */
	int n_params;
	struct param_ref *params;	/* the adapted parameters */
};

/*
 * Creates a working tail for batches of at most max_batch rows, with
 * the parameters of spec and the adapted set chosen by which.  Returns
 * NULL with err_set() when the spec is inconsistent.
 */
struct tail *tail_create(const struct tail_spec *spec, int max_batch,
			 enum param_set which);
void tail_free(struct tail *t);

/* Copies the source parameters and running statistics of spec back. */
void tail_reset(struct tail *t, const struct tail_spec *spec);

/*
 * Runs x [batch x in_dim] through the tail and returns the output
 * [batch x out_dim], owned by the tail and valid until the next call.
 * x must stay valid until tail_backward() returns.
 */
const real *tail_forward(struct tail *t, const real *x, int batch,
			 enum bn_mode mode);

/*
 * Computes the gradients of the adapted parameters (and of every layer
 * input above the first) from dout, the gradient of the loss with
 * respect to the last forward's output.  Gradients are overwritten,
 * not accumulated.
 */
void tail_backward(struct tail *t, const real *dout);

/*
 * Blends the last forward's batch statistics into the running ones,
 * running = (1 - momentum) running + momentum batch, with the unbiased
 * variance as PyTorch does.  For training a source model.
 */
void tail_update_running_stats(struct tail *t, double momentum);

/* A matrix product C [m x n] = op(A) op(B) with inner dimension k. */
struct gemm_shape {
	int trans_a, trans_b;
	int m, n, k;
};

/*
 * Lists the matrix products that tail_forward() makes for batch rows,
 * then, when backward is set, those of tail_backward(), in call order.
 * shapes needs room for 3 per layer.  Returns the count.  For the
 * benchmarks' roofline: the step's own products, timed alone.
 */
int tail_gemms(const struct tail *t, int batch, int backward,
	       struct gemm_shape *shapes);

/* Copies the working parameters into spec (same shapes), for saving. */
void tail_store(const struct tail *t, struct tail_spec *spec);

#endif
