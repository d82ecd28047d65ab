/* method.c - lookup, tunable checks and shared maths for methods. */
#include "method.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const struct method *method_find(const char *name)
{
	for (int i = 0; method_registry[i]; i++)
		if (!strcmp(method_registry[i]->name, name))
			return method_registry[i];
	return NULL;
}

int method_tunable_index(const struct method *m, const char *name)
{
	for (int i = 0; i < m->n_tunables; i++)
		if (!strcmp(m->tunables[i].name, name))
			return i;
	return -1;
}

static void format_range(const struct tunable *t, char *buf, size_t size)
{
	snprintf(buf, size, "%c%g, %g%c", t->min_open ? '(' : '[', t->min,
		 t->max, t->max_open ? ')' : ']');
}

int method_check_tunable(const struct method *m, int i, double value)
{
	const struct tunable *t = &m->tunables[i];
	int below = t->min_open ? value <= t->min : value < t->min;
	int above = t->max_open ? value >= t->max : value > t->max;
	char range[64];

	if (!isnan(value) && !below && !above)
		return 0;
	format_range(t, range, sizeof(range));
	err_set("%s: %s = %g is out of range; expected a value in %s",
		m->name, t->name, value, range);
	return -1;
}

void method_list_tunables(const struct method *m, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < m->n_tunables && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
					 i ? ", " : "", m->tunables[i].name);
}

int method_set_tunable(const struct method *m, const char *text,
		       double *values)
{
	const char *eq = strchr(text, '=');
	char name[64], known[256], *end;
	double value;
	int k;

	if (!eq || eq == text || (size_t)(eq - text) >= sizeof(name)) {
		err_set("%s: invalid setting '%s'; expected NAME=VALUE",
			m->name, text);
		return -1;
	}
	memcpy(name, text, (size_t)(eq - text));
	name[eq - text] = '\0';
	k = method_tunable_index(m, name);
	if (k < 0) {
		method_list_tunables(m, known, sizeof(known));
		err_set("%s has no tunable '%s'; its tunables: %s", m->name,
			name, m->n_tunables ? known : "none");
		return -1;
	}
	value = strtod(eq + 1, &end);
	if (end == eq + 1 || *end) {
		err_set("%s: %s: invalid number '%s'", m->name, name, eq + 1);
		return -1;
	}
	if (method_check_tunable(m, k, value))
		return -1;
	values[k] = value;
	return 0;
}

int method_parse_tunables(const struct method *m, const char *text,
			  double *values)
{
	char *copy = xstrdup(text), *save = NULL;
	int rc = 0;

	for (char *item = strtok_r(copy, ",", &save); item && !rc;
	     item = strtok_r(NULL, ",", &save))
		rc = method_set_tunable(m, item, values);
	free(copy);
	return rc;
}

void method_defaults(const struct method *m, double *values)
{
	for (int i = 0; i < m->n_tunables; i++)
		values[i] = m->tunables[i].def;
}

void method_format_tunables(const struct method *m, const double *values,
			    char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < m->n_tunables && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s=%g",
					 i ? "," : "", m->tunables[i].name,
					 values[i]);
}

/*
 * The exponentials of softmax_row() cost more than the rest of a
 * method's loss.  glibc's libmvec has vector versions of exp (within
 * 4 ulp, where the scalar one is within 1): declaring exp a SIMD
 * function lets GCC call them from the loop, with the vector width of
 * each clone (real.h).  Each width has its own exp, so results may
 * differ in the last bits between processors, as sgemm's do.  Measured
 * at 2.6 ns per element against 7.0 for the scalar loop (C = 1000, AMD
 * EPYC); see docs/performance.md.
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((simd("notinbranch"))) double exp(double x);
#endif

VECTOR_CLONES
double softmax_row(const double *z, int classes, double *p)
{
	double max = z[0], sum = 0;

	for (int i = 1; i < classes; i++)
		if (z[i] > max)
			max = z[i];
	for (int i = 0; i < classes; i++)
		p[i] = exp(z[i] - max);
	for (int i = 0; i < classes; i++)
		sum += p[i];
	for (int i = 0; i < classes; i++)
		p[i] *= 1 / sum;
	return max + log(sum);
}

int argmax_row(const double *z, int classes)
{
	int best = 0;

	for (int i = 1; i < classes; i++)
		if (z[i] > z[best])
			best = i;
	return best;
}
