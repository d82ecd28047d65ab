/* report_table.c - write summary.csv and the Markdown tables. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "figures.h"
#include "report.h"
#include "table.h"
#include "util.h"

static const char *protocol_title(const char *protocol)
{
	if (!strcmp(protocol, "single"))
		return "single-domain";
	return protocol;
}

static int method_index(const struct report *r, const char *method)
{
	for (int i = 0; i < r->n_methods; i++)
		if (!strcmp(r->methods[i], method))
			return i;
	return -1;
}

/* "em", "dem (tau=0.5,alpha=1)"; oracles name their point elsewhere. */
static void row_label(const struct config_scores *c, char *buf, size_t n)
{
	if (*c->tunables && !report_is_oracle(c->method))
		snprintf(buf, n, "%s (%s)", c->method, c->tunables);
	else
		snprintf(buf, n, "%s", c->method);
}

/*
 * Is c's learning rate the largest or the smallest that its method ran
 * with in its protocol?  The best may then lie outside the grid.
 */
static int lr_at_edge(const struct report *r, const struct config_scores *c)
{
	double lo = c->lr, hi = c->lr;

	for (int i = 0; i < r->n_configs; i++) {
		const struct config_scores *o = &r->configs[i];

		if (strcmp(o->method, c->method) ||
		    strcmp(o->protocol, c->protocol) || o->lr == 0)
			continue;
		lo = fmin(lo, o->lr);
		hi = fmax(hi, o->lr);
	}
	return lo < hi && (c->lr == lo || c->lr == hi);
}

/* The learning rate of a row, marked when fixed or at the grid's edge. */
static void lr_label(const struct report *r, const struct config_scores *c,
		     char *buf, size_t n)
{
	int m = method_index(r, c->method);
	const char *mark = m >= 0 && r->fixed_lr[m] > 0 ? " (fixed)" :
			   lr_at_edge(r, c) ? " (edge)" : "";

	if (c->lr == 0)
		snprintf(buf, n, "-");
	else if (report_is_oracle(c->method))
		snprintf(buf, n, "%g%s, %s", c->lr, mark, c->tunables);
	else
		snprintf(buf, n, "%g%s", c->lr, mark);
}

static void add_notes(const struct report *r, struct table *t,
		      const struct config_scores **rows, int n)
{
	char note[1024] = "";
	size_t used = 0;

	for (int i = 0; i < n; i++)
		if (rows[i]->lr > 0 && lr_at_edge(r, rows[i])) {
			used += (size_t)snprintf(note + used,
				sizeof(note) - used, "A learning rate marked "
				"edge is the largest or smallest the method ran "
				"with: its best may lie outside the suite's "
				"grid.  ");
			break;
		}

	for (int i = 0; i < n; i++)
		if (rows[i]->diverged) {
			used += (size_t)snprintf(note + used,
				sizeof(note) - used, "Rows marked diverged "
				"include a task whose loss or parameters "
				"became NaN or Inf; see summary.csv.  ");
			break;
		}
	for (int i = 0; i < n; i++)
		if (report_is_oracle(rows[i]->method)) {
			snprintf(note + used, sizeof(note) - used, "%s is an "
				 "oracle: its tunables were chosen with "
				 "labels, by the best selection-split accuracy "
				 "over a grid, on a stream of the selection "
				 "split alone at one learning rate, so it can "
				 "fall below the method it generalises.",
				 rows[i]->method);
			break;
		}
	if (note[0])
		table_note(t, note);
}

/* One protocol: a row per method, a column per task and the mean. */
static struct table *task_table(const struct report *r, const char *proto)
{
	const struct config_scores **rows =
		xcalloc((size_t)r->n_configs, sizeof(*rows));
	int n = report_rows(r, proto, rows);
	char title[128], label[256];
	struct table *t;

	const struct task_list *tasks = report_tasks(r, proto);

