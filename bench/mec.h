/*
 * mec.h - the marginal entropy calibrator (MEC) of AdaDEM, shared by
 * the methods that use it, and the CADF row terms they need.
 *
 * The state is a C x C matrix M whose row k is a moving average of the
 * predictions of the samples pseudo-labelled k.  Every entry starts at
 * 1/C.  For each batch, before the loss and without gradient:
 *   y_n = argmax_i p_{n,i}
 *   M[k] = (1 - pi) M[k] + pi * mean{p_n : y_n = k}
 * for every class k among the y_n; rows of absent classes are kept.
 *
 * Source: Ma, Li and Xiang, "Decoupled Entropy Minimization",
 * NeurIPS 2025, arXiv:2511.03256, Algorithm 1.
 */
#ifndef DEMBENCH_MEC_H
#define DEMBENCH_MEC_H

#include <stddef.h>

#include "method.h"

/* Index of the tunable pi in the methods that use the calibrator. */
#define MEC_PI 0

size_t mec_state_size(int classes);
void mec_reset(void *state, int classes, const double *tunables);

/* Updates M from the batch's predictions; pi is b->tunables[pi_index]. */
void mec_observe(const struct method_batch *b, int pi_index);

/* Returns row k of M. */
const double *mec_row(const void *state, int classes, int k);

/*
 * The CADF loss with the calibrator in place of p in the penalty:
 *   L_n = (T(z_n) + sum_i M[y_n]_i z_{n,i}) / d_n
 *   dL_n/dz_i = (-p_i (z_i + T + 1) + M[y_n]_i) / d_n
 * with y_n from the anchor and d_n = delta_n of the anchor when
 * normalise is set (AdaDEM), else 1 (AdaDEM-MEC).  Returns the mean
 * over the batch and writes the gradient when grad is not NULL.
 */
double mec_loss_grad(const struct method_batch *b, double *grad,
		     int normalise);

/*
 * CADF of one row, with p = softmax(z) given: returns
 * T = -sum_i p_i z_i.
 */
double cadf_value(const double *z, const double *p, int classes);

/*
 * The L1 norm of the CADF reward of one row,
 *   delta = sum_i |p_i (z_i + T + 1)|,
 * the per-sample normaliser of AdaDEM.  work has room for classes doubles.
 */
double cadf_reward_l1(const double *z, int classes, double *work);

#endif
