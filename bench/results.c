/* results.c - write and read result files with libcsv. */
#include "results.h"

#include <csv.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char results_header[] =
	"run_id,protocol,method,tunables,lr,seed,task_index,task,n,correct,"
	"accuracy,n_select,correct_select,select_accuracy,loss,status,"
	"predicted,truth";

#define N_COLUMNS 18

/* String fields are quoted by libcsv; numbers are written plainly. */
static void put_text(FILE *fp, const char *s, int last)
{
	csv_fwrite(fp, s, strlen(s));
	fputc(last ? '\n' : ',', fp);
}

static double percent(long k, long n)
{
	return n ? 100.0 * (double)k / (double)n : 0.0;
}

static char *format_counts(const long *counts, int classes)
{
	size_t size = (size_t)classes * 21 + 1, used = 0;
	char *s = xmalloc(size);

	s[0] = '\0';
	for (int i = 0; i < classes; i++)
		used += (size_t)snprintf(s + used, size - used, "%s%ld",
					 i ? ";" : "", counts[i]);
	return s;
}

static void format_status(const struct task_result *r, int after_divergence,
			  char *buf, size_t size)
{
	if (r->diverged_batch)
		snprintf(buf, size, "diverged at batch %ld", r->diverged_batch);
	else if (after_divergence)
		snprintf(buf, size, "not run: the stream diverged earlier");
	else
		snprintf(buf, size, "ok");
}

static void print_row(FILE *fp, const struct result_row *r)
{
	put_text(fp, r->run_id, 0);
	put_text(fp, r->protocol, 0);
	put_text(fp, r->method, 0);
	put_text(fp, r->tunables, 0);
	fprintf(fp, "%g,%ld,%d,", r->lr, r->seed, r->task_index);
	put_text(fp, r->task, 0);
	fprintf(fp, "%ld,%ld,%.4f,%ld,%ld,%.4f,%.6g,", r->n, r->correct,
		r->accuracy, r->n_select, r->correct_select,
		r->select_accuracy, r->loss);
	put_text(fp, r->status, 0);
	put_text(fp, r->predicted, 0);
	put_text(fp, r->truth, 1);
}

static void write_row(FILE *fp, const struct run_spec *spec,
		      const struct features *f, const struct task_result *r,
		      int index, int after_divergence)
{
	char tunables[256], status[64];
	struct result_row row = {
		.run_id = (char *)spec->id,
		.protocol = (char *)protocol_name(spec->protocol),
		.method = (char *)spec->label,
		.tunables = tunables,
		.lr = spec->lr,
		.seed = (long)spec->seed,
		.task_index = index,
		.task = f->tasks[r->task].name,
		.n = r->n,
		.correct = r->correct,
		.accuracy = percent(r->correct, r->n),
		.n_select = r->n_select,
		.correct_select = r->correct_select,
		.select_accuracy = percent(r->correct_select, r->n_select),
		.loss = r->loss,
		.status = status,
		.predicted = format_counts(r->predicted, f->n_classes),
		.truth = format_counts(r->truth, f->n_classes),
	};

	method_format_tunables(spec->method, spec->tunables, tunables,
			       sizeof(tunables));
	format_status(r, after_divergence, status, sizeof(status));
	print_row(fp, &row);
	free(row.predicted);
	free(row.truth);
}

int results_write_run(const char *path, const struct run_spec *spec,
		      const struct features *f,
		      const struct task_result *results, int n_tasks)
{
	struct atomic_file af;
	int diverged = 0;

	if (atomic_open(&af, path))
		return -1;
	fprintf(af.fp, "%s\n", results_header);
	for (int i = 0; i < n_tasks; i++) {
		write_row(af.fp, spec, f, &results[i], i, diverged);
		diverged |= results[i].diverged_batch != 0 &&
			    spec->protocol != PROTOCOL_SINGLE;
	}
	return atomic_commit(&af);
}

/* State of the libcsv callbacks while reading one file. */
struct reader {
	const char *path;
	struct result_table *table;
	char *fields[N_COLUMNS];
	int n_fields;
	long line;
	int failed;
};

static void on_field(void *data, size_t len, void *user)
{
	struct reader *rd = user;

	if (rd->n_fields < N_COLUMNS) {
		rd->fields[rd->n_fields] = xmalloc(len + 1);
		memcpy(rd->fields[rd->n_fields], data, len);
		rd->fields[rd->n_fields][len] = '\0';
	}
	rd->n_fields++;
}

static int to_long(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return *s && !*end && !errno ? 0 : -1;
}

static int to_double(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return *s && !*end && !errno ? 0 : -1;
}

