/* mec.c - the marginal entropy calibrator and CADF row terms. */
#include "mec.h"

#include <math.h>
#include <string.h>

size_t mec_state_size(int classes)
{
	return (size_t)classes * (size_t)classes * sizeof(double);
}

void mec_reset(void *state, int classes, const double *tunables)
{
	double *m = state;

	(void)tunables;
	for (size_t i = 0; i < (size_t)classes * classes; i++)
		m[i] = 1.0 / classes;
}

const double *mec_row(const void *state, int classes, int k)
{
	return (const double *)state + (size_t)k * classes;
}

/* Adds p_m to sum for every sample m >= first pseudo-labelled k. */
static int sum_class(const struct method_batch *b, double *label, int first,
		     int k, double *sum, double *p)
{
	int c = b->classes, count = 0;

	memset(sum, 0, (size_t)c * sizeof(double));
	for (int n = first; n < b->batch; n++) {
		if (label[n] != k)
			continue;
		softmax_row(b->anchor + (size_t)n * c, c, p);
		for (int i = 0; i < c; i++)
			sum[i] += p[i];
		label[n] = -1;
		count++;
	}
	return count;
}

/*
 * One pass over the batch per distinct pseudo-label, each sample's
 * softmax computed once: O(B C) for the sums and O(B^2) for grouping.
 */
void mec_observe(const struct method_batch *b, int pi_index)
{
	int c = b->classes;
	double *m = b->state;
	double pi = b->tunables[pi_index];
	double *p = b->work, *sum = b->work + c;
	double *label = b->work + METHOD_WORK(0, c);

	for (int n = 0; n < b->batch; n++)
		label[n] = argmax_row(b->anchor + (size_t)n * c, c);
	for (int n = 0; n < b->batch; n++) {
		int k = (int)label[n], count;
		double *row = m + (size_t)k * c;

		if (k < 0)
			continue;
		count = sum_class(b, label, n, k, sum, p);
		for (int i = 0; i < c; i++)
			row[i] = (1 - pi) * row[i] + pi * sum[i] / count;
	}
}

double cadf_value(const double *z, const double *p, int classes)
{
	double t = 0;

	for (int i = 0; i < classes; i++)
		t -= p[i] * z[i];
	return t;
}

/* The L1 norm of the CADF reward from a row's softmax p and T. */
static double reward_l1(const double *z, const double *p, double t,
			int classes)
{
	double delta = 0;

	for (int i = 0; i < classes; i++)
		delta += fabs(p[i] * (z[i] + t + 1));
	return delta;
}

double cadf_reward_l1(const double *z, int classes, double *work)
{
	softmax_row(z, classes, work);
	return reward_l1(z, work, cadf_value(z, work, classes), classes);
}

/*
 * In a run the anchor is the logits themselves, so one softmax serves
 * the loss, the gradient and delta.  The gradient check moves the
 * logits with the anchor fixed, so there delta needs its own softmax.
 */
double mec_loss_grad(const struct method_batch *b, double *grad,
		     int normalise)
{
	int c = b->classes;
	double *p = b->work, *tmp = b->work + c;
	double total = 0;

	for (int n = 0; n < b->batch; n++) {
		const double *z = b->logits + (size_t)n * c;
		const double *a = b->anchor + (size_t)n * c;
		const double *m = mec_row(b->state, c, argmax_row(a, c));
		double *g = grad ? grad + (size_t)n * c : NULL;
		double t, mz = 0, d = 1;

		softmax_row(z, c, p);
		t = cadf_value(z, p, c);
		if (normalise)
			d = a == z ? reward_l1(z, p, t, c) :
				     cadf_reward_l1(a, c, tmp);
		for (int i = 0; i < c; i++)
			mz += m[i] * z[i];
		total += (t + mz) / d;
		for (int i = 0; g && i < c; i++)
			g[i] = (-p[i] * (z[i] + t + 1) + m[i]) /
			       (d * b->batch);
	}
	return total / b->batch;
}
