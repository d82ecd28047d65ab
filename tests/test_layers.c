/*
 * test_layers.c - each layer's backward pass against central finite
 * differences, on the double-precision build of the tail.
 *
 * The scalar checked is L = sum(out * w) for fixed random weights w,
 * so dL/dout = w and every analytic gradient can be compared with
 * (L(theta + h) - L(theta - h)) / 2h.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tail.h"
#include "util.h"

#define BATCH 5
#define STEP 1e-6
#define TOLERANCE 1e-6

static float *random_floats(struct rng *r, size_t n, double scale,
			    double offset)
{
	float *v = xmalloc(n * sizeof(float));

	for (size_t i = 0; i < n; i++)
		v[i] = (float)(offset + scale * rng_normal(r));
	return v;
}

/* A layer of the given kind with random parameters. */
static struct layer_spec random_layer(struct rng *r, enum layer_kind kind,
				      int in, int out)
{
	struct layer_spec l = { .kind = kind, .in = in, .out = out,
				.eps = 1e-5 };

	if (kind == LAYER_LINEAR) {
		l.weight = random_floats(r, (size_t)in * out, 0.5, 0);
		l.bias = random_floats(r, (size_t)out, 0.5, 0);
	}
	if (kind == LAYER_BATCHNORM) {
		l.weight = random_floats(r, (size_t)in, 0.3, 1);
		l.bias = random_floats(r, (size_t)in, 0.3, 0);
		l.running_mean = random_floats(r, (size_t)in, 0.5, 0);
		l.running_var = random_floats(r, (size_t)in, 0.1, 1);
	}
	if (kind == LAYER_BIAS)
		l.bias = random_floats(r, (size_t)in, 0.5, 0);
	return l;
}

static double objective(struct tail *t, const real *x, const real *w,
			enum bn_mode mode)
{
	const real *out = tail_forward(t, x, BATCH, mode);
	double sum = 0;

	for (int i = 0; i < BATCH * t->out_dim; i++)
		sum += out[i] * w[i];
	return sum;
}

/* Largest relative error of the analytic gradient of v [n]. */
static double check_values(struct tail *t, const real *x, const real *w,
			   enum bn_mode mode, real *v, const real *grad,
			   size_t n)
{
	double worst = 0;

	for (size_t k = 0; k < n; k++) {
		real saved = v[k];
		double up, down, numeric, err;

		v[k] = saved + STEP;
		up = objective(t, x, w, mode);
		v[k] = saved - STEP;
		down = objective(t, x, w, mode);
		v[k] = saved;
		numeric = (up - down) / (2 * STEP);
		err = fabs(numeric - grad[k]) /
		      fmax(1.0, fabs(numeric) + fabs(grad[k]));
		if (err > worst)
			worst = err;
	}
	return worst;
}

/*
 * Builds a tail from spec, whose layer 0 must be a bias layer,
 * back-propagates w, and checks every adapted parameter and the
 * gradient with respect to the input.
 */
static void check_tail(struct tail_spec *spec, enum bn_mode mode,
		       enum param_set which)
{
	struct rng r;
	struct tail *t;
	real *x, *w, *dinput;
	int in, out;

	rng_seed(&r, 42);
	t = tail_create(spec, BATCH, which);
	assert_non_null(t);
	in = t->in_dim;
	out = t->out_dim;
	x = xmalloc((size_t)BATCH * in * sizeof(real));
	w = xmalloc((size_t)BATCH * out * sizeof(real));
	for (int i = 0; i < BATCH * in; i++)
		x[i] = (real)(0.3 + rng_normal(&r));
	for (int i = 0; i < BATCH * out; i++)
		w[i] = (real)rng_normal(&r);

	objective(t, x, w, mode);
	tail_backward(t, w);
	for (int p = 0; p < t->n_params; p++) {
		struct param_ref *ref = &t->params[p];
		real *grad = xmalloc(ref->size * sizeof(real));

		memcpy(grad, ref->grad, ref->size * sizeof(real));
		assert_true(check_values(t, x, w, mode, ref->value, grad,
					 ref->size) < TOLERANCE);
		free(grad);
	}

	/*
	 * Layer 0 is a bias layer (identity plus b), so layer 1's input
	 * gradient is the gradient with respect to x.
	 */
	dinput = xmalloc((size_t)BATCH * in * sizeof(real));
	memcpy(dinput, t->layers[1].dinput, (size_t)BATCH * in * sizeof(real));
	assert_true(check_values(t, x, w, mode, x, dinput,
				 (size_t)BATCH * in) < TOLERANCE);
	free(dinput);
	free(x);
	free(w);
	tail_free(t);
}

/* A tail of a bias layer below the given layers, all adapted. */
static void check_stack(const enum layer_kind *kinds, const int *dims,
			int n, enum bn_mode mode)
{
	struct rng r;
	struct tail_spec spec;

	rng_seed(&r, 7);
	spec.n_layers = n + 1;
	spec.layers = xcalloc((size_t)n + 1, sizeof(*spec.layers));
	spec.layers[0] = random_layer(&r, LAYER_BIAS, dims[0], dims[0]);
	for (int i = 0; i < n; i++)
		spec.layers[i + 1] = random_layer(&r, kinds[i], dims[i],
						  dims[i + 1]);
	check_tail(&spec, mode, PARAMS_ALL);
	tail_spec_free(&spec);
}

static void linear_backward_matches(void **state)
{
	enum layer_kind k[] = { LAYER_LINEAR };
	int d[] = { 6, 4 };

	(void)state;
	check_stack(k, d, 1, BN_BATCH);
}