	snprintf(title, sizeof(title), "Online accuracy per task (%%), %s",
		 protocol_title(proto));
	t = table_new(title, tasks->n + 3);
	table_head(t, 0, "method");
	table_head(t, 1, "lr");
	for (int k = 0; k < tasks->n; k++)
		table_head(t, k + 2, tasks->names[k]);
	table_head(t, tasks->n + 2, "mean");
	for (int i = 0; i < n; i++) {
		int row = table_add_row(t);
		double mean, std;

		row_label(rows[i], label, sizeof(label));
		if (rows[i]->diverged)
			strcat(label, " (diverged)");
		table_text(t, row, 0, label);
		lr_label(r, rows[i], label, sizeof(label));
		table_text(t, row, 1, label);
		for (int k = -1; k < tasks->n; k++) {
			config_mean_std(rows[i], k, 0, &mean, &std);
			table_mean_std(t, row, k < 0 ? tasks->n + 2 : k + 2,
				       mean, std);
		}
	}
	table_mark_best(t);
	add_notes(r, t, rows, n);
	free(rows);
	return t;
}

/* Finds the row of a method label among rows, or NULL. */
static const struct config_scores *find_row(const struct config_scores **rows,
					    int n, const char *method,
					    const char *tunables)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(rows[i]->method, method) &&
		    (report_is_oracle(method) ||
		     !strcmp(rows[i]->tunables, tunables)))
			return rows[i];
	return NULL;
}

/* Fills one protocol's pair of columns (lr, accuracy) of a main row. */
static void main_cells(const struct report *r, struct table *t, int row,
		       int col, const struct config_scores *c)
{
	char lr[256];
	double mean, std;

	if (!c) {
		table_text(t, row, col, "-");
		return;
	}
	lr_label(r, c, lr, sizeof(lr));
	table_text(t, row, col, lr);
	config_mean_std(c, -1, 0, &mean, &std);
	table_mean_std(t, row, col + 1, mean, std);
}

/* Methods as rows, the mean over tasks of each protocol as columns. */
static struct table *main_table(const struct report *r)
{
	const struct config_scores **rows[PROTOCOL_COUNT] = { NULL }, **first;
	int n[PROTOCOL_COUNT] = { 0 };
	int np = r->n_protocols < PROTOCOL_COUNT ? r->n_protocols :
		 PROTOCOL_COUNT;
	struct table *t = table_new("Mean online accuracy over tasks (%)",
				    1 + 2 * np);
	char head[128], label[256];

	table_head(t, 0, "method");
	for (int p = 0; p < np; p++) {
		rows[p] = xcalloc((size_t)r->n_configs, sizeof(**rows));
		n[p] = report_rows(r, r->protocols[p], rows[p]);
		snprintf(head, sizeof(head), "lr (%s)",
			 protocol_title(r->protocols[p]));
		table_head(t, 1 + 2 * p, head);
		table_head(t, 2 + 2 * p, protocol_title(r->protocols[p]));
	}
	first = rows[0];
	for (int i = 0; i < n[0]; i++) {
		int row = table_add_row(t);

		row_label(first[i], label, sizeof(label));
		table_text(t, row, 0, label);
		for (int p = 0; p < np; p++)
			main_cells(r, t, row, 1 + 2 * p,
				   find_row(rows[p], n[p], first[i]->method,
					    first[i]->tunables));
	}
	table_mark_best(t);
	add_notes(r, t, first, n[0]);
	for (int p = 0; p < np; p++)
		free(rows[p]);
	return t;
}
/* Grows [lo, hi] around best while the curve satisfies keep(). */
static void widest_range(const struct lr_point *pt, int n, int best,
			 double floor, int strict, int *lo, int *hi)
{
	*lo = *hi = best;
	while (*lo > 0 && (strict ? pt[*lo - 1].mean > floor :
			   pt[*lo - 1].mean >= floor))
		(*lo)--;
	while (*hi < n - 1 && (strict ? pt[*hi + 1].mean > floor :
			       pt[*hi + 1].mean >= floor))
		(*hi)++;
}

