/*
 * figures.h - the figures of "dembench report DIR", drawn by gnuplot.
 *
 * Each figure NAME goes to DIR/figures/ as five files.  NAME.dat
 * contains the data, with a comment header naming the columns.
 * NAME.gp is a gnuplot script that reads NAME.dat and chooses no
 * terminal, so that it can be restyled and run again.  NAME.png,
 * NAME.svg and NAME.pdf are drawn by running gnuplot on the script.
 * docs/results.md describes each figure.
 */
#ifndef DEMBENCH_FIGURES_H
#define DEMBENCH_FIGURES_H

#include "report.h"
#include "results.h"

/*
 * Writes the figures of report r and result rows t, both loaded from
 * dir.  Every file is replaced atomically.  Returns 0, or -1 with
 * err_set() when a file cannot be written, gnuplot is not installed
 * or gnuplot fails.  Files finished before a failure are kept.
 */
int figures_write(const char *dir, const struct report *r,
		  const struct result_table *t);

#endif