static int convert_row(char **v, struct result_row *r)
{
	long index;

	r->run_id = v[0];
	r->protocol = v[1];
	r->method = v[2];
	r->tunables = v[3];
	r->task = v[7];
	r->status = v[15];
	r->predicted = v[16];
	r->truth = v[17];
	if (to_double(v[4], &r->lr) || to_long(v[5], &r->seed) ||
	    to_long(v[6], &index) || to_long(v[8], &r->n) ||
	    to_long(v[9], &r->correct) || to_double(v[10], &r->accuracy) ||
	    to_long(v[11], &r->n_select) ||
	    to_long(v[12], &r->correct_select) ||
	    to_double(v[13], &r->select_accuracy) ||
	    to_double(v[14], &r->loss))
		return -1;
	r->task_index = (int)index;
	return 0;
}

/* Frees the fields that convert_row() turned into numbers. */
static void free_numbers(char **v)
{
	static const int numeric[] = { 4, 5, 6, 8, 9, 10, 11, 12, 13, 14 };

	for (size_t i = 0; i < sizeof(numeric) / sizeof(*numeric); i++)
		free(v[numeric[i]]);
}

static void on_row(int c, void *user)
{
	struct reader *rd = user;
	struct result_table *t = rd->table;
	int header = rd->line++ == 0;

	(void)c;
	if (!rd->failed && rd->n_fields != N_COLUMNS) {
		err_set("%s:%ld: %d fields, expected %d; the file is not a "
			"dembench result file, or is damaged", rd->path,
			rd->line, rd->n_fields, N_COLUMNS);
		rd->failed = 1;
	}
	if (!rd->failed && !header) {
		if (t->n == t->cap)
			t->rows = xrealloc(t->rows, (size_t)(t->cap =
					   t->cap ? 2 * t->cap : 256) *
					   sizeof(*t->rows));
		if (convert_row(rd->fields, &t->rows[t->n])) {
			err_set("%s:%ld: a number field is invalid",
				rd->path, rd->line);
			rd->failed = 1;
		} else {
			t->n++;
			free_numbers(rd->fields);
			rd->n_fields = 0;
			return;
		}
	}
	for (int i = 0; i < rd->n_fields && i < N_COLUMNS; i++)
		free(rd->fields[i]);
	rd->n_fields = 0;
}

int results_read(const char *path, struct result_table *table)
{
	struct csv_parser parser;
	struct reader rd = { .path = path, .table = table };
	char buf[65536];
	size_t got;
	FILE *fp = fopen(path, "r");

	if (!fp) {
		err_set("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	csv_init(&parser, CSV_STRICT | CSV_APPEND_NULL);
	while ((got = fread(buf, 1, sizeof(buf), fp)) > 0)
		if (csv_parse(&parser, buf, got, on_field, on_row, &rd) != got)
			break;
	if (csv_error(&parser) != CSV_SUCCESS && !rd.failed) {
		err_set("%s: %s", path, csv_strerror(csv_error(&parser)));
		rd.failed = 1;
	}
	csv_fini(&parser, on_field, on_row, &rd);
	csv_free(&parser);
	fclose(fp);
	return rd.failed ? -1 : 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int results_read_dir(const char *dir, struct result_table *table)
{
	char *runs = xasprintf("%s/runs", dir);
	DIR *d = opendir(runs);
	struct dirent *e;
	char **names = NULL;
	int n = 0, rc = 0;

	if (!d) {
		err_set("cannot read %s: %s; run the suite first", runs,
			strerror(errno));
		free(runs);
		return -1;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len < 5 || strcmp(e->d_name + len - 4, ".csv"))
			continue;
		names = xrealloc(names, (size_t)(n + 1) * sizeof(char *));
		names[n++] = xasprintf("%s/%s", runs, e->d_name);
	}
	closedir(d);

	/* Sorted, so that the summary does not depend on the directory. */
	qsort(names, (size_t)n, sizeof(char *), by_name);
	for (int i = 0; i < n; i++) {
		if (!rc && results_read(names[i], table))
			rc = -1;
		free(names[i]);
	}
	free(names);
	free(runs);
	return rc;
}

void results_print(FILE *fp, const struct result_table *t)
{
	fprintf(fp, "%s\n", results_header);
	for (int i = 0; i < t->n; i++)
		print_row(fp, &t->rows[i]);
}

void results_free(struct result_table *t)
{
	for (int i = 0; i < t->n; i++) {
		struct result_row *r = &t->rows[i];

		free(r->run_id);
		free(r->protocol);
		free(r->method);
		free(r->tunables);
		free(r->task);
		free(r->status);
		free(r->predicted);
		free(r->truth);
	}
	free(t->rows);
	t->rows = NULL;
	t->n = t->cap = 0;
}