static void range_cells(struct table *t, int row, int col,
			const struct lr_point *pt, int lo, int hi)
{
	char text[32];

	if (lo < 0) {
		table_text(t, row, col, "none");
		table_text(t, row, col + 1, "-");
		table_text(t, row, col + 2, "-");
		return;
	}
	snprintf(text, sizeof(text), "%g", pt[lo].lr);
	table_text(t, row, col, text);
	snprintf(text, sizeof(text), "%g", pt[hi].lr);
	table_text(t, row, col + 1, text);
	table_number(t, row, col + 2, pt[hi].lr / pt[lo].lr);
}

static double noadapt_mean(const struct report *r, const char *proto)
{
	const struct config_scores *c = report_best(r, proto, "noadapt", "");
	double mean = NAN, std;

	if (c)
		config_mean_std(c, -1, 0, &mean, &std);
	return mean;
}

/* One row: the ranges of one method's learning-rate curve. */
static void tolerance_row(const struct report *r, struct table *t,
			  const char *proto, const struct config_scores *c,
			  double reference)
{
	struct lr_point pt[256];
	int n = report_lr_curve(r, proto, c->method, c->tunables, pt, 256);
	int best = 0, lo, hi, row;
	char label[256];

	for (int i = 1; i < n; i++)
		if (pt[i].mean > pt[best].mean)
			best = i;
	row = table_add_row(t);
	row_label(c, label, sizeof(label));
	table_text(t, row, 0, label);
	table_text(t, row, 1, protocol_title(proto));
	snprintf(label, sizeof(label), "%g", pt[best].lr);
	table_text(t, row, 2, label);
	table_mean_std(t, row, 3, pt[best].mean, pt[best].std);
	widest_range(pt, n, best, pt[best].mean - r->margin, 0, &lo, &hi);
	range_cells(t, row, 4, pt, lo, hi);
	if (isnan(reference) || !(pt[best].mean > reference))
		lo = hi = -1;
	else
		widest_range(pt, n, best, reference, 1, &lo, &hi);
	range_cells(t, row, 7, pt, lo, hi);
}

/*
 * Per method and protocol: the widest run of neighbouring grid learning
 * rates around the best one whose mean accuracy stays within the margin
 * of the best, and the run where it stays above NoAdapt.
 */
static struct table *tolerance_table(const struct report *r)
{
	static const char *const head[] = {
		"method", "protocol", "best lr", "best", "lr_low", "lr_high",
		"ratio", "beats NoAdapt: lr_low", "lr_high", "ratio"
	};
	struct table *t = table_new("Learning-rate tolerance", 10);
	const struct config_scores **rows =
		xcalloc((size_t)r->n_configs, sizeof(*rows));
	char note[256];

	for (int i = 0; i < 10; i++)
		table_head(t, i, head[i]);
	for (int p = 0; p < r->n_protocols; p++) {
		const char *proto = r->protocols[p];
		int n = report_rows(r, proto, rows);
		double reference = noadapt_mean(r, proto);

		for (int i = 0; i < n; i++)
			if (rows[i]->lr > 0)
				tolerance_row(r, t, proto, rows[i], reference);
	}
	snprintf(note, sizeof(note), "lr_low .. lr_high is the widest run "
		 "of grid learning rates around the best where the mean "
		 "accuracy stays within %g points of the best; ratio is "
		 "lr_high / lr_low.  The last three columns give the run "
		 "where it stays above NoAdapt.", r->margin);
	table_note(t, note);
	free(rows);
	return t;
}

static void seeds_text(const struct report *r, char *buf, size_t size)
{
	size_t used = 0;
	const struct config_scores *c = &r->configs[0];

	buf[0] = '\0';
	for (int s = 0; s < c->n_seeds && used < size; s++)
		used += (size_t)snprintf(buf + used, size - used, "%s%ld",
					 s ? ", " : "", c->seeds[s]);
}

/* The tables of a report, in the order they are printed. */
struct tables {
	int n;
	struct table *list[8];
	char *csv[8];		/* file name of each table's CSV */
};

