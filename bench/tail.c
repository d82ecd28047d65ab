/*
 * tail.c - forward and backward passes of the adaptable tail.
 *
 * Activations are row-major [batch x features].  Linear layers follow
 * PyTorch's convention y = x W^T + b with W [out x in], so that weights
 * exported from torch.nn.Linear load unchanged.
 */
#include "tail.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *layer_kind_name(enum layer_kind kind)
{
	switch (kind) {
	case LAYER_BATCHNORM:
		return "batchnorm";
	case LAYER_RELU:
		return "relu";
	case LAYER_LINEAR:
		return "linear";
	case LAYER_BIAS:
		return "bias";
	}
	return "unknown";
}

int param_set_parse(const char *s)
{
	if (!strcmp(s, "batchnorm"))
		return PARAMS_BATCHNORM;
	if (!strcmp(s, "linear"))
		return PARAMS_LINEAR;
	if (!strcmp(s, "all"))
		return PARAMS_ALL;
	return -1;
}

const char *param_set_name(enum param_set set)
{
	static const char *const names[] = { "batchnorm", "linear", "all" };

	return names[set];
}

void tail_spec_free(struct tail_spec *spec)
{
	for (int i = 0; i < spec->n_layers; i++) {
		struct layer_spec *l = &spec->layers[i];

		free(l->weight);
		free(l->bias);
		free(l->running_mean);
		free(l->running_var);
	}
	free(spec->layers);
	spec->layers = NULL;
	spec->n_layers = 0;
}

static real *alloc_real(size_t n)
{
	return xcalloc(n, sizeof(real));
}

static void copy_in(real *dst, const float *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (real)src[i];
}

static void copy_out(float *dst, const real *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (float)src[i];
}

static int check_layer(const struct layer_spec *l, int i, int in)
{
	if (l->in != in) {
		err_set("model layer_%d takes %d inputs, but the previous "
			"layer gives %d", i, l->in, in);
		return -1;
	}
	if (l->kind != LAYER_LINEAR && l->out != l->in) {
		err_set("model layer_%d (%s) has %d inputs and %d outputs",
			i, layer_kind_name(l->kind), l->in, l->out);
		return -1;
	}
	return 0;
}

/* Is this layer's parameter adapted under the chosen set? */
static int adapted(enum layer_kind kind, enum param_set which)
{
	if (kind == LAYER_BIAS)
		return 1;
	if (kind == LAYER_BATCHNORM)
		return which != PARAMS_LINEAR;
	if (kind == LAYER_LINEAR)
		return which != PARAMS_BATCHNORM;
	return 0;
}

int tail_spec_adapts(const struct tail_spec *spec, enum param_set which)
{
	for (int i = 0; i < spec->n_layers; i++)
		if (adapted(spec->layers[i].kind, which))
			return 1;
	return 0;
}

static void add_param(struct tail *t, real *v, real *g, size_t n, int layer,
		      const char *name)
{
	struct param_ref *p = &t->params[t->n_params++];

	p->value = v;
	p->grad = g;
	p->size = n;
	p->layer = layer;
	p->name = name;
}

static void alloc_layer(struct tail *t, struct tail_layer *l,
			const struct layer_spec *s, int index,
			enum param_set which)
{
	size_t nb = (size_t)t->max_batch;

