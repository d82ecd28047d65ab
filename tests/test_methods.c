/*
 * test_methods.c - every registered method's gradient against finite
 * differences, and the closed forms of EM and CADF on hand-made rows.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "gradcheck.h"
#include "mec.h"
#include "method.h"
#include "util.h"

#define B 5
#define C 7

/* Runs the gradient check of every method at its default tunables. */
static void every_method_passes_gradcheck(void **state)
{
	(void)state;
	for (int i = 0; method_registry[i]; i++) {
		const struct method *m = method_registry[i];
		double tunables[METHOD_MAX_TUNABLES];
		struct gradcheck_result r;
		int failed;

		method_defaults(m, tunables);
		failed = gradcheck_method(m, tunables, &r);
		if (failed)
			print_message("%s: error %.3g at %s\n", m->name,
				      r.max_error, r.worst);
		assert_int_equal(failed, 0);
	}
}

static double one_row(const char *name, const double *z, int classes,
		      double *grad)
{
	const struct method *m = method_find(name);
	double work[METHOD_WORK(1, 16)];
	struct method_batch b = {
		.logits = z, .anchor = z, .batch = 1, .classes = classes,
		.work = work,
	};

	assert_non_null(m);
	return m->loss_grad(&b, grad);
}

/* Uniform logits: H = log C and the EM gradient vanishes. */
static void em_uniform_row(void **state)
{
	double z[4] = { 0.5, 0.5, 0.5, 0.5 }, g[4];

	(void)state;
	assert_true(fabs(one_row("em", z, 4, g) - log(4.0)) < 1e-12);
	for (int i = 0; i < 4; i++)
		assert_true(fabs(g[i]) < 1e-12);
}

/*
 * Two classes with z = (0, log 3): p = (1/4, 3/4) and
 * T = -(3/4) log 3, dT/dz_i = -p_i (z_i + T + 1).
 */
static void cadf_two_classes(void **state)
{
	double z[2] = { 0.0, log(3.0) }, g[2];
	double t = -0.75 * log(3.0);

	(void)state;
	assert_true(fabs(one_row("cadf", z, 2, g) - t) < 1e-12);
	assert_true(fabs(g[0] + 0.25 * (0 + t + 1)) < 1e-12);
	assert_true(fabs(g[1] + 0.75 * (log(3.0) + t + 1)) < 1e-12);
}

/* Large logits must not overflow the softmax. */
static void em_large_logits_finite(void **state)
{
	double z[3] = { 1000.0, 999.0, -1000.0 }, g[3];
	double h = one_row("em", z, 3, g);

	(void)state;
	assert_true(isfinite(h));
	for (int i = 0; i < 3; i++)
		assert_true(isfinite(g[i]));
}

/* Loss and gradient of a method on a batch, with the given tunables. */
static double batch_grad(const char *name, const double *tunables,
			 void *state, const double *z, int batch, int classes,
			 double *grad)
{
	const struct method *m = method_find(name);
	double work[METHOD_WORK(B, 16)];
	struct method_batch b = {
		.logits = z, .anchor = z, .batch = batch, .classes = classes,
		.tunables = tunables, .state = state, .work = work,
	};

	assert_non_null(m);
	if (m->observe)
		m->observe(&b);
	return m->loss_grad(&b, grad);
}

static void random_batch(uint64_t seed, double scale, double *z)
{
	struct rng r;

	rng_seed(&r, seed);
	for (int i = 0; i < B * C; i++)
		z[i] = scale * rng_normal(&r);
}

static void assert_close(const double *a, const double *b, int n,
			 double tolerance)
{
	for (int i = 0; i < n; i++)
		assert_true(fabs(a[i] - b[i]) <= tolerance);
}

/* DEM(1, 1) is EM and DEM(1, 0) is CADF, loss and gradient. */
static void dem_special_cases(void **state)
{
	double z[B * C], g[B * C], ref[B * C];
	double em_point[2] = { 1, 1 }, cadf_point[2] = { 1, 0 };
	double loss, ref_loss;

	(void)state;
	random_batch(1, 3.0, z);
	ref_loss = batch_grad("em", NULL, NULL, z, B, C, ref);
	loss = batch_grad("dem", em_point, NULL, z, B, C, g);
	assert_true(fabs(loss - ref_loss) < 1e-12);
	assert_close(g, ref, B * C, 1e-14);
	ref_loss = batch_grad("cadf", NULL, NULL, z, B, C, ref);
	loss = batch_grad("dem", cadf_point, NULL, z, B, C, g);
	assert_true(fabs(loss - ref_loss) < 1e-12);
	assert_close(g, ref, B * C, 1e-14);
}