/* More outputs than rows: the product runs with the weights on the left. */
static void wide_linear_backward_matches(void **state)
{
	enum layer_kind k[] = { LAYER_LINEAR };
	int d[] = { 6, 2 * BATCH };

	(void)state;
	check_stack(k, d, 1, BN_BATCH);
}

/* Both layouts of the forward product give x W^T + b. */
static void linear_forward_layouts(void **state)
{
	struct rng r;

	(void)state;
	rng_seed(&r, 5);
	for (int out = BATCH - 2; out <= BATCH + 3; out += 5) {
		struct tail_spec spec = { 1, NULL };
		struct layer_spec *l;
		real x[BATCH * 6];
		const real *y;
		struct tail *t;

		spec.layers = xcalloc(1, sizeof(*spec.layers));
		spec.layers[0] = random_layer(&r, LAYER_LINEAR, 6, out);
		l = &spec.layers[0];
		t = tail_create(&spec, BATCH, PARAMS_ALL);
		for (int i = 0; i < BATCH * 6; i++)
			x[i] = (real)rng_normal(&r);
		y = tail_forward(t, x, BATCH, BN_BATCH);
		for (int n = 0; n < BATCH; n++)
			for (int j = 0; j < out; j++) {
				double want = l->bias[j];

				for (int k = 0; k < 6; k++)
					want += x[n * 6 + k] *
						(double)l->weight[j * 6 + k];
				assert_true(fabs(y[n * out + j] - want) <
					    1e-12);
			}
		tail_free(t);
		tail_spec_free(&spec);
	}
}

static void batchnorm_batch_stats_backward(void **state)
{
	enum layer_kind k[] = { LAYER_BATCHNORM, LAYER_LINEAR };
	int d[] = { 6, 6, 3 };

	(void)state;
	check_stack(k, d, 2, BN_BATCH);
}

static void batchnorm_running_stats_backward(void **state)
{
	enum layer_kind k[] = { LAYER_BATCHNORM, LAYER_LINEAR };
	int d[] = { 6, 6, 3 };

	(void)state;
	check_stack(k, d, 2, BN_RUNNING);
}

static void relu_backward_matches(void **state)
{
	enum layer_kind k[] = { LAYER_RELU, LAYER_LINEAR };
	int d[] = { 6, 6, 3 };

	(void)state;
	check_stack(k, d, 2, BN_BATCH);
}

static void full_tail_backward(void **state)
{
	enum layer_kind k[] = { LAYER_BATCHNORM, LAYER_RELU, LAYER_LINEAR,
				LAYER_BATCHNORM, LAYER_RELU, LAYER_LINEAR };
	int d[] = { 8, 8, 8, 6, 6, 6, 4 };

	(void)state;
	check_stack(k, d, 6, BN_BATCH);
}

/* Adapting BatchNorm only must leave Linear gradients untouched. */
static void frozen_linear_gets_no_gradient(void **state)
{
	struct rng r;
	struct tail_spec spec = { 2, NULL };
	struct tail *t;
	real x[BATCH * 4], w[BATCH * 3];

	(void)state;
	rng_seed(&r, 3);
	spec.layers = xcalloc(2, sizeof(*spec.layers));
	spec.layers[0] = random_layer(&r, LAYER_BATCHNORM, 4, 4);
	spec.layers[1] = random_layer(&r, LAYER_LINEAR, 4, 3);
	t = tail_create(&spec, BATCH, PARAMS_BATCHNORM);
	assert_int_equal(t->n_params, 2);
	assert_int_equal(t->params[0].layer, 0);
	assert_int_equal(t->params[1].layer, 0);
	for (int i = 0; i < BATCH * 4; i++)
		x[i] = (real)rng_normal(&r);
	for (int i = 0; i < BATCH * 3; i++)
		w[i] = (real)rng_normal(&r);
	objective(t, x, w, BN_BATCH);
	tail_backward(t, w);
	/* no buffer: the product dW is never computed, not even zeroed */
	assert_null(t->layers[1].dweight);
	tail_free(t);
	tail_spec_free(&spec);
}

/* tail_reset() must restore the source parameters exactly. */
static void reset_restores_source(void **state)
{
	struct rng r;
	struct tail_spec spec = { 1, NULL };
	struct tail *t;

	(void)state;
	rng_seed(&r, 5);
	spec.layers = xcalloc(1, sizeof(*spec.layers));
	spec.layers[0] = random_layer(&r, LAYER_BATCHNORM, 4, 4);
	t = tail_create(&spec, BATCH, PARAMS_BATCHNORM);
	t->layers[0].weight[2] += 1;
	t->layers[0].bias[1] -= 1;
	tail_reset(t, &spec);
	for (int i = 0; i < 4; i++) {
		assert_true(t->layers[0].weight[i] == spec.layers[0].weight[i]);
		assert_true(t->layers[0].bias[i] == spec.layers[0].bias[i]);
	}
	tail_free(t);
	tail_spec_free(&spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(linear_backward_matches),
		cmocka_unit_test(batchnorm_batch_stats_backward),
		cmocka_unit_test(batchnorm_running_stats_backward),
		cmocka_unit_test(relu_backward_matches),
		cmocka_unit_test(full_tail_backward),
		cmocka_unit_test(wide_linear_backward_matches),
		cmocka_unit_test(linear_forward_layouts),
		cmocka_unit_test(frozen_linear_gets_no_gradient),
		cmocka_unit_test(reset_restores_source),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("layers", tests, NULL, NULL);
}
