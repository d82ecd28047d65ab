/* table.c - one table, three formats. */
#include "table.h"

#include <csv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct table *table_new(const char *title, int n_cols)
{
	struct table *t = xcalloc(1, sizeof(*t));

	t->title = xstrdup(title);
	t->n_cols = n_cols;
	t->head = xcalloc((size_t)n_cols, sizeof(char *));
	t->digits = 1;
	return t;
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->n_cols; i++)
		free(t->head[i]);
	for (int i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i].text);
	free(t->head);
	free(t->cells);
	free(t->title);
	free(t->note);
	free(t);
}

void table_head(struct table *t, int col, const char *text)
{
	free(t->head[col]);
	t->head[col] = xstrdup(text);
}

void table_note(struct table *t, const char *text)
{
	free(t->note);
	t->note = xstrdup(text);
}

int table_add_row(struct table *t)
{
	size_t n = (size_t)(t->n_rows + 1) * t->n_cols;

	t->cells = xrealloc(t->cells, n * sizeof(*t->cells));
	memset(t->cells + (size_t)t->n_rows * t->n_cols, 0,
	       (size_t)t->n_cols * sizeof(*t->cells));
	return t->n_rows++;
}

static struct table_cell *cell(struct table *t, int row, int col)
{
	return &t->cells[(size_t)row * t->n_cols + col];
}

void table_text(struct table *t, int row, int col, const char *text)
{
	struct table_cell *c = cell(t, row, col);

	free(c->text);
	c->kind = CELL_TEXT;
	c->text = xstrdup(text);
}

void table_mean_std(struct table *t, int row, int col, double mean,
		    double std)
{
	struct table_cell *c = cell(t, row, col);

	c->kind = isnan(mean) ? CELL_EMPTY : CELL_MEAN_STD;
	c->mean = mean;
	c->std = std;
}

void table_number(struct table *t, int row, int col, double value)
{
	struct table_cell *c = cell(t, row, col);

	c->kind = isnan(value) ? CELL_EMPTY : CELL_NUMBER;
	c->mean = value;
}

void table_mark_best(struct table *t)
{
	for (int col = 0; col < t->n_cols; col++) {
		double best = -INFINITY, scale = pow(10, t->digits);

		for (int row = 0; row < t->n_rows; row++)
			if (cell(t, row, col)->kind == CELL_MEAN_STD &&
			    cell(t, row, col)->mean > best)
				best = cell(t, row, col)->mean;

		/* Equal as printed is equal: ties share the bold. */
		for (int row = 0; row < t->n_rows; row++) {
			struct table_cell *c = cell(t, row, col);

			c->bold = c->kind == CELL_MEAN_STD &&
				  round(c->mean * scale) == round(best * scale);
		}
	}
}

/* Formats a cell as text; sep is "±" or "\\pm" with its spacing. */
static void format_cell(const struct table *t, const struct table_cell *c,
			const char *pm, char *buf, size_t size)
{
	switch (c->kind) {
	case CELL_EMPTY:
		snprintf(buf, size, "n/a");
		break;
	case CELL_TEXT:
		snprintf(buf, size, "%s", c->text);
		break;
	case CELL_MEAN_STD:
		snprintf(buf, size, "%.*f%s%.*f", t->digits, c->mean, pm,
			 t->digits, c->std);
		break;
	case CELL_NUMBER:
		snprintf(buf, size, "%.*f", t->digits, c->mean);
		break;
	}
}

