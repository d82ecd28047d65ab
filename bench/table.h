/*
 * table.h - a table of text and numbers, written as Markdown, CSV or
 * LaTeX (booktabs), so that each report table is built once.
 *
 * A numeric cell has a mean and an optional standard deviation, and the
 * best mean of each numeric column is set in bold in Markdown and
 * LaTeX.  CSV gets the numbers in separate columns, unformatted.
 */
#ifndef DEMBENCH_TABLE_H
#define DEMBENCH_TABLE_H

#include <stdio.h>

enum cell_kind {
	CELL_EMPTY,
	CELL_TEXT,
	CELL_MEAN_STD,	/* "mean ± std", bold when best in its column */
	CELL_NUMBER	/* a plain number, never bold */
};

struct table_cell {
	enum cell_kind kind;
	char *text;
	double mean, std;
	int bold;
};

struct table {
	char *title;
	char *note;		/* a paragraph under the table, or NULL */
	int n_cols, n_rows;
	char **head;
	struct table_cell *cells;	/* [n_rows x n_cols] */
	int digits;		/* decimals of numbers, 1 by default */
};

struct table *table_new(const char *title, int n_cols);
void table_free(struct table *t);

/* Sets a column header, the note, or adds a row (returns its index). */
void table_head(struct table *t, int col, const char *text);
void table_note(struct table *t, const char *text);
int table_add_row(struct table *t);

void table_text(struct table *t, int row, int col, const char *text);
void table_mean_std(struct table *t, int row, int col, double mean,
		    double std);
void table_number(struct table *t, int row, int col, double value);

/* Sets in bold the highest mean of every CELL_MEAN_STD column. */
void table_mark_best(struct table *t);

void table_markdown(FILE *fp, const struct table *t);
void table_csv(FILE *fp, const struct table *t);
void table_latex(FILE *fp, const struct table *t);

#endif
