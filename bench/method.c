/* method.c - lookup, tunable checks and shared maths for methods. */
#include "method.h"

#include <math.h>
#include <stdio.h>
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

double softmax_row(const double *z, int classes, double *p)
{
	double max = z[0], sum = 0;

	for (int i = 1; i < classes; i++)
		if (z[i] > max)
			max = z[i];
	for (int i = 0; i < classes; i++) {
		p[i] = exp(z[i] - max);
		sum += p[i];
	}
	for (int i = 0; i < classes; i++)
		p[i] /= sum;
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
