/* report_table.c - write summary.csv and the Markdown tables. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

static const char *protocol_title(const char *protocol)
{
	if (!strcmp(protocol, "single"))
		return "Single-domain (the model is reset for every task)";
	if (!strcmp(protocol, "continual"))
		return "Continual (one stream over the tasks, no reset)";
	return protocol;
}

static void format_lr(const struct config_scores *c, char *buf, size_t n)
{
	if (c->lr == 0)
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%g", c->lr);
}

static void md_label(FILE *fp, const struct config_scores *c)
{
	char lr[32];

	format_lr(c, lr, sizeof(lr));
	fprintf(fp, "| %s%s%s%s | %s |", c->method, *c->tunables ? " (" : "",
		c->tunables, *c->tunables ? ")" : "", lr);
}

/* Highest mean of column task (-1: the mean over tasks) among rows. */
static double column_best(const struct config_scores **rows, int n,
			  int task)
{
	double best = -INFINITY, mean, std;

	for (int i = 0; i < n; i++) {
		config_mean_std(rows[i], task, 0, &mean, &std);
		if (mean > best)
			best = mean;
	}
	return best;
}

static void md_cell(FILE *fp, const struct config_scores *c, int task,
		    double best)
{
	double mean, std;

	config_mean_std(c, task, 0, &mean, &std);
	if (isnan(mean))
		fprintf(fp, " n/a |");
	else if (fabs(mean - best) < 0.005)
		fprintf(fp, " **%.1f ± %.1f** |", mean, std);
	else
		fprintf(fp, " %.1f ± %.1f |", mean, std);
}

static void md_protocol(FILE *fp, const struct report *r, const char *proto)
{
	const struct config_scores **rows =
		xcalloc((size_t)r->n_configs, sizeof(*rows));
	int n = report_rows(r, proto, rows);
	int diverged = 0;

	fprintf(fp, "\n## %s\n\n| method | lr |", protocol_title(proto));
	for (int k = 0; k < r->n_tasks; k++)
		fprintf(fp, " %s |", r->tasks[k]);
	fprintf(fp, " mean |\n| --- | --- |");
	for (int k = 0; k <= r->n_tasks; k++)
		fprintf(fp, " ---: |");
	fputc('\n', fp);
	for (int i = 0; i < n; i++) {
		md_label(fp, rows[i]);
		for (int k = 0; k < r->n_tasks; k++)
			md_cell(fp, rows[i], k,
				column_best(rows, n, k));
		md_cell(fp, rows[i], -1, column_best(rows, n, -1));
		if (rows[i]->diverged)
			fprintf(fp, " diverged |"), diverged = 1;
		fputc('\n', fp);
	}
	if (diverged)
		fprintf(fp, "\nRows marked diverged include a task whose loss "
			"or parameters became NaN or Inf; see summary.csv.\n");
	for (int i = 0; i < n; i++)
		if (report_is_oracle(rows[i]->method)) {
			fprintf(fp, "\n%s is an oracle: its tunables were "
				"chosen with labels, by the best accuracy on "
				"the selection split over a grid.\n",
				rows[i]->method);
			break;
		}
	free(rows);
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

static void write_markdown(FILE *fp, const struct report *r)
{
	char seeds[256];

	seeds_text(r, seeds, sizeof(seeds));
	fprintf(fp, "# Online accuracy (%%)\n\n"
		"Mean ± sample standard deviation over seeds %s.  Each "
		"method is shown at the learning rate (lr) with the best "
		"mean accuracy on the selection split, a fixed 20%% of every "
		"task; methods that do not adapt have none.  The best value "
		"of each column is in bold.\n", seeds);
	for (int p = 0; p < r->n_protocols; p++)
		md_protocol(fp, r, r->protocols[p]);
}

static int write_summary(const char *dir, const struct result_table *t)
{
	char *path = xasprintf("%s/summary.csv", dir);
	struct atomic_file af;
	int rc = atomic_open(&af, path);

	if (!rc) {
		results_print(af.fp, t);
		rc = atomic_commit(&af);
	}
	free(path);
	return rc;
}

static int write_table(const char *dir, const struct report *r)
{
	char *path = xasprintf("%s/table.md", dir);
	struct atomic_file af;
	int rc = atomic_open(&af, path);

	if (!rc) {
		write_markdown(af.fp, r);
		rc = atomic_commit(&af);
	}
	free(path);
	return rc;
}

int report_write(const char *dir)
{
	struct result_table t = { 0 };
	struct report r;
	int rc;

	if (results_read_dir(dir, &t))
		return -1;
	rc = write_summary(dir, &t);
	results_free(&t);
	if (rc || report_load(dir, &r))
		return -1;
	rc = write_table(dir, &r);
	report_free(&r);
	return rc;
}
