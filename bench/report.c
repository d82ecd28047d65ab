/* report.c - aggregate result files into summary.csv and table.md. */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"
#include "util.h"

static int index_of(char **list, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return i;
	return -1;
}

/* Adds s to the list unless present; returns its index. */
static int add_name(char ***list, int *n, const char *s)
{
	int i = index_of(*list, *n, s);

	if (i >= 0)
		return i;
	*list = xrealloc(*list, (size_t)(*n + 1) * sizeof(char *));
	(*list)[*n] = xstrdup(s);
	return (*n)++;
}

static int protocol_slot(const struct report *r, const char *protocol)
{
	int i = index_of(r->protocols, r->n_protocols, protocol);

	return i >= 0 && i < PROTOCOL_COUNT ? i : -1;
}

const struct task_list *report_tasks(const struct report *r,
				     const char *protocol)
{
	static const struct task_list none = { 0, NULL };
	int p = protocol_slot(r, protocol);

	return p < 0 ? &none : &r->task_lists[p];
}

/*
 * Collects the task sequence of every protocol from the rows; the
 * gradual protocol's differs from the others'.
 */
static int collect_tasks(struct report *r, const struct result_table *t)
{
	for (int i = 0; i < t->n; i++) {
		const struct result_row *row = &t->rows[i];
		int p = add_name(&r->protocols, &r->n_protocols, row->protocol);
		struct task_list *l;

		if (p >= PROTOCOL_COUNT) {
			err_set("%s: more than %d protocols in the results",
				r->dir, PROTOCOL_COUNT);
			return -1;
		}
		l = &r->task_lists[p];
		if (row->task_index >= l->n) {
			l->names = xrealloc(l->names, (size_t)(row->task_index +
					    1) * sizeof(char *));
			memset(l->names + l->n, 0, (size_t)(row->task_index +
			       1 - l->n) * sizeof(char *));
			l->n = row->task_index + 1;
		}
		if (!l->names[row->task_index])
			l->names[row->task_index] = xstrdup(row->task);
	}
	r->n_tasks = r->task_lists[0].n;
	r->tasks = r->task_lists[0].names;
	return 0;
}

/* Adds a method to the ordered list, with a learning rate it fixes. */
static void add_method(struct report *r, const char *label, double lr)
{
	int before = r->n_methods;
	int i = add_name(&r->methods, &r->n_methods, label);

	if (i < before)
		return;
	r->fixed_lr = xrealloc(r->fixed_lr, (size_t)r->n_methods *
			       sizeof(double));
	r->fixed_lr[i] = lr;
}

static struct config_scores *find_config(struct report *r,
					 const struct result_row *row)
{
	struct config_scores *c;

	for (int i = 0; i < r->n_configs; i++) {
		c = &r->configs[i];
		if (!strcmp(c->protocol, row->protocol) &&
		    !strcmp(c->method, row->method) &&
		    !strcmp(c->tunables, row->tunables) && c->lr == row->lr)
			return c;
	}
	r->configs = xrealloc(r->configs, (size_t)(r->n_configs + 1) *
			      sizeof(*r->configs));
	c = &r->configs[r->n_configs++];
	memset(c, 0, sizeof(*c));
	c->protocol = r->protocols[add_name(&r->protocols, &r->n_protocols,
					    row->protocol)];
	add_method(r, row->method, 0);
	c->method = r->methods[index_of(r->methods, r->n_methods,
					row->method)];
	c->tunables = xstrdup(row->tunables);
	c->lr = row->lr;
	c->n_tasks = report_tasks(r, row->protocol)->n;
	return c;
}

static int seed_slot(struct config_scores *c, long seed)
{
	size_t cells;

	for (int s = 0; s < c->n_seeds; s++)
		if (c->seeds[s] == seed)
			return s;
	c->seeds = xrealloc(c->seeds, (size_t)(c->n_seeds + 1) * sizeof(long));
	c->seeds[c->n_seeds] = seed;
	cells = (size_t)(c->n_seeds + 1) * (size_t)c->n_tasks;
	c->accuracy = xrealloc(c->accuracy, cells * sizeof(double));
	c->selection = xrealloc(c->selection, cells * sizeof(double));
	for (int k = 0; k < c->n_tasks; k++) {
		c->accuracy[(size_t)c->n_seeds * c->n_tasks + k] = NAN;
		c->selection[(size_t)c->n_seeds * c->n_tasks + k] = NAN;
	}
	return c->n_seeds++;
}

/*
 * Takes the method order, fixed learning rates and margin from the
 * suite kept beside the results, if there is one.
 */
static void read_suite(struct report *r)
{
	char *path = xasprintf("%s/suite.ini", r->dir);
	struct suite *s = path_exists(path) ? suite_load(path) : NULL;

	free(path);
	r->margin = s ? s->margin : 2.0;
	if (!s)
		return;
	for (int i = 0; i < s->n_methods; i++)
		add_method(r, s->methods[i].label, s->methods[i].lr);
	for (int i = 0; i < s->n_protocols; i++)
		add_name(&r->protocols, &r->n_protocols,
			 protocol_name(s->protocols[i]));
	suite_free(s);
}