	l->kind = s->kind;
	l->in = s->in;
	l->out = s->out;
	l->eps = s->eps;
	l->output = alloc_real(nb * (size_t)s->out);
	l->dinput = alloc_real(nb * (size_t)s->in);
	if (s->kind == LAYER_LINEAR) {
		l->weight = alloc_real((size_t)s->out * (size_t)s->in);
		l->product = alloc_real((size_t)s->out * nb);
		/* a frozen layer's weight gradient is never computed */
		if (adapted(s->kind, which))
			l->dweight = alloc_real((size_t)s->out *
						(size_t)s->in);
	}
	if (s->kind == LAYER_BATCHNORM) {
		l->weight = alloc_real((size_t)s->in);
		l->dweight = alloc_real((size_t)s->in);
		l->running_mean = alloc_real((size_t)s->in);
		l->running_var = alloc_real((size_t)s->in);
		l->xhat = alloc_real(nb * (size_t)s->in);
		l->inv_std = alloc_real((size_t)s->in);
		l->batch_mean = alloc_real((size_t)s->in);
		l->batch_var = alloc_real((size_t)s->in);
	}
	if (s->kind != LAYER_RELU) {
		l->bias = alloc_real((size_t)s->out);
		l->dbias = alloc_real((size_t)s->out);
	}
	l->adapted = adapted(s->kind, which);
	if (!l->adapted)
		return;
	if (l->weight)
		add_param(t, l->weight, l->dweight,
			  s->kind == LAYER_LINEAR ?
			  (size_t)s->out * (size_t)s->in : (size_t)s->in,
			  index, "weight");
	if (l->bias)
		add_param(t, l->bias, l->dbias, (size_t)s->out, index, "bias");
}

struct tail *tail_create(const struct tail_spec *spec, int max_batch,
			 enum param_set which)
{
	struct tail *t;
	int in;

	if (spec->n_layers < 1) {
		err_set("the model has no layers");
		return NULL;
	}
	in = spec->layers[0].in;
	for (int i = 0; i < spec->n_layers; i++) {
		if (check_layer(&spec->layers[i], i, in))
			return NULL;
		in = spec->layers[i].out;
	}
	t = xcalloc(1, sizeof(*t));
	t->n_layers = spec->n_layers;
	t->in_dim = spec->layers[0].in;
	t->out_dim = in;
	t->max_batch = max_batch;
	t->layers = xcalloc((size_t)spec->n_layers, sizeof(*t->layers));
	t->params = xcalloc(2 * (size_t)spec->n_layers, sizeof(*t->params));
	for (int i = 0; i < spec->n_layers; i++)
		alloc_layer(t, &t->layers[i], &spec->layers[i], i, which);
	tail_reset(t, spec);
	return t;
}

void tail_free(struct tail *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->n_layers; i++) {
		struct tail_layer *l = &t->layers[i];

		free(l->weight);
		free(l->bias);
		free(l->dweight);
		free(l->dbias);
		free(l->running_mean);
		free(l->running_var);
		free(l->output);
		free(l->product);
		free(l->dinput);
		free(l->xhat);
		free(l->inv_std);
		free(l->batch_mean);
		free(l->batch_var);
	}
	free(t->layers);
	free(t->params);
	free(t);
}

void tail_reset(struct tail *t, const struct tail_spec *spec)
{
	for (int i = 0; i < t->n_layers; i++) {
		struct tail_layer *l = &t->layers[i];
		const struct layer_spec *s = &spec->layers[i];
		size_t nw = l->kind == LAYER_LINEAR ?
			(size_t)l->out * (size_t)l->in : (size_t)l->in;

		if (l->weight)
			copy_in(l->weight, s->weight, nw);
		if (l->bias && s->bias)
			copy_in(l->bias, s->bias, (size_t)l->out);
		else if (l->bias)
			memset(l->bias, 0, (size_t)l->out * sizeof(real));
		if (l->running_mean) {
			copy_in(l->running_mean, s->running_mean,
				(size_t)l->in);
			copy_in(l->running_var, s->running_var,
				(size_t)l->in);
		}
	}
}

void tail_store(const struct tail *t, struct tail_spec *spec)
{
	for (int i = 0; i < t->n_layers; i++) {
		const struct tail_layer *l = &t->layers[i];
		struct layer_spec *s = &spec->layers[i];
		size_t nw = l->kind == LAYER_LINEAR ?
			(size_t)l->out * (size_t)l->in : (size_t)l->in;

		if (l->weight && s->weight)
			copy_out(s->weight, l->weight, nw);
		if (l->bias && s->bias)
			copy_out(s->bias, l->bias, (size_t)l->out);
		if (l->running_mean && s->running_mean) {
			copy_out(s->running_mean, l->running_mean,
				 (size_t)l->in);
			copy_out(s->running_var, l->running_var,
				 (size_t)l->in);
		}
	}
}