static void build_tables(const struct report *r, struct tables *ts)
{
	ts->n = 0;
	ts->csv[ts->n] = xstrdup("table-main.csv");
	ts->list[ts->n++] = main_table(r);
	for (int p = 0; p < r->n_protocols && p < PROTOCOL_COUNT; p++) {
		ts->csv[ts->n] = xasprintf("table-%s.csv", r->protocols[p]);
		ts->list[ts->n++] = task_table(r, r->protocols[p]);
	}
	ts->csv[ts->n] = xstrdup("table-tolerance.csv");
	ts->list[ts->n++] = tolerance_table(r);
}

static void write_markdown(FILE *fp, const struct report *r,
			   const struct tables *ts)
{
	char seeds[256];

	const char *name = strrchr(r->dir, '/');

	seeds_text(r, seeds, sizeof(seeds));
	fprintf(fp, "# Results of %s\n\nOnline accuracy: the share of correct "
		"predictions made before each update.  Cells are the mean ± "
		"sample standard deviation over seeds %s.  Each method is "
		"shown at the learning rate (lr) with the best mean accuracy "
		"on the selection split, a fixed 20%% of every task, unless "
		"the suite fixes its learning rate (marked fixed); methods "
		"that do not adapt have none.  The best value of each column "
		"is in bold.\n", name && name[1] ? name + 1 : r->dir, seeds);
	for (int i = 0; i < ts->n; i++)
		table_markdown(fp, ts->list[i]);
}

static void write_latex(FILE *fp, const struct report *r,
			const struct tables *ts)
{
	fprintf(fp, "%% Tables of %s, written by dembench report.\n"
		"%% Needs \\usepackage{booktabs}.\n\n", r->dir);
	for (int i = 0; i < ts->n; i++)
		table_latex(fp, ts->list[i]);
}

/* Opens dir/name atomically, lets write() fill it, and commits it. */
static int write_file(const char *dir, const char *name,
		      void (*write)(FILE *, const void *), const void *arg)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct atomic_file af;
	int rc = atomic_open(&af, path);

	if (!rc) {
		write(af.fp, arg);
		rc = atomic_commit(&af);
	}
	free(path);
	return rc;
}

struct report_files {
	const struct report *r;
	const struct tables *ts;
	const struct result_table *rows;
	const struct table *one;
};

static void put_summary(FILE *fp, const void *arg)
{
	results_print(fp, ((const struct report_files *)arg)->rows);
}

static void put_markdown(FILE *fp, const void *arg)
{
	const struct report_files *f = arg;

	write_markdown(fp, f->r, f->ts);
}

static void put_latex(FILE *fp, const void *arg)
{
	const struct report_files *f = arg;

	write_latex(fp, f->r, f->ts);
}

static void put_csv(FILE *fp, const void *arg)
{
	table_csv(fp, ((const struct report_files *)arg)->one);
}

static int write_tables(const char *dir, struct report_files *f)
{
	if (write_file(dir, "table.md", put_markdown, f) ||
	    write_file(dir, "table.tex", put_latex, f))
		return -1;
	for (int i = 0; i < f->ts->n; i++) {
		f->one = f->ts->list[i];
		if (write_file(dir, f->ts->csv[i], put_csv, f))
			return -1;
	}
	return 0;
}

int report_write(const char *dir)
{
	struct result_table t = { 0 };
	struct report r;
	struct tables ts = { 0 };
	struct report_files files = { &r, &ts, &t, NULL };
	int rc = -1;

	if (results_read_dir(dir, &t) ||
	    write_file(dir, "summary.csv", put_summary, &files))
		goto out;
	if (report_build(dir, &t, &r))
		goto out;
	build_tables(&r, &ts);
	rc = write_tables(dir, &files);
	if (!rc)
		rc = figures_write(dir, &r, &t);
	for (int i = 0; i < ts.n; i++) {
		table_free(ts.list[i]);
		free(ts.csv[i]);
	}
	report_free(&r);
out:
	results_free(&t);
	return rc;
}