int report_build(const char *dir, const struct result_table *t,
		 struct report *r)
{
	memset(r, 0, sizeof(*r));
	r->dir = xstrdup(dir);
	if (!t->n) {
		err_set("%s/runs holds no result files; run the suite first",
			dir);
		return -1;
	}
	read_suite(r);
	if (collect_tasks(r, t))
		return -1;
	for (int i = 0; i < t->n; i++) {
		const struct result_row *row = &t->rows[i];
		struct config_scores *c = find_config(r, row);
		int s = seed_slot(c, row->seed);
		size_t cell = (size_t)s * c->n_tasks + row->task_index;

		c->accuracy[cell] = row->accuracy;
		c->selection[cell] = row->select_accuracy;
		c->diverged |= strcmp(row->status, "ok") != 0;
	}
	return 0;
}

int report_load(const char *dir, struct report *r)
{
	struct result_table t = { 0 };
	int rc = results_read_dir(dir, &t) ? -1 : report_build(dir, &t, r);

	results_free(&t);
	return rc;
}

void report_free(struct report *r)
{
	for (int i = 0; i < r->n_configs; i++) {
		free((char *)r->configs[i].tunables);
		free(r->configs[i].seeds);
		free(r->configs[i].accuracy);
		free(r->configs[i].selection);
	}
	for (int p = 0; p < PROTOCOL_COUNT; p++) {
		for (int i = 0; i < r->task_lists[p].n; i++)
			free(r->task_lists[p].names[i]);
		free(r->task_lists[p].names);
	}
	for (int i = 0; i < r->n_methods; i++)
		free(r->methods[i]);
	for (int i = 0; i < r->n_protocols; i++)
		free(r->protocols[i]);
	free(r->methods);
	free(r->fixed_lr);
	free(r->protocols);
	free(r->configs);
	free(r->dir);
}

double config_seed_mean(const struct config_scores *c, int s, int select)
{
	const double *v = (select ? c->selection : c->accuracy) +
		(size_t)s * c->n_tasks;
	double sum = 0;

	for (int k = 0; k < c->n_tasks; k++)
		sum += v[k];
	return sum / c->n_tasks;
}

void config_mean_std(const struct config_scores *c, int task, int select,
		     double *mean, double *std)
{
	const double *v = select ? c->selection : c->accuracy;
	double sum = 0, sq = 0;

	for (int s = 0; s < c->n_seeds; s++) {
		double x = task < 0 ? config_seed_mean(c, s, select) :
			v[(size_t)s * c->n_tasks + task];

		sum += x;
	}
	*mean = sum / c->n_seeds;
	for (int s = 0; s < c->n_seeds; s++) {
		double x = task < 0 ? config_seed_mean(c, s, select) :
			v[(size_t)s * c->n_tasks + task];

		sq += (x - *mean) * (x - *mean);
	}
	*std = c->n_seeds > 1 ? sqrt(sq / (c->n_seeds - 1)) : 0;
}

const struct config_scores *report_best(const struct report *r,
					const char *protocol,
					const char *method,
					const char *tunables)
{
	const struct config_scores *best = NULL;
	double best_score = -1, score, std;

	for (int i = 0; i < r->n_configs; i++) {
		const struct config_scores *c = &r->configs[i];

		if (strcmp(c->protocol, protocol) || strcmp(c->method, method) ||
		    (tunables && strcmp(c->tunables, tunables)))
			continue;
		config_mean_std(c, -1, 1, &score, &std);
		if (isnan(score))
			score = -1;
		if (!best || score > best_score ||
		    (score == best_score && c->lr < best->lr)) {
			best = c;
			best_score = score;
		}
	}
	return best;
}

static int by_lr(const void *a, const void *b)
{
	double x = ((const struct lr_point *)a)->lr;
	double y = ((const struct lr_point *)b)->lr;

	return (x > y) - (x < y);
}

int report_lr_curve(const struct report *r, const char *protocol,
		    const char *method, const char *tunables,
		    struct lr_point *points, int max)
{
	int n = 0;

	for (int i = 0; i < r->n_configs && n < max; i++) {
		const struct config_scores *c = &r->configs[i];
		double std;

		if (strcmp(c->protocol, protocol) || strcmp(c->method, method) ||
		    strcmp(c->tunables, tunables))
			continue;
		points[n].lr = c->lr;
		points[n].config = c;
		config_mean_std(c, -1, 0, &points[n].mean, &points[n].std);
		config_mean_std(c, -1, 1, &points[n].select_mean, &std);
		n++;
	}
	qsort(points, (size_t)n, sizeof(*points), by_lr);
	return n;
}

/* Search runs of an oracle ("dem*-search") are not table rows. */
int report_is_search(const char *method)
{
	const char *dash = strrchr(method, '-');

	return dash && !strcmp(dash, "-search");
}

int report_is_oracle(const char *method)
{
	return method[strlen(method) - 1] == '*';
}

int report_rows(const struct report *r, const char *protocol,
		      const struct config_scores **rows)
{
	int n = 0;

	for (int m = 0; m < r->n_methods; m++)
		for (int i = 0; i < r->n_configs; i++) {
			const struct config_scores *c = &r->configs[i], *b;
			int seen = 0;

			if (strcmp(c->protocol, protocol) ||
			    strcmp(c->method, r->methods[m]) ||
			    report_is_search(c->method))
				continue;
			b = report_best(r, protocol, c->method, c->tunables);
			for (int k = 0; k < n; k++)
				seen |= rows[k] == b;
			if (!seen)
				rows[n++] = b;
		}
	return n;
}