/*
 * The product y = x W^T runs faster in OpenBLAS 0.3.21 as y^T = W x^T,
 * the weights being the left operand, when the batch has fewer rows
 * than the layer has outputs: 1.24x for 64 rows, D = 2048 and C = 1000,
 * up to 2x for 16 rows, and from 0.9x to 1.05x otherwise (measured on
 * an AMD EPYC; docs/performance.md).  The choice depends on the shapes
 * only, so results stay the same from one machine load to another.
 */
static int weights_left(const struct tail_layer *l, int batch)
{
	return batch < l->out;
}

/* y = x W^T + b. */
VECTOR_CLONES
static void linear_forward(struct tail_layer *l, const real *x, int batch)
{
	if (weights_left(l, batch)) {
		/* y^T into product, then y = its transpose plus b */
		cblas_xgemm(CblasRowMajor, CblasNoTrans, CblasTrans, l->out,
			    batch, l->in, 1, l->weight, l->in, x, l->in, 0,
			    l->product, batch);
		for (int n = 0; n < batch; n++) {
			real *y = l->output + (size_t)n * l->out;

			for (int j = 0; j < l->out; j++)
				y[j] = l->product[(size_t)j * batch + n] +
				       l->bias[j];
		}
		return;
	}

	/* the bias broadcast first, so that one product adds to it */
	for (int n = 0; n < batch; n++)
		memcpy(l->output + (size_t)n * l->out, l->bias,
		       (size_t)l->out * sizeof(real));
	cblas_xgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, l->out,
		    l->in, 1, x, l->in, l->weight, l->in, 1, l->output,
		    l->out);
}

/* Per-feature mean and biased variance of x [batch x d]. */
VECTOR_CLONES
static void batch_moments(const real *x, int batch, int d, real *mean,
			  real *var)
{
	memset(mean, 0, (size_t)d * sizeof(real));
	memset(var, 0, (size_t)d * sizeof(real));
	for (int n = 0; n < batch; n++) {
		const real *row = x + (size_t)n * d;

		for (int j = 0; j < d; j++)
			mean[j] += row[j];
	}
	for (int j = 0; j < d; j++)
		mean[j] /= (real)batch;
	for (int n = 0; n < batch; n++) {
		const real *row = x + (size_t)n * d;

		for (int j = 0; j < d; j++) {
			real c = row[j] - mean[j];

			var[j] += c * c;
		}
	}
	for (int j = 0; j < d; j++)
		var[j] /= (real)batch;
}

/* y = weight * xhat + bias for each row, xhat = (x - mean) * inv_std. */
VECTOR_CLONES
static void normalise_rows(const real *restrict x, int batch, int d,
			   const real *restrict mean,
			   const real *restrict inv_std,
			   const real *restrict weight,
			   const real *restrict bias, real *restrict xhat,
			   real *restrict y)
{
	for (int n = 0; n < batch; n++) {
		const real *row = x + (size_t)n * d;
		real *xh = xhat + (size_t)n * d;
		real *out = y + (size_t)n * d;

		for (int j = 0; j < d; j++) {
			xh[j] = (row[j] - mean[j]) * inv_std[j];
			out[j] = weight[j] * xh[j] + bias[j];
		}
	}
}

/*
 * y = weight * xhat + bias with xhat = (x - mean) / sqrt(var + eps),
 * from the batch's own moments or from the running ones.
 */
static void batchnorm_forward(struct tail_layer *l, const real *x,
			      int batch, enum bn_mode mode)
{
	int d = l->in;
	const real *mean = l->running_mean;
	const real *var = l->running_var;

	if (mode == BN_BATCH) {
		batch_moments(x, batch, d, l->batch_mean, l->batch_var);
		mean = l->batch_mean;
		var = l->batch_var;
	}
	for (int j = 0; j < d; j++)
		l->inv_std[j] = (real)(1.0 / sqrt((double)var[j] + l->eps));
	normalise_rows(x, batch, d, mean, l->inv_std, l->weight, l->bias,
		       l->xhat, l->output);
}