void table_markdown(FILE *fp, const struct table *t)
{
	char buf[256];

	fprintf(fp, "\n## %s\n\n|", t->title);
	for (int col = 0; col < t->n_cols; col++)
		fprintf(fp, " %s |", t->head[col] ? t->head[col] : "");
	fputs("\n|", fp);
	for (int col = 0; col < t->n_cols; col++)
		fputs(col ? " ---: |" : " --- |", fp);
	fputc('\n', fp);
	for (int row = 0; row < t->n_rows; row++) {
		fputc('|', fp);
		for (int col = 0; col < t->n_cols; col++) {
			const struct table_cell *c = &t->cells[(size_t)row *
							t->n_cols + col];

			format_cell(t, c, " ± ", buf, sizeof(buf));
			fprintf(fp, c->bold ? " **%s** |" : " %s |", buf);
		}
		fputc('\n', fp);
	}
	if (t->note)
		fprintf(fp, "\n%s\n", t->note);
}

/* Does any row hold a mean and std in this column? */
static int has_std(const struct table *t, int col)
{
	for (int row = 0; row < t->n_rows; row++)
		if (t->cells[(size_t)row * t->n_cols + col].kind ==
		    CELL_MEAN_STD)
			return 1;
	return 0;
}

static void csv_number(FILE *fp, const struct table_cell *c, double v)
{
	if (c->kind == CELL_MEAN_STD || c->kind == CELL_NUMBER)
		fprintf(fp, "%.4f", v);
}

/* CSV: a mean-std column becomes two, NAME and NAME_std. */
void table_csv(FILE *fp, const struct table *t)
{
	for (int col = 0; col < t->n_cols; col++) {
		const char *head = t->head[col] ? t->head[col] : "";
		char std[256];

		if (col)
			fputc(',', fp);
		csv_fwrite(fp, head, strlen(head));
		snprintf(std, sizeof(std), "%s_std", head);
		if (has_std(t, col)) {
			fputc(',', fp);
			csv_fwrite(fp, std, strlen(std));
		}
	}
	fputc('\n', fp);
	for (int row = 0; row < t->n_rows; row++) {
		for (int col = 0; col < t->n_cols; col++) {
			const struct table_cell *c = &t->cells[(size_t)row *
							t->n_cols + col];

			if (col)
				fputc(',', fp);
			if (c->kind == CELL_TEXT)
				csv_fwrite(fp, c->text, strlen(c->text));
			csv_number(fp, c, c->mean);
			if (has_std(t, col)) {
				fputc(',', fp);
				if (c->kind == CELL_MEAN_STD)
					csv_number(fp, c, c->std);
			}
		}
		fputc('\n', fp);
	}
}

/* Escapes the characters LaTeX treats specially in text. */
static void latex_text(FILE *fp, const char *s)
{
	for (; *s; s++) {
		if (strchr("_&%$#{}", *s))
			fprintf(fp, "\\%c", *s);
		else if (*s == '*')
			fputs("$^*$", fp);
		else
			fputc(*s, fp);
	}
}

void table_latex(FILE *fp, const struct table *t)
{
	char buf[256];

	fprintf(fp, "%% ");
	latex_text(fp, t->title);
	fputs("\n\\begin{tabular}{l", fp);
	for (int col = 1; col < t->n_cols; col++)
		fputc('r', fp);
	fputs("}\n\\toprule\n", fp);
	for (int col = 0; col < t->n_cols; col++) {
		latex_text(fp, t->head[col] ? t->head[col] : "");
		fputs(col == t->n_cols - 1 ? " \\\\\n\\midrule\n" : " & ", fp);
	}
	for (int row = 0; row < t->n_rows; row++)
		for (int col = 0; col < t->n_cols; col++) {
			const struct table_cell *c = &t->cells[(size_t)row *
							t->n_cols + col];

			format_cell(t, c, " $\\pm$ ", buf, sizeof(buf));
			if (c->bold)
				fputs("\\textbf{", fp);
			if (c->kind == CELL_TEXT)
				latex_text(fp, buf);
			else
				fputs(buf, fp);
			if (c->bold)
				fputc('}', fp);
			fputs(col == t->n_cols - 1 ? " \\\\\n" : " & ", fp);
		}
	fputs("\\bottomrule\n\\end{tabular}\n\n", fp);
}