/* AdaDEM-Norm's gradient is EM's divided by each row's delta. */
static void adadem_norm_is_em_over_delta(void **state)
{
	double z[B * C], g[B * C], ref[B * C], work[C];

	(void)state;
	random_batch(2, 2.0, z);
	batch_grad("em", NULL, NULL, z, B, C, ref);
	batch_grad("adadem-norm", NULL, NULL, z, B, C, g);
	for (int n = 0; n < B; n++) {
		double delta = cadf_reward_l1(z + n * C, C, work);

		for (int i = 0; i < C; i++)
			ref[n * C + i] /= delta;
	}
	assert_close(g, ref, B * C, 1e-14);
}

/*
 * A 3-class batch of three samples: two predict class 0, one predicts
 * class 2, none class 1.  With pi = 0.5, row 0 becomes the average of
 * 1/3 and the mean prediction of the first two samples, row 2 that of
 * the third, and row 1 stays at 1/3.
 */
static void mec_update_by_hand(void **state)
{
	double z[9] = { 2, 0, 0, 1, 0.5, 0, 0, 0, 3 };
	double pi[1] = { 0.5 }, m[9], p[3][3], work[METHOD_WORK(3, 3)];
	const struct method *adadem = method_find("adadem");
	struct method_batch b = {
		.logits = z, .anchor = z, .batch = 3, .classes = 3,
		.tunables = pi, .state = m, .work = work,
	};

	(void)state;
	assert_int_equal(adadem->state_size(3), sizeof(m));
	adadem->reset(m, 3, pi);
	for (int i = 0; i < 9; i++)
		assert_true(m[i] == 1.0 / 3);
	for (int n = 0; n < 3; n++)
		softmax_row(z + 3 * n, 3, p[n]);
	adadem->observe(&b);
	for (int i = 0; i < 3; i++) {
		double mean0 = (p[0][i] + p[1][i]) / 2;

		assert_true(fabs(m[i] - (0.5 / 3 + 0.5 * mean0)) < 1e-15);
		assert_true(m[3 + i] == 1.0 / 3);
		assert_true(fabs(m[6 + i] - (0.5 / 3 + 0.5 * p[2][i])) < 1e-15);
	}

	/* The protocol's reset between tasks restores 1/C everywhere. */
	adadem->reset(m, 3, pi);
	for (int i = 0; i < 9; i++)
		assert_true(m[i] == 1.0 / 3);
}

/*
 * Reward collapse: for a 10-way row whose top logit leads by a growing
 * gap, the reward of the top class (-dL/dz_top) under EM vanishes as
 * p_top -> 1, while CADF's tends to 1 and AdaDEM's to 1 - M[0]_0, where
 * one update from the start 1/C gives M[0]_0 = 0.9 / 10 + 0.1 p_top.
 * AdaDEM-Norm divides EM's reward by delta, which
 * tends to 1 here, so it collapses with EM: normalisation alone does not
 * prevent it, the calibrator does.
 */
static void reward_collapse(void **state)
{
	double z[10], g[10], pi[1] = { 0.1 }, m[100];
	const struct method *adadem = method_find("adadem");
	double em = 0, cadf = 0, norm = 0, ada = 0;

	(void)state;
	for (int gap = 2; gap <= 20; gap += 6) {
		for (int i = 0; i < 10; i++)
			z[i] = i == 0 ? gap : 0;
		batch_grad("em", NULL, NULL, z, 1, 10, g);
		em = -g[0];
		batch_grad("cadf", NULL, NULL, z, 1, 10, g);
		cadf = -g[0];
		batch_grad("adadem-norm", NULL, NULL, z, 1, 10, g);
		norm = -g[0];
		adadem->reset(m, 10, pi);
		batch_grad("adadem", pi, m, z, 1, 10, g);
		ada = -g[0];
	}

	/* At a gap of 20, p_top = 1 - 1.9e-8. */
	assert_true(em > 0);
	assert_true(em < 1e-6);
	assert_true(fabs(cadf - 1) < 1e-6);
	assert_true(fabs(ada - (1 - 0.09 - 0.1)) < 1e-6);
	assert_true(fabs(norm - em) < 1e-6 * em);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_method_passes_gradcheck),
		cmocka_unit_test(em_uniform_row),
		cmocka_unit_test(cadf_two_classes),
		cmocka_unit_test(em_large_logits_finite),
		cmocka_unit_test(dem_special_cases),
		cmocka_unit_test(adadem_norm_is_em_over_delta),
		cmocka_unit_test(mec_update_by_hand),
		cmocka_unit_test(reward_collapse),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("methods", tests, NULL, NULL);
}