static void relu_forward(struct tail_layer *l, const real *restrict x,
			 int batch)
{
	size_t n = (size_t)batch * (size_t)l->in;
	real *restrict y = l->output;

	/* restrict lets the compiler vectorise this into a branch-free
	 * max; as a branch, half-positive inputs mispredict often. */
	for (size_t i = 0; i < n; i++)
		y[i] = x[i] > 0 ? x[i] : 0;
}

static void bias_forward(struct tail_layer *l, const real *x, int batch)
{
	for (int n = 0; n < batch; n++)
		for (int j = 0; j < l->out; j++)
			l->output[(size_t)n * l->out + j] =
				x[(size_t)n * l->out + j] + l->bias[j];
}

const real *tail_forward(struct tail *t, const real *x, int batch,
			 enum bn_mode mode)
{
	const real *in = x;

	t->input = x;
	t->batch = batch;
	t->mode = mode;
	for (int i = 0; i < t->n_layers; i++) {
		struct tail_layer *l = &t->layers[i];

		switch (l->kind) {
		case LAYER_LINEAR:
			linear_forward(l, in, batch);
			break;
		case LAYER_BATCHNORM:
			batchnorm_forward(l, in, batch, mode);
			break;
		case LAYER_RELU:
			relu_forward(l, in, batch);
			break;
		case LAYER_BIAS:
			bias_forward(l, in, batch);
			break;
		}
		in = l->output;
	}
	return in;
}

/* Sums dy [batch x d] over the batch into out [d]. */
static void column_sums(const real *dy, int batch, int d, real *out)
{
	memset(out, 0, (size_t)d * sizeof(real));
	for (int n = 0; n < batch; n++)
		for (int j = 0; j < d; j++)
			out[j] += dy[(size_t)n * d + j];
}

/*
 * dW = dY^T X, db = column sums of dY, dX = dY W.  The parameter
 * gradients are skipped when the layer is frozen: dW costs as much as
 * the forward product.
 */
static void linear_backward(struct tail_layer *l, const real *x,
			    const real *dy, int batch, int need_dx)
{
	if (l->adapted) {
		cblas_xgemm(CblasRowMajor, CblasTrans, CblasNoTrans, l->out,
			    l->in, batch, 1, dy, l->out, x, l->in, 0,
			    l->dweight, l->in);
		column_sums(dy, batch, l->out, l->dbias);
	}
	if (need_dx)
		cblas_xgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch,
			    l->in, l->out, 1, dy, l->out, l->weight, l->in,
			    0, l->dinput, l->in);
}

/*
 * With batch statistics the mean and variance depend on every input,
 * which gives the usual three-term gradient
 *   dx = weight * inv_std / B * (B dy - sum(dy) - xhat sum(dy xhat));
 * with running statistics they are constants and dx = weight inv_std dy.
 */
/* Sums dy * xhat and dy over the batch into dweight and dbias. */
VECTOR_CLONES
static void affine_grads(const real *restrict dy,
			 const real *restrict xhat, int batch, int d,
			 real *restrict dweight, real *restrict dbias)
{
	memset(dweight, 0, (size_t)d * sizeof(real));
	memset(dbias, 0, (size_t)d * sizeof(real));
	for (int n = 0; n < batch; n++) {
		const real *g = dy + (size_t)n * d;
		const real *xh = xhat + (size_t)n * d;

		for (int j = 0; j < d; j++) {
			dweight[j] += g[j] * xh[j];
			dbias[j] += g[j];
		}
	}
}

static void batchnorm_backward(struct tail_layer *l, const real *dy,
			       int batch, enum bn_mode mode, int need_dx)
{
	int d = l->in;

	affine_grads(dy, l->xhat, batch, d, l->dweight, l->dbias);
	if (!need_dx)
		return;
	for (int n = 0; n < batch; n++) {
		const real *g = dy + (size_t)n * d;
		const real *xh = l->xhat + (size_t)n * d;
		real *dx = l->dinput + (size_t)n * d;

		for (int j = 0; j < d; j++) {
			real scale = l->weight[j] * l->inv_std[j];

			if (mode == BN_RUNNING)
				dx[j] = scale * g[j];
			else
				dx[j] = scale * (g[j] - (l->dbias[j] +
					xh[j] * l->dweight[j]) / (real)batch);
		}
	}
}

