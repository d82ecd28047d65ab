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

/*
 * Put before a function whose loops vectorise: GCC builds it for
 * AVX-512, AVX2 and plain x86-64, and the program picks the widest the
 * processor has when it loads.  dembench's default build targets plain
 * x86-64, whose vectors hold four floats.  In ISO C mode GCC does not
 * contract a * b + c into one rounding, and without -ffast-math it
 * keeps each sum in source order, so the clones give equal results.
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define VECTOR_CLONES \
	__attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VECTOR_CLONES
#endif

#endif
