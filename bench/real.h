/*
 * real.h - the floating-point type of the model tail.
 *
 * The runner computes in float with sgemm, as the feature files store
 * float32.  Building with -DDEMBENCH_DOUBLE gives the same code in
 * double with dgemm, which the tests use to compare each layer's
 * backward pass with central finite differences.
 */
#ifndef DEMBENCH_REAL_H
#define DEMBENCH_REAL_H

#include <cblas.h>

#ifdef DEMBENCH_DOUBLE
typedef double real;
#define cblas_xgemm cblas_dgemm
#define cblas_xgemv cblas_dgemv
#else
typedef float real;
#define cblas_xgemm cblas_sgemm
#define cblas_xgemv cblas_sgemv
#endif

#endif