static void relu_backward(struct tail_layer *l, const real *restrict dy,
			  int batch)
{
	size_t n = (size_t)batch * (size_t)l->in;
	const real *restrict y = l->output;
	real *restrict dx = l->dinput;

	/* Both loads happen unconditionally, so the select needs no
	 * branch and the loop vectorises. */
	for (size_t i = 0; i < n; i++) {
		real g = dy[i];

		dx[i] = y[i] > 0 ? g : 0;
	}
}

static void bias_backward(struct tail_layer *l, const real *dy, int batch,
			  int need_dx)
{
	column_sums(dy, batch, l->out, l->dbias);
	if (need_dx)
		memcpy(l->dinput, dy,
		       (size_t)batch * (size_t)l->out * sizeof(real));
}

/* The lowest layer whose parameters are adapted; no gradient below it. */
static int lowest_adapted_layer(const struct tail *t)
{
	int lowest = t->n_layers;

	for (int i = 0; i < t->n_params; i++)
		if (t->params[i].layer < lowest)
			lowest = t->params[i].layer;
	return lowest;
}

void tail_backward(struct tail *t, const real *dout)
{
	const real *dy = dout;
	int stop = lowest_adapted_layer(t);

	for (int i = t->n_layers - 1; i >= stop; i--) {
		struct tail_layer *l = &t->layers[i];
		const real *x = i ? t->layers[i - 1].output : t->input;
		int need_dx = i > stop;

		switch (l->kind) {
		case LAYER_LINEAR:
			linear_backward(l, x, dy, t->batch, need_dx);
			break;
		case LAYER_BATCHNORM:
			batchnorm_backward(l, dy, t->batch, t->mode, need_dx);
			break;
		case LAYER_RELU:
			relu_backward(l, dy, t->batch);
			break;
		case LAYER_BIAS:
			bias_backward(l, dy, t->batch, need_dx);
			break;
		}
		dy = l->dinput;
	}
}

int tail_gemms(const struct tail *t, int batch, int backward,
	       struct gemm_shape *shapes)
{
	int count = 0, stop = lowest_adapted_layer(t);

	for (int i = 0; i < t->n_layers; i++) {
		const struct tail_layer *l = &t->layers[i];

		if (l->kind == LAYER_LINEAR && weights_left(l, batch))
			shapes[count++] = (struct gemm_shape){
				0, 1, l->out, batch, l->in };
		else if (l->kind == LAYER_LINEAR)
			shapes[count++] = (struct gemm_shape){
				0, 1, batch, l->out, l->in };
	}
	for (int i = t->n_layers - 1; backward && i >= stop; i--) {
		const struct tail_layer *l = &t->layers[i];

		if (l->kind != LAYER_LINEAR)
			continue;
		if (l->adapted)
			shapes[count++] = (struct gemm_shape){
				1, 0, l->out, l->in, batch };
		if (i > stop)
			shapes[count++] = (struct gemm_shape){
				0, 0, batch, l->in, l->out };
	}
	return count;
}

void tail_update_running_stats(struct tail *t, double momentum)
{
	double unbias = t->batch > 1 ?
		(double)t->batch / (double)(t->batch - 1) : 1.0;

	for (int i = 0; i < t->n_layers; i++) {
		struct tail_layer *l = &t->layers[i];

		if (l->kind != LAYER_BATCHNORM)
			continue;
		for (int j = 0; j < l->in; j++) {
			l->running_mean[j] = (real)((1 - momentum) *
				l->running_mean[j] + momentum *
				l->batch_mean[j]);
			l->running_var[j] = (real)((1 - momentum) *
				l->running_var[j] + momentum * unbias *
				l->batch_var[j]);
		}
	}
}
